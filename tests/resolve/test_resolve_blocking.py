"""Blocking: every pair of a small block is compared once; a large block compares each item with
its ``window`` neighbours in the given order, so the work per item stays bounded; a block over
``max_block`` gives nothing. Sites and persons keep their comparisons bounded where a plain
block would grow with the registry (a city's common words, a family name with an initial)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import kg.resolve.persons as resolve_persons_module
from kg.resolve.cluster import candidate_pairs
from kg.resolve.criteria import MAX_KEYS, WINDOW, resolve_criteria
from kg.resolve.mentions import RoleMention, SiteMention
from kg.resolve.persons import PersonContext
from kg.resolve.sites import WORD_BLOCK, resolve_sites


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


def test_a_misspelt_site_merges_even_where_its_words_are_common_in_the_city() -> None:
    # 18 "Terheggen ... Center" sites in one city: "terheggen" no longer singles out a site, so
    # its block is dropped, and the typo in "Hedrika" is too early for the 4-letter prefix
    # block: the two spellings must meet by their name keys.
    benefactors = ["Wilhelmina", "Beatrix", "Juliana", "Maxima", "Amalia", "Emma", "Sophia", "Irene", "Margriet",
                   "Christina", "Ariane", "Alexia", "Laurentien", "Mabel", "Petra", "Annette", "Hendrika"]
    names = [f"Terheggen {b} Center" for b in benefactors] + ["Terheggen Hedrika Center"]
    mentions = [SiteMention(f"s:{i:02d}", name, "Maastricht", None, "Netherlands", None, None, f"t:{i}", f"NCT{i:08d}")
                for i, name in enumerate(names)]
    assert Counter("terheggen" in m.facility.lower() for m in mentions)[True] > WORD_BLOCK
    result = resolve_sites(mentions)
    merged = {surface: canonical for surface, canonical in result.canonical.items() if surface != canonical}
    assert merged in ({"s:17": "s:16"}, {"s:16": "s:17"})


def test_spellings_of_one_name_block_are_compared_only_when_they_share_evidence(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    given = ["John", "James", "Jane", "Joan", "Julia", "Jorge", "Jamal", "Jonas", "Jun", "Jiri"]
    roles = [RoleMention(f"r:{i}", f"NCT{i:08d}", "PrincipalInvestigator", f"{name} {middle}. Smith",
                         f"Hospital {i}", None, None)
             for i, (name, middle) in enumerate((n, m) for n in given for m in "ABCDEFGHKL")]
    roles.append(RoleMention("r:x", "NCT99999999", "PrincipalInvestigator", "J. Smith", "Hospital 7", None, None))
    calls: Counter[str] = Counter()
    real_similarity = resolve_persons_module.name_similarity

    def counting_similarity(left, right):  # type: ignore[no-untyped-def]
        calls["compared"] += 1
        return real_similarity(left, right)

    monkeypatch.setattr(resolve_persons_module, "name_similarity", counting_similarity)
    result = resolve_persons_module.resolve_persons(roles, PersonContext())
    # 101 spellings in the "smith j" block: all pairs would be 5,050 name comparisons. Only
    # "J. Smith" and the one "Smith" of Hospital 7 share a piece of evidence.
    assert calls["compared"] <= 3
    assert calls["compared"] <= result.comparisons <= 3 + 2 * 101  # the report counts what was scored
    assert result.role_person["r:x"] == result.role_person["r:7"]
    assert len(set(result.role_person.values())) == 100


def test_criterion_comparisons_per_concept_stay_bounded_as_shared_words_grow_common() -> None:
    # Every concept shares "history", "disease" and two of 60 drug words with hundreds of
    # others: all pairs would be hundreds per concept, the windows keep it under MAX_KEYS * WINDOW.
    drugs = [f"drug{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(60)]
    per_concept = []
    for n in (600, 1770):
        pairs = [(a, b) for a, b in combinations(drugs, 2)][:n]
        concepts = [(f"c:{i:05d}", f"history of {a} or {b} disease") for i, (a, b) in enumerate(pairs)]
        concepts.append(("c:99999", f"history of {pairs[0][0]} or {pairs[0][1]} diseases"))  # a true duplicate
        result = resolve_criteria(concepts)
        assert result.canonical["c:99999"] == "c:00000"
        assert result.comparisons <= MAX_KEYS * WINDOW * len(concepts)
        per_concept.append(result.comparisons / len(concepts))
    assert per_concept[1] <= per_concept[0] * 1.5  # three times the concepts, not three times the work each
