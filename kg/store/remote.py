"""A store over any SPARQL 1.1 endpoint: build, sync, push to and query a shared triple store.

Why: one machine's embedded Oxigraph is enough to build and ask questions, but teams share a
server (an Oxigraph server, Fuseki, GraphDB, Virtuoso, or another ``kg serve``). This backend
keeps the :class:`~kg.store.base.Store` contract over HTTP, so ``kg sync``, ``kg push`` and the
canned queries run unchanged against such a server.

* Queries go through SPARQLWrapper (POST, SPARQL JSON results). The canned queries have no
  GRAPH clauses, so the endpoint must evaluate them over the union of its named graphs
  (``oxigraph serve --union-default-graph``, Fuseki's ``unionDefaultGraph``; ``kg serve`` always).
* Uploads use the SPARQL 1.1 Graph Store HTTP Protocol when a ``gsp_url`` is given: one PUT per
  named graph replaces it in one step, POST adds to it. Without one (or when the server answers
  404/405/501 there) they fall back to SPARQL Update: ``DROP SILENT GRAPH`` + ``INSERT DATA``
  in one request, so a replaced record is never seen half-written.
* Writes carry ``Authorization: Bearer TOKEN`` when a token is given (``kg serve`` needs one).

Example:
    >>> store = open_remote_store("http://127.0.0.1:7878/query",
    ...                           update_url="http://127.0.0.1:7878/update",
    ...                           gsp_url="http://127.0.0.1:7878/store")  # doctest: +SKIP
    >>> store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").values()  # doctest: +SKIP
    [('995',)]
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import IO, Any

import pyoxigraph as ox
from SPARQLWrapper import INSERT, JSON, POST, POSTDIRECTLY, SELECT, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from kg.errors import QueryError, StoreError
from kg.rdf.terms import iri
from kg.store.base import Store
from kg.store.results import ResultTable, Row, Term
from kg.version import __version__

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
DEFAULT_BATCH_BYTES = 4 << 20
_USER_AGENT = f"trialkg/{__version__} (SPARQLWrapper)"
_NO_GSP = {404, 405, 501}
_DROP_BATCH = 500  # graphs per DROP request


def _term(binding: dict[str, str] | None) -> Term | None:
    """A SPARQL JSON results binding as a Term (plain literals typed xsd:string, as Oxigraph gives them)."""
    if binding is None:
        return None
    kind = binding.get("type", "literal")
    if kind in ("literal", "typed-literal"):
        lang = binding.get("xml:lang")
        datatype = None if lang else binding.get("datatype", XSD_STRING)
        return Term("literal", binding["value"], datatype, lang)
    return Term("bnode" if kind == "bnode" else "uri", binding["value"])


def _graph_key(quad: ox.Quad) -> str | None:
    """The graph IRI of a quad; None for the default graph."""
    graph = quad.graph_name
    return graph.value if isinstance(graph, ox.NamedNode) else None


def split_by_graph(data: bytes) -> dict[str | None, bytes]:
    """N-Quads text grouped into N-Triples documents per graph (None: the default graph).

    Example:
        >>> split_by_graph(b'<urn:s> <urn:p> "o" <urn:g> .\\n')
        {'urn:g': b'<urn:s> <urn:p> "o" .\\n'}
    """
    groups: dict[str | None, list[ox.Triple]] = defaultdict(list)
    try:
        for quad in ox.parse(data, ox.RdfFormat.N_QUADS):
            groups[_graph_key(quad)].append(quad.triple)
    except SyntaxError as error:
        raise StoreError(f"invalid N-Quads: {error}") from None
    return {graph: ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"" for graph, triples in groups.items()}


class RemoteStore(Store):
    """A store behind SPARQL 1.1 Query, Update and (optionally) Graph Store HTTP Protocol endpoints."""

    def __init__(self, query_url: str, update_url: str | None = None, gsp_url: str | None = None, *,
                 token: str | None = None, timeout: float = 120.0,
                 batch_bytes: int = DEFAULT_BATCH_BYTES) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.token = token
        self.timeout = timeout
        self.batch_bytes = batch_bytes
        self._gsp_works = gsp_url is not None

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r}, update_url={self.update_url!r}, gsp_url={self.gsp_url!r})"

    # -- queries ---------------------------------------------------------------------------
    def _wrapper(self, text: str, *, update: bool = False) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(self.query_url, updateEndpoint=self.update_url or self.query_url, agent=_USER_AGENT)
        wrapper.setOnlyConneg(True)  # no format=/output= parameters: plain SPARQL 1.1 Protocol
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(POSTDIRECTLY if update else URLENCODED)
        wrapper.setTimeout(max(1, round(self.timeout)))
        if update and self.token:
            wrapper.addCustomHttpHeader("Authorization", f"Bearer {self.token}")
        wrapper.setQuery(text)
        # SPARQLWrapper guesses query vs update from the text, and 2.0 guesses wrong when a
        # comment holds a word like "loaded" (it strips every other comment line and matches
        # LOAD inside words): we know which one we send.
        wrapper.queryType = INSERT if update else SELECT
        return wrapper

    def _run(self, wrapper: SPARQLWrapper) -> Any:
        try:
            return wrapper.query()
        except QueryBadFormed as error:
            raise QueryError(f"the endpoint rejected the request: {_reason(error)}") from None
        except SPARQLWrapperException as error:
            raise StoreError(f"{type(error).__name__}: {_reason(error)}", source=wrapper.endpoint) from None
        except urllib.error.HTTPError as error:
            raise StoreError(f"HTTP {error.code}: {_body(error)}", source=wrapper.endpoint) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise StoreError(f"cannot reach the endpoint: {reason}", source=wrapper.endpoint) from None

    def _json(self, sparql: str) -> dict[str, Any]:
        wrapper = self._wrapper(sparql)
        wrapper.setReturnFormat(JSON)
        document = self._run(wrapper).convert()
        if not isinstance(document, dict):
            raise StoreError("the endpoint did not answer with SPARQL JSON results", source=self.query_url)
        return document

    def select(self, sparql: str) -> ResultTable:
        document = self._json(sparql)
        if "boolean" in document:
            raise QueryError("only SELECT queries return tables")
        variables: list[str] = list(document.get("head", {}).get("vars", []))
        rows: list[Row] = [tuple(_term(binding.get(name)) for name in variables)
                           for binding in document.get("results", {}).get("bindings", [])]
        return ResultTable(variables, rows)

    def ask(self, sparql: str) -> bool:
        document = self._json(sparql)
        if "boolean" not in document:
            raise QueryError("not an ASK query")
        return bool(document["boolean"])

    def construct(self, sparql: str) -> bytes:
        """A CONSTRUCT/DESCRIBE result as N-Triples."""
        wrapper = self._wrapper(sparql)
        wrapper.addCustomHttpHeader("Accept", "application/n-triples")
        response = self._run(wrapper).response
        try:
            return bytes(response.read())
        finally:
            response.close()

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update request (needs an update endpoint)."""
        if self.update_url is None:
            raise StoreError("this remote store is read-only: give an update endpoint", source=self.query_url)
        self._run(self._wrapper(sparql, update=True)).response.close()

    # -- Graph Store HTTP Protocol ----------------------------------------------------------
    def _gsp(self, method: str, graph: str | None, data: bytes | None = None) -> int:
        """One GSP request; returns the status (404 is returned, not raised, for DELETE/GET)."""
        assert self.gsp_url is not None
        target = "default" if graph is None else "graph=" + urllib.parse.quote(graph, safe="")
        separator = "&" if "?" in self.gsp_url else "?"
        request = urllib.request.Request(self.gsp_url + separator + target, data=data, method=method)
        request.add_header("User-Agent", _USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/n-triples")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            if error.code in _NO_GSP:
                return int(error.code)
            raise StoreError(f"graph store {method} {graph}: HTTP {error.code}: {_body(error)}",
                             source=self.gsp_url) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise StoreError(f"cannot reach the graph store: {reason}", source=self.gsp_url) from None

    def _gsp_upload(self, groups: dict[str | None, bytes], method: str) -> bool:
        """PUT (replace) or POST (add) each graph; False when the server has no GSP endpoint."""
        if not self._gsp_works:
            return False
        for graph, triples in groups.items():
            status = self._gsp(method, graph, triples)
            if status in _NO_GSP:
                if self.update_url is None:
                    raise StoreError(f"graph store {method}: HTTP {status} and no update endpoint to fall back on",
                                     source=self.gsp_url)
                self._gsp_works = False  # e.g. kg serve: SPARQL Update only
                return False
        return True

    # -- SPARQL Update uploads --------------------------------------------------------------
    def _update_upload(self, groups: dict[str | None, bytes], *, replace: bool) -> None:
        """Batched ``[DROP SILENT GRAPH g ;] INSERT DATA { GRAPH g { ... } }`` requests."""
        for batch in _batches(groups, self.batch_bytes):
            operations: list[str] = []
            for graph, triples in batch:
                body = triples.decode("utf-8")
                if graph is None:
                    if replace:
                        operations.append("DROP SILENT DEFAULT")
                    operations.append(f"INSERT DATA {{\n{body}}}")
                else:
                    if replace:
                        operations.append(f"DROP SILENT GRAPH {iri(graph)}")
                    operations.append(f"INSERT DATA {{ GRAPH {iri(graph)} {{\n{body}}} }}")
            self.update(" ;\n".join(operations))

    def _upload(self, data: bytes, *, replace: bool) -> None:
        if not data.strip():
            return
        if self.update_url is None and self.gsp_url is None:
            raise StoreError("this remote store is read-only: give an update or graph store endpoint",
                             source=self.query_url)
        groups = split_by_graph(data)
        if not self._gsp_upload(groups, "PUT" if replace else "POST"):
            self._update_upload(groups, replace=replace)

    def load_nquads(self, data: bytes) -> None:
        """Add quads to their graphs (GSP POST, else INSERT DATA)."""
        self._upload(data, replace=False)

    def replace_nquads(self, data: bytes) -> None:
        """Replace every graph the quads name with exactly these quads (GSP PUT, else DROP + INSERT DATA)."""
        self._upload(data, replace=True)

    def replace_graphs(self, graphs: list[str], data: bytes) -> None:
        """Drop and insert per graph in one request (or a GSP PUT per graph)."""
        self.replace_nquads(data)

    def remove_graphs(self, graphs: Iterable[str]) -> None:
        pending = list(graphs)
        if self.update_url is None:
            if self.gsp_url is None:
                raise StoreError("this remote store is read-only", source=self.query_url)
            for graph in pending:
                self._gsp("DELETE", graph)
            return
        for start in range(0, len(pending), _DROP_BATCH):
            chunk = pending[start : start + _DROP_BATCH]
            self.update(" ;\n".join(f"DROP SILENT GRAPH {iri(g)}" for g in chunk))

    # -- inspection -------------------------------------------------------------------------
    def has_graph(self, graph: str) -> bool:
        return self.ask(f"ASK {{ GRAPH {iri(graph)} {{ ?s ?p ?o }} }}")

    def graphs(self) -> list[str]:
        table = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(term.value for (term,) in table.rows if term is not None and term.kind == "uri")

    def __len__(self) -> int:
        table = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(table.values()[0][0] or 0)

    def graph_ntriples(self, graph: str) -> bytes:
        """One named graph's triples as N-Triples (a CONSTRUCT, so any endpoint answers it)."""
        return self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri(graph)} {{ ?s ?p ?o }} }}")

    def iter_nquads(self) -> Iterator[bytes]:
        """The dataset as N-Quads, one named graph at a time."""
        for graph in self.graphs():
            triples = ox.parse(self.graph_ntriples(graph), ox.RdfFormat.N_TRIPLES)
            node = ox.NamedNode(graph)
            quads = [ox.Quad(t.subject, t.predicate, t.object, node) for t in triples]
            yield ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""

    def dump(self, out: IO[bytes], format_name: str, *, prefixes: bool = False) -> None:
        if format_name == "nquads":
            for chunk in self.iter_nquads():
                out.write(chunk)
            return
        if format_name == "trig":
            data = b"".join(self.iter_nquads())
            ox.serialize(ox.parse(data, ox.RdfFormat.N_QUADS), out, ox.RdfFormat.TRIG)
            return
        union = self.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        formats = {"ntriples": ox.RdfFormat.N_TRIPLES, "turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}
        if format_name not in formats:
            raise StoreError(f"cannot dump a remote store as {format_name!r}")
        ox.serialize(ox.parse(union, ox.RdfFormat.N_TRIPLES), out, formats[format_name])


def _batches(groups: dict[str | None, bytes], limit: int) -> Iterator[list[tuple[str | None, bytes]]]:
    """Graphs in requests of about ``limit`` bytes (a larger graph goes alone)."""
    batch: list[tuple[str | None, bytes]] = []
    size = 0
    for graph, triples in groups.items():
        if batch and size + len(triples) > limit:
            yield batch
            batch, size = [], 0
        batch.append((graph, triples))
        size += len(triples)
    if batch:
        yield batch


def _body(error: urllib.error.HTTPError, limit: int = 300) -> str:
    try:
        text = error.read().decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return (text or str(error.reason))[:limit]


def _reason(error: Exception, limit: int = 300) -> str:
    """SPARQLWrapper's message without its boilerplate: the endpoint's own words."""
    text = str(error)
    _, _, response = text.partition("Response:")
    detail = response.strip() or text
    if detail.startswith(("b'", 'b"')):
        detail = detail[2:-1].encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")
    return " ".join(detail.split())[:limit]


def open_remote_store(query_url: str, update_url: str | None = None, gsp_url: str | None = None, *,
                      token: str | None = None, timeout: float = 120.0) -> RemoteStore:
    """A store over a SPARQL 1.1 endpoint (read-only without ``update_url``/``gsp_url``).

    Example (the lead's ``kg query --endpoint URL``)::

        with open_remote_store("http://127.0.0.1:8000/sparql") as store:
            table = store.select(get_query("shared-site").bind())
    """
    if not query_url.startswith(("http://", "https://")):
        raise StoreError(f"not an http(s) endpoint URL: {query_url!r}")
    return RemoteStore(query_url, update_url, gsp_url, token=token, timeout=timeout)
