"""The VoID description of a store: its size and instances per class, written by the build.

Why: counting instances per class (``queries/class-counts.rq``) scans every rdf:type
statement, which at registry scale takes minutes; ``kg stats`` should answer at once. The
build (and a sync that changed something) counts once and states the counts in one graph,
``https://w3id.org/trialkg/graph/void``, as a ``void:Dataset`` with ``void:triples`` (the
store's quads outside this graph), ``void:classPartition`` (``void:class``,
``void:entities``) and the number of record graphs.

Example:
    >>> lines = void_lines(10, 2, {"https://w3id.org/trialkg/ontology#Trial": 2})
    >>> sum(" <http://rdfs.org/ns/void#entities> " in line for line in lines)
    1
"""

from __future__ import annotations

from kg.rdf import iris
from kg.rdf.namespaces import GRAPH, TKG, A
from kg.rdf.terms import integer, iri

VOID = "http://rdfs.org/ns/void#"
VOID_GRAPH = GRAPH + "void"
DATASET = iris.resource("dataset", "trialkg")


def partition(cls: str) -> str:
    """The IRI of one class's partition of the dataset."""
    return iris.resource("dataset", "trialkg", "class", iris.text_hash(cls, 12))


def void_lines(triples: int, record_graphs: int, classes: dict[str, int]) -> list[str]:
    """N-Quads lines of the VoID graph: the dataset, its size, and one partition per class."""
    g = iri(VOID_GRAPH)
    d = iri(DATASET)
    lines = [f"{d} {A} <{VOID}Dataset> {g} .\n",
             f"{d} <{VOID}triples> {integer(triples)} {g} .\n",
             f"{d} {TKG.recordGraphs} {integer(record_graphs)} {g} .\n"]
    for cls, count in sorted(classes.items()):
        node = iri(partition(cls))
        lines += [f"{d} <{VOID}classPartition> {node} {g} .\n",
                  f"{node} <{VOID}class> {iri(cls)} {g} .\n",
                  f"{node} <{VOID}entities> {integer(count)} {g} .\n"]
    return lines
