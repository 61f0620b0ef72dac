"""What a page shows, as plain rows: the SPARQL behind each page and the labels of what it links.

Why: a researcher opening a trial wants its summary first and then what the project exists
for: other trials run by the same resolved investigator, at the same resolved site, for the
same resolved sponsor, or excluding the same patients. Every page is plain SPARQL sent through
the same sandboxed runner as the endpoint (so a page can no more harm the server than a query
can), in one round trip per page, with the page's subject bound by the engine's
``substitutions`` (``?this``), never pasted into the text.

Resolution links (``kg resolve``, :mod:`kg.rdf.emit_resolution`) live in the resolution graph:
a role's ``tkg:resolvedAgent`` is the person, a trial's ``tkg:resolvedSite`` the site, and an
organisation or criterion concept mention's ``tkg:resolvedAs`` the entity; a surface node
(one record's spelling) points to its entity the same way. Entity pages therefore list every
trial of the resolved entity, whichever spelling a record used.

Example:
    >>> "?this" in TRIAL_QUERIES["summary"]
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from kg.rdf.namespaces import ONTOLOGY, RDF, RESOLUTION_GRAPH
from kg.store.results import ResultTable, Row, Term

PREFIXES = (f"PREFIX tkg: <{ONTOLOGY}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            f"PREFIX owl: <http://www.w3.org/2002/07/owl#>\n")
RELATED_LIMIT = 200
LIST_LIMIT = 1000
PI_TYPES = "tkg:PrincipalInvestigator, tkg:ResponsiblePartyInvestigator"
KINDS = {ONTOLOGY + "Trial": "trial", ONTOLOGY + "Person": "person", ONTOLOGY + "Organization": "organization",
         ONTOLOGY + "Site": "site"}


def label_of(var: str) -> tuple[str, str]:
    """(patterns, select expression) giving ``?{var}Label``: the best human name a node has.

    Stated names first; then names made from what a node links (a record graph, match evidence),
    so that nothing on a page is shown as a bare IRI when the store can say what it is.
    """
    properties = ("tkg:nctId", "tkg:name", "rdfs:label", "tkg:facilityName", "tkg:mentionedName", "tkg:measure",
                  "tkg:criterionText", "tkg:normalizedText", "tkg:title", "tkg:pmid", "tkg:findingMessage",
                  "tkg:evidence")
    made = (f'?{var} tkg:describes/tkg:nctId ?{var}_d BIND (CONCAT("record graph of ", ?{var}_d) AS ?{var}_m0)',
            f'?{var} tkg:matchScore ?{var}_s BIND (CONCAT("match evidence, score ", STR(?{var}_s)) AS ?{var}_m1)')
    patterns = " ".join([*(f"OPTIONAL {{ ?{var} {p} ?{var}_{i} }}" for i, p in enumerate(properties)),
                         *(f"OPTIONAL {{ {pattern} }}" for pattern in made)])
    names = [f"MIN(?{var}_{i})" for i in range(len(properties))] + [f"MIN(?{var}_m{i})" for i in range(len(made))]
    return patterns, f"(COALESCE({', '.join(names)}) AS ?{var}Label)"


def _related(how: str, join: str, via_label: str, *, resolved: bool = True) -> str:
    """Other trials linked to ?this through a resolved entity ?via: one row per trial, with the count and names.

    Names of resolved entities are read from the resolution graph (a record graph repeats them
    once per trial); criterion concepts are named in the record graphs only.
    """
    name_pattern = (f"OPTIONAL {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?via {via_label} ?viaName }} }}" if resolved
                    else f"OPTIONAL {{ ?via {via_label} ?viaName }}")
    return f"""SELECT ?this ?other (MIN(?nct) AS ?otherNct) (MIN(?title) AS ?otherTitle) (COUNT(DISTINCT ?via) AS ?n)
      (GROUP_CONCAT(DISTINCT ?viaName; SEPARATOR=" · ") AS ?names) ("{how}" AS ?how) WHERE {{
      {join}
      FILTER (?other != ?this)
      ?other tkg:nctId ?nct . OPTIONAL {{ ?other tkg:briefTitle ?title }}
      {name_pattern}
    }} GROUP BY ?this ?other ORDER BY DESC(?n) ?otherNct LIMIT {RELATED_LIMIT}"""


_PEOPLE_LABEL = label_of("person")
_ORG_LABEL = label_of("org")
_LINK_LABEL = label_of("o")
_IN_LABEL = label_of("s")

TRIAL_QUERIES = {
    "summary": """SELECT ?this (MIN(?nct) AS ?nctId) (MIN(?bt) AS ?title) (MIN(?ot) AS ?officialTitle)
      (MIN(?st) AS ?status) (GROUP_CONCAT(DISTINCT ?ph; SEPARATOR=" / ") AS ?phases) (MIN(?en) AS ?enrollment)
      (MIN(?et) AS ?enrollmentType) (MIN(?sd) AS ?startDate) (MIN(?pcd) AS ?primaryCompletionDate)
      (MIN(?cd) AS ?completionDate) (MIN(?ty) AS ?studyType) (MIN(?su) AS ?summary) (MIN(?lu) AS ?lastUpdate)
      (MIN(?why) AS ?whyStopped) WHERE {
      ?this tkg:nctId ?nct . OPTIONAL { ?this tkg:briefTitle ?bt } OPTIONAL { ?this tkg:officialTitle ?ot }
      OPTIONAL { ?this tkg:overallStatus ?st } OPTIONAL { ?this tkg:phase ?ph } OPTIONAL { ?this tkg:enrollment ?en }
      OPTIONAL { ?this tkg:enrollmentType ?et } OPTIONAL { ?this tkg:startDate ?sd }
      OPTIONAL { ?this tkg:primaryCompletionDate ?pcd } OPTIONAL { ?this tkg:completionDate ?cd }
      OPTIONAL { ?this tkg:studyType ?ty } OPTIONAL { ?this tkg:briefSummary ?su }
      OPTIONAL { ?this tkg:lastUpdatePosted ?lu } OPTIONAL { ?this tkg:whyStopped ?why } } GROUP BY ?this""",
    "sponsors": f"""SELECT ?this ?org ?rel {_ORG_LABEL[1]} WHERE {{
      VALUES ?rel {{ tkg:leadSponsor tkg:collaborator }} ?this ?rel ?stated .
      OPTIONAL {{ ?stated tkg:resolvedAs ?resolved }} BIND (COALESCE(?resolved, ?stated) AS ?org) {_ORG_LABEL[0]}
      }} GROUP BY ?this ?org ?rel ORDER BY DESC(?rel) ?orgLabel""",
    "people": f"""SELECT ?this ?role ?person ?roleType (MIN(?m) AS ?mentioned) (MIN(?aff) AS ?affiliation)
      {_PEOPLE_LABEL[1]} WHERE {{
      ?this tkg:hasRole ?role . ?role tkg:roleType ?roleType . OPTIONAL {{ ?role tkg:mentionedName ?m }}
      OPTIONAL {{ ?role tkg:affiliationText ?aff }}
      OPTIONAL {{ ?role tkg:agent ?agent }} OPTIONAL {{ ?role tkg:resolvedAgent ?resolved }}
      BIND (COALESCE(?resolved, ?agent) AS ?person) {_PEOPLE_LABEL[0]}
      }} GROUP BY ?this ?role ?person ?roleType ORDER BY ?roleType ?personLabel LIMIT {LIST_LIMIT}""",
    "conditions": """SELECT ?this ?c (MIN(?l) AS ?label) WHERE { ?this tkg:condition ?c .
      OPTIONAL { ?c rdfs:label ?l } } GROUP BY ?this ?c ORDER BY ?label""",
    "interventions": """SELECT ?this ?i (MIN(?n) AS ?label) (MIN(?t) AS ?type) WHERE { ?this tkg:hasIntervention ?i .
      OPTIONAL { ?i tkg:name ?n } OPTIONAL { ?i tkg:interventionType ?t } } GROUP BY ?this ?i ORDER BY ?label""",
    "arms": """SELECT ?this ?arm (MIN(?l) AS ?label) (MIN(?t) AS ?type) (MIN(?d) AS ?description)
      (GROUP_CONCAT(DISTINCT ?iname; SEPARATOR=" · ") AS ?interventions) WHERE { ?this tkg:hasArm ?arm .
      OPTIONAL { ?arm rdfs:label ?l } OPTIONAL { ?arm tkg:armType ?t } OPTIONAL { ?arm tkg:description ?d }
      OPTIONAL { ?arm tkg:armIntervention/tkg:name ?iname } } GROUP BY ?this ?arm ORDER BY ?label""",
    "outcomes": f"""SELECT ?this ?o (MIN(?k) AS ?kind) (MIN(?m) AS ?measure) (MIN(?tf) AS ?timeFrame)
      (MIN(?d) AS ?description) WHERE {{ ?this tkg:hasOutcome ?o . OPTIONAL {{ ?o tkg:outcomeKind ?k }}
      OPTIONAL {{ ?o tkg:measure ?m }} OPTIONAL {{ ?o tkg:timeFrame ?tf }} OPTIONAL {{ ?o tkg:description ?d }}
      }} GROUP BY ?this ?o ORDER BY DESC(?kind) ?measure LIMIT {LIST_LIMIT}""",
    "criteria": f"""SELECT ?this ?c ?kind (MIN(?t) AS ?text) (MIN(?p) AS ?position) WHERE {{
      ?this tkg:hasCriterion ?c . OPTIONAL {{ ?c tkg:criterionText ?t }} OPTIONAL {{ ?c tkg:position ?p }}
      OPTIONAL {{ ?c a ?kind FILTER (?kind IN (tkg:InclusionCriterion, tkg:ExclusionCriterion)) }} }}
      GROUP BY ?this ?c ?kind ORDER BY DESC(?kind) ?position LIMIT {LIST_LIMIT}""",
    "sites": f"""SELECT ?this ?site (MIN(?f) AS ?facility) (MIN(?ci) AS ?city) (MIN(?co) AS ?country) WHERE {{
      {{ ?this tkg:resolvedSite ?site }}
      UNION {{ ?this tkg:hasSite ?site FILTER NOT EXISTS {{ ?this tkg:resolvedSite ?r }} }}
      OPTIONAL {{ ?site tkg:facilityName ?f }} OPTIONAL {{ ?site tkg:city ?ci }} OPTIONAL {{ ?site tkg:country ?co }} }}
      GROUP BY ?this ?site ORDER BY ?country ?city ?facility LIMIT {LIST_LIMIT}""",
    "publications": """SELECT ?this ?pub ?link (MIN(?pm) AS ?pmid) (MIN(?ti) AS ?title) (MIN(?ct) AS ?citation) WHERE {
      VALUES (?rel ?link) { (tkg:backgroundReference "background") (tkg:resultReference "results")
        (tkg:derivedReference "derived") (tkg:hasReference "reference") }
      ?this ?rel ?pub . OPTIONAL { ?pub tkg:pmid ?pm } OPTIONAL { ?pub tkg:title ?ti }
      OPTIONAL { ?pub tkg:citation ?ct } } GROUP BY ?this ?pub ?link ORDER BY ?pmid ?pub""",
    "related_pi": _related("principal investigator", f"""?this tkg:hasRole ?r1 . ?r1 tkg:roleType ?t1
      FILTER (?t1 IN ({PI_TYPES})) ?r1 tkg:resolvedAgent ?via . ?r2 tkg:resolvedAgent ?via .
      ?r2 tkg:roleType ?t2 FILTER (?t2 IN ({PI_TYPES})) ?other tkg:hasRole ?r2 .""", "tkg:name"),
    "related_site": _related("site", """?this tkg:resolvedSite ?via . ?other tkg:resolvedSite ?via .""",
                             "tkg:facilityName"),
    "related_sponsor": _related("sponsor", """?this tkg:leadSponsor|tkg:collaborator ?a . ?a tkg:resolvedAs ?via .
      ?b tkg:resolvedAs ?via . ?other tkg:leadSponsor|tkg:collaborator ?b .""", "tkg:name"),
    "related_criteria": _related("exclusion criteria", """?this tkg:exclusionConcept ?k1 . ?k1 tkg:resolvedAs ?via .
      ?k2 tkg:resolvedAs ?via . ?other tkg:exclusionConcept ?k2 .""", "tkg:normalizedText", resolved=False),
}

RELATED = (("related_pi", "Same principal investigator", "shared-principal-investigator"),
           ("related_site", "Same site", "shared-site"),
           ("related_sponsor", "Same sponsor or collaborator", "shared-sponsor"),
           ("related_criteria", "Shared exclusion criteria", "shared-exclusion-criteria"))

GENERIC_QUERIES = {
    "types": """SELECT DISTINCT ?this ?type WHERE { ?this a ?type } ORDER BY ?type""",
    "outbound": f"""SELECT ?this ?p ?o {_LINK_LABEL[1]} WHERE {{ ?this ?p ?o . {_LINK_LABEL[0]} }}
      GROUP BY ?this ?p ?o ORDER BY ?p ?o LIMIT {LIST_LIMIT}""",
    "inbound": f"""SELECT ?this ?s ?p {_IN_LABEL[1]} WHERE {{ ?s ?p ?this . {_IN_LABEL[0]} }}
      GROUP BY ?this ?s ?p ORDER BY ?p ?s LIMIT {LIST_LIMIT}""",
    "canonical": """SELECT ?this ?canonical (MIN(?n) AS ?name) WHERE { ?this tkg:resolvedAs ?canonical
      FILTER (?canonical != ?this) OPTIONAL { ?canonical tkg:name|tkg:facilityName ?n } } GROUP BY ?this ?canonical""",
}

_TRIAL_ROW = """?trial tkg:nctId ?nct . OPTIONAL { ?trial tkg:briefTitle ?title }
          OPTIONAL { ?trial tkg:overallStatus ?status }"""
_TRIAL_COLUMNS = "?this ?trial (MIN(?nct) AS ?trialNct) (MIN(?title) AS ?trialTitle) (MIN(?status) AS ?trialStatus)"
ENTITY_QUERIES = {
    "person": {
        "trials": f"""SELECT {_TRIAL_COLUMNS}
          (GROUP_CONCAT(DISTINCT STRAFTER(STR(?rt), "#"); SEPARATOR=", ") AS ?how) (MIN(?aff) AS ?detail) WHERE {{
          {{ ?role tkg:resolvedAgent ?this }}
          UNION {{ ?this tkg:resolvedAs ?canonical . ?role tkg:resolvedAgent ?canonical }}
          UNION {{ ?role tkg:agent ?this FILTER NOT EXISTS {{ ?role tkg:resolvedAgent ?someone }} }}
          ?trial tkg:hasRole ?role . ?role tkg:roleType ?rt . OPTIONAL {{ ?role tkg:affiliationText ?aff }} {_TRIAL_ROW}
          }} GROUP BY ?this ?trial ORDER BY ?trialNct LIMIT {LIST_LIMIT}""",
        "names": """SELECT ?this (GROUP_CONCAT(DISTINCT ?m; SEPARATOR=" · ") AS ?spellings) WHERE {
          ?this tkg:hasMention ?role . ?role tkg:mentionedName ?m } GROUP BY ?this""",
    },
    "organization": {
        "trials": f"""SELECT {_TRIAL_COLUMNS}
          (GROUP_CONCAT(DISTINCT ?as; SEPARATOR=", ") AS ?how) ("" AS ?detail) WHERE {{
          ?stated tkg:resolvedAs? ?this .
          {{ ?trial tkg:leadSponsor ?stated BIND ("lead sponsor" AS ?as) }}
          UNION {{ ?trial tkg:collaborator ?stated BIND ("collaborator" AS ?as) }}
          UNION {{ ?role tkg:affiliation ?stated . ?trial tkg:hasRole ?role
                   BIND ("investigator's affiliation" AS ?as) }}
          UNION {{ ?site tkg:siteOrganization ?stated . ?trial tkg:resolvedSite ?site BIND ("site" AS ?as) }}
          {_TRIAL_ROW} }} GROUP BY ?this ?trial ORDER BY ?trialNct LIMIT {LIST_LIMIT}""",
    },
    "site": {
        "trials": f"""SELECT {_TRIAL_COLUMNS}
          ("site" AS ?how) ("" AS ?detail) WHERE {{
          {{ ?trial tkg:resolvedSite ?this }}
          UNION {{ ?this tkg:resolvedAs ?canonical . ?trial tkg:resolvedSite ?canonical }}
          UNION {{ ?trial tkg:hasSite ?this }} {_TRIAL_ROW}
          }} GROUP BY ?this ?trial ORDER BY ?trialNct LIMIT {LIST_LIMIT}""",
        "place": """SELECT ?this (MIN(?f) AS ?facility) (MIN(?ci) AS ?city) (MIN(?co) AS ?country) WHERE {
          OPTIONAL { ?this tkg:facilityName ?f } OPTIONAL { ?this tkg:city ?ci } OPTIONAL { ?this tkg:country ?co } }
          GROUP BY ?this""",
    },
}


Rows = list[dict[str, Term | None]]


def table_from_json(body: bytes) -> ResultTable:
    """A SPARQL JSON results document as a :class:`ResultTable` (what the pages work on)."""
    document = orjson.loads(body)
    variables: list[str] = document["head"].get("vars", [])
    rows: list[Row] = []
    for binding in document.get("results", {}).get("bindings", []):
        row: list[Term | None] = []
        for name in variables:
            entry = binding.get(name)
            if entry is None:
                row.append(None)
                continue
            kind = {"typed-literal": "literal"}.get(entry["type"], entry["type"])
            row.append(Term(kind, entry["value"], entry.get("datatype"), entry.get("xml:lang")))
        rows.append(tuple(row))
    return ResultTable(variables, rows)


def rows(table: ResultTable) -> Rows:
    return [dict(zip(table.variables, row, strict=False)) for row in table.rows]


@dataclass
class View:
    """A page's data: its kind picks the template; ``sections`` holds the rows of each query."""

    iri: str
    kind: str
    title: str
    types: list[str] = field(default_factory=list)
    sections: dict[str, Rows] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def kind_of(types: list[str]) -> str:
    for type_iri, kind in KINDS.items():
        if type_iri in types:
            return kind
    return "resource"


