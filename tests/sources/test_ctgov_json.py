"""ClinicalTrials.gov API v2 JSON: every shape, real records, bad input, flat memory.

Expected numbers are counted here from the raw files with plain ``json.load``, never
with the code under test, so a mapping bug cannot agree with itself.
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.errors import RecordError, SourceError
from kg.model import GeoPoint, MeshTerm, Trial
from kg.sources import get_format, read_records, sniff
from kg.sources.base import RawRecord
from kg.sources.ctgov_json import (
    parse_ctgov_json,
    read_ctgov_json,
    read_ctgov_json_zip,
    sniff_ctgov_json,
    sniff_ctgov_json_zip,
)
from kg.sources.zipwalk import _zip64_sizes

DATA = Path(__file__).resolve().parents[1] / "data"
JSON_DIR = DATA / "ctgov-json"
SINGLES = sorted((JSON_DIR / "single").glob("*.json"))
ARRAY_FILE = JSON_DIR / "herniated-disc.ctg-studies.json"
ALL_FILES = sorted(JSON_DIR.rglob("*.json"))
REPO = Path(__file__).resolve().parents[2]


# --- helpers -----------------------------------------------------------------------------


def load_studies(path: Path) -> list[dict[str, Any]]:
    """The study objects of a real file, by plain json.load."""
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    return data if isinstance(data, list) else [data]


def parse_all(records: Iterable[RawRecord | RecordError]) -> tuple[list[Trial], list[RecordError]]:
    """Parse what a reader yields; reader errors and parser errors both count as failures."""
    trials: list[Trial] = []
    errors: list[RecordError] = []
    for item in records:
        if isinstance(item, RecordError):
            errors.append(item)
            continue
        try:
            trials.append(parse_ctgov_json(item).trial)
        except RecordError as error:
            errors.append(error)
    return trials, errors


def single_trials() -> list[Trial]:
    trials: list[Trial] = []
    for path in SINGLES:
        found, errors = parse_all(read_ctgov_json(path))
        assert not errors
        trials.extend(found)
    return trials


def compact(study: dict[str, Any]) -> str:
    return json.dumps(study, ensure_ascii=False, separators=(",", ":"))


def protocol(study: dict[str, Any], module: str) -> dict[str, Any]:
    return study["protocolSection"].get(module, {})


def independent_counts(studies: list[dict[str, Any]]) -> dict[str, int]:
    """Counts straight from the raw JSON structure."""
    counts = dict.fromkeys(
        ["trials", "arms", "interventions", "officials", "locations", "pmids", "condition_mesh", "intervention_mesh"],
        0,
    )
    for study in studies:
        arms = protocol(study, "armsInterventionsModule")
        contacts = protocol(study, "contactsLocationsModule")
        derived = study.get("derivedSection", {})
        counts["trials"] += 1
        counts["arms"] += len(arms.get("armGroups", []))
        counts["interventions"] += len(arms.get("interventions", []))
        counts["officials"] += len(contacts.get("overallOfficials", []))
        counts["locations"] += len(contacts.get("locations", []))
        references = protocol(study, "referencesModule").get("references", [])
        counts["pmids"] += sum(1 for ref in references if ref.get("pmid"))
        counts["condition_mesh"] += len(derived.get("conditionBrowseModule", {}).get("meshes", []))
        counts["intervention_mesh"] += len(derived.get("interventionBrowseModule", {}).get("meshes", []))
    return counts


def parsed_counts(trials: list[Trial]) -> dict[str, int]:
    return {
        "trials": len(trials),
        "arms": sum(len(t.arms) for t in trials),
        "interventions": sum(len(t.interventions) for t in trials),
        "officials": sum(len(t.officials) for t in trials),
        "locations": sum(len(t.sites) for t in trials),
        "pmids": sum(1 for t in trials for r in t.references if r.pmid),
        "condition_mesh": sum(len(t.condition_mesh) for t in trials),
        "intervention_mesh": sum(len(t.intervention_mesh) for t in trials),
    }


def contact_values(value: Any) -> Iterator[str]:
    """Every e-mail and phone value anywhere in a raw study (contacts, points of contact)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("email", "phone") and isinstance(item, str):
                yield item
            else:
                yield from contact_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from contact_values(item)


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def single_bytes() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in SINGLES}


