"""The one pipeline of build and sync: files -> raw records -> (parse + emit in workers) -> results.

Reading stays in the parent (it keeps file order and sees every failure); parsing and
emitting, the CPU-bound part, run in a process pool when ``jobs > 1``. Build and sync differ
only in what they do with each result (:mod:`kg.build` loads it, :mod:`kg.sync` compares it
with the store first), so both take their records from :func:`run`, and a synced record
graph is byte for byte the one a build makes.

Nothing holds the whole input or the whole graph: memory is bounded by the pool's window.

Example:
    >>> report = RunReport()
    >>> results = [r for _, r in run(read_tasks([Path("examples")], report, BuildContext.start()))]
    >>> report.files, sorted(r.record_id for r in results if isinstance(r, Loaded))
    (2, ['NCT01374854', 'NCT01719640'])
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import KGError, RecordError, SourceError
from kg.rdf.mention_rows import MentionRows, mention_rows
from kg.rdf.provenance import BuildContext, file_sha256, record_quads, source_file_iri, source_file_quads
from kg.rdf.records import emit_record
from kg.sources import get_format, parse_record, sniff
from kg.sources.base import RawRecord
from kg.sources.walk import InputWalk

__all__ = ["Issue", "Loaded", "RunReport", "Task", "in_shard", "parse_shard", "process_record", "read_tasks", "run"]

WINDOW = 2048  # records handed to the pool at once: bounds memory whatever the input size
_REGISTRY_ID = re.compile(r"^NCT\d{8}$")


@dataclass(frozen=True, slots=True)
class Issue:
    """A failed record, a skipped duplicate or a warning: where it was and why."""

    source: str
    record: str | None
    reason: str

    def __str__(self) -> str:
        return str(RecordError(self.reason, source=self.source, record=self.record))


@dataclass
class RunReport:
    """What reading saw: files, records, and every record that failed (build and sync extend it)."""

    files: int = 0
    records_read: int = 0
    seconds: float = 0.0
    skipped: str = ""  # hidden files and notes left out of folders, counted
    failures: list[Issue] = field(default_factory=list)
    superseded: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def records_failed(self) -> int:
        return len(self.failures)


@dataclass(frozen=True, slots=True)
class Loaded:
    """One record parsed and emitted: its graph's N-Quads, ready for the store."""

    source: str
    record_id: str
    last_changed: str
    graph: str
    data: bytes
    quads: int
    warnings: tuple[str, ...]
    format: str = ""  # the source format (kg.sources.FORMATS), which ranks same-date copies
    mentions: MentionRows = field(default_factory=dict)  # what resolution reads (kg.rdf.mention_rows)


@dataclass(frozen=True, slots=True)
class Task:
    raw: RawRecord
    source_iri: str
    context: BuildContext


def process_record(task: Task) -> Loaded | Issue:
    """Parse and emit one record (runs in a worker); any failure becomes an Issue."""
    raw = task.raw
    try:
        parsed = parse_record(raw)
        emitted = emit_record(parsed.record)
        lines = emitted.lines
        lines += record_quads(emitted.graph, emitted.subject, emitted.record_id, raw.format, task.source_iri,
                              emitted.last_changed, task.context)
        mentions = mention_rows(parsed.record)
    except KGError as error:
        return Issue(raw.source, error.record or raw.record, error.message)
    except Exception as error:  # a parser bug must not lose the record silently
        return Issue(raw.source, raw.record, f"internal error {type(error).__name__}: {error}")
    return Loaded(raw.source, emitted.record_id, emitted.last_changed, emitted.graph,
                  "".join(lines).encode("utf-8"), len(lines), parsed.warnings, raw.format, mentions)


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


def read_tasks(paths: Iterable[Path], report: RunReport, context: BuildContext, *, format_name: str | None = None,
               shard: tuple[int, int] | None = None,
               on_file: Callable[[str, list[str]], None] | None = None) -> Iterator[Task]:
    """Raw records of every input file; unreadable files and pieces go to the report.

    ``on_file(source_iri, quads)`` receives each file's provenance quads (build loads them at
    once, sync only for files that changed something).
    """
    walk = InputWalk(paths)  # every path is read or reported (links, loops, unreadable folders)
    for path in walk:
        if isinstance(path, SourceError):
            report.failures.append(Issue(path.source or "", None, path.message))
            continue
        report.files += 1
        try:
            source_format = get_format(format_name) if format_name else sniff(path)
            sha = file_sha256(path)
            source_iri = source_file_iri(sha)
            if on_file is not None:
                on_file(source_iri, source_file_quads(path, sha, source_format.name, context))
            for item in source_format.read(path):
                report.records_read += 1
                if isinstance(item, RecordError):
                    report.failures.append(Issue(item.source or str(path), item.record, item.message))
                elif shard is None or not _REGISTRY_ID.match(item.record) or in_shard(item.record, shard):
                    yield Task(item, source_iri, context)
                else:
                    report.records_read -= 1  # another shard's record
        except SourceError as error:
            report.failures.append(Issue(error.source or str(path), error.record, error.message))
        except OSError as error:
            report.failures.append(Issue(str(path), None, f"cannot read: {error.strerror or error}"))
    report.skipped = walk.summary()


def run(tasks: Iterable[Task], jobs: int = 1,
        progress: Callable[[int], None] | None = None) -> Iterator[tuple[Task, Loaded | Issue]]:
    """Each task with its result, in input order; ``jobs > 1`` parses in a process pool."""
    iterator = iter(tasks)
    pool = multiprocessing.Pool(jobs) if jobs > 1 else None
    try:
        while window := list(itertools.islice(iterator, WINDOW)):
            results = pool.imap(process_record, window, chunksize=32) if pool else map(process_record, window)
            yield from zip(window, results, strict=True)
            if progress is not None:
                progress(len(window))
    finally:
        if pool is not None:
            pool.terminate()
