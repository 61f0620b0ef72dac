"""Query results independent of the engine, serialised in the SPARQL 1.1 result formats.

Oxigraph, rdflib and remote endpoints return different objects; the CLI, the tests
that compare engines and the exporters all work on this one table instead.

Example:
    >>> table = ResultTable(["x"], [(Term("literal", "1"),)])
    >>> to_csv(table).splitlines()
    ['x', '1']
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class Term:
    """An RDF term in a result row: kind is ``uri``, ``literal`` or ``bnode``."""

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    def n3(self) -> str:
        """The term in N-Triples/SPARQL syntax (used by TSV results and parameter binding)."""
        from kg.rdf.terms import iri, literal, typed

        if self.kind == "uri":
            return iri(self.value)
        if self.kind == "bnode":
            return "_:" + self.value
        if self.lang:
            return literal(self.value) + "@" + self.lang
        if self.datatype and self.datatype != "http://www.w3.org/2001/XMLSchema#string":
            return typed(self.value, iri(self.datatype))
        return literal(self.value)


Row = tuple["Term | None", ...]


@dataclass(frozen=True, slots=True)
class ResultTable:
    variables: list[str]
    rows: list[Row]

    def values(self) -> list[tuple[str | None, ...]]:
        """Rows as plain strings (None for unbound), for notebooks and tests."""
        return [tuple(term.value if term else None for term in row) for row in self.rows]

    def records(self) -> list[dict[str, str | None]]:
        return [dict(zip(self.variables, row, strict=False)) for row in self.values()]


def to_json(table: ResultTable) -> str:
    """SPARQL 1.1 Query Results JSON."""
    bindings = []
    for row in table.rows:
        binding: dict[str, dict[str, str]] = {}
        for name, term in zip(table.variables, row, strict=False):
            if term is None:
                continue
            entry = {"type": term.kind, "value": term.value}
            if term.datatype and term.kind == "literal":
                entry["datatype"] = term.datatype
            if term.lang:
                entry["xml:lang"] = term.lang
            binding[name] = entry
        bindings.append(binding)
    document = {"head": {"vars": table.variables}, "results": {"bindings": bindings}}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def to_csv(table: ResultTable) -> str:
    """SPARQL 1.1 Query Results CSV (values only, CRLF line ends per the spec's RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.variables)
    writer.writerows(table.values())
    return buffer.getvalue()


def to_tsv(table: ResultTable) -> str:
    """SPARQL 1.1 Query Results TSV (terms in SPARQL syntax)."""
    lines = ["\t".join("?" + name for name in table.variables)]
    for row in table.rows:
        lines.append("\t".join(term.n3() if term else "" for term in row))
    return "\n".join(lines) + "\n"


def to_text_table(table: ResultTable, max_width: int = 60) -> str:
    """A plain aligned table for people at a terminal; long values are shortened."""

    def show(value: str | None) -> str:
        text = (value or "").replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    rows = [[show(v) for v in row] for row in table.values()]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(table.variables)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(table.variables, widths, strict=False))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=False)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


FORMATTERS = {"table": to_text_table, "json": to_json, "csv": to_csv, "tsv": to_tsv}
