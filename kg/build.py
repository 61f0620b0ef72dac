"""Build: the pipeline's records bulk-loaded into a store, then resolution and author links.

The records come from :func:`kg.pipeline.run` (read in the parent, parsed and emitted in
workers); this module keeps one graph per record (the newest copy), bulk-loads N-Quads
chunks, and then runs the post-load stages (:func:`kg.resolve.post_load`) unless asked not
to, so the library, the CLI, sync and the test fixtures all give the same store.

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

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from kg.errors import RecordError
from kg.measure import peak_rss
from kg.pipeline import Issue, Loaded, RunReport, in_shard, parse_shard, read_tasks, run
from kg.rdf.provenance import BuildContext
from kg.resolve import post_load
from kg.store.base import Store
from kg.store.mention_file import MentionFile
from kg.store.mention_tables import MentionTables, mention_tables
from kg.store.nquads_file import NQuadsFileStore
from kg.store.void import write_void

__all__ = ["BuildReport", "Issue", "build", "build_labelled_store", "in_shard", "parse_shard"]

DEFAULT_CHUNK_BYTES = 32 << 20


@dataclass
class BuildReport(RunReport):
    records_loaded: int = 0
    quads: int = 0
    load_seconds: float = 0.0  # of which: waiting for the store to take the quads
    stage_seconds: dict[str, float] = field(default_factory=dict)  # post-load stages (resolution, ...)
    stage_summaries: dict[str, str] = field(default_factory=dict)  # one line per post-load stage
    # Peak resident memory (bytes) so far at the end of the pipeline and of each post-load stage, this
    # process; "pipeline.workers" is the largest parse worker's (kg.measure).
    stage_peak_rss: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """The machine-readable report (``kg build --report FILE``)."""
        document = asdict(self)
        document["records_failed"] = self.records_failed
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)


# Copies of one record with the same last-update date: the richer format wins (API v2 JSON states
# the most, then legacy XML, the CSV download, saved pages), whatever order the paths were listed in.
_RICHER_FIRST = ("ctgov-json", "ctgov-xml", "ctgov-csv", "page-")


def format_rank(name: str) -> int:
    """0 for the richest source format; ``ctgov-json-zip`` ranks as ``ctgov-json``.

    >>> format_rank("ctgov-json") < format_rank("ctgov-xml") < format_rank("ctgov-csv") < format_rank("page-modern")
    True
    """
    return next((rank for rank, prefix in enumerate(_RICHER_FIRST) if name.startswith(prefix)), len(_RICHER_FIRST))


def _prevails(copy: tuple[str, int, str], kept: tuple[str, int, str]) -> bool:
    """Whether a copy (last_changed, format rank, source) replaces the one kept: newer; as new and of a
    richer format; as new and as rich and from a source that sorts later (as a folder's files are
    read), so the order the paths were listed in never matters; a later copy in one source replaces
    an earlier one."""
    (date, rank, source), (kept_date, kept_rank, kept_source) = copy, kept
    if date != kept_date:
        return date > kept_date
    if rank != kept_rank:
        return rank < kept_rank
    return source >= kept_source


class _Loader:
    """Buffers N-Quads and keeps one graph per record (the newest copy) in the store."""

    def __init__(self, store: Store, report: BuildReport, chunk_bytes: int) -> None:
        self.store = store
        self.report = report
        self.chunk_bytes = chunk_bytes
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.pending_graphs: set[str] = set()
        self.seen: dict[str, tuple[str, int, str]] = {}  # record graph -> (last_changed, format rank, source)
        self.replace_existing = len(store) > 0
        # Resolution's mentions, written as the records load (no read-back): complete when the
        # store starts empty or its tables already covered it.
        self.tables = _mention_sink(store)
        self.tables_complete = self.tables is not None and (not self.replace_existing or self.tables.covers())

    def add(self, loaded: Loaded) -> None:
        previous = self.seen.get(loaded.graph)
        record = loaded.record_id
        copy = (loaded.last_changed, format_rank(loaded.format), loaded.source)
        if previous is not None:
            if not _prevails(copy, previous):
                why = "older" if loaded.last_changed < previous[0] else "same-date, poorer or earlier-sorted"
                self.report.superseded.append(
                    Issue(loaded.source, record, f"{why} copy of {record} (kept the copy in {previous[2]})"))
                return
            self.report.superseded.append(
                Issue(previous[2], record, f"replaced by the copy in {loaded.source} (newer, or as new and richer)"))
            self.report.records_loaded -= 1
            self._replace(loaded.graph)
        elif self.replace_existing and self.store.has_graph(loaded.graph):
            self._replace(loaded.graph)
        self.seen[loaded.graph] = copy
        if self.tables is not None:
            self.tables.add(loaded.graph, loaded.mentions)
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

    def finish(self) -> None:
        """The last chunk, and the mention tables marked as covering the store (or not)."""
        self.flush()
        if self.tables is not None:
            self.tables.flush()
            self.tables.set_complete(self.tables_complete, every_table=not self.replace_existing)


def _mention_sink(store: Store) -> MentionTables | MentionFile | None:
    """Where the mentions go: the store's tables, or the file beside an N-Quads part."""
    if store.readable:
        return mention_tables(store)
    return store.mentions if isinstance(store, NQuadsFileStore) else None


