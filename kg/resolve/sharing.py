"""Registry-wide ranked pairs: which trials share the most sites, sponsors, principal
investigators or exclusion criteria, found out of core without counting every pair.

The per-trial pair queries (``queries/shared-site.rq`` ...) stay as they are; their
registry-wide answer grows with the square of hub sizes (a criterion such as pregnancy is in
a third of all trials), so resolution, which knows each trial's resolved sites, sponsors,
principal investigators and exclusion criterion concepts, finds the top ``MAX_PAIRS`` pairs
of each kind in DuckDB and states them in the sharing graph (:mod:`kg.rdf.emit_sharing`),
which ``queries/shared-*-ranked.rq`` read by rank. A count is what the full query gives for
that pair: the distinct resolved entities both trials have.

Why not a self-join over every pair: at 100k studies it took 187 s and its cost grows with
the square of the hubs. The top pairs are found by *prefix filtering* instead (Chaudhuri et
al. 2006; Xiao et al., PPJoin, 2008): order each trial's entities rarest first; two trials that
share at least ``t`` entities then share one among the first ``size - t + 1`` of each, so for
a high ``t`` only the rare entities are joined. The threshold starts at the largest size two
trials have and falls until at least ``limit`` pairs share ``t`` or more; candidates are
checked by counting what they really share, so the answer is exact. Only when fewer than
``limit`` pairs share two entities are single-entity pairs needed; those come in NCT order, so
they are enumerated from the first trials on until the limit is filled.

The work is bounded: before each join its size is known (each entity meets, in pairs, the
trials whose prefix holds it), and a join of more than ``MAX_JOINED`` rows is not started. A
kind whose top pairs would need one (most pairs share only a hub or two) then keeps every pair
sharing at least the lowest threshold within the bound (after a step that passed it, the
threshold comes down again from the last one reached, one at a time): fewer than ``limit``,
but the self-join's first pairs, in its order, so a pair is never out of rank. A 560k build without this bound ran
DuckDB out of memory here; and since the estimate counts rows, not what DuckDB's hash tables
need for them, a join that runs out of DuckDB's memory within the bound ends the search the
same way (the 560k registry's sponsors: 18.7 million candidate rows at two shared sponsors
did not fit in 1 GB). Trials and entities are integers in these joins, not strings.

Example:
    >>> from kg.store import open_store
    >>> from kg.store.mention_tables import MentionTables
    >>> store = open_store(None)
    >>> top = write_sharing(store, MentionTables(None), {"site": [("NCT1", "s:1"), ("NCT2", "s:1"), ("NCT3", "s:2")]})
    >>> top
    {'site': 1}
    >>> write_sharing(store, MentionTables(None), {"person": [("NCT1", "p:1"), ("NCT2", "p:1", "agent")]})
    {'person': 0}
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping

import duckdb

from kg.errors import StoreError
from kg.rdf.emit_sharing import sharing_lines
from kg.rdf.namespaces import SHARING_GRAPH
from kg.store.base import Store
from kg.store.derived_graphs import GraphWrite, line_chunks, write_derived
from kg.store.mention_tables import MentionTables

__all__ = ["MAX_JOINED", "MAX_PAIRS", "top_pairs", "write_sharing"]

MAX_PAIRS = 10_000  # per kind: the ranked queries' limit can go up to this
# Rows a candidate join may make (pairs of trials meeting on one element, before DISTINCT):
# about 16 bytes each in DuckDB's hash tables, so its 1 GB limit, with spilling, holds them.
MAX_JOINED = 60_000_000
_FIRST_TRIALS = 64  # single-entity pairs: trials enumerated in the first round (doubled each round)

# A member row is (NCT id, entity) or (NCT id, entity, via): two trials share an entity when
# they reach it the same way (``via``; the pair queries' UNION branches: resolved, or the
# fallback of a node no resolution covered), and a pair counts each distinct entity once.
# An element is an (entity, via); one in a single trial can be shared by no pair, so it is
# left out. Trials, elements and entities become integers (joins and hash tables of integers
# take a fraction of the memory of strings): ``trial`` in NCT order (so pairs keep their
# order), ``element`` rarest first (ties by the element itself), the global order the prefix
# ranks each trial's elements by (``pos``).
_ELEMENTS = """
CREATE OR REPLACE TEMP TABLE shared_kept AS
WITH m AS (SELECT DISTINCT nct, entity, coalesce(via, '') AS via FROM shared_members)
SELECT nct, entity, via, count(*) OVER (PARTITION BY entity, via) AS df FROM m;
CREATE OR REPLACE TEMP TABLE shared_trials AS
SELECT DISTINCT nct, dense_rank() OVER (ORDER BY nct)::INTEGER AS trial FROM shared_kept WHERE df > 1;
CREATE OR REPLACE TEMP TABLE shared_elements AS
WITH e AS (
    SELECT t.trial, dense_rank() OVER (ORDER BY k.df, k.entity, k.via)::INTEGER AS element,
           dense_rank() OVER (ORDER BY k.entity)::INTEGER AS entity
    FROM shared_kept AS k JOIN shared_trials AS t USING (nct) WHERE k.df > 1)
