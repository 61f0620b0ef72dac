"""Merge: the N-Quads parts of a sharded build into one store, resolved once over all of them.

Why: ``kg build --shard i/n --nquads-out part-i.nq.gz`` splits the parsing of the registry
over n machines, but resolution cannot be split the same way: an investigator, a sponsor or
a site is shared across shards. Each part therefore carries its mentions
(``part-i.mentions.jsonl.gz``, :mod:`kg.store.mention_file`); the merge bulk-loads the parts'
quads, fills the store's mention tables from the mention files, and runs the post-load
stages once (resolution over the merged tables, author links, MeSH links) and the VoID
count, so the store equals the one a single machine would have built from the same input.

The parts must be disjoint (``--shard`` makes them so): a record graph found in two parts
is refused, since loading both would merge two copies of one record into one graph. The
merge builds a new store; updating an existing one is ``kg sync``'s job.

Example:
    >>> import tempfile, pathlib
    >>> from kg.build import build
    >>> from kg.store import open_store
    >>> from kg.store.nquads_file import NQuadsFileStore
    >>> part = pathlib.Path(tempfile.mkdtemp()) / "part-1.nq.gz"
    >>> with NQuadsFileStore(part) as sink:
    ...     _ = build(["examples"], sink)
    >>> report = merge([part], open_store(None))
    >>> report.parts, report.records_loaded
    (1, 2)
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import orjson

from kg.errors import KGError, StoreError
from kg.resolve import post_load
from kg.store.base import Store
from kg.store.mention_file import mentions_path, read_mention_file
from kg.store.mention_tables import MentionTables, mention_tables
from kg.store.void import write_void

__all__ = ["MergeReport", "add_mentions", "merge"]

CHUNK_BYTES = 32 << 20  # quads handed to the store at a time: memory stays bounded whatever a part's size


@dataclass
class MergeReport:
    parts: int = 0
    records_loaded: int = 0  # record graphs, counted from the parts' mention files
    quads: int = 0  # N-Quads lines read from the parts
    load_seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_summaries: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)


def merge(parts: Iterable[Path | str], store: Store, *, resolve: bool = True, describe: bool = True,
          progress: Callable[[int], None] | None = None) -> MergeReport:
    """Load sharded N-Quads parts and their mentions into an empty store, then resolve once.

    ``progress`` is called with the number of record graphs each part added; ``describe``
    is as in :func:`kg.build.build`. A part
    without its mention file, with a damaged one, or repeating another part's record
    is a :class:`~kg.errors.KGError` naming the file (``kg merge`` writes into a staging
    generation, so the store is left as it was).
    """
    started = time.perf_counter()
    paths = [Path(p) for p in parts]
    if not paths:
        raise KGError("no parts given: name the part-*.nq.gz files a sharded build wrote")
    if len(store) > 0:
        raise KGError("the store already holds quads: merge builds a new store from parts "
                      "(give a new --store, or use kg sync to update a store)")
    for path in paths:
        if not path.is_file():
            raise KGError("no such part", source=str(path))
        if not mentions_path(path).is_file():
            raise KGError(f"no mentions beside this part (expected {mentions_path(path).name}, which "
                          "kg build --nquads-out writes): without them resolution cannot see its records",
                          source=str(path))
    report = MergeReport(parts=len(paths))
    tables = mention_tables(store)
    seen: dict[str, Path] = {}
    for path in paths:
        added = add_mentions(mentions_path(path), tables, seen, part=path)
        report.records_loaded += added
        clock = time.perf_counter()
        report.quads += _load_part(path, store)
        report.load_seconds += time.perf_counter() - clock
        if progress is not None:
            progress(added)
    tables.flush()
    tables.set_complete(True, every_table=True)
    store.flush()
    if resolve and report.records_loaded:
        stages = post_load(store)
        report.stage_seconds.update(stages.seconds)
        report.stage_summaries.update(stages.summaries)
    if describe:
        clock = time.perf_counter()
        write_void(store)
        report.stage_seconds["void"] = time.perf_counter() - clock
    report.seconds = time.perf_counter() - started
    return report


def add_mentions(path: Path, tables: MentionTables, seen: dict[str, Path], part: Path | None = None) -> int:
    """Append a shard's mentions file to ``tables``; return how many record graphs it held.

    ``seen`` maps each record graph added so far to its part (``part``, default ``path``):
    a graph already there is a :class:`~kg.errors.KGError`, since parts must be disjoint.
    """
    part = path if part is None else part
    added = 0
    for graph, rows in read_mention_file(path):
        if graph in seen:
            raise KGError(f"{graph} is also in {seen[graph]}: parts must be disjoint (build them with --shard i/n)",
                          source=str(part))
        seen[graph] = part
        tables.add(graph, {table: [tuple(row) for row in found] for table, found in rows.items()})
        added += 1
    return added


def _load_part(path: Path, store: Store) -> int:
    """Stream one part (gzipped or plain N-Quads) into the store in whole-line chunks."""
    lines = 0
    try:
        with _open(path) as handle:
            while chunk := handle.read(CHUNK_BYTES):
                chunk += handle.readline()  # end on a line boundary
                lines += chunk.count(b"\n")
                store.load_nquads(chunk)
    except (OSError, EOFError) as error:
        raise StoreError(f"cannot read: {getattr(error, 'strerror', None) or error}", source=str(path)) from None
    return lines


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as head:
        gzipped = head.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")  # type: ignore[return-value]
