"""kg serve over HTTP: the SPARQL 1.1 Protocol, content negotiation, linked data, limits and safety.

Each test talks to a real server (``running_server`` in a thread) over loopback with urllib,
and checks answers against the same store queried directly.
"""

from __future__ import annotations

import csv
import io
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyoxigraph as ox
import pytest

from kg.queries import get_query
from kg.serve import Limits, ServeConfig, running_server
from kg.serve.formats import negotiate
from kg.serve.paths import iri_for_path, local_path
from kg.serve.safety import token_matches, uses_keyword
from kg.store import open_store
from kg.store.base import Store

TRIAL = "https://clinicaltrials.gov/study/NCT01374854"
PI = "https://w3id.org/trialkg/resource/person/jianming-tan"
TOKEN = "s3cret-token-for-tests-0123456789"
SPARQL_RESULTS = "{http://www.w3.org/2005/sparql-results#}"


def fetch(url: str, *, accept: str | None = None, data: bytes | None = None, content_type: str | None = None,
          headers: dict[str, str] | None = None, method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    if accept:
        request.add_header("Accept", accept)
    if content_type:
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def query_url(base: str, sparql: str, **params: str) -> str:
    return base + "/sparql?" + urllib.parse.urlencode({"query": sparql, **params})


@pytest.fixture(scope="module")
def server(seed_store: Store) -> Iterator[str]:
    with running_server(seed_store, ServeConfig(port=0)) as url:  # type: ignore[arg-type]
        yield url


def _expected(store: Store, sparql: str) -> list[tuple[str | None, ...]]:
    return sorted(store.select(sparql).values(), key=repr)


def test_select_in_every_result_format(server: str, seed_store: Store) -> None:
    sparql = get_query("trial-summary").bind()
    expected = _expected(seed_store, sparql)
    variables = seed_store.select(sparql).variables

    status, headers, body = fetch(query_url(server, sparql), accept="application/sparql-results+json")
    assert status == 200 and headers["Content-Type"] == "application/sparql-results+json"
    document = orjson.loads(body)
    assert document["head"]["vars"] == variables
    rows = [tuple(b.get(v, {}).get("value") for v in variables) for b in document["results"]["bindings"]]
    assert sorted(rows, key=repr) == expected

    status, headers, body = fetch(query_url(server, sparql), accept="application/sparql-results+xml")
    assert status == 200 and headers["Content-Type"] == "application/sparql-results+xml"
    root = ET.fromstring(body)
    xml_rows = []
    for result in root.iter(SPARQL_RESULTS + "result"):
        values = {b.get("name"): next(iter(b)).text for b in result.iter(SPARQL_RESULTS + "binding")}
        xml_rows.append(tuple(values.get(v) for v in variables))
    assert sorted(xml_rows, key=repr) == expected

    status, headers, body = fetch(query_url(server, sparql), accept="text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert table[0] == variables
    assert sorted((tuple(v or None for v in row) for row in table[1:]), key=repr) == expected

    status, headers, body = fetch(query_url(server, sparql), accept="text/tab-separated-values")
    assert status == 200 and body.decode("utf-8").splitlines()[0] == "\t".join("?" + v for v in variables)
    assert len(body.decode("utf-8").splitlines()) == len(expected) + 1


def test_post_form_and_direct_body_give_the_same_rows(server: str, seed_store: Store) -> None:
    sparql = get_query("shared-principal-investigator").bind()
    expected = _expected(seed_store, sparql)
    for data, media in ((urllib.parse.urlencode({"query": sparql}).encode(), "application/x-www-form-urlencoded"),
                        (sparql.encode("utf-8"), "application/sparql-query")):
        status, _, body = fetch(server + "/sparql", data=data, content_type=media, accept="application/json")
        assert status == 200, body
        document = orjson.loads(body)
        names = document["head"]["vars"]
        rows = [tuple(b.get(v, {}).get("value") for v in names) for b in document["results"]["bindings"]]
        assert sorted(rows, key=repr) == expected


def test_ask_construct_and_dataset_parameters(server: str, seed_store: Store) -> None:
    status, _, body = fetch(query_url(server, f"ASK {{ <{TRIAL}> a ?type }}"), accept="application/sparql-results+json")
    assert status == 200 and orjson.loads(body)["boolean"] is True
    status, _, body = fetch(query_url(server, "ASK { <urn:nothing> ?p ?o }"), accept="application/sparql-results+xml")
    assert status == 200 and ET.fromstring(body).find(SPARQL_RESULTS + "boolean").text == "false"  # type: ignore[union-attr]

    construct = f"CONSTRUCT {{ <{TRIAL}> ?p ?o }} WHERE {{ <{TRIAL}> ?p ?o }}"
    status, headers, body = fetch(query_url(server, construct), accept="text/turtle")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    triples = {str(t) for t in ox.parse(body, ox.RdfFormat.TURTLE)}
    expected = {f"<{TRIAL}> {p} {o}" for p, o in
                ((r[0].n3(), r[1].n3()) for r in seed_store.select(f"SELECT ?p ?o WHERE {{ <{TRIAL}> ?p ?o }}").rows
                 if r[0] and r[1])}
    assert len(triples) == len(expected) > 50

    graph = "https://w3id.org/trialkg/graph/ctgov/NCT01719640"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    status, _, body = fetch(query_url(server, count, **{"default-graph-uri": graph}), accept="application/json")
    in_graph = seed_store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").values()
    assert orjson.loads(body)["results"]["bindings"][0]["n"]["value"] == in_graph[0][0]


@pytest.mark.parametrize(("request_kwargs", "status"), [
    ({"url_query": "SELEKT * WHERE { ?s ?p ?o }"}, 400),
    ({"url_query": None}, 400),
    ({"data": b"query=x", "content_type": "text/plain"}, 415),
    ({"url_update": "DROP ALL"}, 405),
    ({"url_query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}, 400),
])
def test_bad_requests_get_a_clear_status(server: str, request_kwargs: dict[str, object], status: int) -> None:
    if "url_query" in request_kwargs:
        sparql = request_kwargs["url_query"]
        url = query_url(server, str(sparql)) if sparql else server + "/sparql"
        got, _, body = fetch(url, accept="application/json")
    elif "url_update" in request_kwargs:
        got, _, body = fetch(server + "/sparql?" + urllib.parse.urlencode({"update": request_kwargs["url_update"]}))
    else:
        got, _, body = fetch(server + "/sparql", data=request_kwargs["data"],  # type: ignore[arg-type]
                             content_type=str(request_kwargs["content_type"]))
    assert got == status, body
    assert body.strip() and b"Traceback" not in body


def test_service_detection_ignores_strings_iris_and_names() -> None:
    refused = [
        "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
        "select * { service silent <http://x/> { ?s ?p ?o } }",
        "SELECT * { ?s ?p ?o } ;\nSELECT * { SERVICE ?endpoint { ?a ?b ?c } }",
        'SELECT * { ?s ?p "a" . \\u0053ERVICE <http://x/> { ?a ?b ?c } }',
        "SELECT * { ?s ?p ?o FILTER(?o<?s)SERVICE<http://x/>{ ?a ?b ?c } }",
    ]
    allowed = [
        'SELECT * { ?s ?p "customer service" }',
        "SELECT * { ?s <http://example.org/service> ?o }  # SERVICE in a comment",
        "PREFIX service: <http://x/> SELECT ?service { ?service service:p ex:service }",
        "SELECT * { ?s ?p '''SERVICE <http://x/> { }''' }",
    ]
    assert all(uses_keyword(q, "SERVICE") for q in refused)
    assert not any(uses_keyword(q, "SERVICE") for q in allowed)
    assert uses_keyword("LOAD <http://x/data.ttl>", "LOAD")
    assert not uses_keyword('INSERT DATA { <a:b> <c:d> "LOAD" }', "LOAD")
    assert token_matches(f"Bearer {TOKEN}", TOKEN) and not token_matches("Bearer nope", TOKEN)
    assert not token_matches(None, TOKEN) and not token_matches(f"Basic {TOKEN}", TOKEN)


def test_content_negotiation() -> None:
    offers = ("application/sparql-results+json", "text/csv", "text/html")
    assert negotiate(None, offers) == "application/sparql-results+json"
    assert negotiate("*/*", offers) == "application/sparql-results+json"
    assert negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", offers) == "text/html"
    assert negotiate("text/csv;q=0.5, text/*;q=0.4", offers) == "text/csv"
    assert negotiate("text/csv;q=0, application/*", offers) == "application/sparql-results+json"
    assert negotiate("image/png", offers) is None


def test_result_size_limit(seed_store: Store) -> None:
    with running_server(seed_store, ServeConfig(port=0, limits=Limits(max_rows=10))) as url:  # type: ignore[arg-type]
        status, _, body = fetch(query_url(url, "SELECT * WHERE { ?s ?p ?o }"), accept="application/json")
        assert status == 400 and b"more than 10 rows" in body
        status, _, body = fetch(query_url(url, "SELECT * WHERE { ?s ?p ?o } LIMIT 10"), accept="application/json")
        assert status == 200 and len(orjson.loads(body)["results"]["bindings"]) == 10


def test_timeout_answers_503_and_frees_the_worker(seed_store: Store) -> None:
    """A long streaming query gets 503 at the deadline, and its worker stops (one worker: the next query runs)."""
    limits = Limits(timeout=0.3, max_rows=10**8, workers=1)
    with running_server(seed_store, ServeConfig(port=0, limits=limits)) as url:  # type: ignore[arg-type]
        started = time.monotonic()
        status, _, body = fetch(query_url(url, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"), accept="application/json")
        assert status == 503 and b"did not finish" in body
        assert time.monotonic() - started < 3
        time.sleep(0.3)
        status, _, body = fetch(query_url(url, "ASK { ?s ?p ?o }"), accept="application/json")
        assert status == 200, body


def test_updates_need_the_token() -> None:
    store = open_store(None)
    update = 'INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> "added" } }'
    form = urllib.parse.urlencode({"update": update}).encode()
    media = "application/x-www-form-urlencoded"
    with running_server(store, ServeConfig(port=0)) as url:  # type: ignore[arg-type]
        status, _, body = fetch(url + "/sparql", data=form, content_type=media)
        assert status == 403 and b"read-only" in body
    with running_server(store, ServeConfig(port=0, update_token=TOKEN)) as url:  # type: ignore[arg-type]
        status, headers, _ = fetch(url + "/sparql", data=form, content_type=media)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        status, _, _ = fetch(url + "/sparql", data=form, content_type=media, headers={"Authorization": "Bearer wrong"})
        assert status == 401 and len(store) == 0
        auth = {"Authorization": f"Bearer {TOKEN}"}
        status, _, _ = fetch(url + "/sparql", data=update.encode(), content_type="application/sparql-update",
                             headers=auth)
        assert status == 204 and store.select("SELECT ?o WHERE { ?s ?p ?o }").values() == [("added",)]
        status, _, body = fetch(url + "/sparql", data=b"LOAD <http://127.0.0.1:9/x.ttl>",
                                content_type="application/sparql-update", headers=auth)
        assert status == 400 and b"LOAD" in body


def test_linked_data_by_content_negotiation(server: str, seed_store: Store) -> None:
    status, headers, body = fetch(server + "/study/NCT01374854", accept="text/turtle")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle") and headers["Vary"] == "Accept"
    triples = list(ox.parse(body, ox.RdfFormat.TURTLE))
    outbound = {(t.predicate.value, str(t.object)) for t in triples if t.subject.value == TRIAL}
    local = {(r[0].value, r[1].n3()) for r in seed_store.select(f"SELECT DISTINCT ?p ?o {{ <{TRIAL}> ?p ?o }}").rows
             if r[0] and r[1]}
    assert {p for p, _ in outbound} == {p for p, _ in local} and len(outbound) == len(local)

    status, headers, body = fetch(server + "/resource/person/jianming-tan", accept="application/ld+json")
    assert status == 200 and headers["Content-Type"] == "application/ld+json"
    people = list(ox.parse(body, ox.RdfFormat.JSON_LD))
    assert any(t.subject.value == PI and str(t.object) == '"Jianming Tan"' for t in people)
    agents = {t.subject.value for t in people  # inbound: the roles (not resolution or author links)
              if t.object == ox.NamedNode(PI) and t.predicate.value.endswith("#agent")}
    assert len(agents) == 2

    graph = "https://w3id.org/trialkg/graph/ctgov/NCT01719640"
    status, _, body = fetch(server + "/graph/ctgov/NCT01719640?format=nt")
    assert status == 200
    local_graph = seed_store.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").values()[0][0]
    assert str(len(list(ox.parse(body, ox.RdfFormat.N_TRIPLES)))) == local_graph

    status, _, _ = fetch(server + "/study/NCT00000000", accept="text/turtle")
    assert status == 404
    status, _, _ = fetch(server + "/resource/../../etc/passwd", accept="text/turtle")
    assert status == 404
    pub = "https://pubmed.ncbi.nlm.nih.gov/26628416"
    status, _, body = fetch(server + "/describe?" + urllib.parse.urlencode({"iri": pub}), accept="text/html")
    assert status == 200 and b"Umbilical" in body


def test_every_minted_iri_maps_to_a_path_and_back(seed_store: Store) -> None:
    subjects = [v for (v,) in seed_store.select("SELECT DISTINCT ?s { ?s ?p ?o FILTER(isIRI(?s)) }").values()]
    mapped = 0
    for subject in subjects:
        assert subject is not None
        path = local_path(subject)
        if not path.startswith("/describe"):
            assert iri_for_path(path) == subject
            mapped += 1
    assert mapped > 100


def test_html_pages_link_what_they_show(server: str) -> None:
    status, headers, body = fetch(server + "/study/NCT01374854", accept="text/html")
    assert status == 200 and "script-src" not in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    page = body.decode("utf-8")
    for expected in ('href="/resource/person/jianming-tan"', 'href="/resource/organization/fuzhou-general-hospital"',
                     'href="/resource/arm/NCT01374854/stem-cell-infusion"', "Exclusion criteria",
                     'href="/describe?iri=https%3A%2F%2Fpubmed.ncbi.nlm.nih.gov%2F26628416"'):
        assert expected in page
    status, _, body = fetch(server + "/resource/person/jianming-tan", accept="text/html")
    assert status == 200 and b'href="/study/NCT01719640"' in body and b'href="/study/NCT01374854"' in body
    status, _, body = fetch(server + "/", accept="text/html")
    assert status == 200 and b"shared-principal-investigator" in body
    status, _, body = fetch(server + "/ontology", accept="text/html")
    assert status == 200 and b'id="Trial"' in body


def test_query_page_renders_results_and_escapes_the_query(server: str) -> None:
    hostile = 'SELECT ?x WHERE { BIND("</textarea><script>alert(1)</script>" AS ?x) }'
    status, _, body = fetch(query_url(server, hostile), accept="text/html")
    page = body.decode("utf-8")
    assert status == 200 and "<script>" not in page and "&lt;/textarea&gt;&lt;script&gt;" in page


def test_served_store_follows_a_sync_into_its_directory(tmp_path: Path) -> None:
    from kg.store.generations import StoreDirectory
    from kg.sync import sync

    root = StoreDirectory(tmp_path / "store")
    with root.staging() as staging:
        sync([Path(__file__).parent.parent / "examples" / "001_ca6197c953f8c59c.txt"], staging)
    served = open_store(tmp_path / "store", read_only=True)
    count = 'SELECT (COUNT(*) AS ?n) WHERE { ?t a <https://w3id.org/trialkg/ontology#Trial> }'
    with running_server(served, ServeConfig(port=0), directory=root) as url:  # type: ignore[arg-type]
        assert orjson.loads(fetch(query_url(url, count), accept="application/json")[2])[
            "results"]["bindings"][0]["n"]["value"] == "1"
        with root.staging() as staging:
            sync([Path(__file__).parent.parent / "examples"], staging)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            body = fetch(query_url(url, count), accept="application/json")[2]
            if orjson.loads(body)["results"]["bindings"][0]["n"]["value"] == "2":
                break
            time.sleep(0.2)
        else:
            pytest.fail("kg serve did not pick up the new generation")


def test_keep_alive_connections_survive_errors(seed_store: Store) -> None:
    """An error after the body was read keeps the connection; an unread body closes it, and says so."""

    with running_server(seed_store, ServeConfig(port=0, limits=Limits(max_query_bytes=1000))) as url:  # type: ignore[arg-type]
        _keep_alive_checks(url)


def _keep_alive_checks(server: str) -> None:
    import http.client

    host, port = urllib.parse.urlsplit(server).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    connection.request("POST", "/sparql", body=urllib.parse.urlencode({"query": "SELEKT"}), headers=form)
    response = connection.getresponse()
    assert response.status == 400 and not response.will_close
    response.read()
    connection.request("POST", "/sparql", body=urllib.parse.urlencode({"query": "ASK {}"}), headers=form)
    response = connection.getresponse()
    assert response.status == 200 and orjson.loads(response.read())["boolean"] is True
    connection.request("POST", "/sparql", body=b"x" * 2000, headers=form)  # over the query size limit
    response = connection.getresponse()
    assert response.status == 413 and response.will_close
    response.read()
    connection.close()
