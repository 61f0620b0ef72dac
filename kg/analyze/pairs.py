"""Weighted edges between nodes that share things, from the store's member lists.

Why: this is the one step of a projection that grows with the square of a shared thing's
reach, so it is done where it is cheapest: the store groups each shared thing with its nodes
(:func:`kg.analyze.sparql.members_query`), and a Counter over the pairs of each member list
counts, per link kind, how many things each pair shares.

Example:
    >>> from kg import build, open_store
    >>> from kg.analyze.sparql import LINKS
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> edges = shared_edges(store, [LINKS["principal_investigator"], LINKS["exclusion_criteria"]], 50)
    >>> [(e["shared_pi"], e["shared_exclusion"], e["kinds"], e["weight"]) for e in edges.values()]
    [(1, 27, 'principal_investigator;exclusion_criteria', 28)]
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from kg.analyze.sparql import Link, members_query
from kg.store.base import Store

Edges = dict[tuple[str, str], dict[str, object]]


def shared_counts(store: Store, link: Link, max_shared: int | None, resolved: bool = False) -> Counter[tuple[str, str]]:
    """For each node pair (sorted IRIs), how many things of one link kind they share."""
    counts: Counter[tuple[str, str]] = Counter()
    for _thing, members in store.select(members_query(link, max_shared, resolved)).values():
        if members:
            counts.update(combinations(sorted(set(members.split(" "))), 2))
    return counts


def shared_edges(store: Store, links: list[Link], max_shared: int | None, min_weight: int = 1,
                 skip: frozenset[str] = frozenset(), resolved: bool = False) -> Edges:
    """Edges with one count per link kind (``link.column``), ``kinds`` and ``weight`` (their sum).

    ``kinds`` lists, ``;``-separated in the order of ``links``, the kinds a pair shares; pairs
    whose weight is below ``min_weight`` are left out. Links whose kind is in ``skip`` are not
    queried (their count is 0), e.g. co-authorship in a store without publications. ``resolved``
    links through the canonical entities of the resolution graph.
    """
    per_kind = [shared_counts(store, link, max_shared, resolved) if link.kind not in skip else Counter()
                for link in links]
    pairs: set[tuple[str, str]] = set()
    for counts in per_kind:
        pairs.update(counts)
    edges: Edges = {}
    for pair in sorted(pairs):
        values = [counts.get(pair, 0) for counts in per_kind]
        weight = sum(values)
        if weight < min_weight:
            continue
        attributes: dict[str, object] = {link.column: value for link, value in zip(links, values, strict=True)}
        attributes["kinds"] = ";".join(link.kind for link, value in zip(links, values, strict=True) if value)
        attributes["weight"] = weight
        edges[pair] = attributes
    return edges