def build(
    paths: Iterable[Path | str],
    store: Store,
    *,
    jobs: int = 1,
    strict: bool = False,
    format_name: str | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Callable[[int], None] | None = None,
    shard: tuple[int, int] | None = None,
    resolve: bool = True,
    describe: bool = True,
) -> BuildReport:
    """Build trial records from files and folders into a store, and report what happened.

    ``jobs`` worker processes parse and emit (1 runs in-process). ``progress`` is an
    optional callable taking the number of records just finished (a tqdm ``update``).
    With ``strict`` the first failed record raises its error. ``shard=(i, n)`` builds only
    the records whose id hashes to part i of n (see :func:`in_shard`). ``resolve=False``
    skips the post-load stages (entity resolution, investigator-author links).
    ``describe=False`` skips the VoID count, for a caller that changes the store after
    (and then calls :func:`kg.store.void.write_void` itself, once).
    """
    started = time.perf_counter()
    report = BuildReport()
    context = BuildContext.start()
    loader = _Loader(store, report, chunk_bytes)
    loader.add_quads(context.activity_quads())
    tasks = read_tasks([Path(p) for p in paths], report, context, format_name=format_name, shard=shard,
                       on_file=lambda _iri, quads: loader.add_quads(quads))
    for _task, result in run(tasks, jobs, progress):
        if shard is not None and not isinstance(result, Issue) and not in_shard(result.record_id, shard):
            report.records_read -= 1  # its id was only known after parsing: another shard's
            continue
        if isinstance(result, Issue):
            report.failures.append(result)
        else:
            loader.add(result)
            report.warnings.extend(Issue(result.source, result.record_id, w) for w in result.warnings)
        if strict and report.failures:  # a failed record, or a file or piece reading reported
            first = report.failures[0]
            raise RecordError(first.reason, source=first.source, record=first.record)
    if strict and report.failures:  # files that failed after the last record was read
        first = report.failures[0]
        raise RecordError(first.reason, source=first.source, record=first.record)
    loader.finish()
    store.flush()
    report.stage_peak_rss.update({"pipeline": peak_rss(), "pipeline.workers": peak_rss(children=True)})
    if resolve and report.records_loaded and _resolvable(store):
        stages = post_load(store)
        report.stage_seconds.update(stages.seconds)
        report.stage_summaries.update(stages.summaries)
        report.stage_peak_rss.update(stages.peak_rss)
    if describe and report.records_loaded and store.readable:
        clock = time.perf_counter()
        write_void(store)  # what kg stats reads: counted once here, not per question
        report.stage_seconds["void"] = time.perf_counter() - clock
    report.seconds = time.perf_counter() - started
    return report


def _resolvable(store: Store) -> bool:
    """Resolution reads the store back; a write-only target (an N-Quads file) has nothing to read."""
    return store.readable


def build_labelled_store(labels: Path) -> Store:
    """A fresh in-memory store of the sources a labelled resolution set names, built and resolved.

    Why here: evaluating resolution (:func:`kg.resolve.evaluate.evaluate`) needs the store a
    user would build, and building is this module's job, not resolution's.
    """
    from kg.resolve.evaluate import sources
    from kg.store import open_store

    store = open_store(None)
    build(sources(labels), store)
    return store
