"""The naive way a user first writes: json / ElementTree + rdflib, one process, one triple at a time.

Why it is here: issue 18 asks that ``kg build`` be at least twice as fast per study as this,
everything included, on the shared real data (``bench_real.py`` times both in one run). It
reads ClinicalTrials.gov API v2 JSON (a study, an array of studies, or a zip of them) and legacy
``<clinical_study>`` XML, puts each study's main fields (titles, status, phases, conditions,
keywords, interventions, arms, outcomes, eligibility text by line, sponsors, sites, officials,
references) in a named graph of an rdflib Dataset with ``Graph.add``, and writes the Dataset as
N-Quads. It states fewer facts than trialkg (no criterion parsing, no resolution, no author
links, no provenance), which only favours it in the comparison.

Example:
    python benchmarks/naive_convert.py tests/data/ctgov-json tests/data/ctgov-xml --out naive.nq
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET  # the user's choice; our own inputs (kg itself never entity-expands)
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rdflib import Dataset, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

EX = Namespace("https://example.org/trial/")
V = Namespace("https://example.org/vocab#")


def json_studies(path: Path) -> Iterator[dict[str, Any]]:
    """Every study of a JSON file or of a zip of JSON files."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name.endswith(".json"):
                    yield from _as_studies(json.loads(archive.read(name)))
    else:
        yield from _as_studies(json.loads(path.read_bytes()))


