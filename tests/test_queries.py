"""Canned queries: the answers the seeds must give, and plain SPARQL 1.1 on two engines."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from kg import build, open_store
from kg.errors import QueryError
from kg.queries import get_query, list_queries
from kg.store.base import Store
from kg.store.rdflib_store import RdflibStore
from kg.store.results import ResultTable, to_json
from tests.conftest import DATA, EXAMPLES

REQUIRED = {"shared-principal-investigator", "shared-exclusion-criteria", "shared-sponsor", "shared-site",
            "trial-summary", "trial-publications"}


def test_required_queries_exist_with_headers() -> None:
    queries = {q.name: q for q in list_queries()}
    assert set(queries) >= REQUIRED
    for query in queries.values():
        assert query.title and query.columns, query.name
        assert query.description or query.name == "class-counts"


def test_shared_principal_investigator(seed_store: Store) -> None:
    rows = seed_store.select(get_query("shared-principal-investigator").bind()).records()
    assert [(r["trial1"], r["trial2"], r["name"]) for r in rows] == [("NCT01374854", "NCT01719640", "Jianming Tan")]


def test_shared_exclusion_criteria(seed_store: Store) -> None:
    rows = seed_store.select(get_query("shared-exclusion-criteria").bind()).records()
    assert len(rows) == 1
    assert (rows[0]["trial1"], rows[0]["trial2"]) == ("NCT01374854", "NCT01719640")
    assert int(rows[0]["shared"] or 0) >= 24


def test_trial_summary_has_one_row_per_trial(seed_store: Store) -> None:
    rows = seed_store.select(get_query("trial-summary").bind()).records()
    assert [(r["trial"], r["status"], r["phases"], r["enrollment"], r["sponsor"], r["principal_investigators"])
            for r in rows] == [
        ("NCT01374854", "UNKNOWN", "PHASE1/PHASE2", "44", "Fuzhou General Hospital", "Jianming Tan"),
        ("NCT01719640", "COMPLETED", "PHASE1/PHASE2", "22", None, "Jianming Tan"),
    ]


def test_parameters_restrict_and_are_checked(seed_store: Store) -> None:
    query = get_query("trial-publications")
    rows = seed_store.select(query.bind({"nct": "NCT01719640"})).values()
    assert rows == []
    rows = seed_store.select(query.bind({"nct": "NCT01374854"})).records()
    assert sorted(r["pmid"] for r in rows) == ["26628416", "35086778"]
    assert {r["link"] for r in rows} == {"derived"}
    with pytest.raises(QueryError, match="no parameter"):
        query.bind({"bogus": "1"})
    with pytest.raises(QueryError, match="no canned query"):
        get_query("no-such-query")


def _comparable(table: ResultTable, list_columns: set[str]) -> list[tuple[object, ...]]:
    """Rows with "; "-joined list columns compared as sets (GROUP_CONCAT order is engine-defined)."""
    out = []
    for row in table.records():
        out.append(tuple(frozenset((v or "").split("; ")) if k in list_columns else v for k, v in row.items()))
    return sorted(out, key=repr)


@pytest.fixture(scope="module")
def resolved_sample() -> Store:
    """The seeds and 20 legacy XML studies, built as users build them: resolved, authors linked.

    Small enough for rdflib to answer every query in seconds, large enough that every canned
    query has rows (shared sites and sponsors need more than the two seeds).
    """
    store = open_store(None)
    xml = sorted((DATA / "ctgov-xml" / "aact-search-2016").glob("*.xml"))[:20]
    report = build([EXAMPLES, *xml], store)
    assert report.records_loaded == 22 and "resolution" in report.stage_seconds
    return store


@pytest.mark.parametrize("name", sorted(q.name for q in list_queries()))
def test_each_query_gives_the_same_rows_on_rdflib_and_oxigraph(resolved_sample: Store, name: str) -> None:
    reference = RdflibStore()
    buffer = io.BytesIO()
    resolved_sample.dump(buffer, "nquads")
    reference.load_nquads(buffer.getvalue())
    query = get_query(name)
    list_columns = set(re.findall(r"(\w+) \(\"; \"-joined", query.columns))
    oxigraph_rows = resolved_sample.select(query.bind())
    rdflib_rows = reference.select(query.bind())
    assert oxigraph_rows.variables == rdflib_rows.variables
    assert _comparable(oxigraph_rows, list_columns) == _comparable(rdflib_rows, list_columns)
    assert oxigraph_rows.rows, f"{name} answers nothing on a resolved store"


# --- Every file as shipped, as a SPARQL client sees it -------------------------------------------------------------


def _rdflib_form(text: str) -> str:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return str(translateQuery(parseQuery(text)).algebra.name)


def _sparqlwrapper_form(text: str) -> tuple[str, bool]:
    from SPARQLWrapper import SPARQLWrapper

    client = SPARQLWrapper("http://127.0.0.1:9/sparql")
    client.setQuery(text)
    return client.queryType, client.isSparqlUpdateRequest()


@pytest.mark.parametrize("name", sorted(q.name for q in list_queries()))
def test_each_query_file_is_detected_as_a_select_by_sparqlwrapper_and_rdflib(name: str) -> None:
    """SPARQLWrapper picks query or update from the first query-form word it finds outside the
    comments it strips, and it strips only every other comment line, matching inside words too
    ("loaded" is LOAD, "address" is ADD): a header line can turn the file into an update."""
    path = get_query(name).path
    assert path is not None
    text = path.read_text("utf-8")
    form, is_update = _sparqlwrapper_form(text)
    assert (form, is_update) == ("SELECT", False), (
        f"SPARQLWrapper takes {path.name} for a {form} (a word in its comment header, even inside a longer "
        "word, such as 'loaded' or 'address'): reword that comment line")
    assert _rdflib_form(text) == "SelectQuery"


def test_the_form_check_catches_a_comment_that_reads_as_an_update() -> None:
    """The check above can fail: the wording issue 20 reported is taken for a LOAD."""
    text = "# title: t\n# ... records loaded since the last `kg resolve`\nSELECT ?s WHERE { ?s ?p ?o }\n"
    assert _sparqlwrapper_form(text) == ("LOAD", True)
    assert _rdflib_form(text) == "SelectQuery"


@pytest.fixture(scope="module")
def endpoint(seed_store: Store) -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A minimal SPARQL 1.1 Protocol endpoint over the seed store that records what it was sent."""
    received: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, fields: dict[str, list[str]]) -> None:
            received.append(fields)
            if "query" not in fields:
                self.send_error(400, "not a query request")
                return
            body = to_json(seed_store.select(fields["query"][0])).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(parse_qs(urlsplit(self.path).query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(parse_qs(self.rfile.read(length).decode("utf-8")))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", sorted(q.name for q in list_queries()))
def test_each_query_file_is_sent_as_it_is_through_sparqlwrapper(
        name: str, seed_store: Store, endpoint: tuple[str, list[dict[str, list[str]]]]) -> None:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    url, received = endpoint
    path = get_query(name).path
    assert path is not None
    text = path.read_text("utf-8")
    client = SPARQLWrapper(url)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setQuery(text)
    answer = client.query().convert()
    assert received[-1].get("query") == [text]  # the whole file, header and all, as a query (not an update)
    local = seed_store.select(text)
    assert answer["head"]["vars"] == local.variables
    assert len(answer["results"]["bindings"]) == len(local.rows)


def test_parameter_values_are_checked_against_what_the_header_says() -> None:
    query = get_query("trial-summary")
    with pytest.raises(QueryError, match="not an NCT id"):
        query.bind({"nct": "XYZ"})
    assert "VALUES ?nct { \"NCT01374854\" }" in query.bind({"nct": "nct01374854"})
    with pytest.raises(QueryError, match="not a number"):
        get_query("trials-excluding-above").bind({"value": "thirty"})


def test_a_missing_rq_file_is_file_not_found() -> None:
    with pytest.raises(QueryError, match=r"file not found: missing\.rq"):
        get_query("missing.rq")


@pytest.mark.parametrize("name", ["trial-summary", "shared-exclusion-criteria", "class-counts"])
def test_a_limit_goes_into_the_query_and_keeps_the_order(seed_store: Store, name: str) -> None:
    query = get_query(name)
    everything = seed_store.select(query.bind()).records()
    assert len(everything) >= 1
    assert seed_store.select(query.bind(limit=1)).records() == everything[:1]
    assert seed_store.select(query.bind(limit=0)).records() == []
    with pytest.raises(QueryError, match="0 or more"):
        query.bind(limit=-1)
