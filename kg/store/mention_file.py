"""A shard's mentions: the rows resolution reads, written beside its N-Quads part.

Why: a sharded build (``kg build --shard i/n --nquads-out part-i.nq.gz``) runs on n machines
that cannot resolve alone, since a person or a site is shared across shards. Each machine
already has every mention from its parse, so it writes them to ``part-i.mentions.jsonl.gz``
beside its part; ``kg merge`` loads the parts into one store, fills the store's mention
tables (:mod:`kg.store.mention_tables`) from these files, and runs one resolution over the
merged tables: the same resolution a one-machine build gives, with no read-back.

The file is gzipped JSON Lines, one line per record graph (``{"graph": ..., "rows":
{table: [[...], ...]}}``) and a last line ``{"complete": true}`` written when the shard
finished; a file without it (a shard that crashed) is refused, so a merge never resolves
over half a shard's mentions believing they are all.

Example:
    >>> import tempfile, pathlib
    >>> part = pathlib.Path(tempfile.mkdtemp()) / "part-1.nq.gz"
    >>> sink = MentionFile(mentions_path(part))
    >>> sink.add("g:1", {"trials": [("t:1", "NCT1")]}); sink.set_complete(True); sink.close()
    >>> mentions_path(part).name
    'part-1.mentions.jsonl.gz'
    >>> list(read_mention_file(mentions_path(part)))
    [('g:1', {'trials': [['t:1', 'NCT1']]})]
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from kg.errors import KGError, StoreError

__all__ = ["MentionFile", "mentions_path", "read_mention_file"]

_COMPLETE = b'{"complete":true}\n'


def mentions_path(nquads_path: Path) -> Path:
    """``part-1.nq.gz`` -> ``part-1.mentions.jsonl.gz`` (beside it, whatever its suffixes)."""
    name = nquads_path.name
    for suffix in (".gz", ".nq", ".nquads"):
        name = name.removesuffix(suffix)
    return nquads_path.with_name(f"{name}.mentions.jsonl.gz")


class MentionFile:
    """The write side: one line per record graph, in the order the records were loaded."""

    complete = False  # a new file covers nothing yet; the build marks it when done

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle = gzip.GzipFile(path, "wb", compresslevel=3, mtime=0)
        except OSError as error:
            raise StoreError(f"cannot write: {error.strerror or error}", source=str(path)) from None

    def add(self, graph: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        self._handle.write(orjson.dumps({"graph": graph, "rows": rows}))
        self._handle.write(b"\n")

    def remove(self, graphs: Iterable[str]) -> None:
        graphs = list(graphs)
        if graphs:
            raise KGError(f"{graphs[0]} is already written to {self.path}: give each record once per shard")

    def flush(self) -> None:
        self._handle.flush()

    def covers(self, tables: Iterable[str] = ()) -> bool:
        """A shard's file covers no store: it is written once, from the shard's own records."""
        return False

    def set_complete(self, complete: bool, *, every_table: bool = False) -> None:
        if complete:  # a shard is always written whole, every table of it
            self._handle.write(_COMPLETE)

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()


def read_mention_file(path: Path) -> Iterator[tuple[str, dict[str, list[list[Any]]]]]:
    """Each record graph's rows; a StoreError naming the file if it is damaged or unfinished."""
    finished = False
    try:
        with gzip.open(path, "rb") as lines:
            for number, line in enumerate(lines, 1):
                if line == _COMPLETE:
                    finished = True
                    continue
                try:
                    entry = orjson.loads(line)
                    graph, rows = entry["graph"], entry["rows"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    raise StoreError(f"line {number} is not a mention entry", source=str(path)) from None
                if finished or not isinstance(graph, str) or not isinstance(rows, dict):
                    raise StoreError(f"line {number} is not a mention entry", source=str(path))
                yield graph, rows
    except (OSError, EOFError, zlib.error) as error:
        raise StoreError(f"cannot read: {getattr(error, 'strerror', None) or error}", source=str(path)) from None
    if not finished:
        raise StoreError("the file ends before its shard finished (the build that wrote it did not complete)",
                         source=str(path))
