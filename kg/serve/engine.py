"""Queries for the endpoint and the pages, with a deadline, a result-size cap and a worker bound.

Why: the embedded store answers any SPARQL the caller sends; a server must not let one request
run for ever or return a billion rows. Queries run on a small pool of worker threads (Oxigraph
releases the GIL while it evaluates, so they run in parallel); the request thread waits at
most ``timeout`` seconds and answers 503 after that. Rows are pulled one by one, so a
streaming query stops at the deadline or at ``max_rows``. Oxigraph cannot cancel a query
that is still computing an aggregate or a sort: such a query keeps its worker busy until it
finishes, which is why the pool is small and bounded (later requests time out rather than
pile up).

This is the one place in ``kg.serve`` that talks to pyoxigraph (the store's backend); the
pages only see :class:`~kg.store.results.ResultTable` s.

Example:
    >>> from kg.store import open_store
    >>> engine = Engine(open_store(None), Limits(timeout=5))
    >>> engine.query("ASK { ?s ?p ?o }")
    Boolean(value=False)
"""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import KGError
from kg.serve.safety import uses_keyword
from kg.store.generations import StoreDirectory
from kg.store.oxigraph import OxigraphStore
from kg.store.oxigraph import _term as oxigraph_term
from kg.store.results import ResultTable, Row


class Problem(KGError):
    """A request the server answers with an HTTP error status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may cost. ``workers`` bounds the queries evaluated at once."""

    timeout: float = 30.0
    max_rows: int = 100_000
    max_query_bytes: int = 1 << 20
    max_update_bytes: int = 256 << 20
    workers: int = 4
    allow_service: bool = False


@dataclass(frozen=True, slots=True)
class Solutions:
    table: ResultTable


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool


@dataclass(frozen=True, slots=True)
class Triples:
    triples: list[ox.Triple]


Result = Solutions | Boolean | Triples


@dataclass(frozen=True, slots=True)
class _Items:
    variables: list[str] | None  # None: triples
    items: list[object]


class _Stop(Exception):
    """Raised inside a worker to stop pulling rows."""


