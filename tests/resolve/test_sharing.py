"""The ranked pairs found by prefix filtering equal the plain self-join's, cut at any limit.

The oracle counts every pair in Python (each trial's distinct (entity, via) set, intersected
with every other's; with two ways in, a pair counts each distinct entity once), sorts most
shared first with ties by NCT ids and cuts at the limit. The members are random with hubs
(one entity in most trials), long lists and near-copies, so every path is taken: a high
threshold met at once, a falling threshold, and limits only single-entity pairs can fill.
"""

from __future__ import annotations

import random
from collections import defaultdict
from itertools import combinations

import pytest

from kg.resolve.sharing import top_pairs
from kg.store.mention_tables import MentionTables


def _members(seed: int, trials: int, ways: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    vias = ["", "agent"][:ways]
    rows = []
    template = [f"e{rng.randrange(400)}" for _ in range(30)]
    for number in range(trials):
        nct = f"NCT{number * 7919 % 100_003:08d}"
        own = {"hub"} if rng.random() < 0.7 else set()
        if rng.random() < 0.1:  # a near-copy of one long protocol
            own |= {e for e in template if rng.random() < 0.9}
        own |= {f"e{rng.randrange(400)}" for _ in range(rng.choice([0, 1, 2, 3, 5, 12]))}
        rows += [(nct, entity, rng.choice(vias)) for entity in own]
        if ways == 2 and own and rng.random() < 0.3:  # one entity reached both ways: counted once
            rows += [(nct, sorted(own)[0], via) for via in vias]
        if rng.random() < 0.2:  # a duplicate row: a pair counts an entity once
            rows += rows[-1:]
    rng.shuffle(rows)
    return rows


def _oracle(rows: list[tuple[str, str, str]], limit: int) -> list[tuple[str, str, int]]:
    elements: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for nct, entity, via in rows:
        elements[nct].add((entity, via))
    pairs = []
    for first, second in combinations(sorted(elements), 2):
        shared = {entity for entity, _ in elements[first] & elements[second]}
        if shared:
            pairs.append((first, second, len(shared)))
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:limit]


