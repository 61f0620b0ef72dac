"""The MeSH links graph: legacy XML headings, given by name, linked to the descriptor of that name.

Why a graph of its own: the link is not in the record that names the heading (legacy XML
gives "Depression", not D003863); it is learnt from other records of the same store that
give the name with its id. Kept apart like the resolution graph, it never changes a record
graph and is rewritten whenever the store changes (:mod:`kg.resolve.mesh`).

Example:
    >>> lines = mesh_link_lines([("NCT00000001", "condition", "D003863")])
    >>> "<http://id.nlm.nih.gov/mesh/D003863>" in lines[0] and "conditionMesh" in lines[0]
    True
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.rdf import iris
from kg.rdf.namespaces import MESH_LINKS_GRAPH, TKG
from kg.rdf.terms import iri

_PREDICATES = {"condition": TKG.conditionMesh, "intervention": TKG.interventionMesh}


def mesh_link_lines(links: Iterable[tuple[str, str, str]]) -> list[str]:
    """``(NCT id, "condition" | "intervention", descriptor id)`` as N-Quads of the MeSH links graph."""
    g = iri(MESH_LINKS_GRAPH)
    return [f"{iri(iris.trial(nct))} {_PREDICATES[kind]} {iri(iris.mesh(descriptor))} {g} .\n"
            for nct, kind, descriptor in links]
