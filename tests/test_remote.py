"""Remote stores against real servers: an Oxigraph server process and ``kg serve`` itself.

Each server runs as its own process on a free loopback port, started and stopped by the
fixtures. The seed store is pushed to it (Graph Store Protocol on Oxigraph, SPARQL Update on
kg serve), then every canned query is asked through SPARQLWrapper and must return the rows
the local store returns. The Oxigraph server CLI comes from the ``oxigraph`` PyPI package; a
missing one fails the tests with the install command rather than skipping them.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from SPARQLWrapper import JSON, POST, SELECT, SPARQLWrapper

from kg.queries import CannedQuery, list_queries
from kg.store import open_store
from kg.store.base import Store
from kg.store.generations import StoreDirectory
from kg.store.push import push
from kg.store.remote import RemoteStore, open_remote_store, split_by_graph
from kg.sync import sync

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TOKEN = "remote-test-token-0123456789abcdef"
KG = [sys.executable, "-m", "kg"]  # `python -m kg` once kg.cli registers serve/push/sync


@dataclass(frozen=True)
class Server:
    name: str
    query: str
    update: str
    gsp: str | None
    token: str | None = None

    def store(self, *, gsp: bool = True) -> RemoteStore:
        return open_remote_store(self.query, self.update, self.gsp if gsp else None, token=self.token)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def oxigraph_binary() -> str:
    for candidate in (Path(sys.executable).parent / "oxigraph", shutil.which("oxigraph")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("the Oxigraph server CLI is missing: `.venv/bin/pip install 'oxigraph>=0.5'`")


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`oxigraph serve --union-default-graph` on an empty on-disk store, on a free loopback port."""
    workdir = tmp_path_factory.mktemp("oxigraph")
    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(workdir / "db"),
                                    "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                                   stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/query?query=ASK%7B%7D", process, log)
        yield Server("oxigraph", base + "/query", base + "/update", base + "/store")
    finally:
        _stop(process)


