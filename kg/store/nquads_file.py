"""A write-only "store" that appends N-Quads to a file (gzip when the name ends in .gz).

This is the multi-machine path: ``kg build --shard i/n --nquads-out part-i.nq.gz`` on n
machines gives n files that any SPARQL store's bulk loader ingests (Oxigraph, QLever,
Virtuoso, GraphDB, Neptune). Each record's quads are written whole, in its own graph. Beside
each part go its mentions (:mod:`kg.store.mention_file`), so ``kg merge`` can resolve the
parts together.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "part.nq"
    >>> sink = NQuadsFileStore(path); sink.load_nquads(b'<urn:s> <urn:p> "o" <urn:g> .\\n'); sink.close()
    >>> path.read_text()
    '<urn:s> <urn:p> "o" <urn:g> .\\n'
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from kg.errors import KGError, StoreError
from kg.store.base import Store
from kg.store.mention_file import MentionFile, mentions_path
from kg.store.results import ResultTable


class NQuadsFileStore(Store):
    """A write-only store: N-Quads appended to a file (optionally gzipped) for any bulk loader."""

    readable = False

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            raw = self.path.open("wb")
        except OSError as error:
            raise StoreError(f"cannot write: {error.strerror or error}", source=str(self.path)) from None
        self._handle: IO[bytes] = (
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if self.path.suffix == ".gz" else raw  # type: ignore[assignment]
        )
        self._raw = raw
        self._quads = 0
        self.mentions = MentionFile(mentions_path(self.path))

    def load_nquads(self, data: bytes) -> None:
        try:
            self._handle.write(data)
        except OSError as error:
            raise StoreError(f"cannot write: {error.strerror or error}", source=str(self.path)) from None
        self._quads += data.count(b"\n")

    def remove_graphs(self, graphs: Iterable[str]) -> None:
        graphs = list(graphs)
        if graphs:
            raise KGError(f"{graphs[0]} is already written to {self.path}: an N-Quads file cannot replace a record; "
                          "give each record once per shard")

    def has_graph(self, graph: str) -> bool:
        return False

    def graphs(self) -> list[str]:
        return []

    def select(self, sparql: str) -> ResultTable:
        raise KGError(f"{self.path} is an N-Quads file: load it into a store to query it")

    def dump(self, out: IO[bytes], format_name: str, *, prefixes: bool = False) -> None:
        raise KGError(f"{self.path} is an N-Quads file already")

    def __len__(self) -> int:
        return self._quads

    def close(self) -> None:
        self.mentions.close()
        if not self._handle.closed:
            self._handle.close()
        if not self._raw.closed:
            self._raw.close()
