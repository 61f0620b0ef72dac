"""The embedded default store: Oxigraph (pyoxigraph) on disk.

Oxigraph bulk-loads N-Quads at hundreds of thousands of quads per second and answers
the self-joins of the canned queries in seconds at registry scale, where rdflib's
engine takes minutes (see DESIGN.md). Queries run with the union of all named graphs
as the default graph, so canned queries need no GRAPH clauses.

Example:
    >>> store = OxigraphStore(None)  # in memory
    >>> store.load_nquads(b'<urn:s> <urn:p> "o" <urn:g> .\\n')
    >>> store.select("SELECT ?o WHERE { ?s ?p ?o }").values()
    [('o',)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kg.errors import QueryError, StoreError
from kg.store.base import Store
from kg.store.results import ResultTable, Row, Term

_FORMATS = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "turtle": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
}
_QUAD_FORMATS = {"nquads", "trig"}


def _term(value: object) -> Term | None:
    if value is None:
        return None
    if isinstance(value, ox.NamedNode):
        return Term("uri", value.value)
    if isinstance(value, ox.BlankNode):
        return Term("bnode", value.value)
    if isinstance(value, ox.Literal):
        return Term("literal", value.value, value.datatype.value if not value.language else None, value.language)
    return Term("literal", str(value))


class OxigraphStore(Store):
    """An Oxigraph store in a directory (created if missing), or in memory for ``None``."""

    def __init__(self, path: Path | str | None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
        except OSError as error:
            raise StoreError(f"cannot open the store: {error}", source=str(self.path)) from None

    def load_nquads(self, data: bytes) -> None:
        if not data:
            return
        try:
            self._store.bulk_load(input=data, format=ox.RdfFormat.N_QUADS)
        except OSError as error:
            raise StoreError(f"cannot write to the store: {error}", source=str(self.path)) from None

    def remove_nquads(self, data: bytes) -> None:
        """Remove exactly these quads (no blank nodes; absent ones are no error).

        One quad at a time: Oxigraph has no bulk removal, and dropping a whole graph is no faster per quad.
        """
        try:
            for quad in ox.parse(input=data, format=ox.RdfFormat.N_QUADS):
                self._store.remove(quad)
        except OSError as error:
            raise StoreError(f"cannot write to the store: {error}", source=str(self.path)) from None

    def remove_graphs(self, graphs: Iterable[str]) -> None:
        for graph in graphs:
            node = ox.NamedNode(graph)
            if self._store.contains_named_graph(node):
                self._store.remove_graph(node)

    def has_graph(self, graph: str) -> bool:
        return bool(self._store.contains_named_graph(ox.NamedNode(graph)))

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def select(self, sparql: str) -> ResultTable:
        try:
            solutions = self._store.query(sparql, use_default_graph_as_union=True)
        except SyntaxError as error:
            raise QueryError(f"SPARQL syntax error: {error}") from None
        if not isinstance(solutions, ox.QuerySolutions):
            raise QueryError("only SELECT queries return tables")
        variables = [v.value for v in solutions.variables]
        rows: list[Row] = [tuple(_term(solution[name]) for name in variables) for solution in solutions]
        return ResultTable(variables, rows)

    def update(self, sparql: str) -> None:
        self._store.update(sparql)

    def dump(self, out: IO[bytes], format_name: str, *, prefixes: bool = False) -> None:
        rdf_format = _FORMATS[format_name]
        if prefixes:
            from kg.rdf.namespaces import PREFIXES

            if format_name == "trig":
                self._store.dump(out, rdf_format, prefixes=PREFIXES)
                return
            ox.serialize(self._union_triples(), out, rdf_format, prefixes=PREFIXES)
        elif format_name in _QUAD_FORMATS:
            self._store.dump(out, rdf_format)
        else:
            # Triple formats get the union of all graphs, as a reader of one file expects.
            ox.serialize(self._union_triples(), out, rdf_format)

    def iter_select(self, sparql: str) -> Iterator[tuple[str | None, ...]]:
        solutions = self._store.query(sparql, use_default_graph_as_union=True)
        if not isinstance(solutions, ox.QuerySolutions):
            raise StoreError("iter_select takes a SELECT query")
        width = len(solutions.variables)
        for solution in solutions:
            yield tuple(None if (term := solution[i]) is None else term.value for i in range(width))

    def _union_triples(self) -> ox.QueryTriples:
        """Every distinct triple of every graph (a CONSTRUCT result is a set)."""
        triples = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
        assert isinstance(triples, ox.QueryTriples)
        return triples

    def __len__(self) -> int:
        return len(self._store)

    def flush(self) -> None:
        if self.path is not None and not self.read_only:
            self._store.flush()

    def optimize(self) -> None:
        """Compact the on-disk files after a large build (faster queries, smaller store)."""
        if self.path is not None and not self.read_only:
            self._store.optimize()

    def close(self) -> None:
        self.flush()
        del self._store
