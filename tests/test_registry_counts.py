"""Every shared real registry record builds, and the graph's counts equal counts taken
independently from the raw files (plain json / ElementTree / csv, no trialkg code)."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import build, open_store
from kg.store.base import Store
from tests.conftest import DATA

PREFIX = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"
OFFICIAL_ROLES = "tkg:PrincipalInvestigator tkg:StudyChair tkg:StudyDirector tkg:OtherRole"


def _fold(text: str) -> str:
    """Case and punctuation folded, "St." read as "Saint" (the abbreviation rule sites follow)."""
    return re.sub(r"\bst\b", "saint", re.sub(r"[^a-z0-9]+", " ", text.lower())).strip()


def _site_count(locations: list[tuple[str | None, ...]]) -> int:
    """Sites one trial states: one per facility at one address (facility, city, country, state,
    postal code), and each location without a facility name that still names a place."""
    named = {(_fold(f or ""), _fold(c or ""), _fold(n or ""), _fold(s or ""), _fold(z or ""))
             for f, c, n, s, z in locations if f and f.strip()}
    unnamed = sum(1 for f, *place in locations if not (f and f.strip()) and any(p and p.strip() for p in place))
    return len(named) + unnamed


def _json_studies() -> Iterator[dict]:
    for path in sorted((DATA / "ctgov-json").rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        yield from document if isinstance(document, list) else [document]


def _xml_studies() -> dict[str, ET.Element]:
    """One study per NCT id: the copy with the latest last-update date, as a build keeps."""
    kept: dict[str, tuple[str, ET.Element]] = {}
    for path in sorted((DATA / "ctgov-xml").rglob("*.xml")):
        root = ET.parse(path).getroot()
        nct = root.findtext("id_info/nct_id") or ""
        changed = root.findtext("last_update_posted") or root.findtext("lastchanged_date") or ""
        changed_iso = _iso(changed)
        if nct not in kept or changed_iso >= kept[nct][0]:
            kept[nct] = (changed_iso, root)
    return {nct: root for nct, (_, root) in kept.items()}


# An official whose "name" is a phone number or e-mail is a call centre: contact data, left out.
_CONTACT_DATA = re.compile(r"\d{3}\D{0,3}\d{3}\D{0,3}\d{4}|@")

_MONTHS = {m: i for i, m in enumerate(["January", "February", "March", "April", "May", "June", "July", "August",
                                       "September", "October", "November", "December"], start=1)}


def _iso(text: str) -> str:
    match = re.match(r"(\w+) (?:(\d+), )?(\d{4})", text.strip())
    if not match:
        return ""
    month, day, year = match.groups()
    return f"{year}-{_MONTHS[month]:02d}" + (f"-{int(day):02d}" if day else "")


def _count(store: Store, body: str) -> int:
    value = store.select(PREFIX + f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT {body} }}").values()[0][0]
    return int(value or 0)


def _graph_counts(store: Store) -> dict[str, int]:
    return {
        "trials": _count(store, "?t WHERE { ?t a tkg:Trial }"),
        "arms": _count(store, "?a WHERE { ?t tkg:hasArm ?a }"),
        "interventions": _count(store, "?i WHERE { ?t tkg:hasIntervention ?i }"),
        "officials": _count(store, f"?r WHERE {{ VALUES ?type {{ {OFFICIAL_ROLES} }} ?t tkg:hasRole ?r . "
                                   "?r tkg:roleType ?type }"),
        "sites": _count(store, "?t ?s WHERE { ?t tkg:hasSite ?s }"),
        "pmids": _count(store, "?pmid WHERE { ?t tkg:hasReference|tkg:backgroundReference|tkg:resultReference|"
                               "tkg:derivedReference ?p . ?p tkg:pmid ?pmid }"),
        "mesh": _count(store, "?t ?m WHERE { { ?t tkg:conditionMesh|tkg:interventionMesh ?m } UNION "
                              "{ ?t tkg:conditionMeshTerm|tkg:interventionMeshTerm ?m } }"),
    }


def _build(paths: list[Path]) -> Store:
    store = open_store(None)
    report = build(paths, store)
    assert report.failures == [], report.failures[:5]
    return store


@pytest.fixture(scope="module")
def json_store() -> Store:
    return _build([DATA / "ctgov-json"])


@pytest.fixture(scope="module")
def xml_store() -> Store:
    return _build([DATA / "ctgov-xml"])


def test_json_counts_match_the_raw_files(json_store: Store) -> None:
    expected = {"trials": 0, "arms": 0, "interventions": 0, "officials": 0, "sites": 0, "mesh": 0}
    pmids: set[str] = set()
    for study in _json_studies():
        protocol = study["protocolSection"]
        arms = protocol.get("armsInterventionsModule", {})
        contacts = protocol.get("contactsLocationsModule", {})
        derived = study.get("derivedSection", {})
        expected["trials"] += 1
        expected["arms"] += len({a["label"] for a in arms.get("armGroups", [])})
        expected["interventions"] += len({i["name"] for i in arms.get("interventions", [])})
        expected["officials"] += len({(o.get("name"), o.get("role")) for o in contacts.get("overallOfficials", [])})
        expected["sites"] += _site_count([(loc.get("facility"), loc.get("city"), loc.get("country"), loc.get("state"),
                                           loc.get("zip")) for loc in contacts.get("locations", [])])
        expected["mesh"] += len({m["id"] for module in ("conditionBrowseModule", "interventionBrowseModule")
                                 for m in derived.get(module, {}).get("meshes", [])})
        pmids |= {r["pmid"] for r in protocol.get("referencesModule", {}).get("references", []) if r.get("pmid")}
    expected["pmids"] = len(pmids)
    assert _graph_counts(json_store) == expected


def test_xml_counts_match_the_raw_files(xml_store: Store) -> None:
    expected = {"trials": 0, "arms": 0, "interventions": 0, "officials": 0, "sites": 0, "mesh": 0}
    pmids: set[str] = set()
    for root in _xml_studies().values():
        expected["trials"] += 1
        expected["arms"] += len({a.findtext("arm_group_label") for a in root.findall("arm_group")})
        # One node per listed intervention: a name listed twice (two doses of one drug) is two.
        expected["interventions"] += sum(1 for i in root.findall("intervention") if i.findtext("intervention_name"))
        expected["officials"] += len({(o.findtext("last_name"), o.findtext("role"))
                                      for o in root.findall("overall_official")
                                      if not _CONTACT_DATA.search(o.findtext("last_name") or "")})
        expected["sites"] += _site_count([
            (loc.findtext("facility/name"), loc.findtext("facility/address/city"),
             loc.findtext("facility/address/country"), loc.findtext("facility/address/state"),
             loc.findtext("facility/address/zip")) for loc in root.findall("location")])
        expected["mesh"] += len({m.text for m in root.findall("condition_browse/mesh_term")
                                 + root.findall("intervention_browse/mesh_term")})
        pmids |= {r.findtext("PMID") for r in root.findall("reference") + root.findall("results_reference")
                  if r.findtext("PMID")}
    expected["pmids"] = len(pmids)
    assert _graph_counts(xml_store) == expected


def test_csv_counts_match_the_raw_file() -> None:
    path = DATA / "ctgov-csv" / "urology-search-sample.csv"
    store = _build([path])
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts = _graph_counts(store)
    assert counts["trials"] == len({row["NCT Number"] for row in rows})
    assert counts["interventions"] == sum(len({i for i in row["Interventions"].split("|") if i}) for row in rows)
    sponsors = {_fold(row["Sponsor"]) for row in rows if row["Sponsor"]}
    assert _count(store, "?o WHERE { ?t tkg:leadSponsor ?o }") == len(sponsors)
