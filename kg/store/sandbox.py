"""Queries and updates on a store directory in worker processes: a memory limit, a hard deadline, parsed checks.

Why: pyoxigraph 0.5 cannot cancel a running query (``Store.query`` has no cancellation
argument), and a query's memory is its process's memory. In a server thread an ORDER BY over
a cross join keeps running after its client got a 503 and grows until the whole server dies
(issue 19: 4.5 GB in 5 s). So each query runs in a worker process whose address space is
capped with ``RLIMIT_AS``: at its deadline the worker is killed (SIGKILL) and replaced, and an
allocation over the cap aborts that worker only (measurements: benchmarks/results/serve.md).
Workers are fresh interpreters (``python -m kg.store.sandbox``), never forks of the server
with its event loop and threads; each opens the store read-only and follows the ``active``
generation link before every request, so a ``kg build`` shows up at once.

All pyoxigraph work the server needs lives here, behind plain types: pyoxigraph serialises
results; parameters are bound by its ``substitutions``; the form is the type of its answer;
SERVICE and LOAD are found by parsing (rdflib's SPARQL grammar, in the worker). An update runs
in a child on :meth:`StoreDirectory.staging` (a generation checkpointed from the active one,
switched in once flushed), so the next ``kg build``, which starts from ``active``, keeps it.

Example:
    >>> import asyncio, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "store"
    >>> with StoreDirectory(root).staging() as s:
    ...     s.load_nquads(b'<urn:s> <urn:p> "o" <urn:g> .\\n')
    >>> with QueryRunner(root, QueryLimits(timeout=20), workers=1) as runner:
    ...     asyncio.run(runner.run("ASK { ?s ?p ?o }", results_media="application/sparql-results+json")).body
    b'{"head":{},"boolean":true}'
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, cast

from kg.errors import KGError
from kg.store import remote_access
from kg.store.generations import ACTIVE, StoreDirectory
from kg.store.jsonld import write_jsonld
from kg.store.lock import GenerationHold
from kg.store.results import Term
from kg.store.triples import triple_terms


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one query may cost: seconds, address space per worker (MiB), result bytes."""

    timeout: float = 30.0
    memory_mb: int = 2048
    max_result_bytes: int = 64 << 20
    allow_service: bool = False
    update_timeout: float = 300.0


@dataclass(frozen=True, slots=True)
class Answer:
    """A serialised result: ``form`` is ``solutions``, ``boolean`` or ``graph``."""

    form: str
    media_type: str
    body: bytes


class QueryFailure(KGError):
    """A query or update not answered; ``reason`` (for the HTTP status): ``syntax``, ``refused`` (SERVICE/LOAD),
    ``form`` (no syntax for the result's form), ``too-large``, ``timeout``, ``memory``, ``store``, ``read-only``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def is_generation_directory(location: Path) -> bool:
    """Whether ``location`` is a trialkg store directory (generations + ``active``), which updates need."""
    return (location / ACTIVE).exists()


# -- the worker side ------------------------------------------------------------------------------


def _limit_self(memory_mb: int) -> None:
    """In a fresh worker: cap its address space; end it when the server goes away, even mid-query (seen as
    a change of parent by a watchdog: PR_SET_PDEATHSIG would fire when the thread that started it ends)."""
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which ends its workers
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="kg-parent-watch", daemon=True).start()


def find_remote_access(text: str, *, update: bool) -> str | None:
    """"SERVICE" or "LOAD" when the parsed text reaches beyond the store, else None (see remote_access)."""
    try:
        return remote_access.find_remote_access(text, update=update)
    except remote_access.Unchecked as error:
        raise QueryFailure("refused", "the request may use SERVICE or LOAD and could not be checked: "
                           + str(error)) from None


def _ox_term(term: Term) -> Any:
    import pyoxigraph as ox

    if term.kind == "uri":
        return ox.NamedNode(term.value)
    if term.kind == "bnode":
        return ox.BlankNode(term.value)
    if term.lang:
        return ox.Literal(term.value, language=term.lang)
    return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype) if term.datatype else None)


class _Bounded:
    """A write-only buffer that stops the serialiser once the result is larger than allowed."""

    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.size, self.limit = 0, limit

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _TooLarge
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are sent whole."""


class _TooLarge(Exception):
    """The serialised result passed the byte cap."""


