"""Fetch PubMed records (E-utilities efetch) into a folder of PubMed XML files for ``kg build``.

Why: a store of trials cites thousands of PMIDs; their PubMed records carry what the
citations lack (full author names, affiliations, ORCID, MeSH, grants, the trials the
article itself names). NCBI asks for at most 3 requests a second (10 with an API key) and
about 200 ids per request, and the service is busy enough to answer 429/5xx or cut a
response short now and then.

How:

* PMIDs are requested ``batch_size`` (<= 200) at a time from ``efetch.fcgi?db=pubmed``,
  through :class:`~kg.fetch.http.JsonClient`'s throttling and retries (429 with
  Retry-After, 5xx, dropped connections); a body that is not a complete, safe
  ``<PubmedArticleSet>`` counts as truncated and is fetched again.
* Each batch becomes one file in the output folder, written under a hidden temporary name
  and renamed when complete, so an interrupted run leaves only whole files (and ``kg
  build`` skips hidden files).
* Re-running skips every PMID already in the folder's files: the fetch is resumable.
* PMIDs PubMed does not return (unknown, withdrawn) are reported, never silently lost.
* The API key (``NCBI_API_KEY``) raises the rate to 10/s and is never written into
  errors or reports.

Example:
    >>> report = fetch_pubmed("pubmed/", ["26628416", "35086778"])  # doctest: +SKIP
    >>> report.written, report.failed  # doctest: +SKIP
    (2, [])

and then ``kg build pubmed/``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import OpenerDirector, build_opener

from lxml import etree

from kg.errors import KGError
from kg.fetch.http import FetchError, JsonClient, Malformed, _Transient
from kg.rdf.namespaces import ONTOLOGY
from kg.store.base import Store

__all__ = ["DEFAULT_EUTILS", "MAX_BATCH", "PubmedFetchReport", "fetch_pubmed", "pmids_in_folder", "pmids_in_store"]

DEFAULT_EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
MAX_BATCH = 200
RATE_WITHOUT_KEY = 3.0
RATE_WITH_KEY = 10.0
_PMID = re.compile(r"^\d{1,9}$")
_ARTICLE_PMID = re.compile(rb"<(?:MedlineCitation|BookDocument)\b[^>]*>\s*<PMID\b[^>]*>\s*(\d+)\s*</PMID>")
_API_KEY = re.compile(r"(api_key=)[^&\s]+")
_NOT_RETURNED = "not returned by PubMed (unknown or withdrawn PMID)"
_STORE_PMIDS = f"""PREFIX tkg: <{ONTOLOGY}>
SELECT DISTINCT ?pmid WHERE {{
  VALUES ?relation {{ tkg:hasReference tkg:backgroundReference tkg:resultReference tkg:derivedReference }}
  GRAPH ?g {{ ?trial ?relation ?publication . ?publication tkg:pmid ?pmid }}
}}"""  # inside one graph: a publication's PMID is restated in every graph citing it


@dataclass
class PubmedFetchReport:
    """What one fetch did: PMIDs asked for, articles written, skipped, failed (with reasons)."""

    requested: int = 0
    written: int = 0
    skipped_existing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    batches: int = 0
    retries: int = 0
    files: list[str] = field(default_factory=list)


class _XmlClient(JsonClient):
    """JsonClient's throttling and retry loop for XML bodies (the same policy, another decoder)."""

    def get_bytes(self, url: str, check: Callable[[bytes], None]) -> bytes:
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.retries += 1
            try:
                body = self._fetch(url)
                check(body)
                return body
            except Malformed as problem:
                last, wait = f"malformed response: {problem}", None
            except _Transient as problem:
                last, wait = problem.reason, problem.retry_after
            if attempt < self.max_retries:
                self.sleep(wait if wait is not None else self._backoff(attempt))
        raise FetchError(f"gave up after {self.max_retries + 1} attempts; last: {last}", source=url)


def pmids_in_store(store: Store) -> list[str]:
    """Every PMID the trials in a store reference, sorted numerically."""
    found = {pmid for (pmid,) in store.select(_STORE_PMIDS).values() if pmid and _PMID.match(pmid)}
    return sorted(found, key=int)


def pmids_in_folder(folder: Path) -> set[str]:
    """The PMIDs of the articles already in a folder's ``.xml``/``.xml.gz`` files (not its hidden ones)."""
    found: set[str] = set()
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file() or not path.name.endswith((".xml", ".xml.gz")):
            continue
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        found.update(match.decode("ascii") for match in _ARTICLE_PMID.findall(data))
    return found


