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

Example:
    >>> from kg.store import open_store
    >>> from kg.store.mention_tables import MentionTables, sql_string
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

from kg.rdf.emit_sharing import sharing_lines
from kg.rdf.namespaces import SHARING_GRAPH
from kg.store.base import Store
from kg.store.mention_tables import MentionTables, sql_string

__all__ = ["MAX_PAIRS", "top_pairs", "write_sharing"]

MAX_PAIRS = 10_000  # per kind: the ranked queries' limit can go up to this
_FIRST_TRIALS = 64  # single-entity pairs: trials enumerated in the first round (doubled each round)

# A member row is (NCT id, entity) or (NCT id, entity, via): two trials share an entity when
# they reach it the same way (``via``; the pair queries' UNION branches: resolved, or the
# fallback of a node no resolution covered), and a pair counts each distinct entity once.
# An element is an (entity, via); one in a single trial can be shared by no pair, so it is
# left out, and ``pos`` ranks a trial's elements rarest first (ties by the element itself).
_ELEMENTS = """
CREATE OR REPLACE TEMP TABLE shared_elements AS
WITH m AS (SELECT DISTINCT nct, entity, coalesce(via, '') AS via FROM shared_members),
kept AS (SELECT *, count(*) OVER (PARTITION BY entity, via) AS df FROM m)
SELECT nct, entity, via,
       row_number() OVER (PARTITION BY nct ORDER BY df, entity, via) AS pos,
       count(*) OVER (PARTITION BY nct) AS size
FROM kept WHERE df > 1"""

# The pairs sharing at least {t} elements, with what they share counted exactly ({count}).
_AT_LEAST = """
CREATE OR REPLACE TEMP TABLE shared_found AS
WITH candidates AS (
    SELECT DISTINCT a.nct AS first, b.nct AS second
    FROM shared_elements AS a JOIN shared_elements AS b
      ON a.entity = b.entity AND a.via = b.via AND a.nct < b.nct
    WHERE a.pos <= a.size - {t} + 1 AND b.pos <= b.size - {t} + 1)
SELECT c.first, c.second, {count} AS shared
FROM candidates AS c
JOIN shared_elements AS a ON a.nct = c.first
JOIN shared_elements AS b ON b.nct = c.second AND b.entity = a.entity AND b.via = a.via
GROUP BY c.first, c.second HAVING {count} >= {t}"""

# The first {limit} pairs sharing exactly one entity whose first trial is in ({after}, {last}].
_SINGLE = """
SELECT a.nct, b.nct, {count} AS shared
FROM shared_elements AS a
JOIN shared_elements AS b ON b.entity = a.entity AND b.via = a.via AND a.nct < b.nct
WHERE a.nct > {after} AND a.nct <= {last}
GROUP BY a.nct, b.nct HAVING {count} = 1
ORDER BY a.nct, b.nct LIMIT {limit}"""


def _with_via(rows: Iterable[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    for row in rows:
        yield row if len(row) == 3 else (row[0], row[1], "")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    found = con.execute(sql).fetchone()
    return int(found[0]) if found is not None and found[0] is not None else 0


def top_pairs(con: duckdb.DuckDBPyConnection, limit: int = MAX_PAIRS) -> list[tuple[str, str, int]]:
    """The top ``limit`` pairs of the member rows in table ``shared_members`` (nct, entity, via).

    Most shared first, ties by the two NCT ids: what the full self-join, ordered the same way
    and cut at ``limit``, gives.
    """
    con.execute(_ELEMENTS)
    ways = _scalar(con, "SELECT count(DISTINCT via) FROM shared_elements")
    # one way in: each entity meets a pair once (count(*)); two: it may meet it twice
    count = "count(*)" if ways <= 1 else "count(DISTINCT a.entity)"
    con.execute("CREATE OR REPLACE TEMP TABLE shared_found (first VARCHAR, second VARCHAR, shared BIGINT)")
    # a pair sharing t needs two trials of t or more elements: start at the second-largest size
    threshold = _scalar(con, "SELECT size FROM (SELECT DISTINCT nct, size FROM shared_elements) "
                             "ORDER BY size DESC LIMIT 1 OFFSET 1")
    while threshold >= 2:
        con.execute(_AT_LEAST.format(t=threshold, count=count))
        if _scalar(con, "SELECT count(*) FROM shared_found") >= limit:
            break
        threshold = min(threshold - 1, threshold * 3 // 4)
    pairs = [(first, second, int(shared)) for first, second, shared in con.execute(
        "SELECT first, second, shared FROM shared_found ORDER BY shared DESC, first, second "
        f"LIMIT {int(limit)}").fetchall()]
    if threshold < 2:  # shared_found holds every pair sharing two or more: fewer than limit
        pairs += _single_entity_pairs(con, count, limit - len(pairs))
    con.execute("DROP TABLE shared_found")
    con.execute("DROP TABLE shared_elements")
    return pairs


def _single_entity_pairs(con: duckdb.DuckDBPyConnection, count: str, wanted: int) -> list[tuple[str, str, int]]:
    """The first ``wanted`` pairs sharing exactly one entity, by NCT ids: from the first trials
    on, in windows that double, so a small ``wanted`` never meets most of the registry."""
    pairs: list[tuple[str, str, int]] = []
    after, trials = "", _FIRST_TRIALS
    while len(pairs) < wanted:
        last = con.execute("SELECT max(nct) FROM (SELECT DISTINCT nct FROM shared_elements "
                           f"WHERE nct > {sql_string(after)} ORDER BY nct LIMIT {trials})").fetchone()
        if last is None or last[0] is None:
            break
        pairs += [(first, second, int(shared)) for first, second, shared in con.execute(_SINGLE.format(
            after=sql_string(after), last=sql_string(last[0]), count=count, limit=wanted - len(pairs))).fetchall()]
        after, trials = last[0], trials * 2
    return pairs


def write_sharing(store: Store, tables: MentionTables, members: Mapping[str, Iterable[tuple[str, ...]]],
                  limit: int = MAX_PAIRS, seconds: dict[str, float] | None = None) -> dict[str, int]:
    """Replace the sharing graph with the top pairs of each kind; ``members``: kind -> member rows.

    A member row is (NCT id, entity), or (NCT id, entity, via) where an entity can be
    reached two ways that must not meet. Returns the number of pairs stated per kind;
    ``seconds``, when given, gets the time of each kind (its rows read and copied, its
    pairs found) and of writing the graph (``"graph"``).
    """
    con = tables.con
    lines: list[str] = []
    counts: dict[str, int] = {}
    timed = seconds if seconds is not None else {}
    for kind, rows in members.items():
        clock = time.perf_counter()
        con.execute("CREATE OR REPLACE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
        tables.copy_rows("shared_members", _with_via(rows))
        pairs = top_pairs(con, limit)
        con.execute("DROP TABLE shared_members")
        lines += sharing_lines(kind, pairs)
        counts[kind] = len(pairs)
        timed[kind] = time.perf_counter() - clock
    clock = time.perf_counter()
    store.remove_graphs([SHARING_GRAPH])
    store.load_nquads("".join(lines).encode("utf-8"))
    timed["graph"] = time.perf_counter() - clock
    return counts
