"""``kg serve``: a SPARQL 1.1 endpoint and linked-data pages over a trialkg store.

Why: the graph is most useful where others can reach it: SPARQL clients (SPARQLWrapper with
its defaults, YASGUI, other stores' SERVICE clauses), linked-data tools that dereference IRIs,
and researchers with a browser. A Starlette application served by uvicorn; every query runs
in a sandboxed worker process (:mod:`kg.store.sandbox`) that is killed at its deadline and
cannot grow past its memory cap, so no request can take the server down.

Modules: :mod:`~kg.serve.app` (routes, protocol, limits), :mod:`~kg.serve.negotiation`
(which syntax to answer in), :mod:`~kg.serve.pages` and :mod:`~kg.serve.views` (the pages and
their SPARQL), :mod:`~kg.serve.render` (Jinja2 templates, service description),
:mod:`~kg.serve.paths` (IRI to local path), :mod:`~kg.serve.safety` (update tokens),
:mod:`~kg.serve.runner` (running it: ``kg serve``, tests).

Example:
    >>> with running_server(ServeConfig(store="kg-store", port=0)) as url:  # doctest: +SKIP
    ...     print(url + "/study/NCT01374854")
"""

from __future__ import annotations

from kg.serve.app import ServeConfig, create_app
from kg.serve.runner import running_server, serve_forever
from kg.store.sandbox import QueryLimits

__all__ = ["QueryLimits", "ServeConfig", "create_app", "running_server", "serve_forever"]
