"""Running the application: ``kg serve`` in the foreground, or a server in a thread for tests.

Why a socket we bind ourselves: ``--port 0`` must print the port the system chose before
serving, and tests need the URL. uvicorn stops gracefully on SIGTERM or Ctrl-C: it stops
accepting, gives running requests ``GRACE`` seconds, then the application's lifespan kills
the query workers (a runaway query is abandoned, not waited for), so the process ends
within a few seconds whatever it was doing.

Example:
    >>> server_url("127.0.0.1", 8000)
    'http://127.0.0.1:8000'
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from kg.serve.app import ServeConfig, create_app

GRACE = 2.0  # seconds running requests get after SIGTERM


def server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one). Listening at once, so a client that connects as soon as
    the URL is printed waits in the backlog while the workers start, rather than being refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _server(config: ServeConfig) -> uvicorn.Server:
    settings = uvicorn.Config(create_app(config), lifespan="on", log_level="warning", access_log=config.access_log,
                              timeout_graceful_shutdown=int(GRACE), timeout_keep_alive=15, server_header=False,
                              limit_concurrency=max(64, 4 * (config.workers + config.queue)))
    return uvicorn.Server(settings)


def serve_forever(config: ServeConfig, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn's handlers); ``on_ready(url)`` once the socket is bound."""
    sock = bind(config.host, config.port)
    url = server_url(config.host, sock.getsockname()[1])
    server = _server(config)
    if on_ready is not None:
        on_ready(url)
    server.run(sockets=[sock])


@contextmanager
def running_server(config: ServeConfig) -> Iterator[str]:
    """Serve in a background thread for the ``with`` block; yields the base URL."""
    sock = bind(config.host, config.port)
    url = server_url(config.host, sock.getsockname()[1])
    server = _server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), name="kg-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("kg serve did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
