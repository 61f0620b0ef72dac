"""The linked-data routes: a page for a browser, RDF for a program, from the same IRI.

Why: a trialkg IRI should answer a researcher and a crawler alike. ``Accept: text/html`` gets
the page of the resource's kind (trial, person, organisation, site, anything else); any RDF
media type gets the resource's description (its statements, and up to ``INBOUND_LIMIT`` that
point at it), or a record's whole named graph, serialised by pyoxigraph. Every query goes
through the sandboxed runner; the IRI is bound as ``?this`` by the engine's substitutions.

Example:
    >>> DESCRIBE_QUERY.count("?this") > 2
    True
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kg.queries import list_queries
from kg.rdf.namespaces import GRAPH, ONTOLOGY
from kg.resources import ontology_path
from kg.serve import negotiation, render, views
from kg.serve.paths import iri_for_path
from kg.serve.service import Problem, Service
from kg.store.results import ResultTable, Term

INBOUND_LIMIT = 1000
TRIALS_PER_PAGE = 100
DESCRIBE_QUERY = (f"CONSTRUCT {{ ?this ?p ?o . ?s ?q ?this }} WHERE {{ {{ ?this ?p ?o }} UNION "
                  f"{{ SELECT ?s ?q ?this WHERE {{ ?s ?q ?this }} LIMIT {INBOUND_LIMIT} }} }}")
GRAPH_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?this { ?s ?p ?o } }"
ALTERNATES = (("Turtle", "ttl"), ("JSON-LD", "jsonld"), ("N-Triples", "nt"), ("RDF/XML", "rdfxml"))


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = defaultdict(list)
    for key, item in request.query_params.multi_items():
        params[key].append(item)
    return params


async def mounted(request: Request) -> Response:
    target = iri_for_path(request.url.path)
    if target is None:
        raise Problem(404, f"nothing at {request.url.path}")
    return await _resource(request, target)


async def describe(request: Request) -> Response:
    target = request.query_params.get("iri")
    if not target:
        raise Problem(400, "give the IRI to describe: /describe?iri=...")
    if not target.isprintable() or any(c in target for c in '<>"{}|^`\\ '):
        raise Problem(400, "not an IRI")
    return await _resource(request, target)


async def _resource(request: Request, target: str) -> Response:
    service = _service(request)
    params = _params(request)
    choice = negotiation.choose(request.headers.get("accept"), params)
    this = {"this": Term("uri", target)}
    if choice.html:
        view = await _view(service, target)
        if view is None:
            raise Problem(404, f"the store says nothing about {target}")
        return render.page(request, f"{view.kind}.html", view=view, alternates=ALTERNATES,
                           related=views.RELATED)
    if choice.graph is None:
        raise Problem(406, "no acceptable format; offered: text/html, " + ", ".join(negotiation.GRAPH_TYPES))
    query = DESCRIBE_QUERY
    if target.startswith(GRAPH):
        ask = await service.call(service.runner.run, "ASK { GRAPH ?this { ?s ?p ?o } }",
                                 results_media=negotiation.RESULTS_JSON, substitutions=this)
        if b"true" in ask.body:
            query = GRAPH_QUERY
    answer = await service.call(service.runner.run, query, graph_media=choice.graph, substitutions=this)
    empty = await service.call(service.runner.run, "ASK { { ?this ?p ?o } UNION { ?s ?p ?this } UNION "
                               "{ GRAPH ?this { ?a ?b ?c } } }", results_media=negotiation.RESULTS_JSON,
                               substitutions=this)
    if b"false" in empty.body:
        raise Problem(404, f"the store says nothing about {target}")
    return Response(answer.body, media_type=negotiation.content_type(answer.media_type), headers={"Vary": "Accept"})


async def _tables(service: Service, queries: list[tuple[str, dict[str, Term] | None]]) -> list[ResultTable]:
    answers = await service.call(service.runner.select_many, queries)
    return [views.table_from_json(answer.body) for answer in answers]


async def _view(service: Service, target: str) -> views.View | None:
    this = {"this": Term("uri", target)}
    first = await _tables(service, [
        (views.PREFIXES + views.GENERIC_QUERIES["types"], this),
        (views.PREFIXES + "SELECT ?this (COUNT(*) AS ?n) WHERE { GRAPH ?this { ?s ?p ?o } } GROUP BY ?this", this),
        ("SELECT ?this WHERE { { ?this ?p ?o } UNION { ?s ?p ?this } } LIMIT 1", this)])
    types = [row[1].value for row in first[0].rows if row[1] is not None]
    graph_size = int(first[1].rows[0][1].value) if first[1].rows and first[1].rows[0][1] else 0
    if not first[2].rows and not graph_size:
        return None
    kind = views.kind_of(types)
    chosen = views.queries_for(kind)
    tables = await _tables(service, [(views.PREFIXES + q, this) for q in chosen.values()])
    sections = {name: views.rows(table) for name, table in zip(chosen, tables, strict=True)}
    view = views.View(iri=target, kind=kind, title=views.title_for(sections, target), types=types, sections=sections)
    view.extra["graph_size"] = graph_size
    if kind == "trial":
        _trial_extras(view)
    return view


def _trial_extras(view: views.View) -> None:
    """Criteria grouped by kind; outcomes by primary/secondary."""
    groups: dict[str, list[dict[str, Term | None]]] = {"Inclusion": [], "Exclusion": [], "Other": []}
    for row in view.sections.get("criteria", []):
        kind = row.get("kind")
        name = kind.value.rsplit("#", 1)[-1] if kind is not None else ""
        groups[{"InclusionCriterion": "Inclusion", "ExclusionCriterion": "Exclusion"}.get(name, "Other")].append(row)
    view.extra["criteria"] = [(k, v) for k, v in groups.items() if v]
    outcomes: dict[str, list[dict[str, Term | None]]] = defaultdict(list)
    for row in view.sections.get("outcomes", []):
        kind = row.get("kind")
        outcomes[(kind.value if kind is not None else "other").capitalize()].append(row)
    view.extra["outcomes"] = sorted(outcomes.items(), key=lambda kv: ("Primary", "Secondary").index(kv[0])
                                    if kv[0] in ("Primary", "Secondary") else 9)
    pi_types = {ONTOLOGY + "PrincipalInvestigator", ONTOLOGY + "ResponsiblePartyInvestigator"}
    view.extra["pis"] = [r for r in view.sections.get("people", []) if (t := r.get("roleType")) and t.value in pi_types]


async def home(request: Request) -> Response:
    service = _service(request)
    try:
        offset = max(0, int(request.query_params.get("offset", "0")))
    except ValueError:
        raise Problem(400, "offset must be a number") from None
    prefix = views.PREFIXES
    total, trials = await _tables(service, [
        (prefix + "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a tkg:Trial }", None),
        (prefix + f"""SELECT ?t (MIN(?id) AS ?nct) (MIN(?bt) AS ?title) (MIN(?st) AS ?status) WHERE {{
          ?t a tkg:Trial ; tkg:nctId ?id . OPTIONAL {{ ?t tkg:briefTitle ?bt }}
          OPTIONAL {{ ?t tkg:overallStatus ?st }} }}
          GROUP BY ?t ORDER BY ?nct LIMIT {TRIALS_PER_PAGE} OFFSET {offset}""", None)])
    count = int(total.rows[0][0].value) if total.rows and total.rows[0][0] else 0
    return render.page(request, "home.html", total=count, offset=offset, per_page=TRIALS_PER_PAGE,
                       trials=views.rows(trials), queries=list_queries())


async def ontology(request: Request) -> Response:
    params = _params(request)
    accept = request.headers.get("accept")
    if negotiation.wants_html(accept, params):
        return render.page(request, "ontology.html", terms=ontology_terms(), namespace=ONTOLOGY)
    choice = negotiation.choose(accept, params)
    if choice.graph != negotiation.TURTLE and not any(v in ("ttl", "turtle") for v in params.get("format", [])):
        raise Problem(406, "the ontology is served as text/turtle or text/html")
    return Response(ontology_path().read_bytes(), media_type="text/turtle; charset=utf-8")


async def jsonld_context(request: Request) -> Response:
    """The JSON-LD context the endpoint's and the export's documents name (``/context.jsonld``)."""
    from kg.store.jsonld import context_path

    return Response(context_path().read_bytes(), media_type="application/ld+json")


@functools.lru_cache(maxsize=1)
def ontology_terms() -> list[dict[str, Any]]:
    """The ontology's terms (IRI, kind, label, comment), read with rdflib from the packaged Turtle file."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import OWL, RDF, RDFS

    graph = Graph()
    graph.parse(ontology_path(), format="turtle")
    kinds: dict[object, str] = {OWL.Class: "class", OWL.ObjectProperty: "property", OWL.DatatypeProperty: "property",
             RDF.Property: "property", OWL.NamedIndividual: "individual"}
    terms = []
    for subject in sorted({s for s in graph.subjects() if isinstance(s, URIRef)}):
        kind = next((kinds[t] for t in graph.objects(subject, RDF.type) if t in kinds), "term")
        name = str(subject)
        terms.append({"iri": name, "anchor": name[len(ONTOLOGY):] if name.startswith(ONTOLOGY) else "",
                      "kind": kind, "label": str(graph.value(subject, RDFS.label) or ""),
                      "comment": str(graph.value(subject, RDFS.comment) or "")})
    return terms