def start_kg_serve(workdir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`kg serve` on an empty store with an update token; returns the process, base URL and log."""
    StoreDirectory(workdir / "store").open().close()  # an empty store
    token_file = workdir / "token"
    token_file.write_text(TOKEN)
    log = workdir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([*KG, "serve", "--store", str(workdir / "store"), "--port", "0",
                                    "--update-token-file", str(token_file), "--no-access-log", *extra],
                                   stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"kg serve: (http://127\.0\.0\.1:\d+)/", log.read_text(errors="replace"))
        if match:
            return process, match.group(1), log
        if process.poll() is not None:
            break
        time.sleep(0.1)
    _stop(process)
    pytest.fail(f"kg serve did not start: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def kg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    process, base, _ = start_kg_serve(tmp_path_factory.mktemp("kgserve"))
    try:
        yield Server("kg serve", base + "/sparql", base + "/sparql", None, TOKEN)
    finally:
        _stop(process)


@pytest.fixture(scope="module", params=["oxigraph", "kg serve"])
def pushed(request: pytest.FixtureRequest, seed_store: Store) -> Server:
    """A server holding the seed store, pushed to it (GSP on Oxigraph, SPARQL Update on kg serve)."""
    server: Server = request.getfixturevalue("oxigraph_server" if request.param == "oxigraph" else "kg_server")
    report = push(seed_store, server.store())
    assert report.graphs == len(seed_store.graphs()) and report.quads == len(seed_store)
    return server


def sparqlwrapper_rows(endpoint: str, sparql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
    """Rows exactly as a SPARQLWrapper user gets them (no trialkg code in between).

    The query type is stated, not guessed: SPARQLWrapper 2.0 takes a query whose comment
    header says "loaded" for a LOAD update (its comment stripper keeps every other line and
    its keyword search has no word boundaries) and posts it to the update endpoint.
    """
    wrapper = SPARQLWrapper(endpoint)
    wrapper.setMethod(POST)
    wrapper.setReturnFormat(JSON)
    wrapper.setQuery(sparql)
    wrapper.queryType = SELECT
    document = wrapper.queryAndConvert()
    assert isinstance(document, dict)
    names = document["head"]["vars"]
    return names, [tuple(b.get(n, {}).get("value") for n in names) for b in document["results"]["bindings"]]


def _comparable(query: CannedQuery, names: list[str], rows: list[tuple[str | None, ...]]) -> list[tuple[object, ...]]:
    """Rows with "; "-joined list columns as sets (GROUP_CONCAT order is the engine's choice), sorted."""
    joined = set(re.findall(r"(\w+) \(\"; \"-joined", query.columns))
    out = [tuple(frozenset((v or "").split("; ")) if n in joined else v for n, v in zip(names, row, strict=True))
           for row in rows]
    return sorted(out, key=repr)


@pytest.mark.parametrize("query", list_queries(), ids=lambda q: q.name)
def test_canned_queries_give_the_local_rows_through_sparqlwrapper(pushed: Server, seed_store: Store,
                                                                   query: CannedQuery) -> None:
    for bindings in (None, {"nct": "NCT01374854"} if any(p.name == "nct" for p in query.parameters) else None):
        sparql = query.bind(bindings)
        local = seed_store.select(sparql)
        names, rows = sparqlwrapper_rows(pushed.query, sparql)
        assert names == local.variables
        assert _comparable(query, names, rows) == _comparable(query, local.variables, local.values())
        assert pushed.store().select(sparql).values() == rows  # RemoteStore reads the same rows


def test_remote_store_mirrors_the_local_dataset(pushed: Server, seed_store: Store) -> None:
    remote = pushed.store()
    assert remote.graphs() == seed_store.graphs()
    assert len(remote) == len(seed_store)
    graph = "https://w3id.org/trialkg/graph/ctgov/NCT01374854"
    assert remote.has_graph(graph) and not remote.has_graph("urn:no-such-graph")
    assert _graph_dump(remote) == _graph_dump(seed_store)  # every graph, triple for triple


def test_gsp_and_update_uploads_replace_graphs(oxigraph_server: Server) -> None:
    """The same replace through GSP PUT and through DROP + INSERT DATA leaves the same graph."""
    graph = "urn:trialkg-test:replace"
    first = f'<urn:s> <urn:p> "one" <{graph}> .\n<urn:s> <urn:p> "two" <{graph}> .\n'.encode()
    second = f'<urn:s> <urn:p> "three" <{graph}> .\n'.encode()
    query = f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?o"
    for use_gsp in (True, False):
        remote = oxigraph_server.store(gsp=use_gsp)
        remote.replace_nquads(first)
        assert remote.select(query).values() == [("one",), ("two",)]
        remote.replace_nquads(second)
        assert remote.select(query).values() == [("three",)]
        remote.load_nquads(first)
        assert remote.select(query).values() == [("one",), ("three",), ("two",)]
        remote.remove_graphs([graph])
        assert not remote.has_graph(graph)


def test_kg_serve_refuses_writes_without_the_token(kg_server: Server) -> None:
    from kg.errors import StoreError

    anonymous = open_remote_store(kg_server.query, kg_server.update)
    with pytest.raises(StoreError, match=r"Unauthorized|401"):
        anonymous.load_nquads(b'<urn:s> <urn:p> "o" <urn:g> .\n')
    assert not kg_server.store().has_graph("urn:g")


def test_comments_that_name_update_keywords_stay_queries(pushed: Server) -> None:
    sparql = "# a header\n# records loaded since the last sync\n# more\nASK { ?s ?p ?o }"
    assert pushed.store().ask(sparql) is True


def test_split_by_graph_keeps_each_graph_apart() -> None:
    data = b'<urn:a> <urn:p> "x" <urn:g1> .\n<urn:b> <urn:p> "y\\n" <urn:g2> .\n<urn:c> <urn:p> <urn:d> .\n'
    assert split_by_graph(data) == {"urn:g1": b'<urn:a> <urn:p> "x" .\n', "urn:g2": b'<urn:b> <urn:p> "y\\n" .\n',
                                    None: b"<urn:c> <urn:p> <urn:d> .\n"}


def changed_seed(directory: Path) -> Path:
    """The modern seed page with its principal investigator renamed and a newer last-update date."""
    text = (EXAMPLES / "000_df29306579c496cc.txt").read_text("utf-8")
    assert text.count("Jianming Tan, professor") == 1 and text.count("Last Updated: 2012-11-20") == 1
    changed = text.replace("Jianming Tan, professor", "Wenbo Li, professor")
    changed = changed.replace("Last Updated: 2012-11-20", "Last Updated: 2013-01-15")
    path = directory / "000_df29306579c496cc.txt"
    path.write_text(changed, "utf-8")
    return path


def _graph_dump(store: Store) -> dict[str, set[str]]:
    import io

    import pyoxigraph as ox

    buffer = io.BytesIO()
    store.dump(buffer, "nquads")
    graphs: dict[str, set[str]] = {}
    for quad in ox.parse(buffer.getvalue(), ox.RdfFormat.N_QUADS):
        graphs.setdefault(str(quad.graph_name), set()).add(str(quad.triple))
    return graphs


@pytest.mark.parametrize("server_name", ["oxigraph", "kg serve"])
def test_sync_a_changed_record_on_a_remote_store(server_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same daily sync on a server and locally leaves the same record graphs."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # both syncs state the same provenance time
    if server_name == "oxigraph":
        workdir = tmp_path_factory.mktemp("oxigraph-sync")
        port = _free_port()
        log = workdir / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(workdir / "db"),
                                        "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                                       stdout=sink, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + "/query?query=ASK%7B%7D", process, log)
        server = Server("oxigraph", base + "/query", base + "/update", base + "/store")
    else:
        process, base, _ = start_kg_serve(tmp_path_factory.mktemp("kgserve-sync"))
        server = Server("kg serve", base + "/sparql", base + "/sparql", None, TOKEN)
    try:
        remote, local = server.store(), open_store(None)
        for store in (remote, local):
            first = sync([EXAMPLES], store)
            assert (first.added, first.updated) == (2, 0)
        before = _graph_dump(remote)
        changed = changed_seed(tmp_path)
        reports = [sync([changed, EXAMPLES / "001_ca6197c953f8c59c.txt"], store) for store in (remote, local)]
        for report in reports:
            assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
        after_remote, after_local = _graph_dump(remote), _graph_dump(local)
        untouched = "<https://w3id.org/trialkg/graph/ctgov/NCT01719640>"
        assert after_remote[untouched] == before[untouched]
        record = "<https://w3id.org/trialkg/graph/ctgov/NCT01374854>"
        assert after_remote[record] != before[record]
        assert after_remote[record] == after_local[record]
        assert not any("Jianming Tan" in line for line in after_remote[record])
        assert (sync([EXAMPLES / "001_ca6197c953f8c59c.txt"], remote, full=True).removed) == 1
        assert not remote.has_graph(record[1:-1])
    finally:
        _stop(process)


def test_push_and_sync_from_the_command_line(kg_server: Server, tmp_path: Path) -> None:
    store_dir = tmp_path / "local"
    built = subprocess.run([*KG, "sync", str(EXAMPLES), "--store", str(store_dir)], capture_output=True, text=True,
                           cwd=ROOT, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "2 added" in built.stderr
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    pushed = subprocess.run([*KG, "push", "--endpoint", kg_server.query, "--store", str(store_dir),
                             "--token-file", str(token_file)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert pushed.returncode == 0, pushed.stderr
    with open_store(store_dir, read_only=True) as local:
        local_graphs = local.graphs()
        assert kg_server.store().graphs() == local_graphs
    # every graph sync wrote (records, metadata, resolution, author links, sharing, VoID) is reported
    records = {f"graph/ctgov/{nct}" for nct in ("NCT01374854", "NCT01719640")}
    assert records <= {g.split("trialkg/", 1)[1] for g in local_graphs}
    assert re.search(rf"pushed .*: {len(local_graphs)} graphs", pushed.stderr), pushed.stderr
    refused = subprocess.run([*KG, "push", "--endpoint", kg_server.query, "--store", str(store_dir)],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert refused.returncode == 1 and "Unauthorized" in refused.stderr and "Traceback" not in refused.stderr
