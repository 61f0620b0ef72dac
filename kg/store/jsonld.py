"""Compact JSON-LD under trialkg's published ``@context``, with the ontology's alignment types.

The context (``ontology/context.jsonld``, published at :data:`CONTEXT_IRI`) is generated from
the ontology: one short term per trialkg class and property (``briefTitle``, ``hasArm``), object
properties coerced to IRIs and numeric or boolean properties to their datatype, and the
project's prefixes (``res:``, ``ct:``, ``schema:`` ...). Documents refer to it by IRI; a test
checks the shipped file is what the ontology gives.

Why our own writer instead of a JSON-LD compaction library: compaction algorithms hold the
whole expanded document in memory and take seconds per thousand nodes, while the graph's
shape is flat (one node object per subject, no nesting), so writing node objects straight
from sorted triples is a linear pass. Correctness is tested the other way round: rdflib and
PyLD both expand the output back to the store's graph.

schema.org, FOAF and BIBO types: each instance also gets the classes its trialkg class is
aligned to (``rdfs:subClassOf`` / ``owl:equivalentClass`` in the ontology, followed
transitively: a ``tkg:Trial`` is also a ``schema:MedicalTrial`` and a ``schema:MedicalStudy``).
They are added here, while writing, rather than stored: the store keeps one named graph per
record without derived quads (they would be restated in every record graph, and a separate
graph of them would go stale on every incremental ``kg sync``), and the alignment is a pure
function of the ontology and the asserted type, so deriving it on the way out is always
current and costs one dictionary look-up per ``rdf:type``.

Example:
    >>> import io
    >>> triples = [(Term("uri", "https://clinicaltrials.gov/study/NCT01374854"),
    ...             Term("uri", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
    ...             Term("uri", "https://w3id.org/trialkg/ontology#Trial"))]
    >>> out = io.BytesIO(); write_jsonld(triples, out)
    >>> import json; json.loads(out.getvalue())["@graph"][0]["@type"]
    ['Trial', 'schema:MedicalStudy', 'schema:MedicalTrial']
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import orjson

from kg.rdf.namespaces import ONTOLOGY, PREFIXES, RDF
from kg.resources import data_dir, ontology_path
from kg.store.results import Term

CONTEXT_IRI = "https://w3id.org/trialkg/context.jsonld"
"""Where the context is published; ``kg serve`` serves ``context_path()`` for it."""

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
_RDF_TYPE = RDF + "type"
_COERCED = {_XSD + name for name in ("integer", "decimal", "double", "boolean", "date", "dateTime")}
# Vocabularies the ontology aligns to, beyond the prefixes the data itself uses.
_ALIGNMENT_PREFIXES = {
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "bibo": "http://purl.org/ontology/bibo/",
    "fabio": "http://purl.org/spar/fabio/",
    "cito": "http://purl.org/spar/cito/",
    "meshv": "http://id.nlm.nih.gov/mesh/vocab#",
}


def context_path() -> Path:
    """The shipped context document (``ontology/context.jsonld``, ``kg/ontology/`` in a wheel)."""
    return data_dir("ontology") / "context.jsonld"


@lru_cache(maxsize=1)
def load_context() -> dict[str, Any]:
    """The shipped context document, parsed (``{"@context": {...}}``)."""
    document: dict[str, Any] = json.loads(context_path().read_text("utf-8"))
    return document


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A PyLD document loader that serves the shipped context and refuses everything else.

    Why: expanding a trialkg document must not depend on the network (or on w3id.org being
    up); any other IRI is an error rather than a silent fetch.
    """
    if url.rstrip("/") != CONTEXT_IRI:
        raise ValueError(f"offline: no document for {url} (only {CONTEXT_IRI})")
    return {"contextUrl": None, "documentUrl": CONTEXT_IRI, "document": load_context()}


def with_inline_context(data: bytes | str) -> str:
    """A trialkg JSON-LD document with the shipped context in place of its IRI.

    Why: processors without a document-loader hook (rdflib's parser) would fetch the
    context over the network; ``Graph().parse(data=with_inline_context(text), format="json-ld")``
    reads the same graph offline.
    """
    document = json.loads(data)
    if document.get("@context") == CONTEXT_IRI:
        document["@context"] = load_context()["@context"]
    return json.dumps(document, ensure_ascii=False)


@lru_cache(maxsize=1)
def _ontology() -> Any:
    import rdflib

    return rdflib.Graph().parse(ontology_path(), format="turtle")


def build_context() -> dict[str, Any]:
    """The context document as the ontology defines it (what ``ontology/context.jsonld`` holds)."""
    import rdflib
    from rdflib.namespace import OWL, RDFS
    from rdflib.namespace import RDF as RDFNS

    graph = _ontology()
    prefixes = {**PREFIXES, **_ALIGNMENT_PREFIXES}
    terms: dict[str, Any] = {}
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for subject in graph.subjects(RDFNS.type, kind):
            iri = str(subject)
            if not iri.startswith(ONTOLOGY):
                continue
            name = iri[len(ONTOLOGY):]
            curie = "tkg:" + name
            ranges = {str(r) for r in graph.objects(subject, RDFS.range) if isinstance(r, rdflib.URIRef)}
            if kind == OWL.ObjectProperty:
                terms[name] = {"@id": curie, "@type": "@id"}
            elif kind == OWL.DatatypeProperty and len(ranges) == 1 and ranges <= _COERCED:
                terms[name] = {"@id": curie, "@type": "xsd:" + next(iter(ranges))[len(_XSD):]}
            else:
                terms[name] = curie
    clashes = set(terms) & set(prefixes)
    if clashes:
        raise ValueError(f"ontology terms clash with prefixes: {sorted(clashes)}")
    return {"@context": {**dict(sorted(prefixes.items())), **dict(sorted(terms.items()))}}


