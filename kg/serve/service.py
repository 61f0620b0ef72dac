"""What the routes and the pages share: the server's configuration, its query runner behind a
bounded gate, and the one error type a request answers with.

In a module of its own so that the pages (kg.serve.pages) and the app that routes to them
(kg.serve.app) both depend on it, not on each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio import to_thread

from kg.store.sandbox import QueryFailure, QueryLimits, QueryRunner

__all__ = ["STATUS", "Gate", "Problem", "ServeConfig", "Service"]

STATUS = {"syntax": 400, "refused": 400, "form": 406, "too-large": 413, "timeout": 503, "memory": 503,
          "store": 500, "read-only": 403, "busy": 503}


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """How to serve: where, what, and what one request may cost."""

    store: Path | str
    host: str = "127.0.0.1"
    port: int = 8000
    limits: QueryLimits = field(default_factory=QueryLimits)
    workers: int = 2
    queue: int = 16
    max_query_bytes: int = 1 << 20
    max_update_bytes: int = 256 << 20
    update_token: str | None = None
    cors: bool = False
    access_log: bool = True


class Problem(Exception):
    """A request answered with an HTTP error status and a one-line plain-text reason."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Gate:
    """At most ``workers`` requests at the store, at most ``queue`` waiting; the rest refused at once."""

    def __init__(self, workers: int, queue: int, retry_after: float) -> None:
        self.slots = asyncio.Semaphore(workers)
        self.waiting = 0
        self.queue = queue
        self.retry_after = str(max(1, round(retry_after)))

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.slots.locked() and self.waiting >= self.queue:
            raise Problem(503, "the server is busy: too many queries are waiting; try again shortly",
                          {"Retry-After": self.retry_after})
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.slots.release()


class Service:
    """What the routes share: the config, the query runner and its gate."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.runner = QueryRunner(Path(config.store), config.limits, workers=config.workers)
        self.gate = Gate(config.workers, config.queue, config.limits.timeout)

    async def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Await a runner method (queries: on the event loop; updates: in a thread) inside the gate; a
        QueryFailure becomes a Problem with the status its reason calls for."""
        async with self.gate.slot():
            try:
                if inspect.iscoroutinefunction(function):
                    return await function(*args, **kwargs)
                return await to_thread.run_sync(lambda: function(*args, **kwargs))
            except QueryFailure as failure:
                headers = {"Retry-After": self.gate.retry_after} if STATUS.get(failure.reason) == 503 else {}
                raise Problem(STATUS.get(failure.reason, 500), failure.message, headers) from None


