"""Incremental updates: re-sync records into a store, touching only the ones that changed; push a store.

Why: the registry changes a few hundred studies a day out of ~560,000. Re-building everything
daily costs hours; a sync reads the new download, compares each record's last-update date
with the ``tkg:lastChanged`` its record graph already states, and replaces only the record
graphs that are new or newer. Unchanged records are skipped (and counted), so nothing else
in the store moves. With ``full=True`` the paths are the whole source: a record graph of
the same kind (same graph namespace, e.g. ``.../graph/ctgov/``) that the sync did not see
is removed, but never when any record failed to read, since a truncated download must
not empty the store.

The same code syncs the embedded store and a remote one (a remote store replaces each
chunk of records in one request). Records come from the one pipeline (:func:`kg.pipeline.run`),
so a synced record graph is the one ``kg build`` would have made. After a sync that changed
anything, the post-load stages run again (:func:`kg.resolve.post_load`), so resolution and
author links are never left stale; with ``resolve=False`` (minutes instead of the
resolution's time at registry scale) the store's mention tables mark the resolution stale,
and every reader says so until ``kg resolve``. The resolution is computed again over every
mention (its rules use registry-wide statistics), forming only criterion texts it has not
formed before (:meth:`kg.resolve.criteria_tables.CriteriaTables.add`), and its graphs are written as their
difference from what the store holds (:mod:`kg.store.derived_graphs`), so the store work
grows with the change, not with the registry; a test holds the result equal to resolving the
same store by whole graphs.

A record whose content changed without a newer last-update date is skipped (the registry
bumps the date on every change); ``force=True`` replaces every record read.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> report = sync(["examples"], store)
    >>> report.unchanged, report.added, report.updated
    (2, 0, 0)
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from kg.pipeline import Issue, Loaded, RunReport, read_tasks, run
from kg.rdf.namespaces import ONTOLOGY
from kg.rdf.provenance import BuildContext
from kg.resolve import post_load
from kg.store.base import Store
from kg.store.mention_tables import mention_tables
from kg.store.void import write_void

DEFAULT_CHUNK_BYTES = 8 << 20
_PAGE = 50_000
_ADDED, _UPDATED, _UNCHANGED, _STALE = "added", "updated", "unchanged", "stale"


@dataclass
class SyncReport(RunReport):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older than the copy already in the store: kept the store's
    removed: int = 0
    quads: int = 0
    removal_skipped: str | None = None
    # Records changed but resolution and author links were not re-run (resolve=False, or a store
    # that cannot be read back): the resolution graph describes the store before this sync.
    resolution_stale: bool = False
    stage_seconds: dict[str, float] = field(default_factory=dict)  # post-load stages run again
    stage_summaries: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    def to_json(self) -> bytes:
        document = asdict(self)
        document["records_failed"] = self.records_failed
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def stored_versions(store: Store, page: int = _PAGE) -> dict[str, str]:
    """Every record graph in the store with its ``tkg:lastChanged`` ("" when it states none)."""
    versions: dict[str, str] = {}
    for offset in itertools.count(0, page):
        table = store.select(f"""PREFIX tkg: <{ONTOLOGY}>
            SELECT ?g (MAX(STR(?changed)) AS ?version) WHERE {{
              GRAPH ?g {{ ?g a tkg:SourceRecord . OPTIONAL {{ ?g tkg:lastChanged ?changed }} }} }}
            GROUP BY ?g ORDER BY ?g LIMIT {page} OFFSET {offset}""")
        for graph, version in table.values():
            if graph is not None:
                versions[graph] = version or ""
        if len(table.rows) < page:
            return versions
    return versions  # pragma: no cover - count() never ends


def _namespace(graph: str) -> str:
    return graph.rsplit("/", 1)[0] + "/"


class _Writer:
    """Buffers replaced record graphs and writes them in chunks (one request per chunk remotely)."""

    def __init__(self, store: Store, chunk_bytes: int) -> None:
        self.store = store
        tables = mention_tables(store) if store.readable else None
        self.tables = tables if tables is not None and tables.covers() else None  # kept only if they cover the store
        self.chunk_bytes = chunk_bytes
        self.pending: dict[str, bytes] = {}
        self.size = 0

    def replace(self, loaded: Loaded) -> None:
        previous = self.pending.pop(loaded.graph, None)
        self.size -= len(previous) if previous else 0
        self.pending[loaded.graph] = loaded.data
        self.size += len(loaded.data)
        if self.tables is not None:
            self.tables.add(loaded.graph, loaded.mentions)
        if self.size >= self.chunk_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.store.replace_graphs(list(self.pending), b"".join(self.pending.values()))
        self.pending.clear()
        self.size = 0


def _decide(loaded: Loaded, stored: str | None, force: bool) -> str:
    if stored is None:
        return _ADDED
    if not force and loaded.last_changed and stored:
        if loaded.last_changed == stored:
            return _UNCHANGED
        if loaded.last_changed < stored:
            return _STALE
    return _UPDATED


def sync(paths: Iterable[Path | str], store: Store, *, full: bool = False, force: bool = False, jobs: int = 1,
         format_name: str | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
         progress: Callable[[int], None] | None = None, resolve: bool = True) -> SyncReport:
    """Bring ``store`` up to date with the records in ``paths``; see the module docstring.

    ``resolve=False`` leaves resolution and author links as they were (stale if anything changed).
    """
    started = time.perf_counter()
    report = SyncReport()
    existing = stored_versions(store)
    context = BuildContext.start()
    sources: dict[str, list[str]] = {}
    used_sources: set[str] = set()
    seen: dict[str, str] = {}  # graph -> last_changed of the copy kept from this sync
    outcome: dict[str, str] = {}
    writer = _Writer(store, chunk_bytes)
    tasks = read_tasks([Path(p) for p in paths], report, context, format_name=format_name,
                       on_file=sources.__setitem__)
    for task, result in run(tasks, jobs, progress):
        if isinstance(result, Issue):
            report.failures.append(result)
            continue
        graph = result.graph
        if graph in seen:  # another copy of the same record earlier in this sync
            if result.last_changed < seen[graph]:
                report.superseded.append(Issue(result.source, result.record_id,
                                               "older copy of the same record in this sync"))
                continue
            report.superseded.append(Issue(result.source, result.record_id,
                                           "replaces an earlier copy in this sync (same or newer)"))
        seen[graph] = result.last_changed
        decision = _decide(result, existing.get(graph), force)
        if outcome.get(graph) in (_ADDED, _UPDATED) and decision in (_UNCHANGED, _STALE):
            decision = _UPDATED  # an earlier copy already replaced it: this newer one wins
        outcome[graph] = decision
        if decision in (_ADDED, _UPDATED):
            report.warnings.extend(Issue(result.source, result.record_id, w) for w in result.warnings)
            writer.replace(result)
            used_sources.add(task.source_iri)
            report.quads += result.quads
    writer.flush()
    counts = Counter(outcome.values())
    report.added, report.updated = counts[_ADDED], counts[_UPDATED]
    report.unchanged, report.stale = counts[_UNCHANGED], counts[_STALE]
    if report.added or report.updated:
        meta = context.activity_quads() + [line for iri in sorted(used_sources) for line in sources[iri]]
        store.load_nquads("".join(meta).encode("utf-8"))
    if full:
        removed = _remove_absent(store, report, existing, seen)
        if writer.tables is not None:
            writer.tables.remove(removed)
    if writer.tables is not None:
        writer.tables.flush()
    store.flush()
    report.resolution_stale = bool(report.changed) and not (resolve and store.readable)
    if resolve and report.changed and store.readable:
        stages = post_load(store)
        report.stage_seconds.update(stages.seconds)
        report.stage_summaries.update(stages.summaries)
    if report.changed and store.readable:
        write_void(store)
    report.seconds = time.perf_counter() - started
    return report


def _remove_absent(store: Store, report: SyncReport, existing: dict[str, str], seen: dict[str, str]) -> list[str]:
    """Remove the record graphs of the synced kinds that the sync did not see; return them."""
    namespaces = {_namespace(g) for g in seen}
    absent = sorted(g for g in existing if g not in seen and _namespace(g) in namespaces)
    if absent and report.failures:
        report.removal_skipped = (f"not removing {len(absent)} records absent from this sync: "
                                  f"{report.records_failed} records failed to read, so the input may be incomplete")
        return []
    store.remove_graphs(absent)
    report.removed = len(absent)
    return absent