@lru_cache(maxsize=1)
def alignment_types() -> dict[str, tuple[str, ...]]:
    """Each trialkg class with the outside classes it is aligned to, transitively, sorted."""
    import rdflib
    from rdflib.namespace import OWL, RDFS

    graph = _ontology()
    direct: dict[str, set[str]] = {}
    for predicate in (RDFS.subClassOf, OWL.equivalentClass):
        for sub, sup in graph.subject_objects(predicate):
            if isinstance(sub, rdflib.URIRef) and isinstance(sup, rdflib.URIRef):
                direct.setdefault(str(sub), set()).add(str(sup))
                if predicate == OWL.equivalentClass:
                    direct.setdefault(str(sup), set()).add(str(sub))
    closed: dict[str, tuple[str, ...]] = {}
    for cls in direct:
        if not cls.startswith(ONTOLOGY):
            continue
        seen: set[str] = set()
        todo = [cls]
        while todo:
            for sup in direct.get(todo.pop(), ()):
                if sup not in seen and sup != cls:
                    seen.add(sup)
                    todo.append(sup)
        outside = sorted(s for s in seen if not s.startswith(ONTOLOGY))
        if outside:
            closed[cls] = tuple(outside)
    return closed


class _Compactor:
    """IRIs to terms and compact IRIs under the shipped context."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.prefixes: list[tuple[str, str]] = []
        self.terms: dict[str, tuple[str, str | None]] = {}  # property/class IRI -> (term, coercion)
        for name, definition in context.items():
            # A prefix: an absolute IRI ending in a delimiter (JSON-LD 1.1 uses only those in compact IRIs).
            if isinstance(definition, str) and definition.startswith(("http://", "https://")) \
                    and definition.endswith(("/", "#")):
                self.prefixes.append((name, definition))
        self.prefixes.sort(key=lambda item: -len(item[1]))
        for name, definition in context.items():
            if isinstance(definition, str) and not definition.endswith(("/", "#")):
                self.terms[self.expand(definition)] = (name, None)
            elif isinstance(definition, dict):
                coercion = definition.get("@type")
                self.terms[self.expand(definition["@id"])] = (name, self.expand(coercion) if coercion else None)

    def expand(self, value: str) -> str:
        if value.startswith("@"):
            return value
        prefix, sep, rest = value.partition(":")
        for name, namespace in self.prefixes:
            if sep and name == prefix:
                return namespace + rest
        return value

    def iri(self, iri: str) -> str:
        """A compact IRI where a prefix fits (never one whose suffix could read as an authority)."""
        for name, namespace in self.prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace) and not iri[len(namespace):].startswith("//"):
                return f"{name}:{iri[len(namespace):]}"
        return iri

    def key(self, iri: str) -> tuple[str, str | None]:
        return self.terms.get(iri) or (self.iri(iri), None)

    def type_name(self, iri: str) -> str:
        term = self.terms.get(iri)
        return term[0] if term and term[1] is None else self.iri(iri)

    def node_id(self, term: Term) -> str:
        return "_:" + term.value if term.kind == "bnode" else self.iri(term.value)

    def value(self, term: Term, coercion: str | None) -> Any:
        if term.kind == "literal":
            if term.lang:
                return {"@value": term.value, "@language": term.lang}
            datatype = term.datatype or _XSD_STRING
            if datatype == coercion or (datatype == _XSD_STRING and coercion is None):
                return term.value
            if datatype == _XSD_STRING:
                return {"@value": term.value}
            return {"@value": term.value, "@type": self.iri(datatype)}
        node = self.node_id(term)
        return node if coercion == "@id" else {"@id": node}


def write_jsonld(triples: Iterable[tuple[Term, Term, Term]], out: IO[bytes], *, aligned: bool = True,
                 inline_context: bool = False) -> None:
    """Write triples, grouped by subject in the order given, as one compact document.

    Each subject becomes one node object (``@id``, ``@type``, then its properties by name);
    triples of one subject must come together (sorted input does this). With ``aligned``,
    instances also carry the outside classes their trialkg classes are aligned to. With
    ``inline_context`` the document holds the context itself instead of its IRI: what the
    SPARQL endpoint answers, so any client (pyoxigraph, rdflib, PyLD) reads it offline.
    """
    context = load_context()["@context"]
    compactor = _Compactor(context)
    alignments = alignment_types() if aligned else {}
    out.write(b'{\n  "@context": ' + orjson.dumps(context if inline_context else CONTEXT_IRI) + b',\n  "@graph": [')
    first = True
    for subject, group in itertools.groupby(triples, key=lambda triple: triple[0]):
        node: dict[str, Any] = {"@id": compactor.node_id(subject)}
        types: set[str] = set()
        properties: dict[str, list[Any]] = {}
        for _, predicate_term, obj in group:
            predicate = predicate_term.value
            if predicate == _RDF_TYPE and obj.kind == "uri":
                types.add(compactor.type_name(obj.value))
                types.update(compactor.type_name(cls) for cls in alignments.get(obj.value, ()))
                continue
            name, coercion = compactor.key(predicate)
            properties.setdefault(name, []).append(compactor.value(obj, coercion))
        if types:
            node["@type"] = sorted(types)
        for name in sorted(properties):
            values = properties[name]
            node[name] = values[0] if len(values) == 1 else values
        text = orjson.dumps(node, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n    ")
        out.write((b"\n    " if first else b",\n    ") + text)
        first = False
    out.write(b"\n  ]\n}\n" if not first else b"]\n}\n")


if __name__ == "__main__":  # regenerate the shipped context: python -m kg.store.jsonld > ontology/context.jsonld
    import sys

    sys.stdout.write(json.dumps(build_context(), indent=2, ensure_ascii=False) + "\n")
