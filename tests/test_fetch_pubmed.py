"""``kg.fetch.pubmed``: batching, rate, retries, resuming, the API key, against a local efetch server.

The server replays the real PubMed records of tests/data/pubmed the way efetch.fcgi
answers ``db=pubmed&id=...&retmode=xml``: a ``<PubmedArticleSet>`` with the DOCTYPE line,
holding the requested articles it knows (unknown PMIDs are silently left out, as NCBI
does). The articles are cut out of the raw files with a regular expression here.
"""

from __future__ import annotations

import gzip
import random
import re
import threading
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import ProxyHandler, build_opener

import pytest

from kg import build, open_store
from kg.errors import KGError
from kg.fetch.http import FetchError
from kg.fetch.pubmed import PubmedFetchReport, fetch_pubmed, pmids_in_folder, pmids_in_store
from tests.conftest import DATA, EXAMPLES

ARTICLE = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.DOTALL)
PMID = re.compile(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)")
HEAD = (b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN"'
        b' "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n')


@cache
def real_articles() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for path in sorted((DATA / "pubmed").iterdir()):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for match in ARTICLE.finditer(data):
            found[PMID.search(match.group(0)).group(1).decode()] = match.group(0)  # type: ignore[union-attr]
    return found


class FakeEutils:
    def __init__(self) -> None:
        self.articles = real_articles()
        self.faults: list[str] = []  # one per request, in order: "429:S", "503", "truncate", "error-xml"
        self.fail_after: int | None = None
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.base_url = ""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server: FakeEutils = self.server.eutils  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        with server.lock:
            served = sum(1 for e in server.log if e["status"] == 200)
            fault = server.faults.pop(0) if server.faults else None
            if server.fail_after is not None and served >= server.fail_after:
                fault = "503"
            entry = {"path": url.path, "params": params, "status": 200}
            server.log.append(entry)
        if not url.path.endswith("/efetch.fcgi") or params.get("db") != "pubmed":
            entry["status"] = 400
            return self._send(400, b"<eFetchResult><ERROR>bad request</ERROR></eFetchResult>")
        ids = params.get("id", "").split(",")
        body = HEAD + b"\n".join(server.articles[i] for i in ids if i in server.articles) + b"\n</PubmedArticleSet>\n"
        if fault and fault.startswith("429"):
            entry["status"] = 429
            return self._send(429, b"Too Many Requests", {"Retry-After": fault.split(":")[1]})
        if fault == "503":
            entry["status"] = 503
            return self._send(503, b"Service Unavailable")
        if fault == "truncate":
            entry["status"] = 206
            body = body[: len(body) // 2]
        elif fault == "error-xml":
            entry["status"] = 207
            body = b'<?xml version="1.0"?><eFetchResult><ERROR>Search Backend failed</ERROR></eFetchResult>'
        self._send(200, body)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def eutils() -> Iterator[FakeEutils]:
    fake = FakeEutils()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.eutils = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/entrez/eutils"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fetch(eutils: FakeEutils, out: Path, pmids: list[str], sleeps: list[float] | None = None,
          **options: Any) -> PubmedFetchReport:
    options.setdefault("api_key", "")
    return fetch_pubmed(out, pmids, base_url=eutils.base_url, opener=build_opener(ProxyHandler({})),
                        sleep=(sleeps if sleeps is not None else []).append, rng=random.Random(3), **options)


def test_batches_retries_and_the_output_builds(eutils: FakeEutils, tmp_path: Path) -> None:
    wanted = sorted(eutils.articles)
    eutils.faults = ["429:4", "truncate", "503", "error-xml"]
    sleeps: list[float] = []
    out = tmp_path / "pubmed"
    report = fetch(eutils, out, [*wanted, "99999999", "pmid:1", ""], sleeps, batch_size=40, rate_limit=0)
    assert report.requested == len(wanted) + 1 and report.written == len(wanted)
    assert report.failed == [("pmid:1", "not a PMID"),
                             ("99999999", "not returned by PubMed (unknown or withdrawn PMID)")]
    assert report.batches == 3 and report.retries == 4 and 4.0 in sleeps
    requested = [e["params"]["id"].split(",") for e in eutils.log if e["status"] == 200]
    assert [len(batch) for batch in requested] == [40, 40, 36]
    assert all(e["params"]["tool"] == "trialkg" and "api_key" not in e["params"] for e in eutils.log)
    assert pmids_in_folder(out) == set(wanted)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    store = open_store(None)
    built = build([out], store)
    assert (built.records_loaded, built.records_failed) == (len(wanted), 0)


