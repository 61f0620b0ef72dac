"""Exports parse in independent parsers and hold what the store holds."""

from __future__ import annotations

import io
import json

import rdflib

from kg.export.rdf import export_rdf
from kg.store.base import Store


def _export(store: Store, fmt: str) -> bytes:
    out = io.BytesIO()
    export_rdf(store, out, fmt)
    return out.getvalue()


def _distinct_triples(store: Store) -> int:
    return int(store.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
               .values()[0][0] or 0)


def test_turtle_export_parses_in_rdflib(seed_store: Store) -> None:
    graph = rdflib.Graph().parse(data=_export(seed_store, "turtle"), format="turtle")
    assert len(graph) == _distinct_triples(seed_store)
    trial = rdflib.URIRef("https://clinicaltrials.gov/study/NCT01374854")
    title = graph.value(trial, rdflib.URIRef("https://w3id.org/trialkg/ontology#briefTitle"))
    assert str(title).startswith("Umbilical Mesenchymal Stem Cells")


def test_nquads_export_keeps_graphs_and_is_sorted(seed_store: Store) -> None:
    data = _export(seed_store, "nquads")
    lines = data.splitlines()
    assert lines == sorted(lines)
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format="nquads")
    graph_names = {str(g.identifier) for g in dataset.graphs()}
    assert "https://w3id.org/trialkg/graph/ctgov/NCT01374854" in graph_names
    assert "https://w3id.org/trialkg/graph/meta" in graph_names
    assert len(lines) == len(seed_store)


def test_ntriples_trig_and_jsonld_parse(seed_store: Store) -> None:
    triples = rdflib.Graph().parse(data=_export(seed_store, "ntriples"), format="nt")
    assert len(triples) == _distinct_triples(seed_store)
    trig = rdflib.Dataset()
    trig.parse(data=_export(seed_store, "trig"), format="trig")
    assert sum(len(g) for g in trig.graphs()) == len(seed_store)
    document = json.loads(_export(seed_store, "jsonld"))
    assert isinstance(document, list) and document
    jsonld = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    assert len(jsonld) == _distinct_triples(seed_store)