def fetch_pubmed(
    out: Path | str,
    pmids: Iterable[str],
    *,
    api_key: str | None = None,
    email: str | None = None,
    base_url: str = DEFAULT_EUTILS,
    batch_size: int = MAX_BATCH,
    rate_limit: float | None = None,
    max_retries: int = 6,
    backoff: float = 1.0,
    timeout: float = 120.0,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    opener: OpenerDirector | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> PubmedFetchReport:
    """Write the PubMed records of ``pmids`` that the folder ``out`` lacks, one file per batch.

    ``api_key`` defaults to ``$NCBI_API_KEY``; ``rate_limit`` (requests per second) to 3, or
    10 with a key. ``progress`` is called after each batch with the number of articles
    written; ``on_total`` once with the number of PMIDs to request. ``opener``, ``sleep``,
    ``clock`` and ``rng`` exist for tests and proxies.

    Raises :class:`~kg.fetch.http.FetchError` (naming the URL, API key redacted) when a
    request fails for good; its ``report`` holds what was done until then.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise KGError(f"batch size must be between 1 and {MAX_BATCH}, not {batch_size}")
    if max_retries < 0:
        raise KGError(f"max retries cannot be negative ({max_retries})")
    key = api_key if api_key is not None else os.environ.get("NCBI_API_KEY") or None
    rate = rate_limit if rate_limit is not None else (RATE_WITH_KEY if key else RATE_WITHOUT_KEY)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise KGError(f"{folder} is not a folder: kg fetch-pubmed writes one XML file per batch into a folder")
    report = PubmedFetchReport()
    wanted: dict[str, None] = {}
    for raw in pmids:
        value = raw.strip()
        if not value:
            continue
        if _PMID.match(value):
            wanted[str(int(value))] = None
        else:
            report.failed.append((value, "not a PMID"))
    report.requested = len(wanted)
    existing = pmids_in_folder(folder)
    todo = [pmid for pmid in wanted if pmid not in existing]
    report.skipped_existing = len(wanted) - len(todo)
    if on_total:
        on_total(len(todo))
    if not todo:
        return report
    folder.mkdir(parents=True, exist_ok=True)
    client = _XmlClient(max_retries=max_retries, backoff=backoff, rate_limit=rate, timeout=timeout,
                        opener=opener or build_opener(), sleep=sleep, clock=clock, rng=rng or random.Random())
    endpoint = base_url.rstrip("/") + "/efetch.fcgi?"
    try:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            params = {"db": "pubmed", "retmode": "xml", "id": ",".join(batch), "tool": "trialkg"}
            if email:
                params["email"] = email
            if key:
                params["api_key"] = key
            returned: set[str] = set()

            def check(data: bytes, seen: set[str] = returned) -> None:
                _check(data, seen)

            body = client.get_bytes(endpoint + urlencode(params), check)
            report.batches += 1
            path = _write_batch(folder, batch, body)
            report.files.append(str(path))
            written = [pmid for pmid in batch if pmid in returned]
            report.written += len(written)
            report.failed.extend((pmid, _NOT_RETURNED) for pmid in batch if pmid not in returned)
            if progress:
                progress(len(written))
    except FetchError as error:
        error.source = _API_KEY.sub(r"\1***", error.source or "")
        error.report = report
        raise
    finally:
        report.retries = client.retries
    return report


def _check(body: bytes, seen: set[str]) -> None:
    """A complete, safe ``<PubmedArticleSet>``, noting the PMIDs it holds; else Malformed (retried)."""
    if b"<!ENTITY" in body:
        raise Malformed("response declares XML entities")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        raise Malformed(f"not well-formed XML, truncated? ({error}; {len(body)} bytes)") from None
    if root.tag != "PubmedArticleSet":
        detail = " ".join("".join(map(str, root.itertext())).split())[:200]
        raise Malformed(f"<{root.tag}> instead of <PubmedArticleSet>" + (f": {detail}" if detail else ""))
    seen.clear()
    for article in root:
        pmid = article.findtext("MedlineCitation/PMID") or article.findtext("BookDocument/PMID")
        if pmid and pmid.strip():
            seen.add(pmid.strip())


def _write_batch(folder: Path, batch: list[str], body: bytes) -> Path:
    """One batch's response as its own file, renamed into place only once complete."""
    digest = hashlib.sha1(",".join(batch).encode("ascii")).hexdigest()[:10]
    path = folder / f"pubmed-{batch[0]}-{digest}.xml"
    temporary = folder / f".{path.name}.part"
    with temporary.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path
