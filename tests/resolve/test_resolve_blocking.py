"""Blocking: every pair of a small block is compared once; a large block compares each item with
its ``window`` neighbours in the given order, so the work per item stays bounded; a block over
``max_block`` gives nothing."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from kg.resolve.cluster import candidate_pairs


def test_small_blocks_give_every_pair_once_even_when_items_share_several_keys() -> None:
    keys = {0: {"a", "b"}, 1: {"a", "b"}, 2: {"a"}, 3: {"b", "c"}, 4: {"c"}}
    pairs = list(candidate_pairs(keys, max_block=10, window=5))
    assert Counter(pairs) == Counter({(0, 1): 1, (0, 2): 1, (1, 2): 1, (0, 3): 1, (1, 3): 1, (3, 4): 1})


def test_a_large_block_meets_only_sorted_neighbours() -> None:
    texts = [f"word {i:03d}" for i in range(100)]
    order = list(reversed(texts))  # the item order must not matter, the sort key does
    keys = {item: {"shared"} for item in range(100)}
    pairs = set(candidate_pairs(keys, max_block=1000, order=order, window=3))
    assert len(pairs) == sum(min(3, 99 - i) for i in range(100))
    assert all(abs(a - b) <= 3 for a, b in pairs)  # neighbours by text, which reverses the numbering
    per_item = Counter(item for pair in pairs for item in pair)
    assert max(per_item.values()) <= 2 * 3


def test_without_a_window_a_block_gives_all_its_pairs_and_an_oversized_one_none() -> None:
    keys = {item: {"k"} for item in range(30)}
    assert set(candidate_pairs(keys, max_block=30)) == set(combinations(range(30), 2))
    assert list(candidate_pairs(keys, max_block=29)) == []
