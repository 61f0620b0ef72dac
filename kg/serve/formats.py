"""Content negotiation and the response formats of the endpoint and the linked-data pages.

Why: one URL serves people and programs. A browser (``Accept: text/html``) gets a page,
SPARQLWrapper gets SPARQL JSON or XML results, ``curl -H 'Accept: text/turtle'`` gets Turtle.
SELECT results use the same JSON/CSV/TSV writers as ``kg query`` (kg.store.results), plus
the SPARQL XML results format; graphs (CONSTRUCT, DESCRIBE, resource descriptions) go
through Oxigraph's serialisers with trialkg's prefixes. A ``format=`` parameter overrides
the Accept header, so a link can name its format.

Example:
    >>> negotiate("text/html,application/xml;q=0.9,*/*;q=0.8", SOLUTION_TYPES)
    'text/html'
    >>> negotiate("application/sparql-results+json,application/json", SOLUTION_TYPES)
    'application/sparql-results+json'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import orjson
import pyoxigraph as ox

from kg.rdf.namespaces import PREFIXES
from kg.store.results import ResultTable, to_csv, to_json, to_tsv

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# Offered media types, the server's preference first (used for */* and for no Accept at all).
SOLUTION_TYPES = (
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values", "text/html", "application/json", "application/xml", "text/xml",
)
BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml", "text/html",
                 "application/json", "application/xml", "text/xml")
GRAPH_TYPES = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml",
               "text/html", "text/plain")

# The ``format=`` parameter: a short name for each media type.
FORMAT_NAMES = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "html": "text/html", "ttl": "text/turtle", "turtle": "text/turtle",
    "nt": "application/n-triples", "ntriples": "application/n-triples", "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml", "rdfxml": "application/rdf+xml",
}

_CHARSET = "; charset=utf-8"
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def _ranges(header: str) -> list[tuple[str, float, int]]:
    """Media ranges of an Accept header as (range, q, position)."""
    out = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        quality = 1.0
        for parameter in fields[1:]:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        out.append((media, quality, position))
    return out


def _match(media_range: str, offer: str) -> int:
    """How specifically a range matches an offer: 3 exact, 2 type/*, 1 */*, 0 not at all."""
    if media_range == offer:
        return 3
    kind, _, subtype = media_range.partition("/")
    if subtype == "*" and offer.startswith(kind + "/"):
        return 2
    return 1 if media_range == "*/*" else 0


def negotiate(header: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers (q, then its own order, then ours); None if nothing is acceptable."""
    if not header or not header.strip():
        return offers[0]
    ranges = _ranges(header)
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, offer in enumerate(offers):
        matches = [(_match(r, offer), q, pos) for r, q, pos in ranges if _match(r, offer)]
        if not matches:
            continue
        _, quality, position = max(matches, key=lambda m: m[0])  # the most specific range decides
        if quality <= 0:
            continue
        key = (quality, -position, -index)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


def choose(accept: str | None, format_param: str | None, offers: Sequence[str]) -> str | None:
    """``format=`` if given and offered, else content negotiation."""
    if format_param:
        media = FORMAT_NAMES.get(format_param.lower(), format_param.lower())
        return media if media in offers else None
    return negotiate(accept, offers)


def content_type(media: str) -> str:
    return media + _CHARSET if media.startswith("text/") else media


def _xml_text(value: str) -> str:
    return escape(_ILLEGAL_XML.sub("\ufffd", value))


def _xml_attr(value: str) -> str:
    return quoteattr(_ILLEGAL_XML.sub("\ufffd", value))


def to_xml(table: ResultTable) -> str:
    """SPARQL Query Results XML Format."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
             "  <head>"]
    lines += [f"    <variable name={_xml_attr(name)}/>" for name in table.variables]
    lines += ["  </head>", "  <results>"]
    for row in table.rows:
        lines.append("    <result>")
        for name, term in zip(table.variables, row, strict=False):
            if term is None:
                continue
            if term.kind == "uri":
                value = f"<uri>{_xml_text(term.value)}</uri>"
            elif term.kind == "bnode":
                value = f"<bnode>{_xml_text(term.value)}</bnode>"
            elif term.lang:
                value = f"<literal xml:lang={_xml_attr(term.lang)}>{_xml_text(term.value)}</literal>"
            elif term.datatype and term.datatype != XSD_STRING:
                value = f"<literal datatype={_xml_attr(term.datatype)}>{_xml_text(term.value)}</literal>"
            else:
                value = f"<literal>{_xml_text(term.value)}</literal>"
            lines.append(f"      <binding name={_xml_attr(name)}>{value}</binding>")
        lines.append("    </result>")
    lines += ["  </results>", "</sparql>"]
    return "\n".join(lines) + "\n"


def solutions_body(table: ResultTable, media: str) -> bytes:
    """SELECT results in a SPARQL results format (``media`` from SOLUTION_TYPES, not HTML)."""
    if media in ("application/sparql-results+xml", "application/xml", "text/xml"):
        return to_xml(table).encode("utf-8")
    if media == "text/csv":
        return to_csv(table).encode("utf-8")
    if media == "text/tab-separated-values":
        return to_tsv(table).encode("utf-8")
    return to_json(table).encode("utf-8")


def boolean_body(value: bool, media: str) -> bytes:
    """ASK results as SPARQL JSON or XML."""
    if media in ("application/sparql-results+xml", "application/xml", "text/xml"):
        word = "true" if value else "false"
        return ('<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
                f"  <head/>\n  <boolean>{word}</boolean>\n</sparql>\n").encode()
    return orjson.dumps({"head": {}, "boolean": value}) + b"\n"


def solutions_media(media: str) -> str:
    """The Content-Type to send for a negotiated results type (JSON/XML aliases get the SPARQL types)."""
    aliases = {"application/json": "application/sparql-results+json",
               "application/xml": "application/sparql-results+xml", "text/xml": "application/sparql-results+xml"}
    return content_type(aliases.get(media, media))


def triples_body(triples: Sequence[ox.Triple], media: str) -> bytes:
    """Triples as Turtle, N-Triples, JSON-LD or RDF/XML."""
    rdf_format = _RDF_FORMATS[media]
    prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.JSON_LD, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(sorted(triples, key=str), format=rdf_format, prefixes=prefixes) or b""
