"""Weighted edges between nodes that share things, from the store's member lists.

Why: this is the one step of a projection that grows with the square of a shared thing's
reach, so it is done where it is cheapest: the store groups each shared thing with its nodes
(:func:`kg.analyze.sparql.members_query`), and a Counter over the pairs of each member list
counts, per link kind, how many things each pair shares.

Example:
    >>> from kg import build, open_store
    >>> from kg.analyze.sparql import LINKS
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> links = [LINKS["principal_investigator"], LINKS["exclusion_criteria"]]
    >>> edges, _ = merge_counts(links, [shared_counts(store, link, 50) for link in links])
    >>> [(e["shared_pi"], e["shared_exclusion"], e["kinds"], e["weight"]) for e in edges.values()]
    [(1, 27, 'principal_investigator;exclusion_criteria', 28)]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import combinations

from kg.analyze.sparql import Link, canonical_query, members_query, rows
from kg.store.base import Store

Edges = dict[tuple[str, str], dict[str, object]]


def member_lists(store: Store, link: Link, max_shared: int | None, resolved: bool = False,
                 min_members: int = 2) -> Iterator[tuple[str, list[str]]]:
    """Each thing of one link kind linked to min_members..max_shared nodes, with its sorted nodes."""
    if resolved and link.canonical:
        yield from _canonical_member_lists(store, link, max_shared, min_members)
        return
    for thing, members in rows(store, members_query(link, max_shared, resolved, min_members)):
        if thing is not None and members:
            yield thing, sorted(set(members.split(" ")))


def _canonical_member_lists(store: Store, link: Link, max_shared: int | None,
                            min_members: int) -> Iterator[tuple[str, list[str]]]:
    """Member lists of canonical things: the surface lists merged through ``link.canonical``.

    The caps apply after merging (two spellings of a criterion in 30 trials each are one
    criterion in 60), so the store hands over every surface list, singletons too.
    """
    canonical = {thing: target for thing, target in rows(store, canonical_query(link.canonical))
                 if thing is not None and target is not None}
    merged: dict[str, set[str]] = defaultdict(set)
    for thing, text in rows(store, members_query(link, None, False, 1)):
        if thing is not None and text:
            merged[canonical.get(thing, thing)].update(text.split(" "))
    for thing in sorted(merged):
        members = merged[thing]
        if len(members) >= min_members and (max_shared is None or len(members) <= max_shared):
            yield thing, sorted(members)


def pair_counts(lists: Iterable[list[str]], max_shared: int | None = None) -> Counter[tuple[str, str]]:
    """For each node pair (sorted), in how many of the lists it occurs (lists longer than
    ``max_shared`` are skipped)."""
    counts: Counter[tuple[str, str]] = Counter()
    for members in lists:
        if max_shared is None or len(members) <= max_shared:
            counts.update(combinations(members, 2))
    return counts


def shared_counts(store: Store, link: Link, max_shared: int | None, resolved: bool = False) -> Counter[tuple[str, str]]:
    """For each node pair (sorted IRIs), how many things of one link kind they share."""
    return pair_counts(members for _, members in member_lists(store, link, max_shared, resolved))


def weight_threshold(weights: Iterable[int], min_weight: int = 1, max_edges: int | None = None) -> int:
    """The smallest weight at or above ``min_weight`` that keeps at most ``max_edges`` edges.

    Why: at registry scale most pairs share one thing (on a 20,000-study synthetic store, 96%
    of 468,000 trial pairs); keeping the heaviest edges within a budget keeps networkx's
    analyses (Louvain, betweenness) within minutes. The threshold, not a random sample, decides,
    so the result is the same on every run. The heaviest edges always stay, even when there
    are more of them than the budget.

    Example:
        >>> weight_threshold([1, 1, 1, 2, 3], max_edges=2), weight_threshold([1, 1, 1], max_edges=2)
        (2, 1)
    """
    histogram = Counter(weight for weight in weights if weight >= min_weight)
    if max_edges is None:
        return min_weight
    kept = sum(histogram.values())
    threshold = min_weight
    for weight in sorted(histogram)[:-1]:  # the heaviest edges always stay
        if kept <= max_edges:
            break
        kept -= histogram[weight]
        threshold = weight + 1
    return threshold


def merge_counts(links: list[Link], per_kind: list[Counter[tuple[str, str]]], min_weight: int = 1,
                 max_edges: int | None = None) -> tuple[Edges, int]:
    """Edges with one count per link kind (``link.column``), ``kinds`` and ``weight`` (their sum).

    ``kinds`` lists, ``;``-separated in the order of ``links``, the kinds a pair shares; pairs
    whose weight is below ``min_weight``, or below the :func:`weight_threshold` that keeps
    ``max_edges``, are left out. Returns the edges, in sorted order, and the weight threshold.
    """
    weights: Counter[tuple[str, str]] = Counter()
    for counts in per_kind:
        weights.update(counts)
    threshold = weight_threshold(weights.values(), min_weight, max_edges)
    edges: Edges = {}
    for pair in sorted(pair for pair, weight in weights.items() if weight >= threshold):
        values = [counts.get(pair, 0) for counts in per_kind]
        attributes: dict[str, object] = {link.column: value for link, value in zip(links, values, strict=True)}
        attributes["kinds"] = ";".join(link.kind for link, value in zip(links, values, strict=True) if value)
        attributes["weight"] = weights[pair]
        edges[pair] = attributes
    return edges, threshold
