"""Exports parse in independent parsers and hold what the store holds."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from kg.export.rdf import export_rdf
from kg.resources import ontology_path
from kg.store.base import Store
from kg.store.jsonld import (
    CONTEXT_IRI,
    build_context,
    context_path,
    document_loader,
    load_context,
    with_inline_context,
)

TKG = "https://w3id.org/trialkg/ontology#"


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


# --- JSON-LD: compact, under the shipped context, with the ontology's alignment types -----------------------------


@pytest.fixture(scope="module")
def resolved_seeds(seed_store: Store) -> Store:
    """The seeds with resolution (its graph adds nodes of other classes: matches, evidence)."""
    from kg.resolve.stage import resolve
    from kg.store import open_store

    store = open_store(None)
    buffer = io.BytesIO()
    seed_store.dump(buffer, "nquads")
    store.load_nquads(buffer.getvalue())
    resolve(store)
    return store


def _store_graph(store: Store) -> rdflib.Graph:
    return rdflib.Graph().parse(data=_export(store, "ntriples"), format="nt")


def _with_alignment_types(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph plus, for every instance of a trialkg class, each outside class the ontology
    puts above it (rdfs:subClassOf / owl:equivalentClass, transitively): computed here with
    rdflib's own closure, independently of the exporter."""
    ontology = rdflib.Graph().parse(ontology_path(), format="turtle")
    expected = rdflib.Graph()
    for triple in graph:
        expected.add(triple)
    for instance, cls in graph.subject_objects(RDF.type):
        if not str(cls).startswith(TKG):
            continue
        above = set(ontology.transitive_objects(cls, RDFS.subClassOf)) | set(ontology.objects(cls, OWL.equivalentClass))
        for sup in above:
            if isinstance(sup, rdflib.URIRef) and not str(sup).startswith(TKG):
                expected.add((instance, RDF.type, sup))
    return expected


def _triples(graph: rdflib.Graph) -> set[tuple[str, ...]]:
    return {tuple(term.n3() for term in triple) for triple in graph}


def test_shipped_context_is_what_the_ontology_gives() -> None:
    """ontology/context.jsonld is generated (python -m kg.store.jsonld); a changed ontology must regenerate it."""
    assert load_context() == build_context()
    assert json.loads(context_path().read_text("utf-8"))["@context"]["briefTitle"] == "tkg:briefTitle"
    assert load_context()["@context"]["enrollment"] == {"@id": "tkg:enrollment", "@type": "xsd:integer"}


def test_jsonld_export_is_compact_and_typed_by_the_alignments(resolved_seeds: Store) -> None:
    document = json.loads(_export(resolved_seeds, "jsonld"))
    assert document["@context"] == CONTEXT_IRI
    nodes = {node["@id"]: node for node in document["@graph"]}
    trial = nodes["ct:NCT01374854"]
    assert trial["@type"] == ["Trial", "schema:MedicalStudy", "schema:MedicalTrial"]
    assert trial["briefTitle"].startswith("Umbilical Mesenchymal Stem Cells")
    assert trial["enrollment"] == "44"  # coerced by the context: no value object
    assert trial["derivedReference"] == ["pubmed:26628416", "pubmed:35086778"]
    assert "foaf:Person" in nodes["res:person/jianming-tan"]["@type"]
    assert "bibo:AcademicArticle" in nodes["pubmed:26628416"]["@type"]
    keys = {key for node in document["@graph"] for key in node}
    assert not [key for key in keys if key.startswith("http")]  # every predicate has a term or a prefix
    assert [node["@id"] for node in document["@graph"]] == list(nodes)  # one node object per subject


def test_jsonld_export_parses_back_to_the_same_graph_in_rdflib_and_pyld(resolved_seeds: Store) -> None:
    """Offline: rdflib gets the shipped context inline, PyLD fetches it through the package's loader."""
    from pyld import jsonld

    data = _export(resolved_seeds, "jsonld")
    expected = _triples(_with_alignment_types(_store_graph(resolved_seeds)))
    document = json.loads(data)
    assert _triples(rdflib.Graph().parse(data=with_inline_context(data), format="json-ld")) == expected
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader})
    assert _triples(rdflib.Graph().parse(data=nquads, format="nt")) == expected


def test_jsonld_export_is_what_pyld_compaction_with_the_shipped_context_gives(resolved_seeds: Store) -> None:
    from pyld import jsonld

    document = json.loads(_export(resolved_seeds, "jsonld"))
    options = {"documentLoader": document_loader}
    compacted = jsonld.compact(jsonld.expand(document, options), CONTEXT_IRI, options)

    def normal(node: dict[str, Any]) -> dict[str, list[str]]:
        return {key: sorted(json.dumps(v, sort_keys=True) for v in (value if isinstance(value, list) else [value]))
                for key, value in node.items()}

    ours = {node["@id"]: normal(node) for node in document["@graph"]}
    assert ours == {node["@id"]: normal(node) for node in compacted["@graph"]}


def test_the_document_loader_never_goes_to_the_network() -> None:
    assert document_loader(CONTEXT_IRI)["document"] == load_context()
    with pytest.raises(ValueError, match="offline"):
        document_loader("https://schema.org/")


# --- Turtle for people ---------------------------------------------------------------------------------------------


def test_turtle_export_is_sorted_grouped_prefixed_and_unescaped(resolved_seeds: Store) -> None:
    text = _export(resolved_seeds, "turtle").decode("utf-8")
    assert "\\/" not in text  # no escaped slashes in names
    assert re.search(r"^@prefix tkg: <https://w3id.org/trialkg/ontology#> \.$", text, re.MULTILINE)
    subjects = [line for line in text.splitlines() if line and not line.startswith(("@", " "))]
    expanded = [str(ox.NamedNode(_absolute(s))) for s in subjects]
    assert expanded == sorted(expanded) and len(set(expanded)) == len(expanded)  # sorted, one block each
    assert "ct:NCT01374854\n    a tkg:Trial ;\n" in text
    assert "    tkg:hasRole <role/NCT01374854/" in text
    assert _triples(rdflib.Graph().parse(data=text, format="turtle")) == _triples(_store_graph(resolved_seeds))
    assert len(list(ox.parse(text.encode("utf-8"), ox.RdfFormat.TURTLE))) == _distinct_triples(resolved_seeds)


def _absolute(name: str) -> str:
    if name.startswith("<"):
        relative = name[1:-1]
        return relative if "://" in relative else "https://w3id.org/trialkg/resource/" + relative
    prefix, _, local = name.partition(":")
    return {"ct": "https://clinicaltrials.gov/study/", "pubmed": "https://pubmed.ncbi.nlm.nih.gov/",
            "mesh": "http://id.nlm.nih.gov/mesh/"}[prefix] + local


@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "nquads"])
def test_export_reports_its_total_and_progress(resolved_seeds: Store, fmt: str) -> None:
    totals: list[int] = []
    steps: list[int] = []
    export_rdf(resolved_seeds, io.BytesIO(), fmt, progress=steps.append, on_total=totals.append)
    expected = len(resolved_seeds) if fmt == "nquads" else _distinct_triples(resolved_seeds)
    assert totals == [expected] and sum(steps) == expected
