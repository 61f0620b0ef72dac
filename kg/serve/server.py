"""``kg serve``: the SPARQL 1.1 Protocol endpoint and the linked-data pages, on the standard library.

Why the standard library (``http.server.ThreadingHTTPServer``) and not a framework: the server
has a dozen routes, no sessions, templates or middleware, and its heavy work happens inside
Oxigraph (which releases the GIL), so a thread per connection is enough for a team's endpoint
(see benchmarks/results/serve.md). A framework would add a dependency and an ASGI server to
install for no feature we need; behind a reverse proxy this server stays as it is.

Routes:

* ``GET/POST /sparql``: SPARQL 1.1 Protocol queries (any form; ``query=`` in the URL or a form,
  or an ``application/sparql-query`` body; ``default-graph-uri``/``named-graph-uri`` honoured,
  else the union of the named graphs). Results by ``Accept`` (or ``format=``): SPARQL JSON,
  XML, CSV, TSV; graphs as Turtle, N-Triples, JSON-LD, RDF/XML; a page for browsers.
  ``POST`` updates (``update=`` or ``application/sparql-update``) need ``Authorization: Bearer
  TOKEN`` and a server started with a token; otherwise 403.
* ``GET /study/NCT…``, ``/resource/…``, ``/graph/…``, ``/describe?iri=…``: linked data (see
  :mod:`kg.serve.paths`), Turtle/JSON-LD/N-Triples/RDF-XML or HTML by ``Accept``.
* ``GET /`` home, ``/ontology``, ``/health``.

Example:
    >>> from kg.store import open_store
    >>> with running_server(open_store(None), ServeConfig(port=0)) as url:
    ...     url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from kg.rdf.namespaces import GRAPH
from kg.rdf.terms import iri
from kg.resources import ontology_path
from kg.serve import formats
from kg.serve.engine import Boolean, Engine, Limits, Problem, Result, Solutions
from kg.serve.html import CSP, error_page
from kg.serve.pages import resource_page
from kg.serve.paths import ONTOLOGY_PATH, iri_for_path
from kg.serve.safety import token_matches
from kg.serve.site import home_page, ontology_page, query_page
from kg.store.generations import StoreDirectory
from kg.store.oxigraph import OxigraphStore

INBOUND_LIMIT = 10_000


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    limits: Limits = field(default_factory=Limits)
    update_token: str | None = None  # None: read-only
    access_log: bool = False
    cors: bool = False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KGServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, store: OxigraphStore, config: ServeConfig, directory: StoreDirectory | None = None) -> None:
        self.config = config
        self.engine = Engine(store, config.limits, directory=directory)
        super().__init__((config.host, config.port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}"

    def server_close(self) -> None:
        super().server_close()
        self.engine.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "trialkg"
    timeout = 60  # idle keep-alive connections are dropped
    server: KGServer
    _body_read = True

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        if self.server.config.access_log:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    # -- plumbing -----------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, media: str, *, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept")
        self.send_header("X-Content-Type-Options", "nosniff")
        if media.startswith("text/html"):
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
        if self.server.config.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        headers = {"WWW-Authenticate": 'Bearer realm="trialkg"'} if status == 401 else {}
        if not self._body_read:
            headers["Connection"] = "close"  # an unread body must not be taken for the next request
        if formats.negotiate(self.headers.get("Accept"), ("text/plain", "text/html")) == "text/html":
            self._send(status, error_page(status, message), "text/html; charset=utf-8", headers=headers)
        else:
            self._send(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8", headers=headers)

    def _handle(self) -> None:
        self._body_read = self.command != "POST" or self.headers.get("Content-Length") == "0"
        try:
            url = urlsplit(self.path)
            params = parse_qs(url.query, keep_blank_values=True, max_num_fields=64)
            self._route(url.path, params)
        except Problem as problem:
            self._error(problem.status, problem.message)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # never a traceback to the client; one line to the log
            self._body_read = False  # state unknown: close after answering
            sys.stderr.write(f"kg serve: internal error on {self.command} {self.path[:200]}: {error!r}\n")
            self._error(500, "internal server error")

    def _route(self, path: str, params: dict[str, list[str]]) -> None:
        if path == "/sparql":
            self._sparql(params)
            return
        if self.command == "POST":
            raise Problem(405, "only /sparql accepts POST")
        if path == "/":
            self._send(200, home_page(self.server.engine, _int(_one(params, "offset"))), "text/html; charset=utf-8")
        elif path == "/health":
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif path == ONTOLOGY_PATH:
            self._ontology(params)
        elif path == "/describe":
            target = _one(params, "iri")
            if not target:
                raise Problem(400, "give the IRI to describe: /describe?iri=...")
            self._describe(target, params)
        else:
            target = iri_for_path(path)
            if target is None:
                raise Problem(404, f"nothing at {path}")
            self._describe(target, params)

    # -- SPARQL protocol ----------------------------------------------------------------------
    def _body(self, limit: int) -> bytes:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise Problem(411, "a POST needs a Content-Length")
        try:
            length = int(length_text)
        except ValueError:
            raise Problem(400, "bad Content-Length") from None
        if length < 0 or length > limit:
            raise Problem(413, f"request body larger than {limit} bytes")
        body = self.rfile.read(length)
        self._body_read = True
        return body

    def _sparql(self, params: dict[str, list[str]]) -> None:
        config = self.server.config
        authorised = token_matches(self.headers.get("Authorization"), config.update_token)
        query: str | None = _one(params, "query")
        update: str | None = _one(params, "update")
        if self.command == "POST":
            limits = config.limits
            body = self._body(limits.max_update_bytes if authorised else limits.max_query_bytes)
            media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            text = _decode(body)
            if media == "application/x-www-form-urlencoded":
                form = parse_qs(text, keep_blank_values=True, max_num_fields=64)
                params = {**params, **form}
                query, update = _one(form, "query"), _one(form, "update")
            elif media == "application/sparql-query":
                query = text
            elif media == "application/sparql-update":
                update = text
            else:
                raise Problem(415, "POST a form (query= or update=), application/sparql-query "
                                   "or application/sparql-update")
        elif update is not None:
            raise Problem(405, "updates must be sent with POST")
        if query is not None and update is not None:
            raise Problem(400, "give either a query or an update, not both")
        if update is not None:
            self._update(update, authorised)
        elif query is not None:
            self._query(query, params)
        elif formats.negotiate(self.headers.get("Accept"), ("text/html",)) and self.command != "POST":
            self._send(200, query_page(None, None), "text/html; charset=utf-8")
        else:
            raise Problem(400, "missing query (query=...) or update (update=...)")

    def _update(self, update: str, authorised: bool) -> None:
        if self.server.config.update_token is None:
            raise Problem(403, "this endpoint is read-only (start kg serve with an update token to allow updates)")
        if not authorised:
            raise Problem(401, "updates need Authorization: Bearer <token>")
        self.server.engine.update(update)
        self._send(204, b"", "text/plain; charset=utf-8")

    def _query(self, query: str, params: dict[str, list[str]]) -> None:
        accept = self.headers.get("Accept")
        format_param = _one(params, "format")
        wants_html = formats.choose(accept, format_param, ("application/sparql-results+json", "text/html"))
        try:
            result = self.server.engine.query(query, params.get("default-graph-uri"), params.get("named-graph-uri"))
        except Problem as problem:
            if wants_html == "text/html":
                self._send(problem.status, query_page(query, None, problem.message), "text/html; charset=utf-8")
                return
            raise
        self._result(result, query, accept, format_param)

    def _result(self, result: Result, query: str, accept: str | None, format_param: str | None) -> None:
        offers = (formats.SOLUTION_TYPES if isinstance(result, Solutions)
                  else formats.BOOLEAN_TYPES if isinstance(result, Boolean) else formats.GRAPH_TYPES)
        media = formats.choose(accept, format_param, offers)
        if media is None:
            raise Problem(406, "no acceptable result format; offered: " + ", ".join(offers))
        if media == "text/html":
            self._send(200, query_page(query, result), "text/html; charset=utf-8")
        elif isinstance(result, Solutions):
            self._send(200, formats.solutions_body(result.table, media), formats.solutions_media(media))
        elif isinstance(result, Boolean):
            self._send(200, formats.boolean_body(result.value, media), formats.solutions_media(media))
        else:
            self._send(200, formats.triples_body(result.triples, media), formats.content_type(media))

    # -- linked data ----------------------------------------------------------------------------
    def _describe(self, target: str, params: dict[str, list[str]]) -> None:
        media = formats.choose(self.headers.get("Accept"), _one(params, "format"), formats.GRAPH_TYPES)
        if media is None:
            raise Problem(406, "no acceptable format; offered: " + ", ".join(formats.GRAPH_TYPES))
        engine = self.server.engine
        if media == "text/html":
            body = resource_page(engine, target)
            if body is None:
                raise Problem(404, f"the store says nothing about {target}")
            self._send(200, body, "text/html; charset=utf-8")
            return
        node = iri(target)
        if target.startswith(GRAPH) and isinstance(ask := engine.query(f"ASK {{ GRAPH {node} {{ ?s ?p ?o }} }}"),
                                                   Boolean) and ask.value:
            sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}"
        else:
            sparql = (f"CONSTRUCT {{ {node} ?p ?o . ?s ?q {node} }} WHERE {{ {{ {node} ?p ?o }} UNION "
                      f"{{ SELECT ?s ?q WHERE {{ ?s ?q {node} }} LIMIT {INBOUND_LIMIT} }} }}")
        result = engine.query(sparql)
        assert not isinstance(result, (Solutions, Boolean))
        if not result.triples:
            raise Problem(404, f"the store says nothing about {target}")
        self._send(200, formats.triples_body(result.triples, media), formats.content_type(media))

    def _ontology(self, params: dict[str, list[str]]) -> None:
        media = formats.choose(self.headers.get("Accept"), _one(params, "format"), ("text/turtle", "text/html"))
        if media == "text/html":
            self._send(200, ontology_page(), "text/html; charset=utf-8")
        elif media == "text/turtle":
            self._send(200, ontology_path().read_bytes(), "text/turtle; charset=utf-8")
        else:
            raise Problem(406, "the ontology is served as text/turtle or text/html")


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise Problem(400, f"give {name} once")
    return values[0]


def _int(value: str | None) -> int:
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        raise Problem(400, f"not a number: {value!r}") from None


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the request body is not UTF-8") from None


def make_server(store: OxigraphStore, config: ServeConfig | None = None, *,
                directory: StoreDirectory | None = None) -> KGServer:
    """A bound server (``port=0`` picks a free port: see ``server.url``); call ``serve_forever()``.

    With ``directory`` (a read-only store's StoreDirectory) the server follows generation
    switches, so a ``kg sync`` or ``kg build`` into the same directory shows up within a second.
    """
    return KGServer(store, config or ServeConfig(), directory)


@contextmanager
def running_server(store: OxigraphStore, config: ServeConfig | None = None, *,
                   directory: StoreDirectory | None = None) -> Iterator[str]:
    """Serve ``store`` in a background thread for the ``with`` block; yields the base URL."""
    server = make_server(store, config, directory=directory)
    thread = threading.Thread(target=server.serve_forever, name="kg-serve", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
