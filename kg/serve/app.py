"""``kg serve`` as an ASGI application (Starlette, served by uvicorn): the SPARQL endpoint and the pages.

Why Starlette + uvicorn: issue 19 found the hand-written ``http.server`` answering PUT and
OPTIONS with the standard library's HTML 501 page, and one runaway query taking every thread.
A maintained stack gives correct HTTP (methods, keep-alive, bodies, graceful SIGTERM) for free;
the one thing it cannot give, a query that can be stopped, is :mod:`kg.store.sandbox`'s job:
every query runs in a worker process with a memory cap and is killed at its deadline.

Routes:

* ``GET/POST /sparql``: SPARQL 1.1 Protocol. Any form; ``query=`` in the URL or a form, or an
  ``application/sparql-query`` body; ``default-graph-uri``/``named-graph-uri``; the syntax by
  ``format``/``output``/``results`` or Accept (:mod:`kg.serve.negotiation`). Without a query:
  the service description (RDF), or YASGUI for a browser. Updates (``update=``,
  ``application/sparql-update``) need ``Authorization: Bearer TOKEN``; each becomes a new store
  generation before it is acknowledged.
* ``/study/NCT…``, ``/resource/…``, ``/graph/…``, ``/describe?iri=…``: linked data, a page or RDF.
* ``/`` (trials, canned queries), ``/ontology``, ``/health``, ``/static/…``.

At most ``workers`` queries run at once and ``queue`` more wait; beyond that a request gets
503 with Retry-After at once, so a burst cannot pile up threads or memory.

Example:
    >>> app = create_app(ServeConfig(store="kg-store"))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg.serve import negotiation, render
from kg.serve.safety import token_matches
from kg.serve.service import Problem, ServeConfig, Service
from kg.store.sandbox import Answer

MAX_FIELDS = 64


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise Problem(400, f"give {name} once")
    return values[0]


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise Problem(413, f"request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise Problem(413, f"request body larger than {limit} bytes")
    return bytes(body)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the request body is not UTF-8") from None


def _parse_qs(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise Problem(400, f"too many parameters (at most {MAX_FIELDS})") from None


async def sparql(request: Request) -> Response:
    service: Service = request.app.state.service
    config = service.config
    params = _parse_qs(request.url.query)
    authorised = token_matches(request.headers.get("authorization"), config.update_token)
    query, update = _one(params, "query"), _one(params, "update")
    if request.method == "POST":
        body = await _read_body(request, config.max_update_bytes if authorised else config.max_query_bytes)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            form = _parse_qs(_decode(body))
            params = {**params, **form}
            query, update = _one(form, "query"), _one(form, "update")
        elif media == "application/sparql-query":
            query = _decode(body)
        elif media == "application/sparql-update":
            update = _decode(body)
        else:
            raise Problem(415, "POST a form (query= or update=), application/sparql-query or application/sparql-update")
    elif update is not None:
        raise Problem(405, "updates must be sent with POST", {"Allow": "GET, POST, HEAD, OPTIONS"})
    if query is not None and update is not None:
        raise Problem(400, "give either a query or an update, not both")
    if update is not None:
        return await _update(service, update, authorised)
    accept = request.headers.get("accept")
    if query is None:
        if negotiation.wants_html(accept, params):
            return render.query_page(request, None)
        media = negotiation.negotiate(accept, negotiation.GRAPH_TYPES) or negotiation.TURTLE
        return Response(render.service_description(str(request.url_for("sparql")), media, config),
                        media_type=negotiation.content_type(media))
    if len(query.encode("utf-8")) > config.max_query_bytes:
        raise Problem(413, f"query longer than {config.max_query_bytes} bytes")
    choice = negotiation.choose(accept, params)
    if choice.html:
        return render.query_page(request, query)
    answer: Answer = await service.call(service.runner.run, query, results_media=choice.results,
                                        graph_media=choice.graph, default_graphs=params.get("default-graph-uri"),
                                        named_graphs=params.get("named-graph-uri"))
    return Response(answer.body, media_type=negotiation.content_type(answer.media_type),
                    headers={"Vary": "Accept"})


async def _update(service: Service, update: str, authorised: bool) -> Response:
    if service.config.update_token is None:
        raise Problem(403, "this endpoint is read-only (start kg serve with an update token to allow updates)")
    if not authorised:
        raise Problem(401, "updates need Authorization: Bearer <token>", {"WWW-Authenticate": 'Bearer realm="trialkg"'})
    await service.call(service.runner.update, update)
    return Response(status_code=204)


async def options(request: Request) -> Response:
    """OPTIONS (and a browser's CORS preflight when --cors is on): what the endpoint accepts."""
    headers = {"Allow": "GET, POST, HEAD, OPTIONS"}
    if request.app.state.service.config.cors:
        headers.update({"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                        "Access-Control-Allow-Headers": "Accept, Content-Type, Authorization",
                        "Access-Control-Max-Age": "600"})
    return Response(status_code=204, headers=headers)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def not_allowed(request: Request, exc: Exception) -> Response:
    return _problem_response(request, Problem(405, f"{request.method} is not allowed here",
                                              {"Allow": "GET, HEAD" if request.url.path != "/sparql"
                                               else "GET, POST, HEAD, OPTIONS"}))


def _problem_response(request: Request, problem: Problem) -> Response:
    if problem.status >= 400 and "text/html" in request.headers.get("accept", "") and \
            negotiation.negotiate(request.headers.get("accept"), ("text/plain", "text/html")) == "text/html":
        return render.error_page(request, problem.status, problem.message, problem.headers)
    return PlainTextResponse(problem.message + "\n", status_code=problem.status, headers=problem.headers)


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _problem_response(request, exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    if status == 405:
        return await not_allowed(request, exc)
    detail = getattr(exc, "detail", "") or "error"
    return _problem_response(request, Problem(status, "nothing here" if status == 404 else str(detail)))


async def on_error(request: Request, exc: Exception) -> Response:
    import sys

    sys.stderr.write(f"kg serve: internal error on {request.method} {request.url.path[:200]}: {exc!r}\n")
    return PlainTextResponse("internal server error\n", status_code=500)


class SecurityHeaders:
    """nosniff everywhere; on pages a Content Security Policy allowing only our own scripts and styles."""

    def __init__(self, app: Any, cors: bool) -> None:
        self.app = app
        self.cors = cors

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                content_type = next((v for k, v in headers if k == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    headers += [(b"content-security-policy", render.CSP.encode()),
                                (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
                if self.cors:
                    headers.append((b"access-control-allow-origin", b"*"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


def create_app(config: ServeConfig) -> Any:
    """The ASGI application; its lifespan starts the query workers and kills them on shutdown."""
    from starlette.exceptions import HTTPException

    from kg.serve import pages

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service = Service(config)
        app.state.service = service
        await to_thread.run_sync(service.runner.warm)
        try:
            yield
        finally:
            service.runner.close()

    routes = [
        Route("/sparql", sparql, methods=["GET", "POST", "HEAD"], name="sparql"),
        Route("/sparql", options, methods=["OPTIONS"]),
        Route("/health", health, methods=["GET", "HEAD"]),
        Route("/", pages.home, methods=["GET", "HEAD"], name="home"),
        Route("/ontology", pages.ontology, methods=["GET", "HEAD"], name="ontology"),
        Route("/context.jsonld", pages.jsonld_context, methods=["GET", "HEAD"], name="context"),
        Route("/describe", pages.describe, methods=["GET", "HEAD"], name="describe"),
        Route("/study/{rest:path}", pages.mounted, methods=["GET", "HEAD"]),
        Route("/resource/{rest:path}", pages.mounted, methods=["GET", "HEAD"]),
        Route("/graph/{rest:path}", pages.mounted, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(packages=[("kg.serve", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Problem: on_problem, HTTPException: on_http_exception, Exception: on_error})
    return SecurityHeaders(app, config.cors)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
