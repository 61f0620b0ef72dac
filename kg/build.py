"""The build pipeline: files -> raw records -> (parse + emit in workers) -> store.

Reading stays in the parent (it keeps file order and sees every failure); parsing and
emitting, the CPU-bound part, run in a process pool when ``jobs > 1``; the parent
bulk-loads N-Quads chunks into the store. Nothing holds the whole input or the whole
graph in Python: memory is bounded by the chunk size and the pool's window.

Every record either lands in the store or is listed in the report (failed, or
superseded by a newer copy of the same trial); a bad record never stops the others
unless ``strict``.

Example:
    >>> from kg.store import open_store
    >>> report = build(["examples"], open_store(None))
    >>> report.records_loaded, report.records_failed
    (2, 0)
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kg.errors import KGError, RecordError, SourceError
from kg.rdf.provenance import BuildContext, file_sha256, record_quads, source_file_iri, source_file_quads
from kg.rdf.records import emit_record
from kg.sources import get_format, iter_input_files, parse_record, sniff
from kg.sources.base import RawRecord
from kg.store.base import Store

DEFAULT_CHUNK_BYTES = 32 << 20
_REGISTRY_ID = re.compile(r"^NCT\d{8}$")
_WINDOW = 2048  # records handed to the pool at once: bounds memory whatever the input size


@dataclass(frozen=True, slots=True)
class Issue:
    """A failed record, a skipped duplicate or a warning: where it was and why."""

    source: str
    record: str | None
    reason: str

    def __str__(self) -> str:
        return str(RecordError(self.reason, source=self.source, record=self.record))


@dataclass
class BuildReport:
    files: int = 0
    records_read: int = 0
    records_loaded: int = 0
    quads: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0  # of which: waiting for the store to take the quads
    stage_seconds: dict[str, float] = field(default_factory=dict)  # post-load stages (resolution, ...)
    failures: list[Issue] = field(default_factory=list)
    superseded: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def records_failed(self) -> int:
        return len(self.failures)

    def to_json(self) -> bytes:
        """The machine-readable report (``kg build --report FILE``)."""
        document = asdict(self)
        document["records_failed"] = self.records_failed
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)


@dataclass(frozen=True, slots=True)
class _Loaded:
    source: str
    record_id: str
    last_changed: str
    graph: str
    data: bytes
    quads: int
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Task:
    raw: RawRecord
    source_iri: str
    context: BuildContext


def process_record(task: _Task) -> _Loaded | Issue:
    """Parse and emit one record (runs in a worker); any failure becomes an Issue."""
    raw = task.raw
    try:
        parsed = parse_record(raw)
        emitted = emit_record(parsed.record)
        lines = emitted.lines
        lines += record_quads(emitted.graph, emitted.subject, emitted.record_id, raw.format, task.source_iri,
                              emitted.last_changed, task.context)
    except KGError as error:
        return Issue(raw.source, error.record or raw.record, error.message)
    except Exception as error:  # a parser bug must not lose the record silently
        return Issue(raw.source, raw.record, f"internal error {type(error).__name__}: {error}")
    return _Loaded(raw.source, emitted.record_id, emitted.last_changed, emitted.graph,
                   "".join(lines).encode("utf-8"), len(lines), parsed.warnings)


class _Loader:
    """Buffers N-Quads and keeps one graph per record (the newest copy) in the store."""

    def __init__(self, store: Store, report: BuildReport, chunk_bytes: int) -> None:
        self.store = store
        self.report = report
        self.chunk_bytes = chunk_bytes
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.pending_graphs: set[str] = set()
        self.seen: dict[str, tuple[str, str]] = {}  # record graph -> (last_changed, source)
        self.replace_existing = len(store) > 0

    def add(self, loaded: _Loaded) -> None:
        previous = self.seen.get(loaded.graph)
        record = loaded.record_id
        if previous is not None:
            if loaded.last_changed < previous[0]:
                self.report.superseded.append(
                    Issue(loaded.source, record, f"older copy of {record} (newer in {previous[1]})"))
                return
            self.report.superseded.append(
                Issue(previous[1], record, f"replaced by the copy in {loaded.source} (same or newer)"))
            self.report.records_loaded -= 1
            self._replace(loaded.graph)
        elif self.replace_existing and self.store.has_graph(loaded.graph):
            self._replace(loaded.graph)
        self.seen[loaded.graph] = (loaded.last_changed, loaded.source)
        self.pending.append(loaded.data)
        self.pending_size += len(loaded.data)
        self.pending_graphs.add(loaded.graph)
        self.report.records_loaded += 1
        self.report.quads += loaded.quads
        if self.pending_size >= self.chunk_bytes:
            self.flush()

    def add_quads(self, lines: list[str]) -> None:
        data = "".join(lines).encode("utf-8")
        self.pending.append(data)
        self.pending_size += len(data)

    def _replace(self, graph: str) -> None:
        if graph in self.pending_graphs:
            self.flush()
        self.store.remove_graphs([graph])

    def flush(self) -> None:
        if self.pending:
            started = time.perf_counter()
            self.store.load_nquads(b"".join(self.pending))
            self.report.load_seconds += time.perf_counter() - started
        self.pending.clear()
        self.pending_size = 0
        self.pending_graphs.clear()


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``: this machine builds the second of four disjoint parts."""
    index, sep, count = text.partition("/")
    if not sep or not index.isdigit() or not count.isdigit() or not 1 <= int(index) <= int(count):
        raise KGError(f"--shard must be i/n with 1 <= i <= n, not {text!r}")
    return int(index), int(count)


