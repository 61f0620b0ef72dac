"""Derived graphs written as their difference: a re-run removes and adds only the quads that changed.

Why: the post-load stages derive whole graphs from the records (the resolution graph, the
sharing graph, the investigator-author and MeSH links). A sync of a few thousand studies
changes a few thousand of their quads, but dropping and reloading a graph of millions costs
more in Oxigraph than deriving it again: dropping a graph deletes it quad by quad from every
index, about 9,000 quads/s on disk here, so re-resolving the 10k generated registry spent
40 of its 106 s dropping the old graphs. So each derived graph's N-Quads lines, as last
written, are kept in the mention tables (DuckDB, beside the store, inside the generation
they describe), and a re-run stages its new lines there, then removes ``old EXCEPT new``
from the store and loads ``new EXCEPT old``. The result is the graph a whole replacement
gives, quad for quad; what it costs grows with the change, not with the graph.

The kept lines are used only when they describe the store: no write of that graph was
interrupted (a ``writing`` mark is set before the store changes and replaced by the line
count after) and the store's graph holds exactly as many quads as there are kept lines.
Otherwise (a store written before this, a crash, a graph edited by hand, a store that cannot
remove single quads) the graph is replaced whole, as before, and its lines are kept anew.

Example:
    >>> from kg.store import open_store
    >>> store = open_store(None)
    >>> write_derived(store, "urn:g", [b'<urn:a> <urn:p> "1" <urn:g> .\\n<urn:b> <urn:p> "2" <urn:g> .\\n'])
    GraphWrite(added=2, removed=0, whole=True)
    >>> write_derived(store, "urn:g", [b'<urn:a> <urn:p> "1" <urn:g> .\\n<urn:c> <urn:p> "3" <urn:g> .\\n'])
    GraphWrite(added=1, removed=1, whole=False)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import duckdb

from kg.store.base import Store
from kg.store.mention_tables import MentionTables, mention_tables

__all__ = ["DerivedGraphWriter", "GraphWrite", "RemovesQuads", "line_chunks", "write_derived"]

BATCH_LINES = 200_000  # lines moved between DuckDB and the store at a time
_WRITING = "writing"
_SERIAL = itertools.count()
_SCHEMA = "CREATE TABLE IF NOT EXISTS derived_lines (graph VARCHAR, line VARCHAR)"


@runtime_checkable
class RemovesQuads(Protocol):
    """A store that removes single quads (:meth:`kg.store.oxigraph.OxigraphStore.remove_nquads`)."""

    def remove_nquads(self, data: bytes) -> None: ...


@dataclass(frozen=True)
class GraphWrite:
    """What one derived graph's write did: quads added and removed, and whether it replaced the graph whole."""

    added: int
    removed: int
    whole: bool

    def __str__(self) -> str:
        how = "replaced whole" if self.whole else "written as its difference"
        return f"+{self.added} -{self.removed} quads ({how})"