def test_an_interrupted_fetch_resumes_without_asking_twice(eutils: FakeEutils, tmp_path: Path) -> None:
    wanted = sorted(eutils.articles)[:100]
    eutils.fail_after = 2
    out = tmp_path / "pubmed"
    with pytest.raises(FetchError) as raised:
        fetch(eutils, out, wanted, batch_size=25, max_retries=1, rate_limit=0)
    partial = raised.value.report
    assert isinstance(partial, PubmedFetchReport) and partial.written == 50
    first = {i for e in eutils.log if e["status"] == 200 for i in e["params"]["id"].split(",")}
    eutils.fail_after = None
    log_size = len(eutils.log)
    report = fetch(eutils, out, wanted, batch_size=25, rate_limit=0)
    assert (report.skipped_existing, report.written, report.failed) == (50, 50, [])
    again = {i for e in eutils.log[log_size:] for i in e["params"]["id"].split(",")}
    assert not again & first
    assert pmids_in_folder(out) == set(wanted)
    nothing = fetch(eutils, out, wanted, rate_limit=0)
    assert nothing.skipped_existing == 100 and nothing.batches == 0


def test_api_key_raises_the_rate_and_never_leaks(eutils: FakeEutils, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    wanted = sorted(eutils.articles)[:30]
    for key, gap in (("", 1 / 3), ("s3cr3t-key", 1 / 10)):
        monkeypatch.setenv("NCBI_API_KEY", key)
        sleeps.clear()
        fetch_pubmed(tmp_path / f"out-{bool(key)}", wanted, batch_size=10, base_url=eutils.base_url,
                     opener=build_opener(ProxyHandler({})), sleep=sleep, clock=lambda: now[0])
        assert sleeps == pytest.approx([gap, gap])
    assert [e["params"].get("api_key") for e in eutils.log[-3:]] == ["s3cr3t-key"] * 3
    eutils.faults = ["503"] * 5
    monkeypatch.setenv("NCBI_API_KEY", "s3cr3t-key")
    with pytest.raises(FetchError) as raised:
        fetch_pubmed(tmp_path / "failing", wanted[:1], base_url=eutils.base_url, max_retries=2,
                     opener=build_opener(ProxyHandler({})), sleep=lambda _: None, rate_limit=0)
    assert "s3cr3t-key" not in str(raised.value) and "api_key=***" in str(raised.value)


def test_pmids_referenced_by_the_seed_trials(tmp_path: Path) -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    citations = (EXAMPLES / "000_df29306579c496cc.txt").read_text(encoding="utf-8")
    assert pmids_in_store(store) == sorted(set(re.findall(r"PMID: (\d+)", citations)), key=int)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KGError, match="batch size"):
        fetch_pubmed(tmp_path / "out", ["1"], batch_size=201)
    (tmp_path / "file.xml").write_text("x")
    with pytest.raises(KGError, match="not a folder"):
        fetch_pubmed(tmp_path / "file.xml", ["1"])


def test_fetch_pubmed_and_deletions_commands(eutils: FakeEutils, tmp_path: Path) -> None:
    """The command line: fetch by PMIDs into a folder, build it, then withdraw what an update file deletes."""
    import click
    from click.testing import CliRunner

    from kg.cli.publications import register

    group = click.Group("kg")
    register(group)
    runner = CliRunner()
    wanted = sorted(eutils.articles)[:5]
    out = tmp_path / "pubmed"
    env = {"TRIALKG_EUTILS": eutils.base_url, "NCBI_API_KEY": "", "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}
    result = runner.invoke(group, ["fetch-pubmed", *wanted, "-o", str(out), "--rate", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert "5 written, 0 already there, 0 failed" in result.output
    update_file = DATA / "pubmed" / "ncbiutils-pubmed22n1313.xml"
    deletions = update_file.read_text(encoding="utf-8").split("<DeleteCitation>")[1]
    deleted = re.findall(r"<PMID[^>]*>(\d+)</PMID>", deletions)
    # One of the fetched articles under a PMID the update file withdraws (the real data share none).
    withdrawn = tmp_path / "withdrawn.xml"
    article = real_articles()[wanted[0]].replace(f">{wanted[0]}</PMID>".encode(), f">{deleted[0]}</PMID>".encode(), 1)
    withdrawn.write_bytes(HEAD + article + b"\n</PubmedArticleSet>\n")
    store_dir = tmp_path / "store"
    with open_store(store_dir) as store:
        assert build([out, withdrawn], store).records_loaded == 6
    result = runner.invoke(group, ["pubmed-deletions", str(update_file), "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    assert f"{len(deleted)} PMIDs withdrawn, 1 of them were in the store" in result.output
    with open_store(store_dir) as store:
        graphs = {g.rsplit("/", 1)[1] for g in store.graphs() if "/graph/pubmed/" in g}
    assert graphs == set(wanted)
    usage = runner.invoke(group, ["fetch-pubmed", "-o", str(out)], env=env)
    assert usage.exit_code != 0 and "give PMIDs" in usage.output
