"""Fetch ClinicalTrials.gov studies (API v2) into a resumable JSON Lines file for ``kg build``.

Why: users want a set of trials (a list of NCT ids, or a registry search) without clicking
"Download" by hand, and a search can match tens of thousands of studies, so the fetch has to
survive throttling, flaky pages and interruptions. The output is JSON Lines, one API v2 study
document per line, exactly what :mod:`kg.sources.ctgov_json` reads.

Why re-running is always safe:

* the output is appended to one page at a time, each page written in one call as whole lines and
  flushed, so an interrupted run keeps every page it fetched;
* on start the NCT ids already in the file are read (line by line; a half-written last line left
  by a killed run is cut off); ids already present are not requested again, and a re-run search
  writes only the studies the file lacks;
* requests go through :class:`~kg.fetch.http.JsonClient`: throttled, and retried with backoff on
  429, 5xx, dropped connections and truncated pages.

Example:
    >>> from pathlib import Path
    >>> report = fetch_studies(Path("disc.jsonl"), condition="herniated disc")  # doctest: +SKIP
    >>> report.written, report.failed  # doctest: +SKIP
    (100, [])

and then ``kg build disc.jsonl``.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode
from urllib.request import OpenerDirector, build_opener

import orjson

from kg.errors import KGError
from kg.fetch.http import FetchError, JsonClient, Malformed

__all__ = ["DEFAULT_BASE_URL", "MAX_PAGE_SIZE", "FetchError", "FetchReport", "fetch_studies"]

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
MAX_PAGE_SIZE = 1000  # the API's own ceiling for pageSize
_NCT_ID = re.compile(r"NCT\d{8}")
_NO_ID = "study without protocolSection.identificationModule.nctId"
_NOT_RETURNED = "not returned by the registry (unknown id, or excluded by the search terms)"


@dataclass
class FetchReport:
    """What one fetch did, for the CLI's summary line and machine-readable reports.

    ``requested`` is the number of distinct valid NCT ids asked for, or for a search the
    registry's match count (``totalCount``). ``skipped_existing`` counts studies not written
    because ``out`` already held them. ``failed`` holds ``(where, reason)`` for every id or
    study that could not be written, so nothing is silently lost. ``pages`` counts the pages
    received, ``retries`` the repeated requests.
    """

    requested: int = 0
    written: int = 0
    skipped_existing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    pages: int = 0
    retries: int = 0


def fetch_studies(
    out: Path | str,
    *,
    nct_ids: Iterable[str] = (),
    condition: str | None = None,
    intervention: str | None = None,
    sponsor: str | None = None,
    term: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    page_size: int = 100,
    ids_per_request: int = 100,
    max_pages: int | None = None,
    rate_limit: float = 3.0,
    max_retries: int = 6,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    opener: OpenerDirector | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> FetchReport:
    """Append the studies selected by NCT ids or by search terms to the JSON Lines file ``out``.

    With ``nct_ids``, the ids not yet in ``out`` are requested ``ids_per_request`` at a time
    (``filter.ids``); ids the registry does not return, and strings that are no NCT id, are
    reported in ``failed``. Search terms (``query.cond``, ``query.intr``, ``query.spons``,
    ``query.term``) alone select a search, paged ``page_size`` studies at a time; given with
    ids, they narrow the ids. ``max_pages`` stops early (the file stays resumable).

    ``progress`` is called after each page with the number of studies written (``tqdm.update``
    fits); ``on_total`` once with the number expected (ids to request, or the search's match
    count). ``rate_limit`` is in requests per second. ``opener``, ``sleep``, ``clock`` and ``rng``
    exist for tests and proxies.

    Raises :class:`FetchError` (a :class:`~kg.errors.KGError`, naming the URL) when a request
    fails for good; its ``report`` attribute holds what was done until then. Raises
    :class:`~kg.errors.KGError` for bad arguments or an ``out`` that is not a studies file.

    Example:
        >>> fetch_studies("trials.jsonl", nct_ids=["NCT01374854"])  # doctest: +SKIP
        FetchReport(requested=1, written=1, skipped_existing=0, failed=[], pages=1, retries=0)
    """
    search = {key: value for key, value in (
        ("query.cond", condition), ("query.intr", intervention), ("query.spons", sponsor), ("query.term", term),
    ) if value}
    ids = [raw.strip().upper() for raw in nct_ids if raw.strip()]
    _check_arguments(ids, search, page_size, ids_per_request, max_pages, max_retries)
    client = JsonClient(
        max_retries=max_retries, backoff=backoff, rate_limit=rate_limit, timeout=timeout,
        opener=opener or build_opener(), sleep=sleep, clock=clock, rng=rng or random.Random(),
    )
    report = FetchReport()
    with _Output(Path(out), report, progress) as output:
        run = _Run(client, base_url.rstrip("/") + "/studies", search, output, report, max_pages, on_total)
        try:
            if ids:
                run.by_ids(ids, ids_per_request)
            else:
                run.by_search(page_size)
        except FetchError as error:
            error.report = report
            raise
        finally:
            report.retries = client.retries
    return report


def _check_arguments(ids: list[str], search: dict[str, str], page_size: int, ids_per_request: int,
                     max_pages: int | None, max_retries: int) -> None:
    """Refuse, before any request, what would fetch nothing or everything by accident."""
    if not ids and not search:
        raise KGError("nothing to fetch: give NCT ids or search terms (condition, intervention, sponsor, term)")
    for name, value in (("page size", page_size), ("ids per request", ids_per_request)):
        if not 1 <= value <= MAX_PAGE_SIZE:
            raise KGError(f"{name} must be between 1 and {MAX_PAGE_SIZE}, not {value}")
    if max_pages is not None and max_pages < 1:
        raise KGError(f"max pages must be at least 1, not {max_pages}")
    if max_retries < 0:
        raise KGError(f"max retries cannot be negative ({max_retries})")


@dataclass
class _Run:
    """One fetch: the client, the endpoint, the output and the report it fills in."""

    client: JsonClient
    endpoint: str
    search: dict[str, str]
    output: _Output
    report: FetchReport
    max_pages: int | None
    on_total: Callable[[int], None] | None

    def by_ids(self, ids: list[str], per_request: int) -> None:
        """Request the ids ``out`` lacks, in batches; report the ones that never come back."""
        todo = self._ids_to_request(ids)
        if self.on_total:
            self.on_total(len(todo))
        for start in range(0, len(todo), per_request):
            if self._page_limit_reached():
                return
            batch = todo[start : start + per_request]
            params = {**self.search, "filter.ids": ",".join(batch), "pageSize": str(len(batch))}
            for url, page in self._pages(params):
                self.output.write_page(page["studies"], url)
            self.report.failed.extend((nct, _NOT_RETURNED) for nct in batch if nct not in self.output.seen)

    def _ids_to_request(self, ids: list[str]) -> list[str]:
        """Distinct valid ids not yet in ``out``, in the caller's order; the rest counted or reported."""
        todo: list[str] = []
        distinct: set[str] = set()
        for nct in ids:
            if not _NCT_ID.fullmatch(nct):
                self.report.failed.append((nct, "not an NCT id (NCT and 8 digits)"))
            elif nct not in distinct:
                distinct.add(nct)
                if nct in self.output.seen:
                    self.report.skipped_existing += 1
                else:
                    todo.append(nct)
        self.report.requested = len(distinct)
        return todo

    def by_search(self, page_size: int) -> None:
        """Follow the search's pages to the end (or ``max_pages``), writing studies ``out`` lacks."""
        params = {**self.search, "pageSize": str(page_size), "countTotal": "true"}
        received = 0
        counted = False
        for url, page in self._pages(params):
            total = page.get("totalCount")
            if not counted and isinstance(total, int):
                counted, self.report.requested = True, total
                if self.on_total:
                    self.on_total(total)
            received += len(page["studies"])
            self.output.write_page(page["studies"], url)
            if self._page_limit_reached():
                break
        if not counted:
            self.report.requested = received

    def _pages(self, params: dict[str, str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each page of one query, following ``nextPageToken`` until the registry stops giving one."""
        token: str | None = None
        while True:
            url = self._url({**params, "pageToken": token} if token else params)
            page = self.client.get(url, check=_check_page)
            self.report.pages += 1
            yield url, page
            next_token = page.get("nextPageToken")
            if not next_token:
                return
            if next_token == token:
                raise FetchError("the registry sent the same nextPageToken twice; stopping", source=url)
            token = next_token

    def _url(self, params: dict[str, str]) -> str:
        return f"{self.endpoint}?{urlencode({'format': 'json', **params}, safe=',')}"

    def _page_limit_reached(self) -> bool:
        return self.max_pages is not None and self.report.pages >= self.max_pages


def _check_page(page: Any) -> None:
    """An API page has a ``studies`` list; anything else is a truncated or foreign body."""
    if not isinstance(page, dict) or not isinstance(page.get("studies"), list):
        raise Malformed('no "studies" list')
    if not isinstance(page.get("nextPageToken", ""), (str, type(None))):
        raise Malformed("nextPageToken is not a string")


def _nct_id(study: Any) -> str | None:
    """The study's protocolSection.identificationModule.nctId, or None when it has none."""
    node = study
    for key in ("protocolSection", "identificationModule", "nctId"):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, str) and node else None


class _Output:
    """The JSON Lines file: the ids it already holds, and appending whole, flushed pages to it."""

    def __init__(self, path: Path, report: FetchReport, progress: Callable[[int], None] | None) -> None:
        self.path = path
        self.report = report
        self.progress = progress
        self.seen: set[str] = set()
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> _Output:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a+b")  # every write appends, whatever the position
            self.seen = _recover(self._handle, str(self.path))
        except OSError as error:
            self.close()
            raise KGError(f"cannot write: {error.strerror or error}", source=str(self.path)) from None
        except KGError:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write_page(self, studies: list[Any], url: str) -> None:
        """Append the page's new studies in one write, flushed and synced: whole lines or nothing."""
        lines: list[bytes] = []
        for index, study in enumerate(studies):
            nct = _nct_id(study)
            if nct is None:
                self.report.failed.append((f"{url} studies[{index}]", _NO_ID))
            elif nct in self.seen:
                self.report.skipped_existing += 1
            else:
                self.seen.add(nct)
                lines.append(orjson.dumps(study, option=orjson.OPT_APPEND_NEWLINE))
        if lines and self._handle is not None:
            try:
                self._handle.write(b"".join(lines))
                self._handle.flush()
                os.fsync(self._handle.fileno())
            except OSError as error:  # disk full: a cut last line is recovered by the next run
                raise KGError(f"cannot write: {error.strerror or error}", source=str(self.path)) from None
        self.report.written += len(lines)
        if self.progress:
            self.progress(len(lines))


def _recover(handle: IO[bytes], source: str) -> set[str]:
    """The NCT ids in an existing output, after cutting off a half-written last line.

    Read line by line so a file of any size costs one study's memory. A last line without its
    newline that is not JSON was cut off by an interrupted run: it is truncated (its study is
    fetched again). Any other line that is not a JSON object means the file is not ours to
    append to, so we refuse rather than mix formats.
    """
    handle.seek(0)
    seen: set[str] = set()
    end = 0
    complete = True
    for number, line in enumerate(handle, 1):
        complete = line.endswith(b"\n")
        if line.strip():
            study = _loads_object(line)
            if study is None and not complete and line.lstrip().startswith(b"{"):
                handle.truncate(end)
                return seen
            if study is None:
                raise KGError(f"line {number} is not a JSON object: not a JSON Lines file of studies "
                              "to append to (choose another output file)", source=source)
            nct = _nct_id(study)
            if nct:
                seen.add(nct)
        end += len(line)
    if not complete:  # a whole last line that lacks only its newline
        handle.write(b"\n")
        handle.flush()
    return seen


def _loads_object(line: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
