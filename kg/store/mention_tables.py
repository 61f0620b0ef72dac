"""Mention tables: what resolution reads, written during the load into DuckDB beside the store.

Why DuckDB: resolution's reads are whole-table aggregations (the smallest value of each
property per node, distinct (trial, site) pairs, per-key counts) and sorts, which a
columnar engine runs in parallel, out of core (it spills to disk past its memory limit)
and without a server; SQLite would do them row by row in B-trees, and Parquet files alone
cannot delete a replaced record's rows. DuckDB's row-at-a-time ``executemany`` is slow
(seconds per thousand rows), so rows are spooled to a newline-delimited JSON file per table
and bulk-copied in (``COPY``), a million rows in about a second. JSON, not CSV: DuckDB's CSV
reader takes a lone carriage return inside a quoted value for a line break (and "" for
NULL), so an organisation named "0\r0" stopped the build; JSON escapes every control
character and keeps "" and NULL apart.

The pipeline's parent fills the tables from each record's rows
(:func:`kg.rdf.mention_rows.mention_rows`), keyed by record graph, so replacing or removing
a record (a newer copy, a sync) deletes its rows first. A ``meta`` row says the tables
cover the whole store (``complete``): a store built before the tables existed, or one
whose tables were lost, has none, and resolution then falls back to reading the store.
Tables written before a table was added keep covering the store; opening them adds the new
table, empty, and names it ``missing``, so its reader falls back to the store until a build
from an empty store writes every table (:meth:`MentionTables.covers`). A
second ``meta`` row says whether the resolution is stale: any change of records marks it,
the post-load stages clear it, so ``kg sync --no-resolve`` (minutes at registry scale) is
followed by commands that say the shared-* answers describe the store before the sync.

The file lives in the store's directory (``trialkg-mentions.duckdb``, inside the Oxigraph
generation it describes, so a crash-safe build switches both at once); an in-memory store
gets a temporary directory that lives as long as the store.

Example:
    >>> tables = MentionTables(None)
    >>> tables.add("g:1", {"trials": [("t:1", "NCT1")], "concepts": [("c:1", "age > 18")]})
    >>> tables.flush(); tables.query("SELECT concept, norm FROM concepts")
    [('c:1', 'age > 18')]
"""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson

from kg.rdf.mention_rows import TABLES, MentionRows

__all__ = ["FILENAME", "FORMS_MEMO", "MEMORY_LIMIT", "READ_MEMORY_LIMIT", "MentionTables", "mention_tables",
           "resolution_stale", "sql_string"]

FILENAME = "trialkg-mentions.duckdb"
FORMS_MEMO = "trialkg-criterion-forms.duckdb"  # criterion forms kept between resolutions (kg.resolve.criteria_tables)
FLUSH_ROWS = 500_000
MEMORY_LIMIT = "1GB"  # DuckDB spills past this: the tables' share of a bounded build
# While resolution only reads the tables (grouped and sorted reads, which spill), beside the
# resolvers' own records: DuckDB's buffers otherwise stay filled to the limit with pages read
# once. Measured on the 560k tables: every reader runs in 384 MB.
READ_MEMORY_LIMIT = "512MB"


def sql_string(value: object) -> str:
    """A SQL string literal of ``value`` (a path, usually): DuckDB's COPY and SET take no parameters.

    >>> sql_string("/home/o'brien/store")
    "'/home/o''brien/store'"
    """
    return "'" + str(value).replace("'", "''") + "'"