# --- the real files ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_real_file_counts_match_raw_json(path: Path) -> None:
    trials, errors = parse_all(read_ctgov_json(path))
    assert errors == []
    assert parsed_counts(trials) == independent_counts(load_studies(path))


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_real_file_ids_titles_and_order(path: Path) -> None:
    studies = load_studies(path)
    trials, _ = parse_all(read_ctgov_json(path))
    assert [t.nct_id for t in trials] == [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]
    assert [t.brief_title for t in trials] == [
        s["protocolSection"]["identificationModule"]["briefTitle"].strip() for s in studies
    ]
    assert [t.has_results for t in trials] == [s["hasResults"] for s in studies]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_no_email_or_phone_reaches_the_records(path: Path) -> None:
    studies = load_studies(path)
    trials, _ = parse_all(read_ctgov_json(path))
    for study, trial in zip(studies, trials, strict=True):
        text = repr(trial)
        for value in contact_values(study):
            assert value not in text
        assert "@" not in "".join(repr(p) for p in trial.officials + tuple(trial.sites))


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_registry_sniffs_real_files_as_ctgov_json(path: Path) -> None:
    assert sniff(path).name == "ctgov-json"
    assert len(list(read_records(path))) == len(load_studies(path))


def test_sniffers_leave_other_formats_alone() -> None:
    others = [DATA / "ctgov-csv" / "urology-search-sample.csv", *sorted((DATA / "ctgov-xml").rglob("*.xml"))[:5]]
    for path in others:
        head = path.read_bytes()[:65536]
        assert not sniff_ctgov_json(path, head), path
        assert not sniff_ctgov_json_zip(path, head), path


