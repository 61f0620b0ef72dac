"""Jaccard similarity of trials by their eligibility criteria.

Why: "share 27 exclusion criteria" means more for two trials with 30 each than for two with
300. The Jaccard index, |A ∩ B| / |A ∪ B| over the trials' criterion concepts, puts shared
counts on one scale. A criterion is a (kind, concept) pair: "pregnancy" as an exclusion and as
an inclusion criterion are different requirements.

Concepts shared by more than ``max_shared`` trials count in each trial's set but not in the
intersections (the hub cap of :mod:`kg.analyze.sparql`), so with a cap the index is a lower
bound; ``max_shared=None`` makes it exact.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> [(row["trial1"], row["shared"], row["jaccard"]) for row in criteria_jaccard(store, "exclusion")]
    [('NCT01374854', 31, 0.939394)]
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from kg.analyze import sparql
from kg.analyze.pairs import Edges, member_lists, pair_counts, weight_threshold
from kg.analyze.projections import (
    DEFAULT_MAX_SHARED,
    ProjectionOptions,
    is_resolved,
    make_graph,
    register_projection,
    trial_nodes,
)
from kg.errors import KGError
from kg.store.base import Store

CRITERIA_LINKS = {
    "exclusion": sparql.LINKS["exclusion_criteria"],
    "inclusion": sparql.Link("inclusion_criteria", "shared_inclusion", "?{n} tkg:inclusionConcept ?{x} .",
                             canonical="tkg:resolvedAs"),
}
KINDS = {"all": ("inclusion", "exclusion"), "inclusion": ("inclusion",), "exclusion": ("exclusion",)}


def criteria_overlap(store: Store, kind: str = "all", max_shared: int | None = DEFAULT_MAX_SHARED
                     ) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Each trial's number of criteria of ``kind`` and each trial pair's shared number."""
    if kind not in KINDS:
        raise KGError(f"no criteria kind {kind!r} (known: {', '.join(KINDS)})")
    resolved = is_resolved(store)
    sizes: Counter[str] = Counter()
    shared: Counter[tuple[str, str]] = Counter()
    for name in KINDS[kind]:
        lists = [members for _, members in member_lists(store, CRITERIA_LINKS[name], None, resolved, min_members=1)]
        sizes.update(trial for members in lists for trial in members)
        shared.update(pair_counts((members for members in lists if len(members) > 1), max_shared))
    return sizes, shared


def jaccard(shared: int, size1: int, size2: int) -> float:
    union = size1 + size2 - shared
    return round(shared / union, 6) if union > 0 else 0.0


def criteria_jaccard(store: Store, kind: str = "all", *, max_shared: int | None = DEFAULT_MAX_SHARED,
                     min_jaccard: float = 0.0) -> list[dict[str, object]]:
    """Trial pairs sharing criteria: trial1, trial2 (NCT ids), shared, size1, size2, jaccard.

    Most similar first (ties by NCT ids); pairs below ``min_jaccard`` are left out.
    """
    sizes, shared = criteria_overlap(store, kind, max_shared)
    rows = []
    for (a, b), count in shared.items():
        value = jaccard(count, sizes[a], sizes[b])
        if value >= min_jaccard:
            rows.append({"trial1": a.rsplit("/", 1)[-1], "trial2": b.rsplit("/", 1)[-1], "shared": count,
                         "size1": sizes[a], "size2": sizes[b], "jaccard": value})
    rows.sort(key=lambda row: (-float(str(row["jaccard"])), str(row["trial1"]), str(row["trial2"])))
    return rows


@register_projection("criteria-similarity", "trials linked by the Jaccard similarity of their eligibility criteria "
                     "(inclusion and exclusion; weight = Jaccard index, shared = criteria in common)")
def criteria_similarity(store: Store, options: ProjectionOptions) -> nx.Graph:
    sizes, shared = criteria_overlap(store, "all", options.max_shared)
    nodes = trial_nodes(store, is_resolved(store))
    for node, size in sizes.items():
        if node in nodes:
            nodes[node]["criteria"] = size
    threshold = weight_threshold(shared.values(), options.min_weight, options.max_edges)
    edges: Edges = {}
    for pair in sorted(pair for pair, count in shared.items() if count >= threshold):
        count = shared[pair]
        edges[pair] = {"shared_criteria": count, "jaccard": jaccard(count, sizes[pair[0]], sizes[pair[1]]),
                       "kinds": "criteria"}
        edges[pair]["weight"] = edges[pair]["jaccard"]
    return make_graph(nodes, edges, threshold)
