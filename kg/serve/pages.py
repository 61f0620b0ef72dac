"""Readable pages for resources: a trial with its people, arms, sites, criteria and publications; a
person with their trials; anything else as its statements and the statements that point at it.

Why: a linked-data IRI should answer a person in a browser as well as a program. Every page is
built from plain SPARQL over the store (through the engine's limits), so what the page shows
is exactly what a query would return; every linked entity is a link to its own page.

Example:
    >>> from kg import build, open_store
    >>> from kg.serve.engine import Boolean, Engine
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> b"Jianming Tan" in resource_page(Engine(store), "https://clinicaltrials.gov/study/NCT01374854")
    True
"""

from __future__ import annotations

from collections import defaultdict

from kg.rdf.namespaces import GRAPH, ONTOLOGY, RDF, RDFS
from kg.rdf.terms import iri
from kg.serve.engine import Boolean, Engine
from kg.serve.html import esc, link, page, resource_link, section, table, term_html, text
from kg.serve.paths import compact, is_web_link, local_path
from kg.store.results import Term

PREFIXES = f"PREFIX tkg: <{ONTOLOGY}>\nPREFIX rdfs: <{RDFS}>\n"
LIST_LIMIT = 1000
TRIAL = ONTOLOGY + "Trial"
PERSON = ONTOLOGY + "Person"
ALTERNATES = (("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/n-triples", "nt"))

Rows = list[dict[str, Term | None]]


def _rows(engine: Engine, sparql: str) -> Rows:
    result = engine.select(PREFIXES + sparql)
    return [dict(zip(result.variables, row, strict=False)) for row in result.rows]


def _v(row: dict[str, Term | None], key: str) -> str | None:
    term = row.get(key)
    return term.value if term is not None else None


def _link(row: dict[str, Term | None], key: str, label_key: str | None = None) -> str:
    return term_html(row.get(key), _v(row, label_key) if label_key else None)


def _local_name(iri_value: str | None) -> str:
    return (iri_value or "").rsplit("#", 1)[-1]


def outbound(engine: Engine, node: str) -> Rows:
    return _rows(engine, f"""SELECT ?p ?o (MIN(?l) AS ?label) WHERE {{
      {node} ?p ?o . OPTIONAL {{ ?o rdfs:label ?l }} }}
      GROUP BY ?p ?o ORDER BY ?p ?o LIMIT {LIST_LIMIT}""")


def inbound(engine: Engine, node: str) -> Rows:
    return _rows(engine, f"""SELECT ?s ?p (MIN(?l) AS ?label) WHERE {{
      ?s ?p {node} . OPTIONAL {{ ?s rdfs:label ?l }} }}
      GROUP BY ?s ?p ORDER BY ?p ?s LIMIT {LIST_LIMIT}""")


def _statements(rows: Rows, *, literals_only: bool = False) -> str:
    cells = [[resource_link(_v(r, "p") or ""), _link(r, "o", "label")] for r in rows
             if not literals_only or (r["o"] is not None and r["o"].kind == "literal")]
    return table(["property", "value"], cells) if cells else ""


def _referenced_by(rows: Rows) -> str:
    cells = [[_link(r, "s", "label"), resource_link(_v(r, "p") or "")] for r in rows]
    return table(["subject", "property"], cells) if cells else ""


