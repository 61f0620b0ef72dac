"""HTML from Jinja2 templates (autoescaped), and the SPARQL service description.

Why templates: the old pages were f-strings with their own escaping; Jinja2 escapes every
value by default (``autoescape``), so registry text such as ``<script>`` titles can only ever
be text. Values are wrapped in ``<bdi>`` by the templates so a right-to-left name cannot flip
the page around it. The only scripts a page may run are our own files under ``/static``
(YASGUI, vendored from npm, and the small glue that lists the canned queries): the Content
Security Policy forbids inline and foreign scripts.

The service description (SPARQL 1.1 Service Description) is built as an rdflib graph and
serialised by rdflib in whichever RDF syntax the client asked for.

Example:
    >>> markdown_text(r"Male \\& Female, age \\>= 18")
    'Male & Female, age >= 18'
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kg.queries import list_queries
from kg.serve.paths import compact, is_web_link, local_path
from kg.store.results import Term

CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
DEFAULT_QUERY = """PREFIX tkg: <https://w3id.org/trialkg/ontology#>
SELECT ?trial ?title WHERE {
  ?trial a tkg:Trial ; tkg:briefTitle ?title .
}
ORDER BY ?trial
LIMIT 100"""


def markdown_text(value: str | None) -> str:
    """Registry free text is Markdown: show ``\\&`` and ``\\>=`` as the characters they escape."""
    return _MARKDOWN_ESCAPE.sub(r"\1", value or "")


def href(term: Term | str | None) -> str | None:
    """Where a link to an IRI goes on this server (None for literals and blank nodes)."""
    if term is None:
        return None
    if isinstance(term, Term):
        if term.kind != "uri":
            return None
        term = term.value
    return local_path(term)


def shown(term: Term | str | None, label: Term | str | None = None) -> str:
    """The text a link or cell shows: the label if any, else a prefixed name or the literal's value."""
    if label is not None:
        text = label.value if isinstance(label, Term) else label
        if text:
            return text
    if term is None:
        return ""
    if isinstance(term, Term):
        return compact(term.value) if term.kind == "uri" else term.value
    return compact(term)


def value(term: Term | None) -> str:
    return "" if term is None else term.value


def datatype(term: Term | None) -> str | None:
    if term is None or term.kind != "literal" or not term.datatype or term.datatype == XSD_STRING:
        return None
    return compact(term.datatype)


def plain_title(text: str) -> str:
    """A ``<title>`` cannot hold markup: bidi controls are dropped instead of isolated."""
    return _BIDI_CONTROLS.sub("", text)


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("kg.serve", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(markdown=markdown_text, href=href, shown=shown, value=value, datatype=datatype,
                       compact=compact, plain_title=plain_title, local_path=local_path)
    env.globals.update(is_web_link=is_web_link)
    return env


def page(request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    body = environment().get_template(template).render(request=request, **context)
    return HTMLResponse(body, status_code=status, headers=headers)


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return page(request, "error.html", status=status, headers=headers, status_code=status, message=message)


def canned_examples() -> list[dict[str, str]]:
    """The canned queries, as YASGUI examples (name, title, text without the comment header)."""
    return [{"name": q.name, "title": q.title, "description": q.description, "query": q.body}
            for q in list_queries()]


def query_page(request: Request, query: str | None) -> HTMLResponse:
    return page(request, "query.html", query=query or DEFAULT_QUERY, examples=canned_examples())


@functools.lru_cache(maxsize=32)
def _description(endpoint: str, media: str, updates: bool, result_types: tuple[str, ...],
                 graph_types: tuple[str, ...]) -> bytes:
    from rdflib import BNode, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import RDF

    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    formats = Namespace("http://www.w3.org/ns/formats/")
    graph = Graph()
    graph.bind("sd", sd)
    graph.bind("formats", formats)
    service = URIRef(endpoint + "#service")
    graph.add((service, RDF.type, sd.Service))
    graph.add((service, sd.endpoint, URIRef(endpoint)))
    for language in ("SPARQL11Query", *(("SPARQL11Update",) if updates else ())):
        graph.add((service, sd.supportedLanguage, sd[language]))
    graph.add((service, sd.feature, sd.UnionDefaultGraph))
    names = {"application/sparql-results+json": "SPARQL_Results_JSON", "application/sparql-results+xml":
             "SPARQL_Results_XML", "text/csv": "SPARQL_Results_CSV", "text/tab-separated-values":
             "SPARQL_Results_TSV", "text/turtle": "Turtle", "application/n-triples": "N-Triples",
             "application/ld+json": "JSON-LD", "application/rdf+xml": "RDF_XML", "text/n3": "N3",
             "application/n-quads": "N-Quads", "application/trig": "TriG"}
    for media_type in (*result_types, *graph_types):
        if media_type in names:
            graph.add((service, sd.resultFormat, formats[names[media_type]]))
    dataset = BNode()
    graph.add((service, sd.defaultDataset, dataset))
    graph.add((dataset, RDF.type, sd.Dataset))
    graph.add((dataset, URIRef("http://purl.org/dc/terms/title"), Literal("trialkg: clinical trials and publications")))
    rdflib_format = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
                     "application/rdf+xml": "xml", "text/n3": "n3", "application/n-quads": "nquads",
                     "application/trig": "trig"}.get(media, "turtle")
    return graph.serialize(format=rdflib_format, encoding="utf-8")


def service_description(endpoint: str, media: str, config: Any) -> bytes:
    """The endpoint's SPARQL 1.1 Service Description in ``media`` (an RDF syntax)."""
    from kg.serve.negotiation import GRAPH_TYPES, RESULT_TYPES

    return _description(endpoint, media, config.update_token is not None, RESULT_TYPES, GRAPH_TYPES)