SELECT trial, element, entity, row_number() OVER (PARTITION BY trial ORDER BY element)::INTEGER AS pos,
       count(*) OVER (PARTITION BY trial)::INTEGER AS size
FROM e;
DROP TABLE shared_kept"""

# The rows the candidate join at threshold {t} makes: each element meets, in pairs, the trials
# whose prefix holds it. Known before the join, so a join too large is never started.
_JOINED = """
SELECT coalesce(sum(c * (c - 1) // 2), 0) FROM (
    SELECT count(*) AS c FROM shared_elements WHERE pos <= size - {t} + 1 GROUP BY element)"""

# The pairs sharing at least {t} elements, with what they share counted exactly ({count}).
_AT_LEAST = """
CREATE OR REPLACE TEMP TABLE shared_found AS
WITH candidates AS (
    SELECT DISTINCT a.trial AS first, b.trial AS second
    FROM shared_elements AS a JOIN shared_elements AS b ON a.element = b.element AND a.trial < b.trial
    WHERE a.pos <= a.size - {t} + 1 AND b.pos <= b.size - {t} + 1)
SELECT c.first, c.second, {count} AS shared
FROM candidates AS c
JOIN shared_elements AS a ON a.trial = c.first
JOIN shared_elements AS b ON b.trial = c.second AND b.element = a.element
GROUP BY c.first, c.second HAVING {count} >= {t}"""

# The first {limit} pairs sharing exactly one entity whose first trial is in ({after}, {last}].
_SINGLE = """
SELECT a.trial, b.trial, {count} AS shared
FROM shared_elements AS a
JOIN shared_elements AS b ON b.element = a.element AND a.trial < b.trial
WHERE a.trial > {after} AND a.trial <= {last}
GROUP BY a.trial, b.trial HAVING {count} = 1
ORDER BY a.trial, b.trial LIMIT {limit}"""


def _with_via(rows: Iterable[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    for row in rows:
        yield row if len(row) == 3 else (row[0], row[1], "")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    found = con.execute(sql).fetchone()
    return int(found[0]) if found is not None and found[0] is not None else 0


def top_pairs(con: duckdb.DuckDBPyConnection, limit: int = MAX_PAIRS,
              budget: int = MAX_JOINED) -> list[tuple[str, str, int]]:
    """The top ``limit`` pairs of the member rows in table ``shared_members`` (nct, entity, via).

    Most shared first, ties by the two NCT ids: what the full self-join, ordered the same way
    and cut at ``limit``, gives. When reaching ``limit`` pairs would join more than ``budget``
    rows (a kind whose pairs mostly share one or two hub entities), the answer stops at the
    last threshold within it: every pair sharing at least that many, fewer than ``limit``, still
    the self-join's first pairs in the same order, so never a pair out of rank.
    """
    con.execute(_ELEMENTS)
    ways = _scalar(con, "SELECT count(DISTINCT element) - count(DISTINCT entity) FROM shared_elements")
    # one way in: each entity meets a pair once (count(*)); two: it may meet it twice
    count = "count(*)" if ways == 0 else "count(DISTINCT a.entity)"
    con.execute("CREATE OR REPLACE TEMP TABLE shared_found (first INTEGER, second INTEGER, shared BIGINT)")
    # a pair sharing t needs two trials of t or more elements: start at the second-largest size
    threshold = _scalar(con, "SELECT size FROM (SELECT DISTINCT trial, size FROM shared_elements) "
                             "ORDER BY size DESC LIMIT 1 OFFSET 1")
    done, stepping = 0, False  # the last threshold whose pairs shared_found holds; coming down one at a time
    while threshold >= 2:
        if not _at_least(con, threshold, count, budget):
            if done and threshold < done - 1:  # the step overshot: come down from the last one at a time
                threshold, stepping = done - 1, True
                continue
            break  # the joins only grow as the threshold falls: the last threshold's pairs stand
        done = threshold
        if _scalar(con, "SELECT count(*) FROM shared_found") >= limit:
            break
        threshold = threshold - 1 if stepping else min(threshold - 1, threshold * 3 // 4)
    found = con.execute("SELECT first, second, shared FROM shared_found ORDER BY shared DESC, first, second "
                        f"LIMIT {int(limit)}").fetchall()
    if threshold < 2:  # shared_found holds every pair sharing two or more: fewer than limit
        found += _single_entity_pairs(con, count, limit - len(found), budget)
    names = dict(con.execute("SELECT trial, nct FROM shared_trials").fetchall())
    for table in ("shared_found", "shared_elements", "shared_trials"):
        con.execute(f"DROP TABLE {table}")
    return [(names[first], names[second], int(shared)) for first, second, shared in found]


def _at_least(con: duckdb.DuckDBPyConnection, threshold: int, count: str, budget: int) -> bool:
    """Put every pair sharing ``threshold`` or more in ``shared_found``; False (the table as it was)
    when the join would pass ``budget`` rows, or passes DuckDB's memory (its rows cost more than the estimate)."""
    if _scalar(con, _JOINED.format(t=threshold)) > budget:
        return False
    try:
        con.execute(_AT_LEAST.format(t=threshold, count=count))
    except duckdb.OutOfMemoryException:
        return False
    return True


def _single_entity_pairs(con: duckdb.DuckDBPyConnection, count: str, wanted: int,
                         budget: int) -> list[tuple[int, int, int]]:
    """The first ``wanted`` pairs sharing exactly one entity, by NCT ids: from the first trials
    on, in windows that double, so a small ``wanted`` never meets most of the registry. Stops
    before a window would join more than ``budget`` rows (the pairs so far are still first)."""
    pairs: list[tuple[int, int, int]] = []
    after, trials = 0, _FIRST_TRIALS
    df = "(SELECT element, count(*) AS df FROM shared_elements GROUP BY element)"
    while len(pairs) < wanted:
        last = min(after + trials, _scalar(con, "SELECT max(trial) FROM shared_elements"))
        if last <= after:
            break
        joined = _scalar(con, f"SELECT sum(d.df) FROM shared_elements AS a JOIN {df} AS d USING (element) "
                              f"WHERE a.trial > {after} AND a.trial <= {last}")
        if joined > budget:
            break
        try:
            pairs += [(first, second, int(shared)) for first, second, shared in con.execute(_SINGLE.format(
                after=after, last=last, count=count, limit=wanted - len(pairs))).fetchall()]
        except duckdb.OutOfMemoryException:
            break  # as over budget: the pairs so far are still first
        after, trials = last, trials * 2
    return pairs


def write_sharing(store: Store, tables: MentionTables, members: Mapping[str, Iterable[tuple[str, ...]]],
                  limit: int = MAX_PAIRS, seconds: dict[str, float] | None = None,
                  writes: dict[str, GraphWrite] | None = None) -> dict[str, int]:
    """Replace the sharing graph with the top pairs of each kind; ``members``: kind -> member rows.

    A member row is (NCT id, entity), or (NCT id, entity, via) where an entity can be
    reached two ways that must not meet. Returns the number of pairs stated per kind;
    ``seconds``, when given, gets the time of each kind (its rows read and copied, its
    pairs found) and of writing the graph (``"graph"``); ``writes``, under ``"sharing"``,
    what writing it changed (:mod:`kg.store.derived_graphs`).
    """
    con = tables.con
    lines: list[str] = []
    counts: dict[str, int] = {}
    timed = seconds if seconds is not None else {}
    for kind, rows in members.items():
        clock = time.perf_counter()
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
            tables.copy_rows("shared_members", _with_via(rows))
            pairs = top_pairs(con, limit)
        except duckdb.Error as error:  # out of memory or disk: one line naming the kind and the tables
            reason = str(error).splitlines()[0]
            raise StoreError(f"the ranked {kind} pairs could not be counted: {reason}",
                             source=str(tables.path)) from None
        con.execute("DROP TABLE shared_members")
        lines += sharing_lines(kind, pairs)
        counts[kind] = len(pairs)
        timed[kind] = time.perf_counter() - clock
    clock = time.perf_counter()
    written = write_derived(store, SHARING_GRAPH, line_chunks(lines))
    if writes is not None:
        writes["sharing"] = written
    timed["graph"] = time.perf_counter() - clock
    return counts