class MentionTables:
    """Append-only tables of mentions per record graph, with deletes by graph."""

    def __init__(self, directory: Path | None) -> None:
        self._temp = tempfile.TemporaryDirectory(prefix="trialkg-mentions-") if directory is None else None
        base = Path(self._temp.name) if self._temp is not None else directory
        assert base is not None
        base.mkdir(parents=True, exist_ok=True)
        self.path = base / FILENAME
        self.spool = base / "trialkg-mentions.spool"
        self._con: duckdb.DuckDBPyConnection | None = None
        self.pending: dict[str, MentionRows] = {}
        self.pending_rows = 0
        self.removed: set[str] = set()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(str(self.path))
            self.set_memory_limit(MEMORY_LIMIT)
            self._con.execute("SET preserve_insertion_order = false")
            existing = {name for (name,) in self._con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
            for name, columns in TABLES.items():
                types = ", ".join(f"{c} VARCHAR" for c in columns)
                self._con.execute(f"CREATE TABLE IF NOT EXISTS {name} (graph VARCHAR, {types})")
            self._con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            added = set(TABLES) - existing
            if "meta" in existing and added:
                # written before these tables were added: they are empty, so they do not cover the store
                # (the older tables still do, and their readers keep reading them)
                missing = ",".join(sorted(self._missing() | added))
                self._con.execute("INSERT OR REPLACE INTO meta VALUES ('missing', ?)", [missing])
        return self._con

    def exists(self) -> bool:
        return self.path.exists()

    def add(self, graph: str, rows: MentionRows) -> None:
        """One record graph's rows (replacing any earlier rows of that graph)."""
        previous = self.pending.pop(graph, None)
        if previous is not None:
            self.pending_rows -= sum(len(found) for found in previous.values())
        self.removed.add(graph)
        self.pending[graph] = rows
        self.pending_rows += sum(len(found) for found in rows.values())
        if self.pending_rows >= FLUSH_ROWS:
            self.flush()

    def remove(self, graphs: Iterable[str]) -> None:
        """Forget the rows of records removed from the store."""
        for graph in graphs:
            previous = self.pending.pop(graph, None)
            if previous is not None:
                self.pending_rows -= sum(len(found) for found in previous.values())
            self.removed.add(graph)

    def flush(self) -> None:
        """Deletes, then the pending rows, into the tables (one bulk COPY per table).

        Records changed, so the resolution no longer covers the store until the post-load
        stages run again (:meth:`mark_resolved`).
        """
        con = self.con
        if self.removed or self.pending:
            con.execute("INSERT OR REPLACE INTO meta VALUES ('resolution', 'stale')")
        if self.removed:
            con.execute("CREATE OR REPLACE TEMP TABLE removed_graphs (graph VARCHAR)")
            self._copy("removed_graphs", ([graph] for graph in sorted(self.removed)))
            for name in TABLES:
                con.execute(f"DELETE FROM {name} WHERE graph IN (SELECT graph FROM removed_graphs)")
            con.execute("DROP TABLE removed_graphs")
        for name in TABLES:
            self._copy(name, ((graph, *row) for graph, rows in self.pending.items() for row in rows.get(name, ())))
        self.pending.clear()
        self.pending_rows = 0
        self.removed.clear()

    def copy_rows(self, table: str, rows: Iterable[Iterable[Any]]) -> None:
        """Bulk-append rows to a table (through a JSON Lines spool file and COPY)."""
        self._copy(table, rows)

    def _copy(self, table: str, rows: Iterable[Iterable[Any]]) -> None:
        columns = [name for (name,) in self.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]).fetchall()]
        count = 0
        with self.spool.open("wb") as out:
            for row in rows:
                out.write(orjson.dumps(dict(zip(columns, row, strict=True))))
                out.write(b"\n")
                count += 1
        if count:
            self.con.execute(f"COPY {table} FROM {sql_string(self.spool)} (FORMAT json)")
        self.spool.unlink(missing_ok=True)

    def set_complete(self, complete: bool, *, every_table: bool = False) -> None:
        """Whether the rows cover the store's records; ``every_table`` when all tables were written
        from an empty store (tables added since an older file was written then cover it too)."""
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('complete', ?)", ["yes" if complete else "no"])
        if complete and every_table:
            self.con.execute("DELETE FROM meta WHERE key = 'missing'")

    def mark_resolved(self) -> None:
        """The post-load stages ran over the records as they are now."""
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('resolution', 'current')")

    @property
    def resolution_stale(self) -> bool:
        """Records changed since the last resolution (a sync or build that did not resolve)."""
        return self._meta("resolution") == "stale"

    @property
    def complete(self) -> bool:
        """Every table covers the store's records."""
        return self.covers(TABLES)

    def covers(self, tables: Iterable[str] = ()) -> bool:
        """The rows cover the store's records, in each of ``tables`` (none named: the flag alone).

        A file written before a table was added has the older tables complete and the new one
        empty: resolution still reads its tables, a reader of the new one reads the store.
        """
        return self._meta("complete") == "yes" and not (self._missing() & set(tables))

    def _missing(self) -> set[str]:
        found = self._meta("missing")
        return set(found.split(",")) if found else set()

    def _meta(self, key: str) -> str | None:
        """A ``meta`` value, None when unset (or no tables exist: nothing is created to read it)."""
        if self._con is None and not self.exists():
            return None
        found = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if found is None else str(found[0])

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def set_memory_limit(self, limit: str) -> None:
        """DuckDB's memory limit from now on: lowering it evicts its buffers down to it at once."""
        self.con.execute(f"SET memory_limit = {sql_string(limit)}")

    def iter_query(self, sql: str, batch: int = 100_000) -> Iterator[tuple[Any, ...]]:
        """Rows of a query, fetched in batches (memory bounded by the batch, not the result)."""
        cursor = self.con.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
        cursor.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def resolution_stale(store: Any) -> bool:
    """Whether records changed since the store's last resolution, read without writing.

    For readers (``kg query``, ``kg stats``): the file is opened read-only and only if it
    exists; a store without tables, or one whose tables cannot be read, is not called stale.
    """
    directory = getattr(store, "path", None)
    if directory is None or not (Path(directory) / FILENAME).is_file():
        return False
    try:
        with duckdb.connect(str(Path(directory) / FILENAME), read_only=True) as con:
            found = con.execute("SELECT value FROM meta WHERE key = 'resolution'").fetchone()
    except duckdb.Error:
        return False
    return found is not None and found[0] == "stale"


_OPEN: weakref.WeakKeyDictionary[Any, MentionTables] = weakref.WeakKeyDictionary()


def mention_tables(store: Any) -> MentionTables:
    """The mention tables of ``store``: in its directory, or a temporary one for an in-memory store."""
    found = _OPEN.get(store)
    if found is None:
        directory = getattr(store, "path", None)
        found = MentionTables(Path(directory) if directory is not None else None)
        _OPEN[store] = found
    return found
