"""Metrics written back: one measurement per node, values as in the table, PROV-O that says
how they were computed, only declared terms, and a re-run that replaces the graph."""

from __future__ import annotations

import io

import networkx
import pytest
import rdflib
from rdflib.namespace import RDF

from kg import build, open_store
from kg.analyze import analyze
from kg.analyze.writeback import analysis_graph, write_metrics
from kg.resources import ontology_path
from tests.conftest import EXAMPLES

PREFIX = """PREFIX tkg: <https://w3id.org/trialkg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <https://schema.org/>
"""
KNOWN_EXTERNAL = ("http://www.w3.org/", "https://schema.org/")


@pytest.fixture()
def seeds():  # type: ignore[no-untyped-def]
    store = open_store(None)
    build([EXAMPLES], store)
    return store


def test_metrics_become_measurements_with_provenance(seeds) -> None:  # type: ignore[no-untyped-def]
    graph, table = analyze(seeds, "trial-trial")
    target = write_metrics(seeds, graph, table)
    assert target == analysis_graph("trial-trial") == "https://w3id.org/trialkg/graph/analysis/trial-trial"
    rows = seeds.select(PREFIX + """SELECT ?node ?degree ?pagerank ?community WHERE {
        GRAPH <https://w3id.org/trialkg/graph/analysis/trial-trial> {
          ?m a tkg:NodeMeasurement ; tkg:measuredNode ?node ; tkg:nodeDegree ?degree ; tkg:pageRank ?pagerank ;
             tkg:community ?community } } ORDER BY ?node""").values()
    assert [row[0] for row in rows] == sorted(graph.nodes)
    for node, degree, pagerank, community in rows:
        assert int(degree or 0) == graph.nodes[node]["degree"]
        assert float(pagerank or 0) == pytest.approx(graph.nodes[node]["pagerank"])
        assert int(community or 0) == graph.nodes[node]["community"]
    activity = seeds.select(PREFIX + """SELECT ?a ?name ?nodes ?edges ?start ?end WHERE {
        ?m tkg:measuredNode ?n ; prov:wasGeneratedBy ?a .
        ?a a prov:Activity, tkg:GraphAnalysis ; tkg:projectionName ?name ; tkg:nodeCount ?nodes ;
           tkg:edgeCount ?edges ; prov:startedAtTime ?start ; prov:endedAtTime ?end } LIMIT 1""").records()[0]
    assert (activity["name"], activity["nodes"], activity["edges"]) == ("trial-trial", "2", "1")
    assert (activity["start"] or "") <= (activity["end"] or "")
    versions = dict(seeds.select(PREFIX + """SELECT ?label ?version WHERE {
        ?a a tkg:GraphAnalysis ; prov:wasAssociatedWith ?agent .
        ?agent a prov:SoftwareAgent ; schema:softwareVersion ?version ; <http://www.w3.org/2000/01/rdf-schema#label>
        ?label }""").values())
    assert versions[f"networkx {networkx.__version__}"] == networkx.__version__
    parameters = {(alg, name): value for alg, name, value in seeds.select(PREFIX + """SELECT ?impl ?name ?value
        WHERE { ?a tkg:usedAlgorithm ?alg . ?alg a prov:Plan ; tkg:implementation ?impl ; tkg:hasParameter ?p .
        ?p tkg:parameterName ?name ; tkg:parameterValue ?value }""").values()}
    assert parameters[("networkx.community.louvain_communities", "seed")] == "42"
    assert parameters[("networkx.pagerank", "alpha")] == "0.85"
    projection = dict(seeds.select(PREFIX + """SELECT ?name ?value WHERE { ?a a tkg:GraphAnalysis ;
        tkg:hasParameter ?p . ?p tkg:parameterName ?name ; tkg:parameterValue ?value }""").values())
    assert projection == {"max_shared": "50", "max_edges": "200000", "min_weight": "1"}


def test_rerun_replaces_the_analysis_graph_and_uses_declared_terms(seeds) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        write_metrics(seeds, *analyze(seeds, "trial-condition"))
    count = seeds.select(PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { ?m a tkg:NodeMeasurement }").values()[0][0]
    assert int(count or 0) == 4  # two trials and two conditions, once
    out = io.BytesIO()
    seeds.dump(out, "nquads")
    dataset = rdflib.Dataset()
    dataset.parse(data=out.getvalue(), format="nquads")
    analysis = dataset.graph(rdflib.URIRef(analysis_graph("trial-condition")))
    ontology = rdflib.Graph().parse(ontology_path(), format="turtle")
    declared = {str(s) for s in ontology.subjects(RDF.type, None)}
    used = {str(p) for _, p, _ in analysis} | {str(o) for _, p, o in analysis if p == RDF.type}
    assert used and all(term in declared or term.startswith(KNOWN_EXTERNAL) for term in used), used - declared


def test_reproducible_runs_write_identical_graphs(seeds, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dumps = []
    for _ in range(2):
        write_metrics(seeds, *analyze(seeds, "trial-trial"))
        out = io.BytesIO()
        seeds.dump(out, "nquads")
        dumps.append(sorted(line for line in out.getvalue().splitlines() if b"graph/analysis/" in line))
    assert dumps[0] == dumps[1] and dumps[0]
