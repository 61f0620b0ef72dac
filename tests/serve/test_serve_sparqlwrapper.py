"""SPARQLWrapper with its default settings, every query form in every return format, against kg serve
and against a real Oxigraph server holding the same data.

Why: issue 19 found SPARQLWrapper's defaults failing on kg serve (406 on CONSTRUCT and DESCRIBE,
400 "give format once" for RDF/XML and JSON-LD): SPARQLWrapper sends ``format=``, ``output=``
and ``results=`` (some twice) as well as Accept. The same calls against ``oxigraph serve`` show
what a conforming server answers; both must give the rows and triples the store holds.
"""

from __future__ import annotations

import csv
import io
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from serve_helpers import TRIAL, active_generation, fetch, oxigraph_binary
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from kg.store import open_store
from kg.store.base import Store

SELECT = f"SELECT ?p ?o WHERE {{ <{TRIAL}> ?p ?o }}"
ASK = f"ASK {{ <{TRIAL}> ?p ?o }}"
CONSTRUCT = f"CONSTRUCT {{ <{TRIAL}> ?p ?o }} WHERE {{ <{TRIAL}> ?p ?o }}"
DESCRIBE = f"DESCRIBE <{TRIAL}>"
SOLUTION_FORMATS = (JSON, XML, CSV, TSV)
GRAPH_FORMATS = (XML, RDFXML, TURTLE, N3, JSONLD)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def oxigraph_endpoint(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``oxigraph serve`` on a copy of the store's active generation, on a free port; stopped after."""
    copy = tmp_path_factory.mktemp("oxigraph") / "db"
    shutil.copytree(active_generation(store_dir), copy)
    port = _free_port()
    log = copy.parent / "oxigraph.log"
    with log.open("wb") as sink:
        command = [oxigraph_binary(), "serve", "--location", str(copy), "--bind", f"127.0.0.1:{port}",
                   "--union-default-graph"]
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                fetch(base + "/query?query=ASK%7B%7D", timeout=2)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(log.read_text(errors="replace"))
                time.sleep(0.1)
        yield base + "/query"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def local(store_dir: Path) -> Store:
    return open_store(store_dir, read_only=True)


def _ask(endpoint: str, query: str, return_format: str) -> Any:
    wrapper = SPARQLWrapper(endpoint)  # the defaults: GET, format=/output=/results= and Accept
    wrapper.setQuery(query)
    wrapper.setReturnFormat(return_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper's own note on */* for some formats
        return wrapper.queryAndConvert()


def _solution_rows(result: Any, return_format: str) -> int:
    if return_format == JSON:
        return len(result["results"]["bindings"])
    if return_format == XML:
        return len(result.getElementsByTagName("result"))
    text = result.decode("utf-8") if isinstance(result, bytes) else result
    if return_format == CSV:
        return len(list(csv.reader(io.StringIO(text)))) - 1  # values may span lines, quoted
    return len(text.splitlines()) - 1  # TSV escapes line breaks


def _boolean(result: Any, return_format: str) -> bool:
    if return_format == JSON:
        return bool(result["boolean"])
    if return_format == XML:
        return result.getElementsByTagName("boolean")[0].firstChild.data == "true"
    text = (result.decode("utf-8") if isinstance(result, bytes) else result).strip().lower()
    return text.splitlines()[-1] in ("true", "1")


@pytest.fixture(scope="module", params=["kg serve", "oxigraph serve"])
def endpoint(request: pytest.FixtureRequest) -> str:
    if request.param == "kg serve":
        return str(request.getfixturevalue("server")) + "/sparql"
    return str(request.getfixturevalue("oxigraph_endpoint"))


@pytest.mark.parametrize("return_format", SOLUTION_FORMATS)
def test_select_with_default_settings(endpoint: str, local: Store, return_format: str) -> None:
    expected = len(local.select(SELECT).rows)
    assert _solution_rows(_ask(endpoint, SELECT, return_format), return_format) == expected > 50


@pytest.mark.parametrize("return_format", SOLUTION_FORMATS)
def test_ask_with_default_settings(endpoint: str, return_format: str) -> None:
    assert _boolean(_ask(endpoint, ASK, return_format), return_format) is True
    assert _boolean(_ask(endpoint, "ASK { <urn:nothing> ?p ?o }", return_format), return_format) is False


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize("return_format", GRAPH_FORMATS)
def test_graph_queries_with_default_settings(endpoint: str, local: Store, query: str, return_format: str) -> None:
    graph = _ask(endpoint, query, return_format)
    if not isinstance(graph, rdflib.Graph):  # N3 and Turtle come back as bytes: parse them as a user would
        graph = rdflib.Graph().parse(data=graph, format="turtle" if return_format == TURTLE else "n3")
    outbound = {(str(p), str(o)) for s, p, o in graph if str(s) == TRIAL}
    expected = {(r[0], r[1]) for r in local.select(f"SELECT DISTINCT ?p ?o {{ <{TRIAL}> ?p ?o }}").values()}
    assert len(outbound) == len(expected) > 50
