"""``kg.fetch``: paging, retries, resuming and the JSON Lines output, against a real local HTTP server.

The server replays the real API v2 studies in tests/data/ctgov-json the way /api/v2/studies
pages them (pageSize, pageToken, filter.ids, query.cond, countTotal), with a scripted fault
plan. Sleeping is injected as a recorder, so retries and throttling cost no time.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import socket
import threading
from collections.abc import Callable, Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import ProxyHandler, build_opener

import orjson
import pytest

from kg.errors import KGError
from kg.fetch import USER_AGENT, FetchError, FetchReport, fetch_studies
from tests.conftest import DATA

JSON_DIR = DATA / "ctgov-json"
KNOWN_PARAMS = {"format", "pageSize", "pageToken", "countTotal", "filter.ids", "query.cond"}


@cache
def real_studies() -> tuple[dict[str, Any], ...]:
    """The 100 studies of the search download, then the 12 single-study documents."""
    studies = json.loads((JSON_DIR / "herniated-disc.ctg-studies.json").read_text(encoding="utf-8"))
    studies += [json.loads(p.read_text(encoding="utf-8")) for p in sorted((JSON_DIR / "single").glob("*.json"))]
    return tuple(studies)


def nct(study: dict[str, Any]) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def matches_condition(study: dict[str, Any], text: str) -> bool:
    conditions = study["protocolSection"].get("conditionsModule", {}).get("conditions", [])
    return any(text.lower() in c.lower() for c in conditions)


# ---------------------------------------------------------------------------------------
# The fake registry
# ---------------------------------------------------------------------------------------


class FakeRegistry:
    """State of the local API: the studies, the fault plan and a log of every request.

    ``faults`` maps the NCT id of a page's first study to the faults its next requests meet,
    one per request: "429:SECONDS", "500", "503", "truncate", "no-studies", "drop",
    "bad-gzip", "broken-study". ``fail_after_pages`` answers 503 to everything once that many
    pages were served.
    """

    def __init__(self, studies: tuple[dict[str, Any], ...]) -> None:
        self.studies = studies
        self.faults: dict[str, list[str]] = {}
        self.always: str | None = None
        self.fail_after_pages: int | None = None
        self.gzip = False
        self.served_pages = 0
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def served_ids(self) -> list[str]:
        """Every NCT id in a page answered 200, in order (a study served twice appears twice)."""
        return [i for entry in self.log if entry["status"] == 200 for i in entry["ids"]]

    def requested_ids(self) -> list[list[str]]:
        return [entry["params"]["filter.ids"].split(",") for entry in self.log if "filter.ids" in entry["params"]]


class Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        registry: FakeRegistry = self.server.registry
        with registry.lock:
            self._answer(registry)

    def _answer(self, registry: FakeRegistry) -> None:
        url = urlsplit(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        entry: dict[str, Any] = {"params": params, "status": None, "ids": [],
                                 "user_agent": self.headers.get("User-Agent")}
        registry.log.append(entry)
        if url.path != "/api/v2/studies" or set(params) - KNOWN_PARAMS or params.get("format") != "json":
            entry["status"] = 404 if url.path != "/api/v2/studies" else 400
            self._send(entry["status"], b"unknown path or parameter")
            return
        selected = [s for s in registry.studies if self._selects(s, params)]
        offset = int(params.get("pageToken", "tok-0").removeprefix("tok-"))
        size = int(params.get("pageSize", "10"))
        page_studies = selected[offset : offset + size]
        fault = self._fault(registry, page_studies)
        if fault == "drop":
            self.close_connection = True
            return
        if fault and fault.split(":")[0] in ("429", "500", "503"):
            status, _, retry_after = fault.partition(":")
            entry["status"] = int(status)
            self._send(int(status), b"busy", {"Retry-After": retry_after} if retry_after else {})
            return
        page: dict[str, Any] = {"studies": page_studies}
        if params.get("countTotal") == "true" and "pageToken" not in params:
            page["totalCount"] = len(selected)
        if offset + size < len(selected):
            page["nextPageToken"] = f"tok-{offset + size}"
        if fault == "broken-study":
            broken = copy.deepcopy(page_studies[0])
            del broken["protocolSection"]["identificationModule"]["nctId"]
            page["studies"] = [*page_studies[:1], broken, *page_studies[1:]]
        body = json.dumps(page).encode()
        if fault == "truncate":
            body = body[: len(body) // 2]
        elif fault == "no-studies":
            body = b'{"totalCount": 3}'
        elif fault != "bad-gzip":
            entry["ids"] = [nct(s) for s in page_studies]
            registry.served_pages += 1
        entry["status"] = 200
        self._send(200, body, {"Content-Type": "application/json"}, fake_gzip=fault == "bad-gzip")

    @staticmethod
    def _selects(study: dict[str, Any], params: dict[str, str]) -> bool:
        if "filter.ids" in params and nct(study) not in params["filter.ids"].split(","):
            return False
        return "query.cond" not in params or matches_condition(study, params["query.cond"])

    @staticmethod
    def _fault(registry: FakeRegistry, page_studies: list[dict[str, Any]]) -> str | None:
        if registry.always:
            return registry.always
        if registry.fail_after_pages is not None and registry.served_pages >= registry.fail_after_pages:
            return "503"
        planned = registry.faults.get(nct(page_studies[0])) if page_studies else None
        return planned.pop(0) if planned else None

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              fake_gzip: bool = False) -> None:
        registry: FakeRegistry = self.server.registry
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if fake_gzip:  # a body that claims gzip but is not
            self.send_header("Content-Encoding", "gzip")
            body = b"\x1f\x8b\x08not really gzip"
        elif registry.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            self.send_header("Content-Encoding", "gzip")
            body = gzip.compress(body)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry(real_studies())
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.registry = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fetch(registry: FakeRegistry, out: Path, sleeps: list[float] | None = None, **options: Any) -> FetchReport:
    """fetch_studies against the fake registry: no proxies, no real sleeping, seeded jitter."""
    recorded = sleeps if sleeps is not None else []
    options.setdefault("rate_limit", 0)
    return fetch_studies(out, base_url=registry.base_url, opener=build_opener(ProxyHandler({})),
                         sleep=recorded.append, rng=random.Random(7), **options)


def written_ids(out: Path) -> list[str]:
    """The nctId of each line, checking every line is one compact JSON object ending in a newline."""
    data = out.read_bytes()
    assert data.endswith(b"\n")
    ids = []
    for line in data.splitlines(keepends=True):
        study = orjson.loads(line)
        assert orjson.dumps(study, option=orjson.OPT_APPEND_NEWLINE) == line
        ids.append(nct(study))
    return ids


def studies_by_id() -> dict[str, dict[str, Any]]:
    return {nct(s): s for s in real_studies()}


# ---------------------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------------------


def test_search_follows_every_page_through_transient_faults(registry: FakeRegistry, tmp_path: Path) -> None:
    expected = [nct(s) for s in real_studies() if matches_condition(s, "herniat")]
    assert len(expected) == 75  # 11 pages of 7
    first_of_page = expected[::7]
    registry.gzip = True
    registry.faults = {first_of_page[1]: ["429:7"], first_of_page[2]: ["500"], first_of_page[3]: ["truncate"],
                       first_of_page[4]: ["no-studies"], first_of_page[5]: ["drop"],
                       first_of_page[6]: ["bad-gzip", "503"]}
    sleeps: list[float] = []
    written: list[int] = []
    totals: list[int] = []
    out = tmp_path / "out" / "herniated.jsonl"
    report = fetch(registry, out, sleeps, condition="HERNIAT", page_size=7, progress=written.append,
                   on_total=totals.append)
    assert written_ids(out) == expected
    assert report == FetchReport(requested=75, written=75, skipped_existing=0, failed=[], pages=11, retries=7)
    assert totals == [75] and sum(written) == 75 and len(written) == 11
    assert 7.0 in sleeps and len(sleeps) == 7  # Retry-After honoured, every other retry backed off
    assert len(registry.log) == 18 and {e["user_agent"] for e in registry.log} == {USER_AGENT}
    assert USER_AGENT.startswith("trialkg/")
    assert sorted(registry.served_ids()) == sorted(expected)


def test_interrupted_search_resumes_without_duplicates(registry: FakeRegistry, tmp_path: Path) -> None:
    expected = [nct(s) for s in real_studies() if matches_condition(s, "lumbar")]
    out = tmp_path / "lumbar.jsonl"
    first = fetch(registry, out, condition="lumbar", page_size=10, max_pages=2)
    assert first.pages == 2 and first.written == 20 and written_ids(out) == expected[:20]
    second = fetch(registry, out, condition="lumbar", page_size=10)
    assert written_ids(out) == expected
    assert (second.written, second.skipped_existing, second.requested) == (len(expected) - 20, 20, len(expected))


def test_study_without_nct_id_is_reported_not_lost(registry: FakeRegistry, tmp_path: Path) -> None:
    expected = [nct(s) for s in real_studies() if matches_condition(s, "disk")]
    registry.faults = {expected[10]: ["broken-study"]}
    out = tmp_path / "disk.jsonl"
    report = fetch(registry, out, condition="disk", page_size=10)
    assert written_ids(out) == expected
    assert len(report.failed) == 1
    where, reason = report.failed[0]
    assert "pageToken=tok-10" in where and where.endswith("studies[1]") and "nctId" in reason


# ---------------------------------------------------------------------------------------
# NCT ids
# ---------------------------------------------------------------------------------------


def test_ids_are_fetched_in_batches_and_missing_ones_reported(registry: FakeRegistry, tmp_path: Path) -> None:
    wanted = [nct(s) for s in real_studies()][::3]
    given = [*wanted, wanted[0].lower(), " NCT99999999 ", "nct123", ""]
    out = tmp_path / "ids.jsonl"
    report = fetch(registry, out, nct_ids=given, ids_per_request=10)
    assert sorted(written_ids(out)) == sorted(wanted)
    assert report.requested == len(wanted) + 1 and report.written == len(wanted)
    assert [where for where, _ in report.failed] == ["NCT123", "NCT99999999"]
    assert "not an NCT id" in report.failed[0][1] and "not returned by the registry" in report.failed[1][1]
    batches = registry.requested_ids()
    assert all(len(batch) <= 10 for batch in batches) and len(batches) == (len(wanted) + 1 + 9) // 10
    assert sorted(registry.served_ids()) == sorted(wanted)


def test_interrupted_id_fetch_never_requests_a_written_study_again(registry: FakeRegistry, tmp_path: Path) -> None:
    wanted = [nct(s) for s in real_studies()][:100]
    registry.fail_after_pages = 2
    out = tmp_path / "ids.jsonl"
    with pytest.raises(FetchError) as raised:
        fetch(registry, out, nct_ids=wanted, ids_per_request=10, max_retries=2)
    partial = raised.value.report
    assert isinstance(partial, FetchReport) and partial.written == 20 and partial.retries == 2
    first_run = written_ids(out)
    assert first_run == wanted[:20]
    log_size = len(registry.log)

    registry.fail_after_pages = None
    report = fetch(registry, out, nct_ids=wanted, ids_per_request=10)
    assert sorted(written_ids(out)) == sorted(wanted)
    assert (report.written, report.skipped_existing, report.failed) == (80, 20, [])
    second_run_requests = [i for e in registry.log[log_size:] for i in e["params"]["filter.ids"].split(",")]
    assert not set(second_run_requests) & set(first_run)
    served = registry.served_ids()
    assert len(served) == len(set(served)) == 100  # no study was delivered twice


def test_partial_last_line_is_cut_and_fetched_again(registry: FakeRegistry, tmp_path: Path) -> None:
    studies = studies_by_id()
    ids = list(studies)[40:46]
    out = tmp_path / "resume.jsonl"
    whole = b"".join(orjson.dumps(studies[i], option=orjson.OPT_APPEND_NEWLINE) for i in ids[:3])
    out.write_bytes(whole + orjson.dumps(studies[ids[3]])[:500])  # killed halfway through line 4
    report = fetch(registry, out, nct_ids=ids)
    assert written_ids(out) == ids
    assert (report.skipped_existing, report.written) == (3, 3)
    assert registry.requested_ids() == [ids[3:]]


def test_whole_last_line_without_newline_is_kept(registry: FakeRegistry, tmp_path: Path) -> None:
    studies = studies_by_id()
    ids = list(studies)[:2]
    out = tmp_path / "no-newline.jsonl"
    out.write_bytes(orjson.dumps(studies[ids[0]]))
    report = fetch(registry, out, nct_ids=ids)
    assert written_ids(out) == ids and report.skipped_existing == 1


def test_a_file_that_is_not_json_lines_is_refused_untouched(registry: FakeRegistry, tmp_path: Path) -> None:
    out = tmp_path / "study.json"
    original = (JSON_DIR / "single" / "NCT00465816.json").read_bytes()  # pretty-printed JSON
    out.write_bytes(original)
    with pytest.raises(KGError, match="line 1 is not a JSON object"):
        fetch(registry, out, nct_ids=["NCT00465816"])
    assert out.read_bytes() == original and registry.log == []


# ---------------------------------------------------------------------------------------
# Giving up, politeness
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "last"), [("503", "HTTP 503"), ("truncate", "malformed response: not JSON"),
                                             ("no-studies", 'malformed response: no "studies" list')])
def test_retries_exhausted_raise_with_the_url(registry: FakeRegistry, tmp_path: Path, fault: str, last: str) -> None:
    registry.always = fault
    sleeps: list[float] = []
    with pytest.raises(FetchError) as raised:
        fetch(registry, tmp_path / "out.jsonl", sleeps, condition="pain", max_retries=3, backoff=2.0)
    message = str(raised.value)
    assert message.startswith(f"{registry.base_url}/studies?format=json&query.cond=pain")
    assert "gave up after 4 attempts" in message and last in message
    assert isinstance(raised.value, KGError) and len(registry.log) == 4
    for attempt, slept in enumerate(sleeps):  # exponential, jittered over the upper half
        assert 2.0 * 2**attempt / 2 <= slept <= 2.0 * 2**attempt
    assert len(sleeps) == 3


def test_client_errors_are_not_retried(registry: FakeRegistry, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"/api/v2/nope/studies\?.*HTTP 404") as raised:
        fetch_studies(tmp_path / "out.jsonl", condition="pain", base_url=registry.base_url + "/nope",
                      opener=build_opener(ProxyHandler({})), sleep=lambda _: None)
    assert len(registry.log) == 1 and raised.value.report.retries == 0


def test_connection_refused_is_retried_then_reported(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(FetchError, match=rf"127\.0\.0\.1:{port}.*connection error"):
        fetch_studies(tmp_path / "out.jsonl", nct_ids=["NCT00465816"], base_url=f"http://127.0.0.1:{port}/api/v2",
                      opener=build_opener(ProxyHandler({})), sleep=sleeps.append, max_retries=2, timeout=5,
                      rate_limit=0)
    assert len(sleeps) == 2


def test_requests_are_spaced_by_the_rate_limit(registry: FakeRegistry, tmp_path: Path) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    report = fetch_studies(tmp_path / "out.jsonl", condition="herniat", page_size=20, rate_limit=4.0,
                           base_url=registry.base_url, opener=build_opener(ProxyHandler({})), sleep=sleep, clock=clock)
    assert report.pages == 4 and sleeps == [0.25, 0.25, 0.25]


@pytest.mark.parametrize("options", [{}, {"condition": "pain", "page_size": 1001}, {"nct_ids": ["NCT00465816"],
                                     "ids_per_request": 0}, {"condition": "pain", "max_pages": 0}])
def test_bad_arguments_are_refused_before_any_request(registry: FakeRegistry, tmp_path: Path,
                                                      options: dict[str, Any]) -> None:
    with pytest.raises(KGError):
        fetch(registry, tmp_path / "out.jsonl", **options)
    assert registry.log == [] and not (tmp_path / "out.jsonl").exists()


def test_output_is_what_the_ctgov_json_reader_reads(registry: FakeRegistry, tmp_path: Path) -> None:
    ctgov_json = pytest.importorskip("kg.sources.ctgov_json")
    out = tmp_path / "studies.jsonl"
    fetch(registry, out, nct_ids=[nct(s) for s in real_studies()][95:105])
    parsed = [ctgov_json.parse_ctgov_json(raw).trial.nct_id for raw in ctgov_json.read_ctgov_json(out)]
    assert parsed == written_ids(out) and len(parsed) == 10


def test_kg_fetch_command_then_build(registry: FakeRegistry, tmp_path: Path) -> None:
    """The command line end to end: fetch by search from the local registry, then build the file."""
    import os
    import subprocess
    import sys

    out = tmp_path / "herniated.jsonl"
    env = {**os.environ, "TRIALKG_CTGOV_API": registry.base_url, "no_proxy": "127.0.0.1"}
    fetched = subprocess.run([sys.executable, "-m", "kg", "fetch", "--condition", "herniat", "--rate", "50",
                              "--page-size", "20", "-o", str(out)], capture_output=True, text=True, env=env,
                             timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    expected = sorted(nct(s) for s in real_studies() if matches_condition(s, "herniat"))
    assert sorted(written_ids(out)) == expected
    built = subprocess.run([sys.executable, "-m", "kg", "build", str(out), "--store", str(tmp_path / "store")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert f"{len(expected)} loaded, 0 failed" in built.stderr
