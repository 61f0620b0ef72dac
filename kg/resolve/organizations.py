"""Organisations: sponsors, collaborators and affiliations that name one institution.

The record graphs key an organisation by its normalised name, so "Pfizer" and "Pfizer Inc."
are already one node but "National Cancer Institute (NCI)" and "National Cancer Institute",
or "Kyunghee University Medical Center" and "Kyung Hee University Medical Center", are not.
Here names merge when their core (legal suffixes, parentheticals, a leading "The" and spaces
removed) is equal, or nearly equal for long names; candidates meet only through their rarest
words, never all pairs.

Example:
    >>> result = resolve_organizations({"o:1": "Kyunghee University Medical Center",
    ...     "o:2": "Kyung Hee University Medical Center", "o:3": "Jaseng Medical Foundation"}, {"o:1": 3})
    >>> result.canonical["o:2"], result.canonical["o:3"]
    ('o:1', 'o:3')
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from kg.resolve.cluster import Edge, candidate_pairs, cluster
from kg.rules.places import BRANCH, GENERIC, NameTokens, facility_tokens, organization_core

MAX_BLOCK = 200


@dataclass
class OrganizationResolution:
    """Surface organisation IRI -> canonical IRI, with confidence and the merging evidence."""

    canonical: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # canonical -> label
    tokens: dict[str, NameTokens] = field(default_factory=dict)  # surface -> name tokens
    evidence: list[tuple[str, str, float, tuple[str, ...]]] = field(default_factory=list)
    comparisons: int = 0  # pairs of names scored: bounded per name by blocking, never all pairs

    @property
    def merged(self) -> int:
        return sum(1 for surface, canonical in self.canonical.items() if surface != canonical)


def resolve_organizations(names: dict[str, str], usage: dict[str, int]) -> OrganizationResolution:
    """Cluster surface organisations; the most used member of a cluster is its canonical IRI."""
    iris = sorted(names)
    tokens = [facility_tokens(names[i]) for i in iris]
    cores = [organization_core(names[i]) for i in iris]
    df: Counter[str] = Counter(t for toks in tokens for t in set(toks.tokens))
    keys: dict[int, set[str]] = {}
    for index, toks in enumerate(tokens):
        rare = sorted((t for t in set(toks.tokens) if t not in GENERIC), key=lambda t: (df[t], t))[:2]
        keys[index] = {"core:" + cores[index], *("w:" + t for t in rare)}
    edges: list[Edge] = []
    result = OrganizationResolution()
    for a, b in candidate_pairs(keys, MAX_BLOCK):
        result.comparisons += 1
        score = _organization_score(tokens[a], tokens[b], cores[a], cores[b])
        if score:
            edges.append(Edge(score, a, b, ("same name core" if score == 1.0 else "near-identical name",)))
    uf, used = cluster(len(iris), edges)
    for members in uf.groups().values():
        best = min(members, key=lambda m: (-usage.get(iris[m], 0), iris[m]))
        for member in members:
            result.canonical[iris[member]] = iris[best]
            result.tokens[iris[member]] = tokens[member]
        result.names[iris[best]] = names[iris[best]]
        result.confidence[iris[best]] = 1.0
    for edge in used:
        root = result.canonical[iris[edge.a]]
        result.confidence[root] = min(result.confidence[root], edge.score)
        result.evidence.append((iris[edge.a], iris[edge.b], edge.score, edge.evidence))
    return result


def _organization_score(a: NameTokens, b: NameTokens, core_a: str, core_b: str) -> float:
    if core_a and core_a == core_b:
        return 1.0
    if min(len(core_a), len(core_b)) < 12 or (set(a.tokens) ^ set(b.tokens)) & BRANCH:
        return 0.0
    digits_a, digits_b = [c for c in core_a if c.isdigit()], [c for c in core_b if c.isdigit()]
    if digits_a != digits_b:
        return 0.0
    ratio = fuzz.ratio(core_a, core_b)
    return round(ratio / 100, 4) if ratio >= 95 else 0.0