def queries_for(kind: str) -> dict[str, str]:
    """Every query a page of this kind runs (the generic ones too: each page ends with its statements)."""
    chosen = dict(GENERIC_QUERIES)
    if kind == "trial":
        chosen.update(TRIAL_QUERIES)
        chosen.pop("outbound")  # the trial's own statements are shown by the sections, not as raw rows
    else:
        chosen.update(ENTITY_QUERIES.get(kind, {}))
    return chosen


def first_value(rows_: Rows, key: str) -> str | None:
    for row in rows_:
        term = row.get(key)
        if term is not None and term.value:
            return term.value
    return None


def title_for(view_rows: dict[str, Rows], iri_value: str) -> str:
    """A page's heading: the trial's title, the entity's name, else a label, else the IRI."""
    for section, key in (("summary", "title"), ("trials", None), ("outbound", None)):
        if section == "summary" and view_rows.get(section):
            value = first_value(view_rows[section], key or "")
            if value:
                return value
    for row in view_rows.get("outbound", []):
        predicate = row.get("p")
        if predicate is not None and predicate.value in (ONTOLOGY + "name", RDFS_LABEL, ONTOLOGY + "facilityName"):
            obj = row.get("o")
            if obj is not None:
                return obj.value
    return iri_value


RDF_TYPE = RDF + "type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