class Engine:
    """Read queries (any form) and, when the server allows it, updates on one Oxigraph store."""

    def __init__(self, store: OxigraphStore, limits: Limits | None = None, *,
                 directory: StoreDirectory | None = None) -> None:
        if not isinstance(store, OxigraphStore):
            raise TypeError("kg serve serves an Oxigraph store (open_store(path) or open_store(None))")
        self.store = store
        self.limits = limits or Limits()
        self._pool = ThreadPoolExecutor(max_workers=self.limits.workers, thread_name_prefix="kg-query")
        self._directory = directory
        self._active = directory.active() if directory is not None else None
        self._next_check = 0.0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        """Follow the store directory: after ``kg build``/``kg sync`` switch generations, serve the new one.

        Checked at most once a second (a readlink). Queries already running keep the
        generation they started on; the old one is dropped when they finish.
        """
        if self._directory is None or time.monotonic() < self._next_check:
            return
        with self._lock:
            self._next_check = time.monotonic() + 1.0
            active = self._directory.active()
            if active is not None and active != self._active:
                store = self._directory.open(read_only=True)  # pins its generation against cleanup
                assert isinstance(store, OxigraphStore)
                self.store = store
                active = store.path or active
                self._active = active

    # The backend's own store object: kg.store.oxigraph keeps it private, and only this
    # module needs more than SELECT (ASK, CONSTRUCT, DESCRIBE; dataset parameters).
    @property
    def _oxigraph(self) -> ox.Store:
        self._refresh()
        return self.store._store

    def check_query(self, sparql: str) -> None:
        if len(sparql.encode("utf-8")) > self.limits.max_query_bytes:
            raise Problem(413, f"query longer than {self.limits.max_query_bytes} bytes")
        if not self.limits.allow_service and uses_keyword(sparql, "SERVICE"):
            raise Problem(400, "SERVICE (federated query) is not allowed on this endpoint")

    def query(self, sparql: str, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None) -> Result:
        """Evaluate a query within the limits; Problem(400/413/503) when it cannot be answered."""
        self.check_query(sparql)
        deadline = time.monotonic() + self.limits.timeout
        cancel = threading.Event()
        future = self._pool.submit(self._evaluate, sparql, default_graphs, named_graphs, deadline, cancel)
        try:
            return future.result(timeout=self.limits.timeout + 0.5)
        except (FutureTimeout, _Stop):
            cancel.set()
            future.cancel()
            raise Problem(503, f"the query did not finish within {self.limits.timeout:g} s "
                               "(simplify it, add a LIMIT, or try again when the server is less busy)") from None

    def select(self, sparql: str) -> ResultTable:
        """A SELECT through the same limits (used by the linked-data pages)."""
        result = self.query(sparql)
        if not isinstance(result, Solutions):
            raise Problem(400, "not a SELECT query")
        return result.table

    def _evaluate(self, sparql: str, default_graphs: list[str] | None, named_graphs: list[str] | None,
                  deadline: float, cancel: threading.Event) -> Result:
        # Oxigraph's result iterators must be dropped on the thread that made them, so
        # _collect returns (never raises) and every exception starts here, in a frame that
        # holds no iterator for another thread to inherit through a traceback.
        outcome = None if cancel.is_set() else self._collect(sparql, default_graphs, named_graphs, deadline, cancel)
        if outcome is None:
            raise _Stop
        if isinstance(outcome, Problem):
            raise outcome
        return outcome

    def _collect(self, sparql: str, default_graphs: list[str] | None, named_graphs: list[str] | None,
                 deadline: float, cancel: threading.Event) -> Result | Problem | None:
        """The result, a Problem to answer with, or None when stopped at the deadline."""
        try:
            result = self._run(sparql, default_graphs, named_graphs)
        except SyntaxError as error:
            return Problem(400, f"SPARQL syntax error: {_one_line(error)}")
        except (ValueError, TypeError) as error:
            return Problem(400, f"cannot evaluate the query: {_one_line(error)}")
        except OSError as error:
            return Problem(500, f"store error: {_one_line(error)}")
        if isinstance(result, ox.QueryBoolean):
            return Boolean(bool(result))
        try:
            collected = self._bounded(result, deadline, cancel)
        except OSError as error:
            return Problem(500, f"store error: {_one_line(error)}")
        finally:
            del result
        if not isinstance(collected, _Items):
            return collected
        if collected.variables is None:
            return Triples([t for t in collected.items if isinstance(t, ox.Triple)])
        rows: list[Row] = [row for row in collected.items if isinstance(row, tuple)]
        return Solutions(ResultTable(collected.variables, rows))

    def _run(self, sparql: str, default_graphs: list[str] | None,
             named_graphs: list[str] | None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        store = self._oxigraph
        named: list[ox.NamedNode | ox.BlankNode] | None = (
            [ox.NamedNode(g) for g in named_graphs] if named_graphs else None)
        if default_graphs:
            default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.NamedNode(g) for g in default_graphs]
            return store.query(sparql, default_graph=default, named_graphs=named)
        return store.query(sparql, use_default_graph_as_union=True, named_graphs=named)

    def _bounded(self, items: ox.QuerySolutions | ox.QueryTriples, deadline: float,
                 cancel: threading.Event) -> _Items | Problem | None:
        """Pull items until the end, the row cap (a Problem) or the deadline (None)."""
        variables = [v.value for v in items.variables] if isinstance(items, ox.QuerySolutions) else None
        out: list[object] = []
        for count, item in enumerate(items, start=1):
            if count > self.limits.max_rows:
                return Problem(400, f"the result has more than {self.limits.max_rows} rows: add a LIMIT")
            if count % 256 == 0 and (cancel.is_set() or time.monotonic() > deadline):
                return None
            out.append(item if variables is None else tuple(oxigraph_term(item[name]) for name in variables))
        return _Items(variables, out)

    def update(self, sparql: str) -> None:
        """Run an authorised SPARQL Update (LOAD and SERVICE refused unless allowed)."""
        if not self.limits.allow_service:
            for word in ("LOAD", "SERVICE"):
                if uses_keyword(sparql, word):
                    raise Problem(400, f"{word} is not allowed in updates on this endpoint")
        try:
            self.store.update(sparql)
        except SyntaxError as error:
            raise Problem(400, f"SPARQL Update syntax error: {_one_line(error)}") from None
        except (ValueError, TypeError) as error:
            raise Problem(400, f"cannot run the update: {_one_line(error)}") from None
        except OSError as error:
            raise Problem(500, f"store error: {_one_line(error)}") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _one_line(error: BaseException, limit: int = 500) -> str:
    return " ".join(str(error).split())[:limit]


@functools.lru_cache(maxsize=1)
def ontology_terms() -> tuple[tuple[str, str, str, str], ...]:
    """The ontology's terms as (IRI, kind, label, comment), for the /ontology page."""
    from kg.rdf.namespaces import OWL, RDF, RDFS
    from kg.resources import ontology_path

    kinds = {OWL + "Class": "class", OWL + "ObjectProperty": "property", OWL + "DatatypeProperty": "property",
             RDF + "Property": "property", OWL + "NamedIndividual": "individual"}
    found: dict[str, dict[str, str]] = {}
    for triple in ox.parse(path=str(ontology_path()), format=ox.RdfFormat.TURTLE):
        if not isinstance(triple.subject, ox.NamedNode):
            continue
        entry = found.setdefault(triple.subject.value, {})
        predicate = triple.predicate.value
        value = triple.object.value
        if predicate == RDF + "type" and value in kinds:
            entry.setdefault("kind", kinds[value])
        elif predicate == RDFS + "label":
            entry.setdefault("label", value)
        elif predicate == RDFS + "comment":
            entry.setdefault("comment", value)
    return tuple(sorted((term, e.get("kind", "term"), e.get("label", ""), e.get("comment", ""))
                        for term, e in found.items()))