def _trial_sections(engine: Engine, node: str) -> list[str]:
    parts = []
    sponsors = _rows(engine, f"""SELECT ?rel ?org (MIN(?n) AS ?name) WHERE {{
      VALUES ?rel {{ tkg:leadSponsor tkg:collaborator }} {node} ?rel ?org . OPTIONAL {{ ?org tkg:name ?n }} }}
      GROUP BY ?rel ?org ORDER BY DESC(?rel) ?name""")
    parts.append(section("Sponsors", table(["organisation", "as"], [
        [_link(r, "org", "name"), esc(_local_name(_v(r, "rel")))] for r in sponsors]) if sponsors else ""))
    people = _rows(engine, f"""SELECT ?role ?roleType ?person (MIN(?n) AS ?name) (MIN(?m) AS ?mentioned)
      ?org (MIN(?on) AS ?orgName) WHERE {{
      {node} tkg:hasRole ?role . ?role tkg:roleType ?roleType .
      OPTIONAL {{ ?role tkg:mentionedName ?m }}
      OPTIONAL {{ ?role tkg:agent ?person . OPTIONAL {{ ?person tkg:name ?n }} }}
      OPTIONAL {{ ?role tkg:affiliation ?org . OPTIONAL {{ ?org tkg:name ?on }} }} }}
      GROUP BY ?role ?roleType ?person ?org ORDER BY ?roleType ?name ?role""")
    parts.append(section("People", table(["person", "role", "affiliation"], [
        [_link(r, "person", "name") if r["person"] else text(_v(r, "mentioned")),
         resource_link(_v(r, "roleType") or "", _local_name(_v(r, "roleType"))), _link(r, "org", "orgName")]
        for r in people]) if people else ""))
    conditions = _rows(engine, f"""SELECT ?c (MIN(?l) AS ?label) WHERE {{
      {node} tkg:condition ?c . OPTIONAL {{ ?c rdfs:label ?l }} }} GROUP BY ?c ORDER BY ?label""")
    parts.append(section("Conditions", ", ".join(_link(r, "c", "label") for r in conditions)))
    parts.append(_arms(engine, node))
    sites = _rows(engine, f"""SELECT ?site (MIN(?f) AS ?facility) (MIN(?ci) AS ?city) (MIN(?co) AS ?country)
      WHERE {{ {node} tkg:hasSite ?site . OPTIONAL {{ ?site tkg:facilityName ?f }}
      OPTIONAL {{ ?site tkg:city ?ci }} OPTIONAL {{ ?site tkg:country ?co }} }}
      GROUP BY ?site ORDER BY ?country ?city ?facility LIMIT {LIST_LIMIT}""")
    parts.append(section("Sites", table(["site", "city", "country"], [
        [_link(r, "site", "facility"), text(_v(r, "city")), text(_v(r, "country"))] for r in sites])
        if sites else ""))
    parts.append(_criteria(engine, node))
    publications = _rows(engine, f"""SELECT ?pub ?link (MIN(?pm) AS ?pmid) (MIN(?ct) AS ?citation) WHERE {{
      VALUES (?rel ?link) {{ (tkg:backgroundReference "background") (tkg:resultReference "result")
        (tkg:derivedReference "derived") (tkg:hasReference "reference") }}
      {node} ?rel ?pub . OPTIONAL {{ ?pub tkg:pmid ?pm }} OPTIONAL {{ ?pub tkg:citation ?ct }} }}
      GROUP BY ?pub ?link ORDER BY ?pmid ?pub""")
    parts.append(section("Publications", table(["publication", "link", "citation"], [
        [_link(r, "pub", "pmid") + (" " + link(_v(r, "pub") or "", "↗", css="muted")
                                    if is_web_link(_v(r, "pub") or "") else ""),
         text(_v(r, "link")), text(_v(r, "citation"))] for r in publications]) if publications else ""))
    return parts


def _arms(engine: Engine, node: str) -> str:
    arms = _rows(engine, f"""SELECT ?arm (MIN(?l) AS ?label) (MIN(?t) AS ?type) WHERE {{
      {node} tkg:hasArm ?arm . OPTIONAL {{ ?arm rdfs:label ?l }} OPTIONAL {{ ?arm tkg:armType ?t }} }}
      GROUP BY ?arm ORDER BY ?label""")
    given = _rows(engine, f"""SELECT ?arm ?i (MIN(?l) AS ?label) WHERE {{
      {node} tkg:hasArm ?arm . ?arm tkg:armIntervention ?i . OPTIONAL {{ ?i rdfs:label ?l }} }}
      GROUP BY ?arm ?i ORDER BY ?label""")
    by_arm: dict[str | None, list[str]] = defaultdict(list)
    for row in given:
        by_arm[_v(row, "arm")].append(_link(row, "i", "label"))
    rows = [[_link(r, "arm", "label"), text(_v(r, "type")), ", ".join(by_arm[_v(r, "arm")])] for r in arms]
    return section("Arms", table(["arm", "type", "interventions"], rows) if rows else "")


