"""Write and read a store's VoID description (:mod:`kg.rdf.emit_void`): instant ``kg stats``.

Example:
    >>> from kg.store import open_store
    >>> store = open_store(None)
    >>> store.load_nquads(b'<urn:t> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:T> <urn:g> .\\n')
    >>> write_void(store).classes, read_void(store).triples
    ({'urn:T': 1}, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.rdf.emit_void import DATASET, VOID, VOID_GRAPH, void_lines
from kg.rdf.namespaces import ONTOLOGY
from kg.store.base import Store

__all__ = ["VoidDescription", "count_classes", "read_void", "write_void"]

_CLASS_COUNTS = """SELECT ?class (COUNT(DISTINCT ?instance) AS ?instances)
WHERE { ?instance a ?class } GROUP BY ?class"""
_RECORD_GRAPHS = f"""PREFIX tkg: <{ONTOLOGY}>
SELECT (COUNT(DISTINCT ?g) AS ?graphs) WHERE {{ GRAPH ?g {{ ?g a tkg:SourceRecord }} }}"""
_READ = f"""PREFIX void: <{VOID}>
SELECT ?key ?value ?count WHERE {{ GRAPH <{VOID_GRAPH}> {{
  {{ <{DATASET}> void:triples ?count . BIND("triples" AS ?key) }}
  UNION {{ <{DATASET}> <{ONTOLOGY}recordGraphs> ?count . BIND("graphs" AS ?key) }}
  UNION {{ <{DATASET}> void:classPartition ?p . ?p void:class ?value ; void:entities ?count . BIND("class" AS ?key) }}
}} }}"""


@dataclass
class VoidDescription:
    triples: int = 0  # quads in the store outside the VoID graph
    record_graphs: int = 0
    classes: dict[str, int] = field(default_factory=dict)  # class IRI -> instances


def count_classes(store: Store) -> dict[str, int]:
    """Instances per class, counted over every rdf:type statement (a full scan: minutes at scale)."""
    return {cls: int(count) for cls, count in store.iter_select(_CLASS_COUNTS) if cls is not None and count is not None}


def write_void(store: Store) -> VoidDescription:
    """Count the store once (quads, record graphs, instances per class) and replace its VoID graph."""
    store.remove_graphs([VOID_GRAPH])
    store.flush()
    found = VoidDescription(triples=len(store), classes=count_classes(store))
    for (count,) in store.iter_select(_RECORD_GRAPHS):
        found.record_graphs = int(count or 0)
    lines = void_lines(found.triples, found.record_graphs, found.classes)  # no time: builds stay comparable
    store.load_nquads("".join(lines).encode("utf-8"))
    store.flush()
    return found


def read_void(store: Store) -> VoidDescription | None:
    """The store's VoID description, or None when no build wrote one (count the store instead)."""
    found = VoidDescription()
    rows = list(store.iter_select(_READ))
    if not rows:
        return None
    for key, value, count in rows:
        if key == "triples":
            found.triples = int(count or 0)
        elif key == "graphs":
            found.record_graphs = int(count or 0)
        elif key == "class" and value is not None:
            found.classes[value] = int(count or 0)
    found.classes = dict(sorted(found.classes.items()))
    return found
