"""Union-find over mentions, and blocking: the two tools that keep resolution linear.

Resolution never compares all pairs of mentions. Each mention gets a few blocking keys
(a family name with an initial, a city, a rare word); only mentions that share a key are
compared, a key shared by too many mentions is skipped (it says nothing), and within a
large block each mention meets only its neighbours in sorted order, so the work per
mention stays bounded as the registry grows (linear in N, not in N times a block size that
grows with N). Matches are
merged with union-find, which also keeps what a cluster must not contain (two facilities
one trial lists separately, two incompatible names) so a chain of good matches cannot
merge what a direct comparison would refuse.

Example:
    >>> uf = UnionFind(4)
    >>> uf.union(0, 1), uf.union(2, 3), uf.find(1) == uf.find(0), uf.find(2) == uf.find(0)
    (True, True, True, False)
    >>> sorted(candidate_pairs({0: {"a"}, 1: {"a", "b"}, 2: {"b"}, 3: {"c"}}, max_block=10))
    [(0, 1), (1, 2)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field


class UnionFind:
    """Disjoint sets of ``0..n-1`` with path halving and union by size."""

    __slots__ = ("parent", "size")

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> bool:
        """Merge the sets of ``a`` and ``b``; False when they were already one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return True

    def groups(self) -> dict[int, list[int]]:
        """Members per root, each list in increasing order."""
        out: dict[int, list[int]] = defaultdict(list)
        for item in range(len(self.parent)):
            out[self.find(item)].append(item)
        return out


def candidate_pairs(keys: Mapping[int, Iterable[Hashable]], max_block: int, order: Sequence[str] | None = None,
                    window: int | None = None) -> Iterator[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of items that share a blocking key.

    Blocks larger than ``max_block`` are skipped: a key that many items share (a common
    word, "wang j") does not single out candidates, and comparing within it would be
    quadratic. Items still meet through their other, rarer keys.

    A block of at most ``window + 1`` items (any block without a ``window``) gives all its
    pairs, each pair once over all such blocks (by the first key it shares, so no set of
    seen pairs is kept: at registry scale it would hold millions). A larger block gives, in
    the ``order`` of its items (a sort key per item, such as its text; item number without
    one), each item with the ``window`` items after it: the sorted-neighbourhood method,
    which compares spellings that sort near each other and keeps the work per item bounded
    however a key's block grows with the registry. Such pairs may come again from another key.

    Example:
        >>> sorted(candidate_pairs({0: {"k"}, 1: {"k"}, 2: {"k"}, 3: {"k"}}, 10, ["d", "c", "b", "a"], window=1))
        [(0, 1), (1, 2), (2, 3)]
    """
    item_keys = {item: {str(key) for key in found} for item, found in keys.items()}
    blocks: dict[str, list[int]] = defaultdict(list)
    for item, found in item_keys.items():
        for key in found:
            blocks[key].append(item)
    full = max_block if window is None else min(max_block, window + 1)
    small = {key for key, members in blocks.items() if 2 <= len(members) <= full}
    large = sorted(key for key, members in blocks.items() if full < len(members) <= max_block)
    for key in sorted(small):
        members = sorted(blocks[key])
        for index, first in enumerate(members):
            first_keys = item_keys[first] & small
            for second in members[index + 1:]:
                if min(first_keys & item_keys[second]) == key:
                    yield (first, second)
    for key in large:
        members = sorted(blocks[key], key=(lambda item: (order[item], item)) if order is not None else None)
        for index, first in enumerate(members):
            for second in members[index + 1:index + full]:  # the window after it
                yield (first, second) if first < second else (second, first)


@dataclass(order=True, frozen=True, slots=True)
class Edge:
    """A match between two items, with its score and the evidence that made it."""

    score: float
    a: int
    b: int
    evidence: tuple[str, ...] = field(default=(), compare=False)


def cluster(n: int, edges: Iterable[Edge], compatible: Callable[[list[int], list[int]], bool] | None = None
            ) -> tuple[UnionFind, list[Edge]]:
    """Merge items along edges, strongest first; ``compatible`` may veto merging two clusters.

    Returns the union-find and the edges that merged something (the evidence to record).
    Sorting makes the result independent of the order the edges were found in.
    """
    uf = UnionFind(n)
    members: dict[int, list[int]] = {}
    used: list[Edge] = []
    for edge in sorted(edges, key=lambda e: (-e.score, e.a, e.b)):
        ra, rb = uf.find(edge.a), uf.find(edge.b)
        if ra == rb:
            continue
        if compatible is not None:
            left, right = members.get(ra, [ra]), members.get(rb, [rb])
            if not compatible(left, right):
                continue
        uf.union(ra, rb)
        root = uf.find(ra)
        merged = members.pop(ra, [ra]) + members.pop(rb, [rb])
        members[root] = merged
        used.append(edge)
    return uf, used
