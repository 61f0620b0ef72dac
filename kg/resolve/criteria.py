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
    >>> result.canonical_of("c:2"), result.canonical_of("c:4"), result.canonical_of("c:5")
    ('c:1', 'c:4', None)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.resolve.cluster import Edge, cluster
from kg.resolve.criteria_match import match_criteria
from kg.resolve.criteria_tables import CriteriaTables, decode_form
from kg.resolve.sorted_strings import SortedStrings

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
    """Which concepts merged: only those are in ``canonical`` and ``confidence`` (millions are not).

    ``iris`` lists every concept resolved, sorted (compactly: millions at registry scale);
    :meth:`canonical_of` answers for any IRI.
    """

    iris: SortedStrings = field(default_factory=SortedStrings)
    canonical: dict[str, str] = field(default_factory=dict)  # each member of a cluster of two or more
    confidence: dict[str, float] = field(default_factory=dict)  # each such cluster's canonical concept
    evidence: list[tuple[str, str, float, tuple[str, ...]]] = field(default_factory=list)
    comparisons: int = 0  # candidate pairs of concepts considered: bounded per concept, never all pairs

    @property
    def merged(self) -> int:
        return sum(1 for concept, canonical in self.canonical.items() if concept != canonical)

    @property
    def clusters(self) -> int:
        return len(self.iris) - self.merged

    def canonical_of(self, iri: str) -> str | None:
        """The concept ``iri`` resolves to (itself when it merged with none); None when not resolved here."""
        found = self.canonical.get(iri)
        if found is not None:
            return found
        return iri if iri in self.iris else None


def resolve_criteria(concepts: Iterable[tuple[str, str]], workdir: str | Path | None = None,
                     jobs: int | None = None, memo: Path | None = None) -> CriteriaResolution:
    """Cluster criterion concepts given as (IRI, normalised text), sorted by IRI.

    The forms, words and candidate pairs live in DuckDB tables in a temporary directory
    (under ``workdir`` if given; :mod:`kg.resolve.criteria_tables`): Python holds the IRIs
    (in one block), one batch of candidate pairs, and the matches with the encoded forms of
    matched concepts (what merging clusters compares, decoded only then: a decoded form is
    ten times the size), so memory does not grow with the forms.
    Past the first few thousand concepts, forms are computed and pairs scored in ``jobs``
    processes (default: every core), since resolution runs after the load has freed them.
    ``memo``: a file keeping each text's form between resolutions (:meth:`CriteriaTables.add`).
    """
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    result = CriteriaResolution()
    iris = result.iris

    def texts() -> Iterator[str]:
        for iri, text in concepts:
            try:
                iris.append(iri)
            except ValueError:
                raise ValueError(f"criterion concepts must come sorted by IRI, once each: {iri!r} "
                                 f"after {iris[-1]!r}") from None
            yield text

    matches: list[tuple[float, int, int, tuple[str, ...]]] = []
    matched: dict[int, str] = {}  # the encoded forms of matched concepts: what merging clusters compares
    with CriteriaTables(workdir, jobs) as tables:
        tables.add(texts(), memo)
        result.comparisons = tables.candidates(MAX_KEYS, INDEX_OVERLAP, MAX_BLOCK, WINDOW)
        for score, a, b, evidence, form_a, form_b in tables.matches(MIN_OVERLAP):
            matches.append((score, a, b, evidence))
            matched[a], matched[b] = form_a, form_b

    # Only matched concepts can merge: cluster those, numbered 0..m-1 in IRI order.
    nodes = sorted(matched)
    position = {node: index for index, node in enumerate(nodes)}

    def compatible(left: list[int], right: list[int]) -> bool:
        return match_criteria(decode_form(matched[nodes[min(left)]]), decode_form(matched[nodes[min(right)]])) > 0

    edges = [Edge(score, position[a], position[b], evidence) for score, a, b, evidence in matches]
    del matches
    uf, used = cluster(len(nodes), edges, compatible)
    for members in uf.groups().values():
        if len(members) < 2:
            continue
        canonical = iris[nodes[members[0]]]  # the smallest IRI: members come in increasing order
        for member in members:
            result.canonical[iris[nodes[member]]] = canonical
        result.confidence[canonical] = 1.0
    for edge in used:
        first, second = iris[nodes[edge.a]], iris[nodes[edge.b]]
        root = result.canonical[first]
        result.confidence[root] = min(result.confidence[root], edge.score)
        result.evidence.append((first, second, edge.score, edge.evidence))
    return result