def in_shard(record_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether a record belongs to a shard: a stable hash of its id, so every machine agrees."""
    if shard is None:
        return True
    digest = hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard[1] == shard[0] - 1


def _tasks(paths: Iterable[Path], report: BuildReport, loader: _Loader, context: BuildContext,
           format_name: str | None, shard: tuple[int, int] | None) -> Iterator[_Task]:
    """Raw records of every input file; unreadable files and pieces go to the report."""
    try:
        files = list(iter_input_files(paths))
    except SourceError as error:
        report.failures.append(Issue(error.source or "", None, error.message))
        files = [p for p in paths if p.exists()]
        files = list(iter_input_files(files))
    for path in files:
        report.files += 1
        try:
            source_format = get_format(format_name) if format_name else sniff(path)
            sha = file_sha256(path)
            loader.add_quads(source_file_quads(path, sha, source_format.name, context))
            for item in source_format.read(path):
                report.records_read += 1
                if isinstance(item, RecordError):
                    report.failures.append(Issue(item.source or str(path), item.record, item.message))
                elif shard is None or not _REGISTRY_ID.match(item.record) or in_shard(item.record, shard):
                    yield _Task(item, source_file_iri(sha), context)
                else:
                    report.records_read -= 1  # another shard's record
        except SourceError as error:
            report.failures.append(Issue(error.source or str(path), error.record, error.message))
        except OSError as error:
            report.failures.append(Issue(str(path), None, f"cannot read: {error.strerror or error}"))


def build(
    paths: Iterable[Path | str],
    store: Store,
    *,
    jobs: int = 1,
    strict: bool = False,
    format_name: str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Any = None,
    shard: tuple[int, int] | None = None,
) -> BuildReport:
    """Build trial records from files and folders into a store, and report what happened.

    ``jobs`` worker processes parse and emit (1 runs in-process). ``progress`` is an
    optional callable taking the number of records just finished (a tqdm ``update``).
    With ``strict`` the first failed record raises its error. ``shard=(i, n)`` builds only
    the records whose id hashes to part i of n (see :func:`in_shard`).
    """
    started = time.perf_counter()
    report = BuildReport()
    context = BuildContext.start()
    loader = _Loader(store, report, chunk_bytes)
    loader.add_quads(context.activity_quads())
    tasks = _tasks([Path(p) for p in paths], report, loader, context, format_name, shard)
    pool = multiprocessing.Pool(jobs) if jobs > 1 else None
    try:
        while True:
            window = list(itertools.islice(tasks, _WINDOW))
            if not window:
                break
            results = pool.imap(process_record, window, chunksize=32) if pool else map(process_record, window)
            for result in results:
                if shard is not None and not isinstance(result, Issue) and not in_shard(result.record_id, shard):
                    report.records_read -= 1  # its id was only known after parsing: another shard's
                    continue
                if isinstance(result, Issue):
                    report.failures.append(result)
                    if strict:
                        raise RecordError(result.reason, source=result.source, record=result.record)
                else:
                    loader.add(result)
                    report.warnings.extend(Issue(result.source, result.record_id, w) for w in result.warnings)
            if progress is not None:
                progress(len(window))
            if strict and report.failures:
                first = report.failures[0]
                raise RecordError(first.reason, source=first.source, record=first.record)
        loader.flush()
        store.flush()
    finally:
        if pool is not None:
            pool.terminate()
    report.seconds = time.perf_counter() - started
    return report