class _Session:
    """One worker's store, reopened when the directory's ``active`` link moves."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.opened: Path | None = None
        self.store: Any = None
        self.hold: GenerationHold | None = None

    def get(self) -> Any:
        import pyoxigraph as ox

        generations = is_generation_directory(self.location)
        target = StoreDirectory(self.location).active() if generations else self.location
        if target is None:
            raise QueryFailure("store", f"no store at {self.location}")
        if target != self.opened:
            # Pin the generation (a shared lock) so a build's cleanup never removes it under us.
            hold = GenerationHold(target) if generations else None
            if hold is not None and not hold.acquire():
                raise QueryFailure("store", "the store changed while this query opened it; send it again")
            self.store = ox.Store.read_only(str(target))
            if self.hold is not None:
                self.hold.release()
            self.hold, self.opened = hold, target
        return self.store

    def run(self, request: dict[str, Any]) -> Answer:
        import pyoxigraph as ox

        name = find_remote_access(request["query"], update=False)
        if name and not request["allow_service"]:
            raise QueryFailure("refused", f"{name} is not allowed on this endpoint")
        store = self.get()
        options: dict[str, Any] = {}
        if request["named_graphs"]:
            options["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
        if request["default_graphs"]:
            options["default_graph"] = [ox.NamedNode(g) for g in request["default_graphs"]]
        else:
            options["use_default_graph_as_union"] = True
        if request["substitutions"]:
            options["substitutions"] = {ox.Variable(k): _ox_term(v) for k, v in request["substitutions"].items()}
        result = store.query(request["query"], **options)
        out = _Bounded(request["max_bytes"])
        if isinstance(result, ox.QueryTriples):
            form, media = "graph", request["graph_media"]
            rdf_format = ox.RdfFormat.from_media_type(media) if media else None
            if rdf_format is None:
                raise QueryFailure("form", "graph")
            if rdf_format == ox.RdfFormat.JSON_LD:  # compact under the shipped context (inline), exactly the answer
                triples = sorted(map(triple_terms, result), key=lambda t: (t[0].kind, t[0].value))
                write_jsonld(triples, cast(IO[bytes], out), aligned=False, inline_context=True)
            else:
                result.serialize(cast(IO[bytes], out), rdf_format)
        else:
            form = "boolean" if isinstance(result, ox.QueryBoolean) else "solutions"
            media = request["results_media"]
            results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
            if results_format is None:
                raise QueryFailure("form", form)
            result.serialize(cast(IO[bytes], out), results_format)
        return Answer(form, media, b"".join(out.parts))


def _failure(error: BaseException, what: str, max_bytes: int = 0) -> tuple[str, str, str]:
    """Every failure as (``error``, reason, one-line message): the parent maps the reason to a status."""
    if isinstance(error, QueryFailure):
        return ("error", error.reason, error.message)
    if isinstance(error, _TooLarge):
        return ("error", "too-large", f"the result is larger than {max_bytes >> 20} MiB: add a LIMIT")
    if isinstance(error, SyntaxError):
        return ("error", "syntax", f"SPARQL {what} syntax error: {_one_line(error)}")
    if isinstance(error, MemoryError):
        return ("error", "memory", f"the {what} needs more memory than the server allows")
    if isinstance(error, (ValueError, TypeError, RuntimeError)):
        return ("error", "syntax", f"cannot evaluate the {what}: {_one_line(error)}")
    if isinstance(error, (OSError, KGError)):
        return ("error", "store", f"store error: {_one_line(error)}")
    return ("error", "store", f"internal error: {_one_line(error)}")


def _answer(session: _Session, request: dict[str, Any]) -> tuple[str, Any, Any]:
    """Never raises: a worker answers every request and never dies of one (short of its memory cap)."""
    try:
        answers = [session.run(item) for item in request["items"]]
        return ("ok", None, [(a.form, a.media_type, a.body) for a in answers])
    except Exception as error:
        return _failure(error, "query", request["max_bytes"])


def _update(location: str, text: str, allow_service: bool) -> tuple[str, Any, Any]:
    """The update on a new generation checkpointed from the active one; ``active`` moves only on success."""
    try:
        name = find_remote_access(text, update=True)
        if name and not allow_service:
            raise QueryFailure("refused", f"{name} is not allowed in updates on this endpoint")
        with StoreDirectory(Path(location)).staging() as store:
            store.update(text)
        return ("ok", None, None)
    except Exception as error:
        return _failure(error, "update")


def _child_main(role: str, location: str, memory_mb: int, reader: Connection, writer: Connection) -> None:
    """A worker: answer requests until the server closes the pipe. An updater: one update, then exit."""
    _limit_self(memory_mb)
    if role == "update":
        text, allow_service = reader.recv()
        writer.send(_update(location, text, allow_service))
        return
    session = _Session(Path(location))
    while True:
        try:
            request = reader.recv()
        except (EOFError, OSError):
            return
        writer.send(_answer(session, request))


def _one_line(error: BaseException, limit: int = 500) -> str:
    return " ".join(str(error).split())[:limit]


# -- the parent side ------------------------------------------------------------------------------


def _timed_out(what: str, timeout: float) -> QueryFailure:
    return QueryFailure("timeout", f"the {what} did not finish within {timeout:g} s and was stopped "
                        "(simplify it or add a LIMIT)")


class _Child:
    """A ``python -m kg.store.sandbox`` process and its two pipes (not multiprocessing's spawn, which
    re-imports the server's main module, nor a fork of a server with an event loop and threads)."""

    def __init__(self, role: str, location: Path, memory_mb: int) -> None:
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kg.store.sandbox", role, str(location), str(memory_mb),
                 str(child_reads), str(child_writes)],
                pass_fds=(child_reads, child_writes), stdin=subprocess.DEVNULL,
                # Two malloc arenas: RLIMIT_AS counts the 64 MiB glibc reserves per thread's arena, so
                # without it the cap measured how many threads had allocated, not the memory used.
                env={**os.environ, "RUST_BACKTRACE": "0", "MALLOC_ARENA_MAX": "2"})
        except BaseException:
            for fd in (parent_writes, parent_reads):
                os.close(fd)
            raise
        finally:
            os.close(child_reads)
            os.close(child_writes)
        self.requests = Connection(parent_writes, readable=False)
        self.answers = Connection(parent_reads, writable=False)

    def send(self, request: Any) -> None:
        try:
            self.requests.send(request)
        except OSError:
            raise self._dead("query") from None

    def receive(self, timeout: float, what: str) -> tuple[str, Any, Any]:
        """The child's answer; a QueryFailure at the deadline or when the child died."""
        try:
            if not self.answers.poll(timeout):
                raise _timed_out(what, timeout)
            answer: tuple[str, Any, Any] = self.answers.recv()
            return answer
        except (EOFError, OSError):
            raise self._dead(what) from None

    async def receive_async(self, timeout: float, what: str) -> tuple[str, Any, Any]:
        """:meth:`receive` for the event loop: waits for the pipe to be readable without holding a thread."""
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        descriptor = self.answers.fileno()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(descriptor, ready)
        try:
            await asyncio.wait_for(readable, timeout)
        except asyncio.TimeoutError:
            raise _timed_out(what, timeout) from None
        finally:
            loop.remove_reader(descriptor)
        os.set_blocking(descriptor, True)  # uvloop leaves it non-blocking; a large answer is read in one go
        return self.receive(timeout, what)

    def _dead(self, what: str) -> QueryFailure:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        code = self.process.returncode
        if code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, 134):  # Rust aborts on a failed allocation
            return QueryFailure("memory", f"the {what} needed more memory than the server allows ({what} stopped)")
        return QueryFailure("store", f"the {what} worker ended unexpectedly (exit code {code})")

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.requests.close()
        self.answers.close()


