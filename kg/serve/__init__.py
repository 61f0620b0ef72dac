"""``kg serve``: a SPARQL 1.1 endpoint and linked-data pages over a trialkg store.

Why: the graph is most useful where others can reach it: SPARQL clients (SPARQLWrapper,
YASGUI, other stores' SERVICE clauses), linked-data tools that dereference IRIs, and people
with a browser. One small server gives all three over the embedded Oxigraph store, read-only
and on loopback unless told otherwise, with query timeouts and result-size limits.

Modules: :mod:`~kg.serve.server` (HTTP, routes), :mod:`~kg.serve.engine` (query limits),
:mod:`~kg.serve.formats` (content negotiation, result formats), :mod:`~kg.serve.paths` (IRI to
local path mapping), :mod:`~kg.serve.pages` and :mod:`~kg.serve.site` (HTML),
:mod:`~kg.serve.html` (escaping), :mod:`~kg.serve.safety` (SERVICE/LOAD refusal, tokens).

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> with running_server(store, ServeConfig(port=0)) as url:  # doctest: +SKIP
    ...     print(url + "/study/NCT01374854")
"""

from __future__ import annotations

from kg.serve.engine import Limits
from kg.serve.server import ServeConfig, make_server, running_server

__all__ = ["Limits", "ServeConfig", "make_server", "running_server"]
