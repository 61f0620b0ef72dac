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
import datetime as dt
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import pandas

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {_XSD + name for name in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
    "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
_FLOATS = {_XSD + "decimal", _XSD + "double", _XSD + "float"}
# Registry dates come at day, month or year precision; a DataFrame column holds one type, so a
# month or a year stands for its first day (the lexical value stays in ResultTable.values()).
_DATES = {_XSD + "date": "%Y-%m-%d", _XSD + "gYearMonth": "%Y-%m", _XSD + "gYear": "%Y"}


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

    def to_python(self) -> int | float | bool | dt.date | dt.datetime | str:
        """The value as the Python type its datatype names; IRIs, strings and unknown types as str.

        Why: SPARQL results carry every value as text; analyses want numbers that sort as
        numbers and dates that subtract. A lexical form its datatype rejects stays a string.
        """
        if self.kind != "literal" or not self.datatype or self.lang:
            return self.value
        text = self.value.strip()
        try:
            if self.datatype in _INTEGERS:
                return int(text)
            if self.datatype in _FLOATS:
                return float(text)
            if self.datatype == _XSD + "boolean":
                if text in {"true", "1", "false", "0"}:
                    return text in {"true", "1"}
                return self.value
            if self.datatype in _DATES:
                return dt.datetime.strptime(text[:10], _DATES[self.datatype]).date()
            if self.datatype == _XSD + "dateTime":
                return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return self.value
        return self.value


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

    def typed_records(self) -> list[dict[str, object]]:
        """Rows as dicts of Python values typed by their literal datatypes (see Term.to_python)."""
        return [{name: term.to_python() if term else None for name, term in zip(self.variables, row, strict=False)}
                for row in self.rows]

    def head(self, limit: int | None) -> ResultTable:
        """The first ``limit`` rows (all of them for None)."""
        return self if limit is None else ResultTable(self.variables, self.rows[:limit])

    def to_pandas(self) -> pandas.DataFrame:
        """The table as a DataFrame with one dtype per column, chosen from the literal datatypes.

        Integers become ``Int64`` (nullable, so an unbound value does not turn them into
        floats), decimals and doubles ``float64``, booleans ``boolean``, dates and date-times
        ``datetime64`` (UTC when any value has a zone), and IRIs, plain and language-tagged
        strings, or a column mixing kinds, strings. Needs pandas (``pip install trialkg[notebooks]``).
        """
        import pandas

        columns = {name: _column(pandas, [row[i] if i < len(row) else None for row in self.rows])
                   for i, name in enumerate(self.variables)}
        return pandas.DataFrame(columns, columns=self.variables)


def _column(pandas: object, terms: list[Term | None]) -> pandas.Series:
    """One result column as a typed Series (see ResultTable.to_pandas)."""
    import pandas as pd

    values = [term.to_python() if term is not None else None for term in terms]
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if not present or str in kinds:
        return pd.Series([term.value if term is not None else None for term in terms], dtype="object")
    if kinds == {bool}:
        return pd.Series(values, dtype="boolean")
    if kinds == {int}:
        return pd.Series(values, dtype="Int64")
    if kinds <= {int, float}:
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")  # type: ignore[arg-type]
    if kinds <= {dt.date, dt.datetime}:
        zoned = any(isinstance(v, dt.datetime) and v.tzinfo is not None for v in present)
        return pd.to_datetime(pd.Series(values, dtype="object"), utc=zoned)
    return pd.Series([term.value if term is not None else None for term in terms], dtype="object")


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


def to_text_table(table: ResultTable, width: int | None = None) -> str:
    """An aligned table for people at a terminal, fitted to ``width`` (default: the terminal's).

    Why this shape: IRIs are the values people copy from a table, so none is ever cut. IRIs
    in trialkg's namespaces are shown as prefixed names (``res:person/jianming-tan``, the
    prefixes listed under the table); a value wider than its column wraps onto more lines.
    """
    import shutil
    import textwrap

    width = width or shutil.get_terminal_size((120, 24)).columns
    used: set[str] = set()
    cells = [[_shown(term, used) for term in row] for row in table.rows]
    natural = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(table.variables)]
    floors = [max([len(name)] + [min(len(word), 40) for row in cells for word in row[i].split()])
              for i, name in enumerate(table.variables)]
    widths = _fit(natural, floors, width - 2 * (len(natural) - 1))
    lines = ["  ".join(name.ljust(w) for name, w in zip(table.variables, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        wrapped = [textwrap.wrap(value, w, break_long_words=True, break_on_hyphens=False) or [""]
                   for value, w in zip(row, widths, strict=False)]
        for depth in range(max(len(parts) for parts in wrapped)):
            parts = [column[depth] if depth < len(column) else "" for column in wrapped]
            lines.append("  ".join(part.ljust(w) for part, w in zip(parts, widths, strict=False)).rstrip())
    lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    if used:
        from kg.rdf.namespaces import PREFIXES

        lines.append("prefixes: " + ", ".join(f"{name}: <{PREFIXES[name]}>" for name in sorted(used)))
    return "\n".join(lines) + "\n"


def _shown(term: Term | None, used: set[str]) -> str:
    """A cell's text: IRIs as prefixed names where a prefix fits, newlines flattened."""
    if term is None:
        return ""
    if term.kind == "uri":
        from kg.rdf.namespaces import PREFIXES

        best = max((name for name, ns in PREFIXES.items() if term.value.startswith(ns)),
                   key=lambda name: len(PREFIXES[name]), default=None)
        if best is not None and len(term.value) > len(PREFIXES[best]):
            used.add(best)
            return f"{best}:{term.value[len(PREFIXES[best]):]}"
    return " ".join(term.value.split())


def _fit(natural: list[int], floors: list[int], budget: int) -> list[int]:
    """Column widths within ``budget``: narrow columns keep their width, wide ones share the rest.

    Water-filling: a column narrower than an equal share of what is left keeps its natural
    width; the others get equal shares, never below their floor (the longest word, capped),
    so identifiers stay on one line while prose wraps.
    """
    widths = list(natural)
    if sum(natural) <= budget:
        return widths
    open_columns = sorted(range(len(natural)), key=lambda i: natural[i])
    left = budget
    while open_columns:
        share = left // len(open_columns)
        narrow = [i for i in open_columns if natural[i] <= share]
        if not narrow:
            break
        for i in narrow:
            left -= natural[i]
            open_columns.remove(i)
    for i in open_columns:
        widths[i] = max(floors[i], left // len(open_columns))
    return widths


FORMATTERS = {"table": to_text_table, "json": to_json, "csv": to_csv, "tsv": to_tsv}