class DerivedGraphWriter:
    """Takes a derived graph's N-Quads in chunks, then makes the store's graph exactly those quads.

    Whether the kept lines can be trusted is decided before the first chunk: a whole
    replacement writes each chunk to the store as it comes (the old graph dropped first);
    a difference stages them and writes at :meth:`close`.
    """

    def __init__(self, store: Store, graph: str, tables: MentionTables | None = None) -> None:
        self.store, self.graph = store, graph
        # A store that cannot remove single quads (remote, rdflib) is always written whole.
        self.remover = store if isinstance(store, RemovesQuads) else None
        serial = next(_SERIAL)  # writers may overlap (resolution's graph is open while sharing's is written)
        self._incoming, self._new = f"derived_incoming_{serial}", f"derived_new_{serial}"
        self._removed, self._added = f"derived_removed_{serial}", f"derived_added_{serial}"
        self.tables = mention_tables(store) if tables is None and self.remover is not None else tables
        if self.tables is not None:
            self.tables.con.execute(_SCHEMA)
            self.tables.con.execute(f"CREATE OR REPLACE TEMP TABLE {self._incoming} (line VARCHAR)")
        self.whole = not self._kept_lines_describe_store()
        self.added = 0
        if self.whole:
            self._mark(_WRITING)
            store.remove_graphs([graph])

    def _kept_lines_describe_store(self) -> bool:
        if self.tables is None:
            return False
        kept = self.tables.con.execute("SELECT value FROM meta WHERE key = ?", [self._key]).fetchone()
        if kept is None or not str(kept[0]).isdigit():
            return False  # never kept, or a write of it was interrupted
        table = self.store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{self.graph}> {{ ?s ?p ?o }} }}")
        in_store = table.values()[0][0] if table.rows else None
        return in_store is not None and int(in_store) == int(kept[0])

    @property
    def _key(self) -> str:
        return f"derived {self.graph}"

    def _mark(self, value: str) -> None:
        if self.tables is not None:
            self.tables.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [self._key, value])

    def add(self, data: bytes) -> None:
        """A whole number of N-Quads lines, every one in this graph."""
        if not data:
            return
        if self.whole:
            self.store.load_nquads(data)
            self.added += data.count(b"\n")
        if self.tables is None:
            return
        lines = data.decode("utf-8").split("\n")  # not splitlines(): a literal may hold U+2028 unescaped
        self.tables.con.execute(
            f"INSERT INTO {self._incoming} SELECT unnest($1::VARCHAR[])", [[line for line in lines if line]]
        )

    def close(self) -> GraphWrite:
        """Write what the store still lacks, keep the new lines, and say what changed."""
        if self.tables is None:
            return GraphWrite(self.added, 0, whole=True)
        con = self.tables.con
        con.execute(f"CREATE OR REPLACE TEMP TABLE {self._new} AS SELECT DISTINCT line FROM {self._incoming}")
        con.execute(f"DROP TABLE {self._incoming}")
        if self.whole:
            added, removed = _count(con, self._new), 0
            con.execute("DELETE FROM derived_lines WHERE graph = ?", [self.graph])
            con.execute(f"INSERT INTO derived_lines SELECT ?, line FROM {self._new}", [self.graph])
        else:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {self._removed} AS
                            SELECT line FROM derived_lines WHERE graph = $1 EXCEPT SELECT line FROM {self._new}""",
                [self.graph],
            )
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {self._added} AS
                            SELECT line FROM {self._new} EXCEPT SELECT line FROM derived_lines WHERE graph = $1""",
                [self.graph],
            )
            self._mark(_WRITING)
            assert self.remover is not None  # kept lines exist only for a store that removes quads
            removed = self._apply(self._removed, self.remover.remove_nquads)
            added = self._apply(self._added, self.store.load_nquads)
            con.execute(
                f"DELETE FROM derived_lines WHERE graph = $1 AND line IN (SELECT line FROM {self._removed})",
                [self.graph],
            )
            con.execute(f"INSERT INTO derived_lines SELECT $1, line FROM {self._added}", [self.graph])
            con.execute(f"DROP TABLE {self._removed}; DROP TABLE {self._added}")
        count = _count(con, self._new)
        con.execute(f"DROP TABLE {self._new}")
        self._mark(str(count))
        return GraphWrite(added, removed, self.whole)

    def _apply(self, table: str, write: Callable[[bytes], None]) -> int:
        assert self.tables is not None  # only a difference is applied, and only with kept lines
        count = 0
        for lines in _batches(self.tables.con, f"SELECT line FROM {table}"):
            write(("\n".join(lines) + "\n").encode("utf-8"))
            count += len(lines)
        return count


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    found: Any = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(found[0])


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[str]]:
    """Rows of ``sql`` a batch at a time, on ``con`` itself (a cursor would not see its temporary tables)."""
    con.execute(sql)
    while rows := con.fetchmany(BATCH_LINES):
        yield [line for (line,) in rows]


def line_chunks(lines: Iterable[str], size: int = BATCH_LINES) -> Iterator[bytes]:
    """N-Quads lines as UTF-8 chunks of ``size`` lines: a derived graph never waits whole as one string.

    Why: a graph of millions of lines joined at once is decoded and split again by the
    writer, a transient of several times the text (GBs at registry scale).

    >>> [chunk.count(b"\\n") for chunk in line_chunks(["<a> <b> <c> .\\n"] * 5, size=2)]
    [2, 2, 1]
    """
    remaining = iter(lines)
    while batch := list(itertools.islice(remaining, size)):
        yield "".join(batch).encode("utf-8")


def write_derived(store: Store, graph: str, chunks: Iterable[bytes]) -> GraphWrite:
    """Make ``graph`` in ``store`` exactly the quads of ``chunks`` (N-Quads), by difference when possible."""
    writer = DerivedGraphWriter(store, graph)
    for chunk in chunks:
        writer.add(chunk)
    return writer.close()
