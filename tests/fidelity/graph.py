"""What the graph states about each trial, read back through the public query API.

A handful of bulk SELECTs per store (not one per trial) keep the whole run fast. Every
pattern sits inside ``GRAPH ?g``: a trial's facts are read from its own record graph, so a
shared node (a site, an organisation) shows what *this* record said about it, not what
another trial's record added to the union.

The result mirrors ``SourceRecord.fields``: field -> list of values, in the same shapes, so
the comparison is a multiset difference. Text is only whitespace-collapsed, never
unescaped: a markdown escape the graph kept must show up as a disagreement.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tests.fidelity.sources import mesh_id, number

TKG = "https://w3id.org/trialkg/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MESH = "http://id.nlm.nih.gov/mesh/"

_TRIAL_LITERALS = {
    "nctId": "nct_id", "briefTitle": "brief_title", "officialTitle": "official_title", "acronym": "acronym",
    "overallStatus": "overall_status", "phase": "phases", "studyType": "study_type",
    "enrollment": "enrollment_count", "enrollmentType": "enrollment_type", "startDate": "start_date",
    "primaryCompletionDate": "primary_completion_date", "completionDate": "completion_date",
    "firstPosted": "first_posted", "lastUpdatePosted": "last_update_posted",
    "firstSubmitted": "first_submitted", "lastUpdateSubmitted": "last_update_submitted", "keyword": "keywords",
    "minimumAge": "minimum_age", "maximumAge": "maximum_age", "sex": "sex",
    "healthyVolunteers": "healthy_volunteers", "hasResults": "has_results", "orgStudyId": "other_ids",
    "conditionMeshTerm": "condition_mesh_names",
}
_LINKS = ("hasIdentifier", "condition", "conditionMesh", "hasIntervention", "hasArm", "hasOutcome", "hasCriterion",
          "leadSponsor", "collaborator", "hasRole", "hasSite", "backgroundReference", "resultReference",
          "derivedReference", "hasReference")
_CHILD_PROPERTIES = ("identifierValue", "name", "interventionType", "description", "armType", "measure",
                     "outcomeKind", "timeFrame", "criterionText", "criterionScope", "position", "roleType", "roleCode",
                     "mentionedName", "affiliationText", "atSite", "facilityName", "city", "state", "postalCode",
                     "country", "latitude", "longitude", "pmid", "citation")
_OFFICIAL_ROLE_TYPES = {TKG + t for t in ("PrincipalInvestigator", "StudyChair", "StudyDirector", "OtherRole")}
_REFERENCE_TYPES = {"backgroundReference": "BACKGROUND", "resultReference": "RESULT", "derivedReference": "DERIVED",
                    "hasReference": None}


@dataclass
class GraphTrial:
    """One trial's statements: field -> values, and its criteria as (position, kind, text, merged, scope)."""

    nct: str
    fields: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    # position, kind, text, merged (the node has several texts or positions), scope ("" when none)
    criteria: list[tuple[int, str | None, str, bool, str]] = field(default_factory=list)
    site_nodes: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _space(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text is not None else None


def _first(props: dict[str, list[str]], name: str) -> str | None:
    """A property's value; two values where the record had one are shown joined, so they differ."""
    values = sorted({_space(v) for v in props.get(name, []) if v is not None} - {None})
    return " ‖ ".join(values) if values else None


def read_graph(store) -> dict[str, GraphTrial]:
    """Every trial of the store, by NCT id."""
    trials: dict[str, GraphTrial] = {}
    nct_of: dict[str, str] = {}
    predicates = " ".join(f"<{TKG}{p}>" for p in _TRIAL_LITERALS)
    rows = store.select(f"""SELECT ?t ?nct ?p ?o WHERE {{ GRAPH ?g {{ ?t <{TKG}nctId> ?nct ; ?p ?o }}
                           VALUES ?p {{ {predicates} }} }}""").values()
    for t, nct, p, o in rows:
        trial = trials.setdefault(nct, GraphTrial(nct))
        nct_of[t] = nct
        trial.fields[_TRIAL_LITERALS[p[len(TKG):]]].append(_space(o))

    children: dict[tuple[str, str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    links = " ".join(f"<{TKG}{p}>" for p in _LINKS)
    props = " ".join(f"<{TKG}{p}>" for p in _CHILD_PROPERTIES) + f" <{RDFS_LABEL}> <{RDF_TYPE}>"
    rows = store.select(f"""SELECT ?t ?link ?c ?p ?o WHERE {{ GRAPH ?g {{ ?t ?link ?c . OPTIONAL {{ ?c ?p ?o
                           VALUES ?p {{ {props} }} }} }} VALUES ?link {{ {links} }} }}""").values()
    for t, link, c, p, o in rows:
        entry = children[(t, link[len(TKG):], c)]
        if p is not None:
            entry[p.rsplit("#", 1)[-1]].append(o)
    for (t, link, c), cp in sorted(children.items()):
        if t not in nct_of:
            continue
        _child(trials[nct_of[t]], link, c, cp)

    arm_links = store.select(f"""SELECT ?t ?label ?name WHERE {{ GRAPH ?g {{ ?t <{TKG}hasIntervention> ?i .
                                ?a <{TKG}armIntervention> ?i . ?i <{TKG}name> ?name
                                OPTIONAL {{ ?a <{RDFS_LABEL}> ?label }} }} }}""").values()
    for t, label, name in sorted({row for row in arm_links}, key=str):
        if t in nct_of:
            trials[nct_of[t]].fields["arm_interventions"].append((_space(label), _space(name)))
    return trials


def _child(trial: GraphTrial, link: str, node: str, p: dict[str, list[str]]) -> None:
    f = trial.fields
    if link == "hasIdentifier":
        f["other_ids"] += [_first(p, "identifierValue")]
    elif link == "condition":
        f["conditions"].append(_first(p, "label"))
    elif link == "conditionMesh":
        f["condition_mesh"].append(mesh_id(node[len(MESH):]) if node.startswith(MESH) else node)
        f["condition_mesh_names"].append(_first(p, "label"))
        f["condition_mesh_linked"].append(_first(p, "label"))
    elif link == "hasIntervention":
        f["interventions"].append({"name": _first(p, "name"), "type": _first(p, "interventionType"),
                                   "description": _first(p, "description")})
    elif link == "hasArm":
        f["arms"].append((_first(p, "label"), _first(p, "armType"), _first(p, "description")))
    elif link == "hasOutcome":
        f["outcomes"].append({"kind": _first(p, "outcomeKind"), "measure": _first(p, "measure"),
                              "time_frame": _first(p, "timeFrame"), "description": _first(p, "description")})
    elif link == "hasCriterion":
        types = set(p.get("type", []))
        kind = "INCLUSION" if TKG + "InclusionCriterion" in types else \
            "EXCLUSION" if TKG + "ExclusionCriterion" in types else None
        texts, positions = p.get("criterionText", []), sorted(int(v) for v in p.get("position", ["0"]))
        merged = len(texts) > 1 or len(positions) > 1
        scope = _first(p, "criterionScope") or ""  # two scopes on one node show joined, and are not found
        for text in texts:
            trial.criteria.append((positions[0], kind, text, merged, scope))
    elif link == "leadSponsor":
        f["lead_sponsor"].append(_first(p, "name"))
    elif link == "collaborator":
        f["collaborators"].append(_first(p, "name"))
    elif link == "hasRole":
        if set(p.get("roleType", [])) & _OFFICIAL_ROLE_TYPES and not p.get("atSite"):
            f["officials"].append((_first(p, "mentionedName"), _first(p, "roleCode"), _first(p, "affiliationText")))
    elif link == "hasSite":
        trial.site_nodes[node] = p
        f["locations"].append({"facility": _first(p, "facilityName"), "city": _first(p, "city"),
                               "state": _first(p, "state"), "zip": _first(p, "postalCode"),
                               "country": _first(p, "country"), "lat": _coordinate(p, "latitude"),
                               "lon": _coordinate(p, "longitude")})
    elif link in _REFERENCE_TYPES:
        f["references"].append((_first(p, "pmid"), _REFERENCE_TYPES[link], _first(p, "citation")))


def _coordinate(p: dict[str, list[str]], name: str) -> str | None:
    values = sorted({number(v) for v in p.get(name, [])})
    return " ‖ ".join(v for v in values if v) or None
