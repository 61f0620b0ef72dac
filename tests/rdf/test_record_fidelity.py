"""Field fidelity of the emitted graph on real records (issue 17): one node per thing the record lists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kg.rdf.emit import emit_trial
from kg.rdf.namespaces import TKG
from kg.sources import parse_record
from kg.sources.base import RawRecord

DATA = Path(__file__).resolve().parents[1] / "data"


def _json_record(path: Path, nct: str) -> Any:
    studies = json.loads(path.read_text(encoding="utf-8"))
    study = next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == nct)
    return parse_record(RawRecord("ctgov-json", str(path), nct, json.dumps(study))).record


def _objects(lines: list[str], predicate: str | tuple[str, ...]) -> list[tuple[str, str]]:
    predicates = (predicate,) if isinstance(predicate, str) else predicate
    found = []
    for line in lines:
        subject, pred, rest = line.split(" ", 2)
        if pred in predicates:
            found.append((subject, rest.rsplit(" ", 2)[0]))
    return found


def test_interventions_of_one_name_stay_distinct_and_arms_link_the_right_one() -> None:
    """NCT05819710 lists TS-142 twice (5 mg and 10 mg arms): two nodes, each linked to its own arm only."""
    trial = _json_record(DATA / "more" / "ctgov-json" / "industry.ctg-studies.json", "NCT05819710")
    lines = emit_trial(trial)
    interventions = [o for _, o in _objects(lines, TKG.hasIntervention)]
    assert len(interventions) == len(set(interventions)) == 4
    links = {(arm.rsplit("/", 1)[1], target.rsplit("/intervention/NCT05819710/", 1)[1])
             for arm, target in _objects(lines, TKG.armIntervention)}
    assert links == {("5-mg-of-ts-142>", "ts-142/1>"), ("10-mg-of-ts-142>", "ts-142/2>"),
                     ("7-5-mg-of-zopiclone-fc5efdd13b>", "zopiclone>"), ("placebo>", "placebo>")}


def test_an_official_without_a_role_has_no_role_code(tmp_path: Path) -> None:
    """Legacy XML: NCT00001177's official with its <role> removed states no role (never "UNKNOWN")."""
    from kg.sources.ctgov_xml import read_ctgov_xml

    text = (DATA / "ctgov-xml" / "aact-fixtures" / "NCT00001177.xml").read_text(encoding="utf-8")
    assert "<role>Principal Investigator</role>" in text
    path = tmp_path / "NCT00001177.xml"
    path.write_text(text.replace("<role>Principal Investigator</role>", "", 1), encoding="utf-8")
    raw = next(r for r in read_ctgov_xml(path) if isinstance(r, RawRecord))
    trial = parse_record(raw).record
    official = trial.officials[0]
    assert official.name == "Peter J Schmidt, M.D." and official.role == ""
    lines = emit_trial(trial)
    assert not _objects(lines, TKG.roleCode)
    assert any(o == TKG.OtherRole for _, o in _objects(lines, TKG.roleType))


_FREE_TEXT = (TKG.description, TKG.measure, TKG.timeFrame, TKG.criterionText, TKG.criterionScope, TKG.briefSummary,
              TKG.detailedDescription, TKG.whyStopped)
# A markdown escape as N-Quads writes it: the backslash doubled, then ASCII punctuation.
_ESCAPE = re.compile(r'\\\\[!-/:-@\[-`{-~]')


@pytest.mark.parametrize("name", ["ctgov-json/herniated-disc.ctg-studies.json",
                                  "more/ctgov-json/industry.ctg-studies.json",
                                  "more/ctgov-json/leukemia.ctg-studies.json"])
def test_no_markdown_escape_in_free_text(name: str) -> None:
    """API v2 writes its free text as markdown (\\>=50%, Male \\& Female); the graph states the bare characters."""
    path = DATA / name
    studies = json.loads(path.read_text(encoding="utf-8"))
    escaped_in_record = 0
    for study in studies:
        nct = study["protocolSection"]["identificationModule"]["nctId"]
        escaped_in_record += "\\\\" in json.dumps(study.get("protocolSection"))
        trial = parse_record(RawRecord("ctgov-json", str(path), nct, json.dumps(study))).record
        kept = [o for _, o in _objects(emit_trial(trial), _FREE_TEXT) if _ESCAPE.search(o)]
        assert not kept, (nct, kept[:3])
    assert escaped_in_record  # the file has escapes to remove


def _sites(trial: Any) -> set[str]:
    return {o for _, o in _objects(emit_trial(trial), TKG.hasSite)}


def test_a_location_without_a_facility_is_a_site_of_its_trial() -> None:
    """NCT02210780 lists its locations by city only: each one is a site, keyed by trial and position."""
    path = DATA / "ctgov-json" / "single" / "NCT02210780.json"
    study = json.loads(path.read_text(encoding="utf-8"))
    locations = study["protocolSection"]["contactsLocationsModule"]["locations"]
    assert len(locations) > 1 and not any(loc.get("facility") for loc in locations)
    trial = parse_record(RawRecord("ctgov-json", str(path), "NCT02210780", json.dumps(study))).record
    assert _sites(trial) == {f"<https://w3id.org/trialkg/resource/site/NCT02210780/{n}>"
                             for n in range(1, len(locations) + 1)}


@pytest.mark.parametrize(("name", "nct"), [("industry", "NCT05809934"), ("industry", "NCT05921903"),
                                           ("leukemia", "NCT05739409")])
def test_one_facility_name_at_several_addresses_is_several_sites(name: str, nct: str) -> None:
    """"Research Site", Bangkok at three postal codes; one name in two states: a site per address."""
    path = DATA / "more" / "ctgov-json" / f"{name}.ctg-studies.json"
    studies = json.loads(path.read_text(encoding="utf-8"))
    study = next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == nct)
    addresses = {tuple((loc.get(k) or "").lower() for k in ("facility", "city", "state", "zip", "country"))
                 for loc in study["protocolSection"]["contactsLocationsModule"]["locations"]}
    assert len(_sites(_json_record(path, nct))) == len(addresses)
