"""Registry-wide ranked pairs: which trials share the most sites, or sponsors, counted out of core.

The per-trial pair queries (``queries/shared-site.rq`` ...) stay as they are; their
registry-wide answer grows with the square of hub sizes, so resolution, which knows each
trial's resolved sites and sponsors, counts the pairs once in DuckDB (a self-join on the
entity, grouped by pair: spilled to disk when large, never held in Python) and states the
top ``MAX_PAIRS`` of each kind in the sharing graph (:mod:`kg.rdf.emit_sharing`), which
``queries/shared-site-ranked.rq`` and ``queries/shared-sponsor-ranked.rq`` read by rank.
A count is what the full query gives for that pair: the distinct resolved entities both
trials have.

Example:
    >>> from kg.store import open_store
    >>> from kg.store.mention_tables import MentionTables
    >>> store = open_store(None)
    >>> top = write_sharing(store, MentionTables(None), {"site": [("NCT1", "s:1"), ("NCT2", "s:1"), ("NCT3", "s:2")]})
    >>> top
    {'site': 1}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kg.rdf.emit_sharing import sharing_lines
from kg.rdf.namespaces import SHARING_GRAPH
from kg.store.base import Store
from kg.store.mention_tables import MentionTables

__all__ = ["MAX_PAIRS", "write_sharing"]

MAX_PAIRS = 10_000  # per kind: the ranked queries' limit can go up to this

_PAIRS = """
WITH m AS (SELECT DISTINCT nct, entity FROM shared_members)
SELECT a.nct, b.nct, count(*) AS shared
FROM m AS a JOIN m AS b ON a.entity = b.entity AND a.nct < b.nct
GROUP BY a.nct, b.nct
ORDER BY shared DESC, a.nct, b.nct
LIMIT {limit}"""


def write_sharing(store: Store, tables: MentionTables, members: Mapping[str, Iterable[tuple[str, str]]],
                  limit: int = MAX_PAIRS) -> dict[str, int]:
    """Replace the sharing graph with the top pairs of each kind; ``members``: kind -> (NCT id, entity) rows.

    Returns the number of pairs stated per kind.
    """
    con = tables.con
    lines: list[str] = []
    counts: dict[str, int] = {}
    for kind, rows in members.items():
        con.execute("CREATE OR REPLACE TEMP TABLE shared_members (nct VARCHAR, entity VARCHAR)")
        tables.copy_rows("shared_members", rows)
        pairs = [(first, second, int(shared)) for first, second, shared in
                 con.execute(_PAIRS.format(limit=int(limit))).fetchall()]
        con.execute("DROP TABLE shared_members")
        lines += sharing_lines(kind, pairs)
        counts[kind] = len(pairs)
    store.remove_graphs([SHARING_GRAPH])
    store.load_nquads("".join(lines).encode("utf-8"))
    return counts