class QueryRunner:
    """``workers`` query processes over the store at ``location`` (a directory with generations, or a
    plain Oxigraph database). Thread-safe: each call takes an idle worker, blocking until one is free."""

    def __init__(self, location: Path | str, limits: QueryLimits | None = None, *, workers: int = 2) -> None:
        self.location = Path(location)
        self.limits = limits or QueryLimits()
        self.workers = max(1, workers)
        self._idle: queue.LifoQueue[_Child | None] = queue.LifoQueue()
        self._busy: set[_Child] = set()
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._closed = False
        for _ in range(self.workers):
            self._idle.put(None)  # started on first use, or by warm()

    def warm(self) -> None:
        """Start every worker now, so the first queries pay no start-up."""
        taken = [self._idle.get() for _ in range(self.workers)]
        for worker in taken:
            self._idle.put(worker if worker is not None else self._start())

    def _start(self) -> _Child:
        return _Child("query", self.location, self.limits.memory_mb)

    async def _call(self, request: dict[str, Any]) -> list[Answer]:
        """One round trip to an idle worker, awaited on the event loop (no thread); a cancelled or timed-out
        call kills its worker, so an abandoned query stops at once."""
        if self._closed:
            raise QueryFailure("store", "the server is shutting down")
        worker: _Child | None
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:  # more callers than workers (the server's gate prevents this): wait in a thread
            worker = await asyncio.to_thread(self._idle.get)
        if worker is None:
            worker = await asyncio.to_thread(self._start)
        with self._lock:
            self._busy.add(worker)
        healthy = False
        try:
            worker.send(request)
            status, reason, payload = await worker.receive_async(self.limits.timeout, "query")
            healthy = True
        finally:
            with self._lock:
                self._busy.discard(worker)
            if healthy and not self._closed:
                self._idle.put(worker)
            else:  # stopped at its deadline, cancelled, or dead: a fresh worker takes its place on next use
                worker.kill()
                self._idle.put(None)
        if status != "ok":
            raise QueryFailure(reason, payload)
        return [Answer(*item) for item in payload]

    def _request(self, query: str, *, results_media: str | None = None, graph_media: str | None = None,
                 default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
                 substitutions: dict[str, Term] | None = None) -> dict[str, Any]:
        return {"query": query, "results_media": results_media, "graph_media": graph_media,
                "default_graphs": default_graphs or [], "named_graphs": named_graphs or [],
                "substitutions": substitutions or {}, "max_bytes": self.limits.max_result_bytes,
                "allow_service": self.limits.allow_service}

    async def run(self, query: str, *, results_media: str | None = None, graph_media: str | None = None,
                  default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
                  substitutions: dict[str, Term] | None = None) -> Answer:
        """Any query form, serialised by pyoxigraph: SELECT/ASK in ``results_media``, CONSTRUCT/DESCRIBE in
        ``graph_media`` (a form with no media type fails with reason ``form``). The union of the named
        graphs is the default graph unless ``default_graphs`` is given."""
        request = self._request(query, results_media=results_media, graph_media=graph_media,
                                default_graphs=default_graphs, named_graphs=named_graphs, substitutions=substitutions)
        return (await self._call({"items": [request], "max_bytes": self.limits.max_result_bytes}))[0]

    async def select_many(self, queries: list[tuple[str, dict[str, Term] | None]]) -> list[Answer]:
        """Several SELECTs in one round trip to one worker (a page's queries), SPARQL JSON, within one deadline."""
        items = [self._request(q, results_media="application/sparql-results+json", substitutions=s)
                 for q, s in queries]
        return await self._call({"items": items, "max_bytes": self.limits.max_result_bytes})

    def update(self, text: str) -> None:
        """Apply a SPARQL Update as a new generation; returns only once ``active`` names it (durable).

        Updates are serialised (a thread lock, and ``.update.lock`` in the directory for other
        servers on the same store). A stopped or failed update leaves ``active`` as it was.
        """
        if not is_generation_directory(self.location):
            raise QueryFailure("read-only", "updates need a trialkg store directory (made by `kg build`); "
                               "this is a plain Oxigraph database, served read-only")
        with self._update_lock, open(self.location / ".update.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            child = _Child("update", self.location, self.limits.memory_mb)
            try:
                child.send((text, self.limits.allow_service))
                status, reason, message = child.receive(self.limits.update_timeout, "update")
            finally:
                child.kill()
        if status != "ok":
            raise QueryFailure(reason, message)

    def close(self) -> None:
        """Kill every worker, busy or idle (a running query is abandoned: the server is stopping)."""
        self._closed = True
        with self._lock:
            busy = list(self._busy)
        for worker in busy:
            worker.kill()
        while True:
            try:
                idle = self._idle.get_nowait()
            except queue.Empty:
                break
            if idle is not None:
                idle.kill()

    def __enter__(self) -> QueryRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

if __name__ == "__main__":  # python -m kg.store.sandbox ROLE LOCATION MEMORY_MB READ_FD WRITE_FD
    from kg.store.sandbox import _child_main as _main  # the module's own classes, not __main__'s copies

    _main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Connection(int(sys.argv[4]), writable=False),
          Connection(int(sys.argv[5]), readable=False))