def test_field_mapping_of_a_full_record() -> None:
    path = JSON_DIR / "single" / "NCT02552212.json"
    raw = load_studies(path)[0]
    ps = raw["protocolSection"]
    (trial,), _ = parse_all(read_ctgov_json(path))

    ident, status, design = ps["identificationModule"], ps["statusModule"], ps["designModule"]
    assert trial.nct_id == ident["nctId"] == "NCT02552212"
    assert trial.org_study_id == ident["orgStudyIdInfo"]["id"]
    assert [(i.id, i.type) for i in trial.secondary_ids] == [(s["id"], s["type"]) for s in ident["secondaryIdInfos"]]
    assert trial.official_title == ident["officialTitle"]
    assert trial.overall_status == status["overallStatus"]
    assert trial.start_date is not None
    assert (trial.start_date.date, trial.start_date.type) == (
        status["startDateStruct"]["date"],
        status["startDateStruct"]["type"],
    )
    assert trial.first_submitted == status["studyFirstSubmitDate"]
    assert trial.last_verified == status["statusVerifiedDate"]
    assert trial.results_first_posted is not None
    assert trial.results_first_posted.date == status["resultsFirstPostDateStruct"]["date"]
    assert trial.phases == tuple(design["phases"])
    assert trial.masking == design["designInfo"]["maskingInfo"]["masking"]
    assert trial.enrollment is not None
    assert trial.enrollment.count == design["enrollmentInfo"]["count"]

    # Officials: names and roles as given; the call-centre number in the affiliation is gone.
    officials = ps["contactsLocationsModule"]["overallOfficials"]
    assert [(o.name, o.role) for o in trial.officials] == [(o["name"], o["role"]) for o in officials]
    assert officials[0]["affiliation"] == "1-844-599-2273 (UCB)"
    assert trial.officials[0].affiliation == "UCB"

    # Sites: one per location, geo point from geoPoint.
    locations = ps["contactsLocationsModule"]["locations"]
    assert [s.facility for s in trial.sites] == [loc.get("facility") for loc in locations]
    assert trial.sites[0].geo == GeoPoint(locations[0]["geoPoint"]["lat"], locations[0]["geoPoint"]["lon"])
    assert trial.sites[0].city == locations[0]["city"]

    # MeSH: descriptor ids from meshes/ancestors, never the M... browse-leaf ids.
    browse = raw["derivedSection"]["conditionBrowseModule"]
    assert trial.condition_mesh == tuple(MeshTerm(m["term"], m["id"]) for m in browse["meshes"])
    assert [m.id for m in trial.condition_mesh_ancestors] == [m["id"] for m in browse["ancestors"]]
    leaf_ids = {leaf["id"] for leaf in browse["browseLeaves"]}
    all_mesh = trial.condition_mesh + trial.condition_mesh_ancestors + trial.intervention_mesh
    assert not leaf_ids & {m.id for m in all_mesh}
    assert [m.id for m in trial.intervention_mesh] == [
        m["id"] for m in raw["derivedSection"]["interventionBrowseModule"]["meshes"]
    ]

    # Arms name their interventions without the "Type: " prefix, so the names join.
    names = {i.name for i in trial.interventions}
    assert all(n in names for arm in trial.arms for n in arm.intervention_names)
    groups = ps["armsInterventionsModule"]["armGroups"]
    assert [a.label for a in trial.arms] == [g["label"] for g in groups]
    assert trial.arms[0].intervention_names == tuple(n.split(": ", 1)[1] for n in groups[0]["interventionNames"])

    # Outcomes keep their kind; eligibility splits into criteria and keeps the text.
    outcomes = ps["outcomesModule"]
    assert [o.kind for o in trial.outcomes].count("PRIMARY") == len(outcomes["primaryOutcomes"])
    assert [o.kind for o in trial.outcomes].count("SECONDARY") == len(outcomes["secondaryOutcomes"])
    eligibility = ps["eligibilityModule"]
    assert trial.eligibility.text == eligibility["eligibilityCriteria"].strip()
    assert {c.kind for c in trial.eligibility.criteria} == {"INCLUSION", "EXCLUSION"}
    assert trial.eligibility.minimum_age is not None
    assert trial.eligibility.minimum_age.value == float(eligibility["minimumAge"].split()[0])
    assert trial.eligibility.std_ages == tuple(eligibility["stdAges"])
    assert trial.lead_sponsor is not None
    assert (trial.lead_sponsor.name, trial.lead_sponsor.org_class) == (
        ps["sponsorCollaboratorsModule"]["leadSponsor"]["name"],
        ps["sponsorCollaboratorsModule"]["leadSponsor"]["class"],
    )

    # Large documents point at the CDN; references keep PMIDs; see-also links are documents.
    doc = raw["documentSection"]["largeDocumentModule"]["largeDocs"][0]
    expected_url = f"https://cdn.clinicaltrials.gov/large-docs/12/NCT02552212/{doc['filename']}"
    assert (trial.documents[0].url, trial.documents[0].type, trial.documents[0].date) == (
        expected_url,
        doc["typeAbbrev"],
        doc["date"],
    )
    assert [r.pmid for r in trial.references] == [r.get("pmid") for r in ps["referencesModule"]["references"]]
    links = [d.url for d in trial.documents if d.type == "LINK"]
    assert links == [link["url"] for link in ps["referencesModule"]["seeAlsoLinks"]]


def test_responsible_party_old_style_and_investigator() -> None:
    studies = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in load_studies(ARRAY_FILE)}
    trials = {t.nct_id: t for t in parse_all(read_ctgov_json(ARRAY_FILE))[0]}
    old = studies["NCT00405041"]["protocolSection"]["sponsorCollaboratorsModule"]["responsibleParty"]
    party = trials["NCT00405041"].responsible_party
    assert party is not None
    assert (party.name, party.affiliation) == (old["oldNameTitle"], old["oldOrganization"])
    with_investigator = [
        nct
        for nct, s in studies.items()
        if "investigatorFullName" in s["protocolSection"]["sponsorCollaboratorsModule"].get("responsibleParty", {})
    ]
    assert with_investigator
    for nct in with_investigator:
        rp = studies[nct]["protocolSection"]["sponsorCollaboratorsModule"]["responsibleParty"]
        got = trials[nct].responsible_party
        assert got is not None
        assert (got.type, got.name, got.title, got.affiliation) == (
            rp["type"],
            rp["investigatorFullName"],
            rp["investigatorTitle"],
            rp["investigatorAffiliation"],
        )


def test_nct_aliases_become_secondary_ids() -> None:
    trials = {t.nct_id: t for t in parse_all(read_ctgov_json(ARRAY_FILE))[0]}
    assert ("NCT02380456", "NCT_ALIAS") in {(i.id, i.type) for i in trials["NCT02300909"].secondary_ids}