def _criteria(engine: Engine, node: str) -> str:
    criteria = _rows(engine, f"""SELECT ?c ?kind (MIN(?t) AS ?text) (MIN(?pos) AS ?position) WHERE {{
      {node} tkg:hasCriterion ?c . OPTIONAL {{ ?c tkg:criterionText ?t }} OPTIONAL {{ ?c tkg:position ?pos }}
      OPTIONAL {{ ?c a ?kind FILTER (?kind IN (tkg:InclusionCriterion, tkg:ExclusionCriterion)) }} }}
      GROUP BY ?c ?kind ORDER BY DESC(?kind) ?position LIMIT {LIST_LIMIT}""")
    groups: dict[str, list[str]] = defaultdict(list)
    for row in criteria:
        kind = {"InclusionCriterion": "Inclusion", "ExclusionCriterion": "Exclusion"}.get(
            _local_name(_v(row, "kind")), "Other")
        groups[kind].append(f"<li>{link(local_path(_v(row, 'c') or ''), _v(row, 'text'))}</li>")
    body = "".join(f"<h3>{esc(kind)} criteria</h3><ol>{''.join(items)}</ol>"
                   for kind, items in sorted(groups.items(), key=lambda kv: ("Inclusion", "Exclusion",
                                                                            "Other").index(kv[0])))
    return section("Eligibility criteria", body)


def _person_sections(engine: Engine, node: str) -> list[str]:
    trials = _rows(engine, f"""SELECT ?trial (MIN(?id) AS ?nct) (MIN(?t) AS ?title) ?roleType
      (MIN(?an) AS ?affiliation) WHERE {{
      ?trial tkg:hasRole ?role . ?role tkg:agent {node} ; tkg:roleType ?roleType .
      OPTIONAL {{ ?trial tkg:nctId ?id }} OPTIONAL {{ ?trial tkg:briefTitle ?t }}
      OPTIONAL {{ ?role tkg:affiliation/tkg:name ?an }} }}
      GROUP BY ?trial ?roleType ORDER BY ?nct ?roleType LIMIT {LIST_LIMIT}""")
    rows = [[_link(r, "trial", "nct"), text(_v(r, "title")),
             resource_link(_v(r, "roleType") or "", _local_name(_v(r, "roleType"))), text(_v(r, "affiliation"))]
            for r in trials]
    return [section("Trials", table(["trial", "title", "role", "affiliation"], rows) if rows else "")]


def _graph_section(engine: Engine, node: str, graph: str) -> str:
    count = _rows(engine, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}")
    n = _v(count[0], "n") if count else "0"
    downloads = " · ".join(link(f"{local_path(graph)}?format={fmt}", media) for media, fmt in ALTERNATES)
    return section("Named graph", f"<p>This named graph holds {esc(n or '0')} statements: {downloads}</p>")


def _is_named_graph(engine: Engine, node: str) -> bool:
    result = engine.query(f"ASK {{ GRAPH {node} {{ ?s ?p ?o }} }}")
    return isinstance(result, Boolean) and result.value


def resource_page(engine: Engine, resource: str) -> bytes | None:
    """The HTML page of a resource, or None when the store says nothing about it."""
    node = iri(resource)
    out_rows = outbound(engine, node)
    in_rows = inbound(engine, node)
    is_graph = resource.startswith(GRAPH) and _is_named_graph(engine, node)
    if not out_rows and not in_rows and not is_graph:
        return None
    types = {_v(r, "o") for r in out_rows if _v(r, "p") == RDF + "type"}
    labels = [_v(r, "o") for r in out_rows if _v(r, "p") in (RDFS + "label", ONTOLOGY + "name")]
    title = next((lab for lab in labels if lab), None) or compact(resource)
    here = local_path(resource)
    joiner = "&" if "?" in here else "?"
    alternates = [(media, f"{here}{joiner}format={fmt}") for media, fmt in ALTERNATES]
    type_links = ", ".join(resource_link(t or "") for t in sorted(t for t in types if t))
    formats = " · ".join(link(target, media) for media, target in alternates)
    parts = [f"<h1>{text(title)}</h1>",
             f'<p class="muted">{link(resource, resource) if is_web_link(resource) else text(resource)}'
             f"{' · ' + type_links if type_links else ''}</p>",
             f'<p class="muted">as {formats}</p>']
    if TRIAL in types:
        parts += _trial_sections(engine, node)
        parts.append(section("Details", _statements(out_rows, literals_only=True)))
    else:
        if PERSON in types:
            parts += _person_sections(engine, node)
        if is_graph:
            parts.append(_graph_section(engine, node, resource))
        parts.append(section("Statements", _statements(out_rows)))
    parts.append(section("Referenced by", _referenced_by(in_rows)))
    return page(title, "".join(parts), alternates=alternates)
