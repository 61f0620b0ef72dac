"""Registry-wide ranked pairs: which trials share the most sites, sponsors, principal
investigators or exclusion criteria, counted out of core.

The per-trial pair queries (``queries/shared-site.rq`` ...) stay as they are; their
registry-wide answer grows with the square of hub sizes, so resolution, which knows each
trial's resolved sites, sponsors, principal investigators and exclusion criterion concepts,
counts the pairs once in DuckDB (a self-join on the entity, grouped by pair: spilled to disk
when large, never held in Python) and states the top ``MAX_PAIRS`` of each kind in the
sharing graph (:mod:`kg.rdf.emit_sharing`), which ``queries/shared-*-ranked.rq`` read by
rank. A count is what the full query gives for that pair: the distinct resolved entities
both trials have.

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

from kg.rdf.emit_sharing import sharing_lines
from kg.rdf.namespaces import SHARING_GRAPH
from kg.store.base import Store
from kg.store.mention_tables import MentionTables

__all__ = ["MAX_PAIRS", "write_sharing"]

MAX_PAIRS = 10_000  # per kind: the ranked queries' limit can go up to this

# A member row is (NCT id, entity) or (NCT id, entity, via): two trials share an entity when
# they reach it the same way (``via``; the pair queries' UNION branches: resolved, or the
# fallback of a node no resolution covered), and a pair counts each distinct entity once.
_PAIRS = """
WITH m AS (SELECT DISTINCT nct, entity, coalesce(via, '') AS via FROM shared_members)
SELECT a.nct, b.nct, {count} AS shared
FROM m AS a JOIN m AS b ON a.entity = b.entity AND a.via = b.via AND a.nct < b.nct
GROUP BY a.nct, b.nct
ORDER BY shared DESC, a.nct, b.nct
LIMIT {limit}"""


def _with_via(rows: Iterable[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    for row in rows:
        yield row if len(row) == 3 else (row[0], row[1], "")


def write_sharing(store: Store, tables: MentionTables, members: Mapping[str, Iterable[tuple[str, ...]]],
                  limit: int = MAX_PAIRS, seconds: dict[str, float] | None = None) -> dict[str, int]:
    """Replace the sharing graph with the top pairs of each kind; ``members``: kind -> member rows.

    A member row is (NCT id, entity), or (NCT id, entity, via) where an entity can be
    reached two ways that must not meet. Returns the number of pairs stated per kind;
    ``seconds``, when given, gets the time of each kind (its rows read and copied, its
    pairs counted) and of writing the graph (``"graph"``).
    """
    con = tables.con
    lines: list[str] = []
    counts: dict[str, int] = {}
    timed = seconds if seconds is not None else {}
    for kind, rows in members.items():
        clock = time.perf_counter()
        con.execute("CREATE OR REPLACE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR, via VARCHAR)")
        tables.copy_rows("shared_members", _with_via(rows))
        found = con.execute("SELECT count(DISTINCT coalesce(via, '')) FROM shared_members").fetchone()
        # one way in: each entity meets a pair once (count(*)); two: it may meet it twice
        count = "count(*)" if found is None or int(found[0]) <= 1 else "count(DISTINCT a.entity)"
        pairs = [(first, second, int(shared)) for first, second, shared in
                 con.execute(_PAIRS.format(count=count, limit=int(limit))).fetchall()]
        con.execute("DROP TABLE shared_members")
        lines += sharing_lines(kind, pairs)
        counts[kind] = len(pairs)
        timed[kind] = time.perf_counter() - clock
    clock = time.perf_counter()
    store.remove_graphs([SHARING_GRAPH])
    store.load_nquads("".join(lines).encode("utf-8"))
    timed["graph"] = time.perf_counter() - clock
    return counts
