"""Criterion concepts: near-duplicate wordings clustered into the concepts trials share.

Each distinct normalised wording is a concept node already (the record graphs share it);
this stage joins concepts that :func:`kg.resolve.criteria_match.match_criteria` says state
the same requirement. Candidates come from prefix filtering: a concept's words are ranked
rarest first and only its first few (at most three) index it, so two concepts meet only if
they share a rare word (two short wordings with at least half their words in common always
do), and in a large block only its nearest neighbours in that ranking. A cluster's
canonical concept is its smallest IRI, so a later merge always keeps one of the old IRIs.

Example:
    >>> result = resolve_criteria([("c:1", "baseline hemoglobin below normal"), ("c:2", "baseline hgb below normal"),
    ...                            ("c:3", "age > 18 years"), ("c:4", "age >= 18 years")])
    >>> result.canonical["c:2"], result.canonical["c:4"]
    ('c:1', 'c:4')
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from kg.resolve.cluster import Edge, candidate_pairs, cluster
from kg.resolve.criteria_match import CriterionForm, blocking_tokens, criterion_form, match_criteria

MAX_BLOCK = 300
MIN_OVERLAP = 0.5
INDEX_OVERLAP = 0.5  # the prefix indexed: pairs sharing at least this share an indexed word
# In a block of more concepts than this, each meets the WINDOW after it, rarest words first
# (see kg.resolve.cluster.candidate_pairs), so the comparisons per concept are bounded as
# blocks grow with the registry. Measured: 7.9 candidate pairs per concept at 10,000 synthetic
# studies, 20.4 at 100,000, where the window keeps 98.3% of the merges all pairs make; on
# the labelled set it changes nothing (a window of 5 loses three true pairs).
WINDOW = 10
# Each concept is indexed by at most this many of its rarest words (fewer for short texts:
# the prefix that guarantees a shared word to pairs sharing half their words), so the
# candidates per concept are at most MAX_KEYS * WINDOW however long the text. Measured on
# synthetic studies: 4.8 candidates per concept instead of 7.9 at 10,000 (the same matches),
# 8.0 instead of 20.4 at 100,000 (0.9% fewer matching pairs); the labelled set is unchanged.
MAX_KEYS = 3


@dataclass
class CriteriaResolution:
    canonical: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    evidence: list[tuple[str, str, float, tuple[str, ...]]] = field(default_factory=list)
    comparisons: int = 0  # candidate pairs of concepts considered: bounded per concept, never all pairs

    @property
    def merged(self) -> int:
        return sum(1 for concept, canonical in self.canonical.items() if concept != canonical)


def resolve_criteria(concepts: list[tuple[str, str]]) -> CriteriaResolution:
    """Cluster criterion concepts given as (IRI, normalised text), sorted by IRI."""
    iris = [iri for iri, _ in concepts]
    forms = [criterion_form(text, normalized=True) for _, text in concepts]
    token_sets = [blocking_tokens(form) for form in forms]
    df: Counter[str] = Counter(t for tokens in token_sets for t in tokens)
    keys: dict[int, list[str]] = {}
    order: list[str] = []  # rarest words first: near-duplicates sort next to each other in a block
    for index, tokens in enumerate(token_sets):
        ranked = sorted(tokens, key=lambda t: (df[t], t))
        order.append(" ".join(ranked))
        # Matching criteria state the same numbers and bound the same variables the same way:
        # keying blocks by that too keeps "... within 6 months" away from "... within 12 months".
        signature = _signature(forms[index])
        prefix = min(MAX_KEYS, len(ranked) - math.ceil(INDEX_OVERLAP * len(ranked)) + 1)
        keys[index] = [signature + token for token in ranked[:prefix]]
    edges: list[Edge] = []
    result = CriteriaResolution()
    for a, b in candidate_pairs(keys, MAX_BLOCK, order, WINDOW):
        result.comparisons += 1
        left, right = token_sets[a], token_sets[b]
        if len(left & right) < MIN_OVERLAP * max(len(left), len(right)):
            continue  # cheaper than matching: near-duplicates share at least half their words
        score = match_criteria(forms[a], forms[b])
        if score:
            edges.append(Edge(score, a, b, _evidence(forms[a], forms[b])))

    def compatible(left: list[int], right: list[int]) -> bool:
        return match_criteria(forms[min(left)], forms[min(right)]) > 0

    uf, used = cluster(len(iris), edges, compatible)
    for members in uf.groups().values():
        canonical = iris[min(members)]
        for member in members:
            result.canonical[iris[member]] = canonical
        result.confidence[canonical] = 1.0
    for edge in used:
        root = result.canonical[iris[edge.a]]
        result.confidence[root] = min(result.confidence[root], edge.score)
        result.evidence.append((iris[edge.a], iris[edge.b], edge.score, edge.evidence))
    return result


def _signature(form: CriterionForm) -> str:
    numbers = ",".join(sorted(form.numbers))
    bounds = ",".join(sorted(c.variable + c.comparator for c in form.constraints))
    return f"{numbers}#{bounds}#"


def _evidence(a: CriterionForm, b: CriterionForm) -> tuple[str, ...]:
    out = ["same constraints" if a.constraints else "same numbers"]
    if a.word_set != b.word_set:
        out.append("wording differs by spelling, abbreviation or filler")
    return tuple(out)
