"""Which syntax to answer in: the SPARQL 1.1 Protocol as clients really use it.

Why: one URL serves people and programs, and clients disagree on how to ask. SPARQLWrapper
(default settings) sends ``format=``, ``output=`` and ``results=`` all at once, sometimes
twice each (``format=rdf+xml&format=application/rdf+xml``), *and* an Accept header; ``xml``
means SPARQL XML for a SELECT but RDF/XML for a CONSTRUCT, ``json`` SPARQL JSON or JSON-LD.
Since the form is only known once the engine has parsed the query, a request is turned into
one choice per form (solutions and booleans, graphs) and the engine picks by what it got.
A name the server does not know is ignored (as other servers do) and Accept decides.

Serialising is pyoxigraph's job (:mod:`kg.store.sandbox`); this module only names media types.

Example:
    >>> choose("text/html,application/xml;q=0.9,*/*;q=0.8", {}).html
    True
    >>> c = choose("application/rdf+xml", {"format": ["xml"], "output": ["xml"], "results": ["xml"]})
    >>> (c.results, c.graph)
    ('application/sparql-results+xml', 'application/rdf+xml')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
TURTLE = "text/turtle"

# What pyoxigraph writes (canonical media types), the server's preference first.
RESULT_TYPES = (RESULTS_JSON, RESULTS_XML, "text/csv", "text/tab-separated-values")
GRAPH_TYPES = (TURTLE, "application/n-triples", "application/ld+json", "application/rdf+xml", "text/n3",
               "application/n-quads", "application/trig")

# Other names clients put in Accept for the same syntaxes.
_RESULT_ALIASES = {"application/json": RESULTS_JSON, "application/xml": RESULTS_XML, "text/xml": RESULTS_XML,
                   "text/javascript": RESULTS_JSON, "application/javascript": RESULTS_JSON}
_GRAPH_ALIASES = {"application/turtle": TURTLE, "application/x-turtle": TURTLE, "text/plain": "application/n-triples",
                  "application/x-json+ld": "application/ld+json", "application/xml": "application/rdf+xml",
                  "text/xml": "application/rdf+xml", "text/rdf+n3": "text/n3", "application/n3": "text/n3",
                  "application/json": "application/ld+json"}

# Names in format=/output=/results=: (for solutions and booleans, for graphs); None: not that form.
_NAMES: dict[str, tuple[str | None, str | None]] = {
    "json": (RESULTS_JSON, "application/ld+json"), "xml": (RESULTS_XML, "application/rdf+xml"),
    "csv": ("text/csv", None), "tsv": ("text/tab-separated-values", None),
    "turtle": (None, TURTLE), "ttl": (None, TURTLE), "n3": (None, "text/n3"),
    "nt": (None, "application/n-triples"), "ntriples": (None, "application/n-triples"),
    "n-triples": (None, "application/n-triples"), "jsonld": (None, "application/ld+json"),
    "json-ld": (None, "application/ld+json"), "rdf": (None, "application/rdf+xml"),
    "rdfxml": (None, "application/rdf+xml"), "rdf+xml": (None, "application/rdf+xml"),
    "nq": (None, "application/n-quads"), "nquads": (None, "application/n-quads"), "trig": (None, "application/trig"),
}
FORMAT_PARAMETERS = ("format", "output", "results")


@dataclass(frozen=True, slots=True)
class Choice:
    """The media type for each result form (None: nothing acceptable), or a page for a browser."""

    results: str | None
    graph: str | None
    html: bool = False


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


def _with_aliases(header: str | None, offers: Sequence[str], aliases: dict[str, str]) -> str | None:
    chosen = negotiate(header, (*offers, *aliases))
    return aliases.get(chosen, chosen) if chosen else None


def _named(params: dict[str, list[str]]) -> tuple[str | None, str | None] | None:
    """The first format name (or media type) the server knows, over format=, output=, results=."""
    for name in FORMAT_PARAMETERS:
        for value in params.get(name, []):
            key = value.strip().lower()
            if key in _NAMES:
                return _NAMES[key]
            if key in RESULT_TYPES or key in _RESULT_ALIASES:
                return _RESULT_ALIASES.get(key, key), _GRAPH_ALIASES.get(key) if key in _GRAPH_ALIASES else None
            if key in GRAPH_TYPES or key in _GRAPH_ALIASES:
                return None, _GRAPH_ALIASES.get(key, key)
            if key == "html":
                return None, None
    return None


def wants_html(accept: str | None, params: dict[str, list[str]]) -> bool:
    """A browser's request (text/html preferred to every result syntax), or format=html."""
    if any(v.strip().lower() == "html" for name in FORMAT_PARAMETERS for v in params.get(name, [])):
        return True
    if _named(params) is not None or not accept or "text/html" not in accept.lower():
        return False  # */* alone is a program's "anything": it gets data, not a page
    return negotiate(accept, ("text/html", *RESULT_TYPES, *GRAPH_TYPES)) == "text/html"


def choose(accept: str | None, params: dict[str, list[str]]) -> Choice:
    """The answer's syntax for each form: a format name wins where it applies to the form, else Accept."""
    if wants_html(accept, params):
        return Choice(None, None, html=True)
    named = _named(params) or (None, None)
    results = named[0] or _with_aliases(accept, RESULT_TYPES, _RESULT_ALIASES)
    graph = named[1] or _with_aliases(accept, GRAPH_TYPES, _GRAPH_ALIASES)
    return Choice(results, graph)


def content_type(media: str) -> str:
    """The Content-Type header for a media type (UTF-8 said for text types)."""
    return media + "; charset=utf-8" if media.startswith("text/") else media
