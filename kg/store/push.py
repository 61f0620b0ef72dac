"""Push: upload every named graph of one store to a remote SPARQL 1.1 store.

Why in the store layer: it moves quads between two stores and knows nothing of records;
it streams through a temporary N-Quads file, so the source can be larger than memory.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass

import pyoxigraph as ox

from kg.store.base import Store
from kg.store.remote import RemoteStore

__all__ = ["PushReport", "push"]

DEFAULT_BATCH_BYTES = 8 << 20


@dataclass
class PushReport:
    graphs: int = 0
    quads: int = 0
    requests: int = 0
    seconds: float = 0.0


def push(source: Store, target: RemoteStore, *, batch_bytes: int = DEFAULT_BATCH_BYTES) -> PushReport:
    """Upload every named graph of ``source`` to ``target``, replacing the graphs of the same name.

    Graphs only the target has are left alone. Streams through a temporary N-Quads file,
    so the source can be larger than memory.

    Example::

        push(open_store("kg-store", read_only=True),
             open_remote_store(url + "/query", url + "/update", url + "/store"))
    """
    started = time.perf_counter()
    report = PushReport()
    done: set[str] = set()
    with tempfile.TemporaryFile() as spool:
        source.dump(spool, "nquads")
        spool.seek(0)
        batch: list[ox.Quad] = []
        size = 0
        for quad in ox.parse(spool, ox.RdfFormat.N_QUADS):
            batch.append(quad)
            size += len(str(quad)) + 3
            if size >= batch_bytes:
                _push_batch(batch, target, done, report)
                batch, size = [], 0
        _push_batch(batch, target, done, report)
    report.graphs = len(done)
    report.seconds = time.perf_counter() - started
    return report


def _push_batch(quads: list[ox.Quad], target: RemoteStore, done: set[str], report: PushReport) -> None:
    """First sight of a graph replaces it on the target; later batches of the same graph add to it."""
    if not quads:
        return
    fresh = [q for q in quads if _graph_name(q) not in done]
    more = [q for q in quads if _graph_name(q) in done]
    for part, replace in ((fresh, True), (more, False)):
        if not part:
            continue
        data = ox.serialize(part, format=ox.RdfFormat.N_QUADS) or b""
        if replace:
            target.replace_nquads(data)
        else:
            target.load_nquads(data)
        report.requests += 1
    done.update(_graph_name(q) for q in quads)
    report.quads += len(quads)


def _graph_name(quad: ox.Quad) -> str:
    graph = quad.graph_name
    return graph.value if isinstance(graph, ox.NamedNode) else ""