@pytest.mark.parametrize("ways", [1, 2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_top_pairs_equal_the_full_self_join(ways: int, seed: int) -> None:
    rows = _members(seed, 400, ways)
    tables = MentionTables(None)
    con = tables.con
    con.execute("CREATE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
    tables.copy_rows("shared_members", rows)
    full = _oracle(rows, 10**9)
    counts = sorted({n for _, _, n in full}, reverse=True)
    # at a count's boundary, just past it, deep into the single-entity pairs, and past every pair
    at_two = sum(1 for *_, n in full if n >= 2)
    limits = {1, 7, at_two, at_two + 1, at_two + 150, len(full) - 1, len(full) + 5}
    limits |= {sum(1 for *_, n in full if n >= c) for c in counts[:6]}
    for limit in sorted(limits):
        assert top_pairs(con, limit) == full[:limit], limit
    tables.close()


def test_no_pairs_when_nothing_is_shared() -> None:
    tables = MentionTables(None)
    tables.con.execute("CREATE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
    tables.copy_rows("shared_members", [("NCT1", "a", ""), ("NCT2", "b", ""), ("NCT2", "c", "")])
    assert top_pairs(tables.con, 10) == []
    tables.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_work_budget_cuts_the_answer_at_a_rank_never_out_of_it(seed: int) -> None:
    """A kind whose top pairs would need too large a join gives the self-join's first pairs only.

    With budgets from none to plenty, each answer is the oracle's ranking cut somewhere; a
    cut among pairs sharing two or more falls where the count changes (every pair sharing at
    least that many is there), and the smallest budgets do cut.
    """
    rows = _members(seed, 400, 2)
    tables = MentionTables(None)
    con = tables.con
    con.execute("CREATE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
    tables.copy_rows("shared_members", rows)
    full = _oracle(rows, 10**9)
    at_two = sum(1 for *_, n in full if n >= 2)
    limit = at_two + 20_000  # several windows of single-entity pairs
    lengths = []
    for budget in (0, 10**4, 2 * 10**4, 4 * 10**4, 8 * 10**4, 16 * 10**4, 10**9):
        answer = top_pairs(con, limit, budget)
        assert answer == full[:len(answer)], budget
        last = answer[-1][2] if answer else None
        if answer and last is not None and last >= 2 and len(answer) < limit:
            assert len(answer) == sum(1 for *_, n in full if n >= last), budget
        lengths.append(len(answer))
    assert lengths[0] < at_two  # no budget: cut among the pairs sharing two or more
    assert any(at_two < length < limit for length in lengths), lengths  # cut among the single-entity pairs
    assert lengths[-1] == limit
    tables.close()


def test_out_of_memory_is_one_clear_error_naming_the_kind() -> None:
    """DuckDB out of memory while counting (a 560k build met it before the work budget): a StoreError
    naming the kind and the tables, not a DuckDB traceback."""
    from kg.errors import StoreError
    from kg.resolve.sharing import write_sharing
    from kg.store import open_store

    tables = MentionTables(None)
    tables.con.execute("SET memory_limit = '1MB'")
    members = [(f"NCT{n:08d}", f"s{n % 7}") for n in range(20_000)]
    with pytest.raises(StoreError, match="ranked site pairs could not be counted") as caught:
        write_sharing(open_store(None), tables, {"site": members})
    assert str(tables.path) in str(caught.value)
    tables.close()


def test_a_join_that_outgrows_duckdbs_memory_ends_the_search_like_the_budget() -> None:
    """Within the work budget, a candidate join DuckDB cannot hold (the 560k registry's sponsors at two
    shared: 18.7 million rows) ends the search at the last threshold reached, as the budget does: every
    pair sharing at least that many, in rank order, and no error."""
    members = [(f"NCT{n:08d}", hub, "") for n in range(3000) for hub in ("lead", "partner")]
    members += [(f"NCT{n:08d}", f"x{k}", "") for n in range(0, 3000, 60) for k in range(4)]  # 50 share six
    full = _oracle(members, 10**9)
    sharing_three = [pair for pair in full if pair[2] >= 3]
    assert len(sharing_three) == 50 * 49 // 2
    roomy = MentionTables(None)
    roomy.con.execute("CREATE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
    roomy.copy_rows("shared_members", members)
    assert top_pairs(roomy.con, 10_000) == full[:10_000]  # with room, the pairs sharing two come too
    roomy.close()
    tight = MentionTables(None)
    tight.con.execute("CREATE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
    tight.copy_rows("shared_members", members)
    # room for the 1,225 pairs sharing six, not for the 4.5 million sharing the two hubs
    tight.con.execute("SET memory_limit = '24MB'")
    tight.con.execute("SET threads = 1")
    assert top_pairs(tight.con, 10_000) == sharing_three
    tight.close()


def _joined(rows: list[tuple[str, str, str]], threshold: int) -> int:
    """The candidate join's rows at ``threshold``, computed here from the prefix filter's definition.

    Elements held by one trial are dropped; each trial's elements are ranked rarest first
    (ties by entity, then via); its prefix is its first ``size - threshold + 1``; an element
    in c prefixes makes c * (c - 1) / 2 rows.
    """
    elements: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for nct, entity, via in rows:
        elements[nct].add((entity, via))
    df: dict[tuple[str, str], int] = defaultdict(int)
    for held in elements.values():
        for element in held:
            df[element] += 1
    in_prefixes: dict[tuple[str, str], int] = defaultdict(int)
    for held in elements.values():
        kept = sorted((e for e in held if df[e] > 1), key=lambda e: (df[e], e[0], e[1]))
        for element in kept[:max(0, len(kept) - threshold + 1)]:
            in_prefixes[element] += 1
    return sum(c * (c - 1) // 2 for c in in_prefixes.values())


@pytest.mark.parametrize("seed", [1, 2])
def test_a_budget_cut_falls_at_the_lowest_threshold_whose_join_fits(seed: int) -> None:
    """Where the budget stops the search, the answer is every pair sharing at least the lowest
    threshold whose candidate join fits in it: a falling step that passes the budget does not
    end the search at the threshold before it (the 560k registry's exclusion criteria kept 14
    pairs that way). Budgets are set at each threshold's join, so every threshold is a boundary."""
    rows = _members(seed, 400, 1)
    tables = MentionTables(None)
    con = tables.con
    con.execute("CREATE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
    tables.copy_rows("shared_members", rows)
    full = _oracle(rows, 10**9)
    sizes = sorted((len({(e, v) for n, e, v in rows if n == nct} & _shared_elements(rows)) for nct in
                    {n for n, _, _ in rows}), reverse=True)
    start = sizes[1]
    joined = {t: _joined(rows, t) for t in range(2, start + 1)}
    assert all(joined[t] <= joined[t - 1] for t in range(3, start + 1))  # the joins grow as the threshold falls
    limit = len(full)
    checked = 0
    for budget in sorted(set(joined.values())):
        lowest = min(t for t in joined if joined[t] <= budget)
        if lowest < 3:
            continue  # the single-entity pairs follow: another test's
        expected = [pair for pair in full if pair[2] >= lowest]
        assert top_pairs(con, limit, budget) == expected, (budget, lowest)
        checked += 1
    assert checked >= 5
    tables.close()


def _shared_elements(rows: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for nct, entity, via in rows:
        holders[(entity, via)].add(nct)
    return {element for element, trials in holders.items() if len(trials) > 1}
