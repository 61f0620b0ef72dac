"""Canned SPARQL queries: one ``queries/NAME.rq`` file each, loaded by name, with parameters.

Each file starts with a comment header::

    # title: Trials sharing a principal investigator
    # description: ...
    # param: nct (optional) an NCT id: only pairs involving that trial
    # columns: trial1, trial2, investigator, name

A parameter is bound by inserting ``VALUES ?name { value }`` at the top of the WHERE
group, which every SPARQL 1.1 engine understands; an unbound optional parameter leaves
the query unrestricted (its FILTER tests ``!BOUND(?name)``). Queries are plain SPARQL
1.1 written against the union of all graphs, so they run unchanged on Oxigraph, rdflib
and remote stores.

Example:
    >>> q = get_query("shared-principal-investigator")
    >>> q.parameters[0].name
    'nct'
    >>> "VALUES ?nct" in q.bind({"nct": "NCT01374854"})
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kg.errors import QueryError
from kg.rdf.terms import decimal, iri, literal
from kg.resources import data_dir

_HEADER = re.compile(r"^#\s*(title|description|param|columns):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM = re.compile(r"^(\w+)\s*(\(optional\))?\s*(.*)$")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_LIMIT = re.compile(r"\bLIMIT\s+(\d+)(\s+OFFSET\s+\d+)?\s*$", re.IGNORECASE)
_NCT = re.compile(r"^NCT\d{8}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    description: str
    optional: bool

    def check(self, value: str) -> str:
        """The value, normalised, or a QueryError saying what the parameter takes.

        Why: a mistyped value (``nct=XYZ``) would otherwise bind, match nothing and look like
        an empty answer; the header's description says what kind of value is meant.
        """
        kind = self.description.lower()
        if kind.startswith("an nct id"):
            if not _NCT.match(value.strip()):
                raise QueryError(f"--param {self.name}={value}: not an NCT id (NCT and 8 digits, e.g. NCT01374854)")
            return value.strip().upper()
        if kind.startswith("a number") and not _NUMBER.match(value.strip()):
            raise QueryError(f"--param {self.name}={value}: not a number")
        return value


@dataclass(frozen=True, slots=True)
class CannedQuery:
    name: str
    title: str
    description: str
    columns: str
    parameters: tuple[Parameter, ...]
    sparql: str
    path: Path | None = None

    @property
    def body(self) -> str:
        """The query without its comment header (some clients scan comments for keywords)."""
        lines = self.sparql.splitlines(keepends=True)
        start = 0
        while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
            start += 1
        return "".join(lines[start:])

    def bind(self, values: dict[str, str] | None = None, *, limit: int | None = None) -> str:
        """The query text (header dropped) with parameters bound; unknown or missing ones raise.

        ``limit`` caps the rows in the query itself (``LIMIT n`` after its ORDER BY), so the
        engine can stop early instead of the caller dropping rows it had to wait for.
        """
        text = self._bound(values)
        if limit is None:
            return text
        if limit < 0:
            raise QueryError(f"a limit must be 0 or more, not {limit}")
        stripped = text.rstrip()
        existing = _LIMIT.search(stripped)
        if existing:
            capped = min(limit, int(existing.group(1)))
            return stripped[: existing.start(1)] + str(capped) + stripped[existing.end(1) :] + "\n"
        return stripped + f"\nLIMIT {limit}\n"

    def _bound(self, values: dict[str, str] | None) -> str:
        values = values or {}
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(known))
        if unknown:
            accepted = ", ".join(known) or "none"
            raise QueryError(f"query {self.name!r} has no parameter {', '.join(unknown)} (parameters: {accepted})")
        missing = [p.name for p in self.parameters if not p.optional and p.name not in values]
        if missing:
            raise QueryError(f"query {self.name!r} needs parameter(s): {', '.join(missing)}")
        values = {name: known[name].check(value) for name, value in values.items()}
        body = self.body
        if not values:
            return body
        clauses = " ".join(f"VALUES ?{name} {{ {_term(value)} }}" for name, value in sorted(values.items()))
        match = _WHERE.search(body)
        if match is None:
            raise QueryError(f"query {self.name!r} has no WHERE clause to bind parameters in")
        return body[: match.end()] + "\n  " + clauses + body[match.end() :]


def _term(value: str) -> str:
    """A parameter value as a SPARQL term: IRIs in <>, numbers as decimals, else strings."""
    if value.startswith(("http://", "https://", "urn:")):
        return iri(value)
    if _NUMBER.match(value):
        return decimal(float(value)) if "." in value else value
    return literal(value)


def parse_query(text: str, name: str, path: Path | None = None) -> CannedQuery:
    """A CannedQuery from the text of a .rq file."""
    fields: dict[str, list[str]] = {"title": [], "description": [], "columns": []}
    params: list[Parameter] = []
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        header = _HEADER.match(line)
        continuation = _CONTINUATION.match(line)
        if header:
            key, value = header.groups()
            last = key
            if key == "param":
                match = _PARAM.match(value.strip())
                if match:
                    params.append(Parameter(match.group(1), match.group(3), bool(match.group(2))))
            else:
                fields[key].append(value.strip())
        elif continuation and last in fields:
            fields[last].append(continuation.group(1))
    return CannedQuery(
        name=name,
        title=" ".join(fields["title"]) or name,
        description=" ".join(fields["description"]),
        columns=" ".join(fields["columns"]),
        parameters=tuple(params),
        sparql=text,
        path=path,
    )


def queries_dir() -> Path:
    return data_dir("queries")


def list_queries() -> list[CannedQuery]:
    """Every canned query, by name."""
    return [parse_query(p.read_text("utf-8"), p.stem, p) for p in sorted(queries_dir().glob("*.rq"))]


def get_query(name_or_path: str) -> CannedQuery:
    """A canned query by name, or any .rq file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".rq" or len(candidate.parts) > 1:
        # A path, not a name: say the file is missing rather than "no canned query".
        if not candidate.is_file():
            raise QueryError(f"file not found: {name_or_path}")
        return parse_query(candidate.read_text("utf-8"), candidate.stem, candidate)
    path = queries_dir() / f"{name_or_path}.rq"
    if not path.is_file():
        names = ", ".join(q.name for q in list_queries())
        raise QueryError(f"no canned query {name_or_path!r} (known: {names}; or give a path to a .rq file)")
    return parse_query(path.read_text("utf-8"), name_or_path, path)