def _as_studies(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        yield from data
    elif isinstance(data, dict) and "studies" in data:
        yield from data["studies"]
    else:
        yield data


def add_json_study(dataset: Dataset, study: dict[str, Any]) -> None:
    protocol = study.get("protocolSection", {})
    ident = protocol.get("identificationModule", {})
    nct = ident["nctId"]
    trial = EX[nct]
    graph = dataset.graph(URIRef(f"https://example.org/graph/{nct}"))
    graph.add((trial, RDF.type, V.Trial))
    graph.add((trial, V.nctId, Literal(nct)))
    for key in ("briefTitle", "officialTitle"):
        if key in ident:
            graph.add((trial, V[key], Literal(ident[key])))
    status = protocol.get("statusModule", {})
    if "overallStatus" in status:
        graph.add((trial, V.status, Literal(status["overallStatus"])))
    design = protocol.get("designModule", {})
    for phase in design.get("phases", []):
        graph.add((trial, V.phase, Literal(phase)))
    conditions = protocol.get("conditionsModule", {})
    for condition in conditions.get("conditions", []):
        graph.add((trial, V.condition, Literal(condition)))
    for keyword in conditions.get("keywords", []):
        graph.add((trial, V.keyword, Literal(keyword)))
    arms = protocol.get("armsInterventionsModule", {})
    for number, intervention in enumerate(arms.get("interventions", [])):
        node = EX[f"{nct}/intervention/{number}"]
        graph.add((trial, V.intervention, node))
        graph.add((node, RDFS.label, Literal(intervention.get("name", ""))))
        graph.add((node, V.type, Literal(intervention.get("type", ""))))
    for number, arm in enumerate(arms.get("armGroups", [])):
        node = EX[f"{nct}/arm/{number}"]
        graph.add((trial, V.arm, node))
        graph.add((node, RDFS.label, Literal(arm.get("label", ""))))
        for key in ("type", "description"):
            if key in arm:
                graph.add((node, V[key], Literal(arm[key])))
    outcomes = protocol.get("outcomesModule", {})
    for kind in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes"):
        for number, outcome in enumerate(outcomes.get(kind, [])):
            node = EX[f"{nct}/{kind}/{number}"]
            graph.add((trial, V[kind], node))
            graph.add((node, V.measure, Literal(outcome.get("measure", ""))))
            if "timeFrame" in outcome:
                graph.add((node, V.timeFrame, Literal(outcome["timeFrame"])))
    criteria = protocol.get("eligibilityModule", {}).get("eligibilityCriteria", "")
    _add_criteria(graph, trial, nct, criteria)
    sponsors = protocol.get("sponsorCollaboratorsModule", {})
    if "leadSponsor" in sponsors:
        graph.add((trial, V.sponsor, Literal(sponsors["leadSponsor"].get("name", ""))))
    for collaborator in sponsors.get("collaborators", []):
        graph.add((trial, V.collaborator, Literal(collaborator.get("name", ""))))
    contacts = protocol.get("contactsLocationsModule", {})
    for number, official in enumerate(contacts.get("overallOfficials", [])):
        node = EX[f"{nct}/official/{number}"]
        graph.add((trial, V.official, node))
        for key in ("name", "role", "affiliation"):
            if key in official:
                graph.add((node, V[key], Literal(official[key])))
    for number, location in enumerate(contacts.get("locations", [])):
        node = EX[f"{nct}/site/{number}"]
        graph.add((trial, V.site, node))
        for key in ("facility", "city", "country"):
            if key in location:
                graph.add((node, V[key], Literal(location[key])))
    for reference in protocol.get("referencesModule", {}).get("references", []):
        if "pmid" in reference:
            graph.add((trial, V.reference, URIRef(f"https://pubmed.ncbi.nlm.nih.gov/{reference['pmid']}")))


def _add_criteria(graph: Any, trial: URIRef, nct: str, text: str) -> None:
    lines = [line.strip(" *-\t") for line in text.splitlines() if line.strip(" *-\t")]
    for number, line in enumerate(lines):
        node = EX[f"{nct}/criterion/{number}"]
        graph.add((trial, V.criterion, node))
        graph.add((node, V.text, Literal(line)))


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return found.text.strip() if found is not None and found.text else None


def add_xml_study(dataset: Dataset, root: ET.Element) -> None:
    nct = _text(root, "id_info/nct_id")
    if nct is None:
        return
    trial = EX[nct]
    graph = dataset.graph(URIRef(f"https://example.org/graph/{nct}"))
    graph.add((trial, RDF.type, V.Trial))
    graph.add((trial, V.nctId, Literal(nct)))
    for path, prop in (("brief_title", V.briefTitle), ("official_title", V.officialTitle),
                       ("overall_status", V.status), ("phase", V.phase)):
        value = _text(root, path)
        if value:
            graph.add((trial, prop, Literal(value)))
    for condition in root.findall("condition"):
        graph.add((trial, V.condition, Literal(condition.text or "")))
    for keyword in root.findall("keyword"):
        graph.add((trial, V.keyword, Literal(keyword.text or "")))
    for number, intervention in enumerate(root.findall("intervention")):
        node = EX[f"{nct}/intervention/{number}"]
        graph.add((trial, V.intervention, node))
        graph.add((node, RDFS.label, Literal(_text(intervention, "intervention_name") or "")))
        graph.add((node, V.type, Literal(_text(intervention, "intervention_type") or "")))
    for number, arm in enumerate(root.findall("arm_group")):
        node = EX[f"{nct}/arm/{number}"]
        graph.add((trial, V.arm, node))
        graph.add((node, RDFS.label, Literal(_text(arm, "arm_group_label") or "")))
        for path, prop in (("arm_group_type", V.type), ("description", V.description)):
            value = _text(arm, path)
            if value:
                graph.add((node, prop, Literal(value)))
    for kind in ("primary_outcome", "secondary_outcome", "other_outcome"):
        for number, outcome in enumerate(root.findall(kind)):
            node = EX[f"{nct}/{kind}/{number}"]
            graph.add((trial, V[kind], node))
            graph.add((node, V.measure, Literal(_text(outcome, "measure") or "")))
            value = _text(outcome, "time_frame")
            if value:
                graph.add((node, V.timeFrame, Literal(value)))
    _add_criteria(graph, trial, nct, _text(root, "eligibility/criteria/textblock") or "")
    for path, prop in (("sponsors/lead_sponsor/agency", V.sponsor),):
        value = _text(root, path)
        if value:
            graph.add((trial, prop, Literal(value)))
    for collaborator in root.findall("sponsors/collaborator/agency"):
        graph.add((trial, V.collaborator, Literal(collaborator.text or "")))
    for number, official in enumerate(root.findall("overall_official")):
        node = EX[f"{nct}/official/{number}"]
        graph.add((trial, V.official, node))
        for path in ("last_name", "role", "affiliation"):
            value = _text(official, path)
            if value:
                graph.add((node, V[path], Literal(value)))
    for number, location in enumerate(root.findall("location")):
        node = EX[f"{nct}/site/{number}"]
        graph.add((trial, V.site, node))
        for path, prop in (("facility/name", V.facility), ("facility/address/city", V.city),
                           ("facility/address/country", V.country)):
            value = _text(location, path)
            if value:
                graph.add((node, prop, Literal(value)))
    for pmid in root.findall("reference/PMID"):
        graph.add((trial, V.reference, URIRef(f"https://pubmed.ncbi.nlm.nih.gov/{(pmid.text or '').strip()}")))


def convert(paths: list[Path], out: Path) -> tuple[int, int]:
    """Studies read and quads written."""
    dataset = Dataset()
    studies = 0
    files = sorted(p for path in paths for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    for file in files:
        if file.suffix == ".xml":
            root = ET.parse(file).getroot()
            if root.tag == "clinical_study":
                add_xml_study(dataset, root)
                studies += 1
        elif file.suffix in (".json", ".zip"):
            for study in json_studies(file):
                add_json_study(dataset, study)
                studies += 1
    dataset.serialize(destination=str(out), format="nquads")
    return studies, sum(len(graph) for graph in dataset.graphs())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    studies, quads = convert(args.paths, args.out)
    print(json.dumps({"studies": studies, "quads": quads}))


if __name__ == "__main__":
    main()
