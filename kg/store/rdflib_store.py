"""An in-memory rdflib store: for small graphs, interop, and as a reference SPARQL engine.

rdflib is the ecosystem's common API, and its SPARQL engine is an independent
implementation: the tests run every canned query on it and on Oxigraph and compare.
It is far slower than Oxigraph, so it is never the default for builds or queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

import rdflib
from rdflib.term import BNode, Literal, URIRef

from kg.errors import QueryError
from kg.store.base import Store
from kg.store.results import ResultTable, Row, Term


def _term(value: object) -> Term | None:
    if value is None:
        return None
    if isinstance(value, URIRef):
        return Term("uri", str(value))
    if isinstance(value, BNode):
        return Term("bnode", str(value))
    if isinstance(value, Literal):
        datatype = str(value.datatype) if value.datatype else None
        if datatype is None and not value.language:
            datatype = "http://www.w3.org/2001/XMLSchema#string"
        return Term("literal", str(value), datatype, value.language)
    return Term("literal", str(value))


class RdflibStore(Store):
    def __init__(self) -> None:
        self.dataset = rdflib.Dataset(default_union=True)

    def load_nquads(self, data: bytes) -> None:
        if data:
            self.dataset.parse(data=data, format="nquads")

    def remove_graphs(self, graphs: Iterable[str]) -> None:
        for graph in graphs:
            self.dataset.remove_graph(URIRef(graph))

    def has_graph(self, graph: str) -> bool:
        return any(str(g.identifier) == graph for g in self.dataset.graphs())

    def graphs(self) -> list[str]:
        return sorted(str(g.identifier) for g in self.dataset.graphs() if isinstance(g.identifier, URIRef)
                      and str(g.identifier) != "urn:x-rdflib:default")

    def select(self, sparql: str) -> ResultTable:
        try:
            result = self.dataset.query(sparql)
        except Exception as error:  # rdflib raises pyparsing errors of many kinds
            raise QueryError(f"SPARQL error: {error}") from None
        variables = [str(v) for v in result.vars or []]
        rows: list[Row] = [tuple(_term(row[i]) for i in range(len(variables))) for row in result]  # type: ignore[index]
        return ResultTable(variables, rows)

    def dump(self, out: IO[bytes], format_name: str, *, prefixes: bool = False) -> None:
        names = {"nquads": "nquads", "trig": "trig", "ntriples": "nt", "turtle": "turtle", "jsonld": "json-ld"}
        out.write(self.dataset.serialize(format=names[format_name], encoding="utf-8"))

    def __len__(self) -> int:
        return len(self.dataset)

    def to_rdflib(self) -> rdflib.Dataset:
        return self.dataset
