"""The sharing graph: the registry-wide top pairs of trials by what they share, one node each.

Why: a registry-wide pair query's answer grows with the square of the hub sizes (a site
of 2,000 trials is 2 million pairs), so the canned pair queries cannot answer "which trials
share the most" at registry scale by enumerating pairs. Resolution counts the pairs once
(out of core) and states the top ones here; ``queries/*-ranked.rq`` read them by rank.

Example:
    >>> lines = sharing_lines("site", [("NCT00000001", "NCT00000002", 3)])
    >>> sum(" <https://w3id.org/trialkg/ontology#pairRank> " in line for line in lines)
    1
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.rdf import iris
from kg.rdf.namespaces import SHARING_GRAPH, TKG, A
from kg.rdf.terms import integer, iri, literal


def sharing_lines(kind: str, pairs: Iterable[tuple[str, str, int]]) -> list[str]:
    """Lines for the ranked pairs of one kind, given most shared first (rank 1 first)."""
    g = iri(SHARING_GRAPH)
    out: list[str] = []
    for rank, (first, second, shared) in enumerate(pairs, start=1):
        node = iri(iris.resource("shared-pair", kind, first, second))
        out += [f"{node} {A} {TKG.SharedPair} {g} .\n",
                f"{node} {TKG.sharingKind} {literal(kind)} {g} .\n",
                f"{node} {TKG.firstTrial} {literal(first)} {g} .\n",
                f"{node} {TKG.secondTrial} {literal(second)} {g} .\n",
                f"{node} {TKG.sharedCount} {integer(shared)} {g} .\n",
                f"{node} {TKG.pairRank} {integer(rank)} {g} .\n"]
    return out