def test_site_investigators_keep_names_but_never_contacts(tmp_path: Path) -> None:
    study = load_studies(JSON_DIR / "single" / "NCT06171568.json")[0]
    location = study["protocolSection"]["contactsLocationsModule"]["locations"][0]
    location["contacts"].append(
        {"name": "Ada Lovelace, MD", "role": "PRINCIPAL_INVESTIGATOR", "email": "ada@example.org", "phone": "555 0100"}
    )
    path = tmp_path / "study.json"
    path.write_text(json.dumps(study), encoding="utf-8")
    (trial,), errors = parse_all(read_ctgov_json(path))
    assert errors == []
    site = trial.sites[0]
    assert [(p.name, p.role, p.affiliation) for p in site.investigators] == [
        ("Ada Lovelace, MD", "PRINCIPAL_INVESTIGATOR", location["facility"])
    ]
    text = repr(trial)
    assert "ada@example.org" not in text and "555 0100" not in text and "Camille Heslot" not in text


def test_contact_details_in_names_and_prose_are_removed(tmp_path: Path) -> None:
    study = load_studies(JSON_DIR / "single" / "NCT03418623.json")[0]
    contacts = study["protocolSection"].setdefault("contactsLocationsModule", {})
    contacts["overallOfficials"] = [
        {"name": "1-877-285-4559 (call centre)", "affiliation": "Eli Lilly", "role": "STUDY_DIRECTOR"},
        {"name": "Jane Roe", "affiliation": "Acme Hospital, Tel: 01.49.95.81.69, jane@acme.org", "role": "STUDY_CHAIR"},
    ]
    study["protocolSection"]["descriptionModule"]["briefSummary"] = "Questions? Call 1-800-555-0199 or mail a@b.org."
    path = tmp_path / "study.json"
    path.write_text(json.dumps(study), encoding="utf-8")
    raw = next(iter(read_ctgov_json(path)))
    assert isinstance(raw, RawRecord)
    parsed = parse_ctgov_json(raw)
    trial = parsed.trial
    assert [(o.name, o.affiliation) for o in trial.officials] == [("Jane Roe", "Acme Hospital")]
    assert trial.brief_summary == "Questions? Call [phone removed] or mail [email removed]."
    assert any("contact details" in w for w in parsed.warnings)


# --- the shapes --------------------------------------------------------------------------


def test_shape_array_from_singles(tmp_path: Path) -> None:
    path = tmp_path / "ctg-studies.json"
    path.write_text("[\n" + ",\n".join(compact(load_studies(p)[0]) for p in SINGLES) + "\n]", encoding="utf-8")
    trials, errors = parse_all(read_ctgov_json(path))
    assert errors == []
    assert trials == single_trials()
    assert sniff(path).name == "ctgov-json"


@pytest.mark.parametrize("first", ["studies", "totalCount"])
def test_shape_api_page(tmp_path: Path, first: str) -> None:
    studies = [load_studies(p)[0] for p in SINGLES]
    page: dict[str, Any] = {"totalCount": 9999} if first == "totalCount" else {}
    page.update({"studies": studies, "nextPageToken": "NF0g5JGBlPMuwQY"})
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page, separators=(",", ":")), encoding="utf-8")
    records = [r for r in read_ctgov_json(path) if isinstance(r, RawRecord)]
    assert [r.record for r in records] == [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]
    trials, errors = parse_all(read_ctgov_json(path))
    assert errors == []
    assert trials == single_trials()
    assert sniff(path).name == "ctgov-json"


