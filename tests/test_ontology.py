"""The ontology file and the emitter's closed vocabulary agree, and every term is documented."""

from __future__ import annotations

import io

import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from kg.rdf.namespaces import ONTOLOGY, TKG
from kg.resources import ontology_path
from kg.store.base import Store

TKG_NS = rdflib.Namespace(ONTOLOGY)
KNOWN_EXTERNAL = ("http://www.w3.org/", "http://purl.org/dc/terms/", "https://schema.org/", "http://xmlns.com/foaf/",
                  "http://rdfs.org/ns/void#")  # the VoID description of the store (kg.rdf.emit_void)


def _ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_path(), format="turtle")


def test_every_term_is_declared_with_label_and_comment() -> None:
    graph = _ontology()
    declared = {str(s)[len(ONTOLOGY):] for s in graph.subjects(RDF.type, None) if str(s).startswith(ONTOLOGY)}
    assert declared == set(TKG.terms)
    for term in TKG.terms:
        node = TKG_NS[term]
        assert graph.value(node, RDFS.label) is not None, term
        assert graph.value(node, RDFS.comment) is not None, term


def test_core_classes_are_aligned_to_established_vocabularies() -> None:
    graph = _ontology()
    aligned = {
        "Trial": "https://schema.org/MedicalTrial",
        "Person": "http://xmlns.com/foaf/0.1/Person",
        "Organization": "https://schema.org/Organization",
        "Site": "https://schema.org/Place",
        "Publication": "https://schema.org/ScholarlyArticle",
        "Role": "http://www.w3.org/ns/prov#Role",
    }
    for local, parent in aligned.items():
        assert (TKG_NS[local], RDFS.subClassOf, rdflib.URIRef(parent)) in graph, local
    for cls in ("InclusionCriterion", "ExclusionCriterion"):
        assert (TKG_NS[cls], RDFS.subClassOf, TKG_NS.EligibilityCriterion) in graph
    assert (None, RDF.type, OWL.Ontology) in graph


def test_the_graph_uses_only_declared_terms(seed_store: Store) -> None:
    out = io.BytesIO()
    seed_store.dump(out, "nquads")
    dataset = rdflib.Dataset()
    dataset.parse(data=out.getvalue(), format="nquads")
    declared = {str(s) for s in _ontology().subjects(RDF.type, None)}
    used = {str(p) for _, p, _, _ in dataset.quads()}
    used |= {str(o) for _, p, o, _ in dataset.quads() if p == RDF.type}
    for term in used:
        assert term in declared or term.startswith(KNOWN_EXTERNAL), term


def test_unknown_terms_are_refused() -> None:
    try:
        _ = TKG.Trail
    except AttributeError as error:
        assert "tkg:Trail" in str(error)
    else:
        raise AssertionError("an unknown term was accepted")
