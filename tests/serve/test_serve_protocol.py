"""kg serve over HTTP: the SPARQL 1.1 Protocol, content negotiation, linked data, limits and refusals.

Each test talks to a real server (uvicorn in a thread, on the session's store) over loopback
with urllib, and checks answers against the same store read directly.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pyoxigraph as ox
import pytest
import rdflib
from serve_helpers import PI, TRIAL, fetch, query_url

from kg.queries import get_query
from kg.serve import QueryLimits, ServeConfig, running_server
from kg.serve.negotiation import choose, negotiate
from kg.serve.paths import iri_for_path, local_path
from kg.store import open_store
from kg.store.base import Store
from kg.store.sandbox import find_remote_access

SPARQL_RESULTS = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def local(store_dir: Path) -> Store:
    return open_store(store_dir, read_only=True)


def _expected(store: Store, sparql: str) -> list[tuple[str | None, ...]]:
    return sorted(store.select(sparql).values(), key=repr)


def test_select_in_every_result_format(server: str, local: Store) -> None:
    sparql = get_query("trial-summary").bind()
    expected = _expected(local, sparql)
    variables = local.select(sparql).variables

    status, headers, body = fetch(query_url(server, sparql), accept="application/sparql-results+json")
    assert status == 200 and headers["content-type"] == "application/sparql-results+json"
    document = orjson.loads(body)
    assert document["head"]["vars"] == variables
    rows = [tuple(b.get(v, {}).get("value") for v in variables) for b in document["results"]["bindings"]]
    assert sorted(rows, key=repr) == expected

    status, headers, body = fetch(query_url(server, sparql), accept="application/sparql-results+xml")
    assert status == 200 and headers["content-type"] == "application/sparql-results+xml"
    xml_rows = []
    for result in ET.fromstring(body).iter(SPARQL_RESULTS + "result"):
        values = {b.get("name"): next(iter(b)).text or "" for b in result.iter(SPARQL_RESULTS + "binding")}
        xml_rows.append(tuple(values.get(v) for v in variables))
    assert sorted(xml_rows, key=repr) == expected

    status, headers, body = fetch(query_url(server, sparql), accept="text/csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert table[0] == variables
    blank_as_unbound = sorted((tuple(v or None for v in row) for row in expected), key=repr)  # CSV cannot tell
    assert sorted((tuple(v or None for v in row) for row in table[1:]), key=repr) == blank_as_unbound

    status, headers, body = fetch(query_url(server, sparql), accept="text/tab-separated-values")
    assert status == 200 and body.decode("utf-8").splitlines()[0] == "\t".join("?" + v for v in variables)
    assert len(body.decode("utf-8").splitlines()) == len(expected) + 1


def test_post_form_and_direct_body_give_the_same_rows(server: str, local: Store) -> None:
    sparql = get_query("shared-principal-investigator").bind()
    expected = _expected(local, sparql)
    for data, media in ((urllib.parse.urlencode({"query": sparql}).encode(), "application/x-www-form-urlencoded"),
                        (sparql.encode("utf-8"), "application/sparql-query")):
        status, _, body = fetch(server + "/sparql", data=data, content_type=media, accept="application/json")
        assert status == 200, body
        document = orjson.loads(body)
        names = document["head"]["vars"]
        rows = [tuple(b.get(v, {}).get("value") for v in names) for b in document["results"]["bindings"]]
        assert sorted(rows, key=repr) == expected


def test_ask_construct_describe_and_dataset_parameters(server: str, local: Store) -> None:
    status, _, body = fetch(query_url(server, f"ASK {{ <{TRIAL}> a ?type }}"), accept="application/sparql-results+json")
    assert status == 200 and orjson.loads(body)["boolean"] is True
    status, _, body = fetch(query_url(server, "ASK { <urn:nothing> ?p ?o }"), accept="application/sparql-results+xml")
    assert status == 200 and ET.fromstring(body).find(SPARQL_RESULTS + "boolean").text == "false"  # type: ignore[union-attr]

    expected = len(local.select(f"SELECT DISTINCT ?p ?o WHERE {{ <{TRIAL}> ?p ?o }}").rows)
    construct = f"CONSTRUCT {{ <{TRIAL}> ?p ?o }} WHERE {{ <{TRIAL}> ?p ?o }}"
    for media, syntax in (("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
                          ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
                          ("text/n3", ox.RdfFormat.N3)):
        status, headers, body = fetch(query_url(server, construct), accept=media)
        assert status == 200 and headers["content-type"].startswith(media), (media, body[:200])
        assert len(set(ox.parse(body, syntax))) == expected > 50
    status, _, body = fetch(query_url(server, f"DESCRIBE <{TRIAL}>"), accept="text/turtle")
    assert status == 200 and len(list(ox.parse(body, ox.RdfFormat.TURTLE))) >= expected

    graph = "https://w3id.org/trialkg/graph/ctgov/NCT01719640"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    status, _, body = fetch(query_url(server, count, **{"default-graph-uri": graph}), accept="application/json")
    in_graph = local.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").values()
    assert orjson.loads(body)["results"]["bindings"][0]["n"]["value"] == in_graph[0][0]


def test_format_parameters_as_sparqlwrapper_sends_them(server: str) -> None:
    """format=, output= and results= together, repeated with a media type, override Accept; xml/json per form."""
    construct = f"CONSTRUCT {{ <{TRIAL}> ?p ?o }} WHERE {{ <{TRIAL}> ?p ?o }}"
    params = {"format": ["rdf+xml", "application/rdf+xml"], "output": ["rdf+xml"], "results": ["rdf+xml"]}
    url = server + "/sparql?" + urllib.parse.urlencode({"query": [construct], **params}, doseq=True)
    status, headers, _ = fetch(url, accept="application/rdf+xml")
    assert status == 200 and headers["content-type"] == "application/rdf+xml"
    for name, graph_media, results_media in (("xml", "application/rdf+xml", "application/sparql-results+xml"),
                                             ("json", "application/ld+json", "application/sparql-results+json")):
        both = {k: name for k in ("format", "output", "results")}
        assert fetch(query_url(server, construct, **both), accept="*/*")[1]["content-type"] == graph_media
        assert fetch(query_url(server, "ASK {}", **both), accept="*/*")[1]["content-type"] == results_media
    choice = choose("text/html,*/*;q=0.8", {})
    assert choice.html and not choose("*/*", {}).html and choose(None, {"format": ["csv"]}).results == "text/csv"


def test_service_description(server: str) -> None:
    status, headers, body = fetch(server + "/sparql", accept="text/turtle")
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = next(graph.subjects(rdflib.RDF.type, sd.Service))
    assert str(graph.value(service, sd.endpoint)) == server + "/sparql"
    formats = {str(f).rsplit("/", 1)[-1] for f in graph.objects(service, sd.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "Turtle", "RDF_XML"} <= formats
    assert fetch(server + "/sparql", accept="application/ld+json")[1]["content-type"] == "application/ld+json"


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/sparql?query=SELEKT", {}, 400),
    ("POST", "/sparql", {"data": b"query=x", "content_type": "text/plain"}, 415),
    ("GET", "/sparql?update=DROP%20ALL", {}, 405),
    ("GET", "/sparql?" + urllib.parse.urlencode({"query": "SELECT * { SERVICE <http://127.0.0.1:9/s> { ?s ?p ?o } }"}),
     {}, 400),
    ("PUT", "/sparql", {"data": b"x"}, 405),
    ("DELETE", "/study/NCT01374854", {}, 405),
    ("GET", "/study/NCT00000000", {"accept": "text/turtle"}, 404),
    ("GET", "/resource/../../etc/passwd", {"accept": "text/turtle"}, 404),
    ("GET", "/sparql?" + urllib.parse.urlencode({"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"}),
     {"accept": "text/csv"}, 406),
    ("POST", "/sparql", {"data": b"update=DROP+ALL", "content_type": "application/x-www-form-urlencoded"}, 403),
])
def test_errors_get_the_standard_status_and_a_plain_message(server: str, method: str, path: str,
                                                            kwargs: dict[str, object], status: int) -> None:
    got, headers, body = fetch(server + path, method=method, **kwargs)  # type: ignore[arg-type]
    assert got == status, body
    assert headers["content-type"].startswith("text/plain") and body.strip() and b"Traceback" not in body
    if status == 405:
        assert "allow" in headers


def test_options_answers_with_the_allowed_methods(server: str) -> None:
    status, headers, body = fetch(server + "/sparql", method="OPTIONS")
    assert status == 204 and "POST" in headers["allow"] and body == b""


def test_service_and_load_are_found_by_parsing() -> None:
    refused = ["SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
               "select * { service silent <http://x/> { ?s ?p ?o } }",
               'SELECT * { ?s ?p "a" . \\u0053ERVICE <http://x/> { ?a ?b ?c } }',
               "SELECT * { ?s ?p ?o FILTER(?o<?s) SERVICE<http://x/>{ ?a ?b ?c } }"]
    allowed = ['SELECT * { ?s ?p "customer service" }',
               "SELECT * { ?s <http://example.org/service> ?o }  # SERVICE in a comment",
               "PREFIX service: <http://x/> SELECT ?service { ?service service:p service:load }",
               "SELECT * { ?s ?p '''SERVICE <http://x/> { }''' }"]
    assert all(find_remote_access(q, update=False) == "SERVICE" for q in refused)
    assert not any(find_remote_access(q, update=False) for q in allowed)
    assert find_remote_access("LOAD <http://x/data.ttl>", update=True) == "LOAD"
    assert find_remote_access('INSERT DATA { <a:b> <c:d> "LOAD <http://x/>" }', update=True) is None


def test_result_size_limit(store_dir: Path) -> None:
    limits = QueryLimits(max_result_bytes=10_000)
    with running_server(ServeConfig(store=store_dir, port=0, workers=1, limits=limits, access_log=False)) as url:
        status, _, body = fetch(query_url(url, "SELECT * WHERE { ?s ?p ?o }"), accept="application/json")
        assert status == 413 and b"larger than" in body
        status, _, body = fetch(query_url(url, "SELECT * WHERE { ?s ?p ?o } LIMIT 10"), accept="application/json")
        assert status == 200 and len(orjson.loads(body)["results"]["bindings"]) == 10


def test_content_negotiation() -> None:
    offers = ("application/sparql-results+json", "text/csv", "text/html")
    assert negotiate(None, offers) == "application/sparql-results+json"
    assert negotiate("*/*", offers) == "application/sparql-results+json"
    assert negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", offers) == "text/html"
    assert negotiate("text/csv;q=0.5, text/*;q=0.4", offers) == "text/csv"
    assert negotiate("text/csv;q=0, application/*", offers) == "application/sparql-results+json"
    assert negotiate("image/png", offers) is None


def test_linked_data_by_content_negotiation(server: str, local: Store) -> None:
    status, headers, body = fetch(server + "/study/NCT01374854", accept="text/turtle")
    assert status == 200 and headers["content-type"].startswith("text/turtle") and headers["vary"] == "Accept"
    triples = list(ox.parse(body, ox.RdfFormat.TURTLE))
    outbound = {(t.predicate.value, str(t.object)) for t in triples if t.subject.value == TRIAL}
    local_rows = local.select(f"SELECT DISTINCT ?p ?o {{ <{TRIAL}> ?p ?o }}").rows
    assert len(outbound) == len(local_rows)

    status, headers, body = fetch(server + "/resource/person/jianming-tan", accept="application/ld+json")
    assert status == 200 and headers["content-type"] == "application/ld+json"
    people = list(ox.parse(body, ox.RdfFormat.JSON_LD))
    assert any(t.subject.value == PI and str(t.object) == '"Jianming Tan"' for t in people)

    graph = "https://w3id.org/trialkg/graph/ctgov/NCT01719640"
    status, _, body = fetch(server + "/graph/ctgov/NCT01719640?format=nt")
    assert status == 200
    in_graph = local.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").values()[0][0]
    assert str(len(list(ox.parse(body, ox.RdfFormat.N_TRIPLES)))) == in_graph
    pub = "https://pubmed.ncbi.nlm.nih.gov/26628416"
    status, _, body = fetch(server + "/describe?" + urllib.parse.urlencode({"iri": pub}), accept="text/html")
    assert status == 200 and b"Umbilical" in body


def test_every_minted_iri_maps_to_a_path_and_back(local: Store) -> None:
    subjects = [v for (v,) in local.select("SELECT DISTINCT ?s { ?s ?p ?o FILTER(isIRI(?s)) } LIMIT 20000").values()]
    mapped = 0
    for subject in subjects:
        assert subject is not None
        path = local_path(subject)
        if not path.startswith("/describe"):
            assert iri_for_path(path) == subject
            mapped += 1
    assert mapped > 100


def test_hostile_text_is_escaped_in_the_query_page(server: str) -> None:
    hostile = 'SELECT ?x WHERE { BIND("</script><script>alert(1)</script>" AS ?x) }'
    status, headers, body = fetch(query_url(server, hostile), accept="text/html")
    page = body.decode("utf-8")
    assert status == 200 and "<script>alert" not in page and "\\u003c/script\\u003e" in page
    assert "script-src 'self'" in headers["content-security-policy"]


def test_pages_label_every_linked_resource(server: str) -> None:
    """Issue 19: 101 of 117 linked resources had no label. Every link to a resource now shows a name."""
    import re

    for path in ("/study/NCT01374854", "/study/NCT01719640", "/resource/person/thomas-l-ortel",
                 "/resource/organization/fuzhou-general-hospital",
                 "/resource/site/fuzhou-general-hospital/fuzhou/china/fujian/_"):
        status, _, body = fetch(server + path, accept="text/html")
        assert status == 200, path
        links = re.findall(r'<a href="(/(?:study|resource|describe|graph)[^"]*)"[^>]*>(?:<bdi>)?([^<]*)', body.decode())
        bare = [(href, text) for href, text in links if not text.strip() or text.startswith(("res:", "http", "_:"))]
        assert len(links) > 10 and not bare, (path, bare[:5])


def test_person_page_lists_all_resolved_trials_and_criteria_read_as_text(server: str) -> None:
    status, _, body = fetch(server + "/resource/person/thomas-l-ortel", accept="text/html")
    page = body.decode()
    assert status == 200 and all(f'href="/study/{nct}"' in page for nct in ("NCT00482794", "NCT00799773",
                                                                             "NCT01178333"))
    status, _, body = fetch(server + "/study/NCT05659342", accept="text/html")
    assert status == 200 and b"Both gender Male &amp; Female" in body and b"\\&amp;" not in body


def _rdflib_triples(graph: rdflib.Graph) -> set[tuple[str, str, str]]:
    return {(s.n3(), p.n3(), o.n3()) for s, p, o in graph}


def test_jsonld_answers_are_compact_under_the_shipped_context_and_read_back_offline(server: str) -> None:
    """A CONSTRUCT and a linked-data page in JSON-LD: short terms from the shipped context (held
    inline, so no client fetches anything), and exactly the graph the N-Triples answer gives, as
    rdflib, PyLD and pyoxigraph read them with no network."""
    from pyld import jsonld

    from kg.store.jsonld import load_context

    construct = f"CONSTRUCT {{ <{TRIAL}> ?p ?o . ?o ?q ?r }} WHERE {{ <{TRIAL}> ?p ?o OPTIONAL {{ ?o ?q ?r }} }}"
    for url in (query_url(server, construct), server + "/study/NCT01374854"):
        status, headers, body = fetch(url, accept="application/ld+json")
        assert status == 200 and headers["content-type"] == "application/ld+json"
        document = orjson.loads(body)
        assert document["@context"] == load_context()["@context"]
        trial = next(node for node in document["@graph"] if node.get("nctId") == "NCT01374854")
        assert trial["@id"] == "ct:NCT01374854"  # prefixes and terms from the context
        assert "Trial" in trial["@type"] and "briefTitle" in trial and "hasArm" in trial
        expected = rdflib.Graph().parse(data=fetch(url, accept="application/n-triples")[2], format="nt")
        assert len(expected) > 50
        assert _rdflib_triples(rdflib.Graph().parse(data=body, format="json-ld")) == _rdflib_triples(expected)
        from_pyld = rdflib.Graph().parse(data=jsonld.to_rdf(document, {"format": "application/n-quads"}), format="nt")
        assert _rdflib_triples(from_pyld) == _rdflib_triples(expected)
        assert len(set(ox.parse(body, ox.RdfFormat.JSON_LD))) == len(expected)


def test_the_context_documents_name_is_served(server: str) -> None:
    from kg.store.jsonld import context_path

    status, headers, body = fetch(server + "/context.jsonld")
    assert status == 200 and headers["content-type"] == "application/ld+json"
    assert body == context_path().read_bytes()