def test_empty_api_page_is_sniffed_and_gives_nothing(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_bytes(b'{"totalCount":0,"studies":[]}')
    assert sniff(path).name == "ctgov-json"
    assert list(read_ctgov_json(path)) == []


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson", ".json"])
def test_shape_json_lines(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"studies{suffix}"
    lines = [compact(load_studies(p)[0]) for p in SINGLES]
    path.write_text("\n".join(lines[:3]) + "\n\n" + "\r\n".join(lines[3:]) + "\n", encoding="utf-8")
    records = list(read_ctgov_json(path))
    assert all(isinstance(r, RawRecord) for r in records)
    trials, errors = parse_all(records)
    assert errors == []
    assert trials == single_trials()
    assert sniff(path).name == "ctgov-json"


def test_shape_zip_of_singles(tmp_path: Path) -> None:
    members = {f"ctg-studies/{name}": data for name, data in single_bytes().items()}
    members["__MACOSX/ctg-studies/._NCT00465816.json"] = b"\x00\x05\x16\x07junk"
    path = write_zip(tmp_path / "ctg-studies.json.zip", members)
    assert sniff(path).name == "ctgov-json-zip"
    records = list(read_ctgov_json_zip(path))
    raw = [r for r in records if isinstance(r, RawRecord)]
    assert [r.source for r in raw] == [f"{path}!ctg-studies/{p.name}" for p in SINGLES]
    assert [r.record for r in raw] == [p.stem for p in SINGLES]
    assert all(r.format == "ctgov-json" for r in raw)
    trials, errors = parse_all(records)
    assert errors == []
    assert trials == single_trials()
    assert get_format("ctgov-json-zip").parse is parse_ctgov_json


def test_shape_zip_holding_an_array_and_json_lines(tmp_path: Path) -> None:
    lines = [compact(load_studies(p)[0]) for p in SINGLES]
    path = write_zip(
        tmp_path / "bundle.zip",
        {"array.json": ARRAY_FILE.read_bytes(), "more.jsonl": "\n".join(lines).encode()},
    )
    trials, errors = parse_all(read_ctgov_json_zip(path))
    assert errors == []
    assert len(trials) == len(load_studies(ARRAY_FILE)) + len(SINGLES)


def test_single_document_pretty_compact_and_with_bom(tmp_path: Path) -> None:
    source = JSON_DIR / "single" / "NCT03475563.json"
    (expected,), _ = parse_all(read_ctgov_json(source))
    study = load_studies(source)[0]
    variants = {
        "compact.json": compact(study).encode(),
        "bom.json": b"\xef\xbb\xbf" + source.read_bytes(),
        "spaced.json": b"\n\n  " + json.dumps(study, indent=4).encode() + b"\n",
    }
    for name, data in variants.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert sniff(path).name == "ctgov-json", name
        trials, errors = parse_all(read_ctgov_json(path))
        assert errors == [] and trials == [expected], name


# --- bad input ---------------------------------------------------------------------------


def test_truncated_array_yields_the_complete_studies_then_one_error(tmp_path: Path) -> None:
    data = ARRAY_FILE.read_bytes()
    path = tmp_path / "half.json"
    path.write_bytes(data[: len(data) // 2])
    items = list(read_ctgov_json(path))
    errors = [i for i in items if isinstance(i, RecordError)]
    assert len(errors) == 1 and items[-1] is errors[0]
    assert errors[0].source == str(path) and "truncated" in errors[0].message
    trials, parse_errors = parse_all(items[:-1])
    assert parse_errors == [] and len(trials) == len(items) - 1 > 10
    expected = [s["protocolSection"]["identificationModule"]["nctId"] for s in load_studies(ARRAY_FILE)]
    assert [t.nct_id for t in trials] == expected[: len(trials)]


def test_truncated_single_document_raises_naming_the_file(tmp_path: Path) -> None:
    data = (JSON_DIR / "single" / "NCT02210780.json").read_bytes()
    path = tmp_path / "NCT02210780.json"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError) as caught:
        list(read_ctgov_json(path))
    assert caught.value.source == str(path) and "truncated" in caught.value.message


def test_json_that_is_not_a_study(tmp_path: Path) -> None:
    path = tmp_path / "foo.json"
    path.write_bytes(b'{"foo": 1}')
    assert not sniff_ctgov_json(path, path.read_bytes())
    with pytest.raises(SourceError, match=r"not a ClinicalTrials\.gov API v2 study") as caught:
        list(read_ctgov_json(path))
    assert caught.value.source == str(path) and "foo" in caught.value.message


def test_parser_refuses_payloads_that_are_no_study() -> None:
    cases = {
        b'{"foo": 1}': "no protocolSection",
        b'{"protocolSection": {"identificationModule": {"briefTitle": "x"}}}': "nctId",
        b"[1, 2]": "not an object",
        b'{"protocolSection": ': "invalid or truncated JSON",
    }
    for payload, expected in cases.items():
        with pytest.raises(RecordError, match=expected) as caught:
            parse_ctgov_json(RawRecord("ctgov-json", "some.json", "[3]", payload))
        assert (caught.value.source, caught.value.record) == ("some.json", "[3]")


def test_array_items_that_are_no_study_are_reported_and_skipped(tmp_path: Path) -> None:
    good = compact(load_studies(SINGLES[0])[0])
    path = tmp_path / "mixed.json"
    path.write_text(f'[{good}, {{"foo": 1}}, 42, {good}]', encoding="utf-8")
    items = list(read_ctgov_json(path))
    assert [type(i).__name__ for i in items] == ["RawRecord", "RecordError", "RecordError", "RawRecord"]
    assert [i.record for i in items if isinstance(i, RecordError)] == ["[1]", "[2]"]


@pytest.mark.parametrize("key", ["FullStudiesResponse", "StudyFieldsResponse"])
def test_classic_api_json_is_refused_clearly(tmp_path: Path, key: str) -> None:
    path = tmp_path / "classic.json"
    classic = {key: {"APIVrs": "1.01.05", "NStudiesFound": 1, "FullStudies": [{"Rank": 1, "Study": {
        "ProtocolSection": {"IdentificationModule": {"NCTId": "NCT00465816"}}}}]}}
    path.write_text(json.dumps(classic, indent=2), encoding="utf-8")
    assert sniff(path).name == "ctgov-json"
    with pytest.raises(SourceError, match=f"retired classic API format {key}; download API v2 JSON"):
        list(read_ctgov_json(path))


def test_zip_with_bad_members_reports_them_by_name(tmp_path: Path) -> None:
    members = single_bytes()
    members["README.txt"] = b"Downloaded from ClinicalTrials.gov"
    members["NCT99999999.json"] = b'{"protocolSection": {"identificationModule": '
    members["notes.json"] = b'{"foo": 1}'
    members["latin1.json"] = (JSON_DIR / "single" / "NCT06171568.json").read_text("utf-8").encode("latin-1")
    path = write_zip(tmp_path / "ctg-studies.json.zip", members)
    assert sniff(path).name == "ctgov-json-zip"
    trials, errors = parse_all(read_ctgov_json_zip(path))
    assert trials == single_trials()
    by_member = {e.record: e for e in errors}
    assert set(by_member) == {"README.txt", "NCT99999999.json", "notes.json", "latin1.json"}
    assert all(e.source == f"{path}!{e.record}" for e in errors)
    assert "not a JSON study file" in by_member["README.txt"].message
    assert "truncated" in by_member["NCT99999999.json"].message
    assert "not a ClinicalTrials.gov API v2 study" in by_member["notes.json"].message
    assert "not UTF-8" in by_member["latin1.json"].message


def test_zip_with_corrupt_member_data_reports_it(tmp_path: Path) -> None:
    members = single_bytes()
    path = write_zip(tmp_path / "studies.zip", members)
    data = bytearray(path.read_bytes())
    target = b"NCT03418623.json"
    at = data.index(target) + len(target) + 200  # inside that member's compressed bytes
    data[at : at + 40] = bytes(40)
    path.write_bytes(bytes(data))
    trials, errors = parse_all(read_ctgov_json_zip(path))
    assert [e.record for e in errors] == ["NCT03418623.json"]
    assert len(trials) == len(SINGLES) - 1


def test_broken_zip_raises(tmp_path: Path) -> None:
    whole = write_zip(tmp_path / "whole.zip", single_bytes()).read_bytes()
    path = tmp_path / "cut.zip"
    path.write_bytes(whole[: len(whole) // 2])
    assert not sniff_ctgov_json_zip(path, path.read_bytes()[:65536])
    with pytest.raises(SourceError, match="not a readable zip") as caught:
        list(read_ctgov_json_zip(path))
    assert caught.value.source == str(path)


def test_zip_after_leading_bytes_still_reads(tmp_path: Path) -> None:
    """Offsets in the directory are relative to the zip, not the file (self-extracting archives)."""
    whole = write_zip(tmp_path / "whole.zip", single_bytes()).read_bytes()
    path = tmp_path / "prefixed.zip"
    path.write_bytes(b"#!/bin/sh\nexit 0\n" * 50 + whole)
    trials, errors = parse_all(read_ctgov_json_zip(path))
    assert errors == [] and trials == single_trials()


@pytest.mark.slow
def test_zip64_directory_with_more_than_65535_members(tmp_path: Path) -> None:
    count = 66_000
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for number in range(count):
            nct = f"NCT{number:08d}"
            study = {"protocolSection": {"identificationModule": {"nctId": nct}}}
            archive.writestr(f"{nct}.json", json.dumps(study))
    assert path.read_bytes()[-200:].count(b"PK\x06\x06") == 1  # the zip64 end record is there
    assert sniff(path).name == "ctgov-json-zip"
    records = read_ctgov_json_zip(path)
    last = None
    for number, item in enumerate(records):
        assert isinstance(item, RawRecord) and item.record == f"NCT{number:08d}"
        last = number
    assert last == count - 1


def test_zip_without_json_is_not_sniffed(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "docs.zip", {"a.txt": b"x", "b.pdf": b"y", "c.json": b"{}"})
    assert not sniff_ctgov_json_zip(path, path.read_bytes()[:65536])


def test_json_lines_with_a_bad_line_keep_going(tmp_path: Path) -> None:
    lines = [compact(load_studies(p)[0]) for p in SINGLES[:3]]
    path = tmp_path / "studies.jsonl"
    path.write_bytes(
        (lines[0] + "\n" + lines[1][:500] + "\n" + lines[2] + "\n").encode()
        + "{\"protocolSection\": \"caf\u00e9\"}\n".encode("latin-1")
    )
    items = list(read_ctgov_json(path))
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [e.record for e in errors] == ["line 2", "line 4"]
    assert "truncated" in errors[0].message and "not UTF-8" in errors[1].message
    trials, _ = parse_all(i for i in items if isinstance(i, RawRecord))
    assert [t.nct_id for t in trials] == [SINGLES[0].stem, SINGLES[2].stem]


def test_latin1_file_raises_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "NCT06171568.json"
    path.write_bytes((JSON_DIR / "single" / "NCT06171568.json").read_text("utf-8").encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8") as caught:
        list(read_ctgov_json(path))
    assert caught.value.source == str(path)


def test_utf16_file_raises_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "NCT03453554.json"
    path.write_bytes((JSON_DIR / "single" / "NCT03453554.json").read_text("utf-8").encode("utf-16"))
    assert sniff(path).name == "ctgov-json"
    with pytest.raises(SourceError, match="UTF-16"):
        list(read_ctgov_json(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"  \n", "empty file"), (b"NCT01234567,Title\n", "not JSON"), (b"[garbage", "invalid")],
)
def test_whole_file_problems_raise_source_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        list(read_ctgov_json(path))


def test_missing_file_raises_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        list(read_ctgov_json(tmp_path / "absent.json"))
    with pytest.raises(SourceError, match="not a readable zip"):
        list(read_ctgov_json_zip(tmp_path / "absent.zip"))


def test_zip64_extra_field_gives_the_overflowed_sizes() -> None:
    extra = struct.pack("<2H", 0x000A, 4) + b"ntfs" + struct.pack("<2HQQ", 0x0001, 16, 5 << 30, 6 << 30)
    assert _zip64_sizes(extra, 0xFFFFFFFF, 100, 0xFFFFFFFF) == (5 << 30, 100, 6 << 30)
    with pytest.raises(zipfile.BadZipFile):
        _zip64_sizes(extra, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)


def _kg_outcomes(read: Any, path: Path) -> list[str]:
    """What a reader gives for a damaged file: kinds only; anything but KG errors fails the test."""
    kinds: list[str] = []
    try:
        for item in read(path):
            if isinstance(item, RawRecord):
                try:
                    parse_ctgov_json(item)
                    kinds.append("trial")
                except RecordError:
                    kinds.append("record-error")
            else:
                assert isinstance(item, RecordError)
                kinds.append("record-error")
    except SourceError:
        kinds.append("source-error")
    return kinds


def test_damaged_files_only_ever_give_kg_errors(tmp_path: Path) -> None:
    rng = random.Random(20240501)
    studies = load_studies(ARRAY_FILE)[:25]
    array = json.dumps(studies, indent=1).encode()
    lines = "\n".join(compact(s) for s in studies).encode()
    archive = write_zip(tmp_path / "good.zip", single_bytes()).read_bytes()
    damaged = tmp_path / "damaged"
    for round_ in range(30):
        for name, data, read in (
            ("a.json", array, read_ctgov_json),
            ("l.jsonl", lines, read_ctgov_json),
            ("z.zip", archive, read_ctgov_json_zip),
        ):
            blob = bytearray(data[: rng.randrange(1, len(data))] if round_ % 2 else data)
            for _ in range(rng.randrange(0, 4)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
            path = damaged.with_name(name)
            path.write_bytes(bytes(blob))
            assert _kg_outcomes(read, path), name  # something reported: records, errors or a SourceError


def test_malformed_study_structures_give_record_errors_or_trials() -> None:
    """Wrong JSON types anywhere in a real study never escape as raw exceptions."""
    rng = random.Random(7)
    weird: list[Any] = [None, 1, 1.5, True, "", "  ", [], {}, ["x"], {"a": 1}, [None, 3, "s"], "text"]
    studies = [{k: v for k, v in load_studies(path)[0].items() if k != "resultsSection"} for path in SINGLES]

    def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        yield prefix
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            yield from paths(child, (*prefix, key))

    for _ in range(1000):
        study = json.loads(json.dumps(rng.choice(studies)))
        targets = list(paths(study))[1:]
        for _ in range(rng.randint(1, 6)):
            path = rng.choice(targets)
            parent = study
            try:
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1]] = json.loads(json.dumps(rng.choice(weird)))
            except (KeyError, IndexError, TypeError):
                continue
        raw = RawRecord("ctgov-json", "fuzz.json", "[0]", json.dumps(study).encode())
        try:
            parse_ctgov_json(raw)
        except RecordError as error:
            assert error.source == "fuzz.json"


# --- streaming ---------------------------------------------------------------------------

STREAM_STUDIES = 50_000
RSS_BOUND_MB = 100
TEMPLATES = ["NCT00465816", "NCT03453554", "NCT00973089", "NCT03418623", "NCT06171568"]

# Runs in a fresh interpreter: ru_maxrss is the process's peak, so earlier tests in this
# process (or building the input) must not hide growth during the read.
_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from kg.errors import RecordError
    from kg.sources.ctgov_json import parse_ctgov_json, read_ctgov_json, read_ctgov_json_zip

    path, warm_up = Path(sys.argv[1]), Path(sys.argv[2])
    for item in read_ctgov_json(warm_up):  # load lazily imported code before the baseline
        parse_ctgov_json(item)
    read = read_ctgov_json_zip if path.suffix == ".zip" else read_ctgov_json
    trials = errors = 0
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for item in read(path):
        if isinstance(item, RecordError):
            errors += 1
        else:
            parse_ctgov_json(item)
            trials += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"trials": trials, "errors": errors, "baseline_kb": baseline, "growth_kb": peak - baseline}))
    """
)


def _stream_input(path: Path, shape: str) -> int:
    """Write STREAM_STUDIES real records with rewritten NCT ids; returns their JSON bytes in all."""
    templates = [(nct, compact(load_studies(JSON_DIR / "single" / f"{nct}.json")[0]).encode()) for nct in TEMPLATES]

    total = 0

    def studies() -> Iterator[tuple[str, bytes]]:
        nonlocal total
        for number in range(STREAM_STUDIES):
            template_nct, template = templates[number % len(templates)]
            nct = f"NCT{90_000_000 + number:08d}"
            data = template.replace(template_nct.encode(), nct.encode())
            total += len(data)
            yield nct, data

    if shape == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for nct, data in studies():
                archive.writestr(f"{nct}.json", data)
    else:
        with path.open("wb") as handle:
            separator = b"[\n"
            for _nct, data in studies():
                handle.write(separator + data)
                separator = b",\n"
            handle.write(b"\n]\n")
    return total


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["zip", "array"])
def test_streaming_memory_stays_flat(tmp_path: Path, shape: str) -> None:
    path = tmp_path / ("ctg-studies.json.zip" if shape == "zip" else "ctg-studies.json")
    json_bytes = _stream_input(path, shape)
    command = [sys.executable, "-c", _MEASURE, str(path), str(SINGLES[0])]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(done.stdout)
    assert result["trials"] == STREAM_STUDIES and result["errors"] == 0
    assert json_bytes > 2 * RSS_BOUND_MB * 1024 * 1024  # holding the studies would break the bound
    assert result["growth_kb"] < RSS_BOUND_MB * 1024, result
