"""The website's CSV search download on the real sample: every row builds, counts agree
with the raw cells (split here with the csv module, not with the code under test), the
lossy ", "-joined cells split sensibly, and bad rows are reported by line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kg.errors import KGError, RecordError, SourceError
from kg.model import AgeLimit, Enrollment, Intervention, Organization, StudyDate, Trial
from kg.sources import sniff
from kg.sources.base import RawRecord
from kg.sources.ctgov_csv import parse_ctgov_csv, read_ctgov_csv, sniff_ctgov_csv, split_location, split_outcome

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "ctgov-csv" / "urology-search-sample.csv"
HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]


def run(path: Path) -> tuple[list[Trial], list[KGError]]:
    """Read and parse like the build does: errors are collected, never raised."""
    trials: list[Trial] = []
    errors: list[KGError] = []
    try:
        for raw in read_ctgov_csv(path):
            if isinstance(raw, KGError):
                errors.append(raw)
                continue
            try:
                trials.append(parse_ctgov_csv(raw).trial)
            except RecordError as error:
                errors.append(error)
    except SourceError as error:
        errors.append(error)
    return trials, errors


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def parsed() -> dict[str, Trial]:
    trials, errors = run(SAMPLE)
    assert errors == []
    return {t.nct_id: t for t in trials}


def items(cell: str) -> list[str]:
    return [part for part in cell.split("|") if part.strip()]


# ---------------------------------------------------------------- every real row


def test_every_row_builds(rows: list[dict[str, str]], parsed: dict[str, Trial]) -> None:
    assert len(rows) == 25
    assert list(parsed) == [row["NCT Number"] for row in rows]


def test_counts_equal_the_raw_cells(rows: list[dict[str, str]], parsed: dict[str, Trial]) -> None:
    for row in rows:
        t = parsed[row["NCT Number"]]
        outcome_cells = ("Primary Outcome Measures", "Secondary Outcome Measures", "Other Outcome Measures")
        expected = {
            "interventions": len(items(row["Interventions"])),
            "sites": len(items(row["Locations"])),
            "outcomes": sum(len(items(row[column])) for column in outcome_cells),
            "conditions": len(items(row["Conditions"])),
            "collaborators": len(items(row["Collaborators"])),
            "ids": len(items(row["Other IDs"])),
            "documents": len(items(row["Study Documents"])),
            "phases": len(items(row["Phases"])),
        }
        got = {
            "interventions": len(t.interventions),
            "sites": len(t.sites),
            "outcomes": len(t.outcomes),
            "conditions": len(t.conditions),
            "collaborators": len(t.collaborators),
            "ids": (t.org_study_id is not None) + len(t.secondary_ids),
            "documents": len(t.documents),
            "phases": len(t.phases),
        }
        assert got == expected, t.nct_id
    trials = list(parsed.values())
    assert sum(len(t.sites) for t in trials) == sum(len(items(row["Locations"])) for row in rows) == 93
    assert sum(len(t.interventions) for t in trials) == sum(len(items(r["Interventions"])) for r in rows) == 39
    # What the download does not carry at all.
    assert sum(len(t.arms) + len(t.officials) + len(t.references) for t in trials) == 0
    assert sum(len(t.condition_mesh) + len(t.intervention_mesh) for t in trials) == 0
    assert sum(len(s.investigators) for t in trials for s in t.sites) == 0


def test_enrollment_status_and_dates_follow_the_cells(rows: list[dict[str, str]], parsed: dict[str, Trial]) -> None:
    for row in rows:
        t = parsed[row["NCT Number"]]
        assert t.enrollment == Enrollment(int(row["Enrollment"]))
        assert t.overall_status == row["Study Status"]
        assert t.lead_sponsor == Organization(row["Sponsor"], row["Funder Type"])
        assert t.start_date == StudyDate(row["Start Date"])
        assert t.first_posted == StudyDate(row["First Posted"])
        assert t.has_results is (row["Study Results"] == "YES")
        assert t.brief_title == row["Study Title"]


# ---------------------------------------------------------------- specific values


def test_nct06600893(parsed: dict[str, Trial]) -> None:
    t = parsed["NCT06600893"]
    assert t.phases == ("NA",) and t.study_type == "INTERVENTIONAL" and t.overall_status == "COMPLETED"
    assert t.interventions == (
        Intervention(name="Low intensity shockwave therapy (LiSWT)", type="DEVICE"),
        Intervention(name="Sham", type="DEVICE"),
    )
    assert (t.allocation, t.intervention_model, t.masking, t.primary_purpose) == (
        "RANDOMIZED",
        "CROSSOVER",
        "DOUBLE",
        "TREATMENT",
    )
    assert t.eligibility.sex == "MALE" and t.eligibility.std_ages == ("ADULT", "OLDER_ADULT")
    assert t.completion_date == StudyDate("2023-04-07")
    site = t.sites[0]
    assert (site.facility, site.city, site.state, site.zip, site.country) == (
        "San Diego Sexual Medicine",
        "San Diego",
        "California",
        "92120",
        "United States",
    )
    first = t.outcomes[0]
    assert (first.kind, first.measure) == ("PRIMARY", "Grayscale ultrasound (GUS)")
    assert first.description is not None and first.description.startswith("Changes from low intensity")
    assert first.time_frame is not None and first.time_frame.startswith("Baseline to follow up visit 1 at week 20, and")
    assert [o.kind for o in t.outcomes].count("OTHER") == 1


def test_identifiers_collaborators_phases_documents(parsed: dict[str, Trial]) -> None:
    t = parsed["NCT06433596"]
    assert t.org_study_id == "PRP-SW-03"
    assert [i.id for i in t.secondary_ids] == ["2022-002985-34"]
    assert parsed["NCT03849586"].collaborators == (
        Organization("Boston Scientific Corporation"),
        Organization("Coloplast A/S"),
    )
    assert parsed["NCT06550752"].phases == ("PHASE1", "PHASE2")
    assert parsed["NCT06550752"].eligibility.std_ages == ("CHILD", "ADULT", "OLDER_ADULT")
    documents = parsed["NCT04374994"].documents
    assert [(d.label, d.type) for d in documents] == [("Study Protocol", "Prot"), ("Statistical Analysis Plan", "SAP")]
    assert documents[0].url == "https://cdn.clinicaltrials.gov/large-docs/94/NCT04374994/Prot_002.pdf"
    assert parsed["NCT00351065"].start_date == StudyDate("2004-09")
    assert parsed["NCT03849586"].study_type == "OBSERVATIONAL" and parsed["NCT03849586"].phases == ()


def test_locations_are_split_from_the_right(parsed: dict[str, Trial]) -> None:
    sites = {(s.facility, s.city): s for t in parsed.values() for s in t.sites}
    cairo = sites[("Kasr El Aini Faculty of Medicine, Cairo University", "Cairo")]
    assert (cairo.state, cairo.zip, cairo.country) == (None, "12311", "Egypt")
    stanford = sites[("Stanford Healthcare, Stanford Hospital", "Stanford")]
    assert (stanford.state, stanford.zip) == ("California", "94304")
    zurich = sites[("Possover", "Zürich")]
    assert (zurich.state, zurich.zip, zurich.country) == (None, "8008", "Switzerland")
    assert sites[("Men's Health Clinic", "Winnipeg")].zip == "R3K 1M3"
    assert sites[("Urological Research Unit", "Herlev")].state == "Hovedstaden"
    assert sites[("UZ Leuven", "Leuven")].country == "Belgium"
    assert all(s.country for s in sites.values())


def test_split_location_without_facility() -> None:
    site = split_location("Boston, Massachusetts, 02114, United States")
    assert (site.facility, site.city, site.state, site.zip) == (None, "Boston", "Massachusetts", "02114")
    assert split_location("Lyon, France").city == "Lyon"


def test_split_outcome() -> None:
    assert split_outcome("IIEF Q3 & Q4") == ("IIEF Q3 & Q4", None, None)
    assert split_outcome("Levels of Endocan, Levels of Endocan with tadalafil treatment, 1 month") == (
        "Levels of Endocan",
        "Levels of Endocan with tadalafil treatment",
        "1 month",
    )
    assert split_outcome("PEDT, A score of 11 or more indicates PE., Change from baseline at 4 weeks") == (
        "PEDT",
        "A score of 11 or more indicates PE.",
        "Change from baseline at 4 weeks",
    )
    assert split_outcome("IIEF-5 score, 1, 3, 6, and 12 months") == ("IIEF-5 score", None, "1, 3, 6, and 12 months")
    assert split_outcome("Rate, Patients with a score of 50, at week 12, year 1, 2, 4 and 10 after surgery") == (
        "Rate",
        "Patients with a score of 50",
        "at week 12, year 1, 2, 4 and 10 after surgery",
    )
    assert split_outcome("MCID, Share reaching it, From enrollment to the first, third and sixth month") == (
        "MCID",
        "Share reaching it",
        "From enrollment to the first, third and sixth month",
    )


def test_ages_of_the_classic_download() -> None:
    header = "Rank,NCT Number,Title,Status,Gender,Age,Phases,Funded Bys,Sponsor/Collaborators,Study Designs"
    rows = [
        '1,NCT00000001,A,Completed,Male,"18 Years and older   (Adult, Older Adult)",Phase 2,Industry|NIH,X|Z,'
        '"Allocation: Randomized|Intervention Model: Parallel Assignment|Masking: None (Open Label)"',
        '2,NCT00000002,B,Recruiting,All,"18 Years to 65 Years   (Adult)",Phase 1|Phase 2,Other,Y,',
        '3,NCT00000003,C,Recruiting,Female,"up to 17 Years   (Child)",,Other,Y,',
    ]
    raws = [
        RawRecord("ctgov-csv", "x.csv", f"NCT0000000{i}", dict(zip(*csv.reader([header, row]), strict=True)))
        for i, row in enumerate(rows, start=1)
    ]
    first, second, third = (parse_ctgov_csv(raw).trial for raw in raws)
    assert first.eligibility.minimum_age == AgeLimit(18, "Years") and first.eligibility.maximum_age is None
    assert first.eligibility.std_ages == ("ADULT", "OLDER_ADULT") and first.eligibility.sex == "MALE"
    assert (first.allocation, first.intervention_model, first.masking) == ("RANDOMIZED", "PARALLEL", "NONE")
    assert first.lead_sponsor == Organization("X", "INDUSTRY") and first.collaborators == (Organization("Z"),)
    assert first.overall_status == "COMPLETED" and first.brief_title == "A"
    assert (second.eligibility.minimum_age, second.eligibility.maximum_age) == (
        AgeLimit(18, "Years"),
        AgeLimit(65, "Years"),
    )
    assert second.eligibility.std_ages == ("ADULT",) and second.phases == ("PHASE1", "PHASE2")
    assert third.eligibility.maximum_age == AgeLimit(17, "Years") and third.eligibility.std_ages == ("CHILD",)


# ---------------------------------------------------------------- reading and bad input


def test_sniffing(tmp_path: Path) -> None:
    assert sniff(SAMPLE).name == "ctgov-csv"
    assert sniff_ctgov_csv(SAMPLE, b"\xef\xbb\xbf" + SAMPLE.read_bytes()[:65536])
    xml = ROOT / "tests" / "data" / "ctgov-xml" / "aact-fixtures" / "NCT02028676.xml"
    assert not sniff_ctgov_csv(xml, xml.read_bytes()[:65536])
    assert not sniff_ctgov_csv(tmp_path / "a.csv", b"id,title\nNCT Number,Study Title\n")


def test_payload_is_the_row(rows: list[dict[str, str]]) -> None:
    first = next(read_ctgov_csv(SAMPLE))
    assert isinstance(first, RawRecord)
    assert (first.format, first.source, first.record) == ("ctgov-csv", str(SAMPLE), "NCT06600893")
    assert first.payload == rows[0]


def test_row_without_nct_id_names_its_line(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    # Line 1 is the header, lines 2-3 two one-line rows; the third row spans lines 4-10.
    good = "".join(lines[:10])
    no_id = "," + lines[2].split(",", 1)[1]  # line 11: a copy of line 3 without its NCT Number
    path = tmp_path / "search.csv"
    path.write_text(good + no_id + "".join(lines[10:13]), encoding="utf-8")
    trials, errors = run(path)
    assert [t.nct_id for t in trials] == [
        "NCT06600893",
        "NCT00351065",
        "NCT05231083",
        "NCT05385822",
        "NCT06433596",
        "NCT06163157",
    ]
    assert len(errors) == 1 and isinstance(errors[0], RecordError)
    assert (errors[0].source, errors[0].record) == (str(path), "line 11")
    assert "no NCT Number" in str(errors[0])


def test_short_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(HEADER + "\nNCT00000001,Only a title\n", encoding="utf-8")
    trials, errors = run(path)
    assert trials == [] and errors[0].record == "line 2" and "cells" in errors[0].message


def test_not_utf8_rows_are_reported_and_the_others_go_on(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "latin1.csv"
    path.write_bytes(text.encode("latin-1", errors="replace"))
    trials, errors = run(path)
    assert errors and all("not UTF-8" in e.message and e.source == str(path) for e in errors)
    assert all(e.record and e.record.startswith("line ") for e in errors)
    assert len(trials) + len(errors) == 25
    assert "NCT06600893" in {t.nct_id for t in trials}  # a row in plain ASCII


def test_utf16_file_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("utf-16"))
    trials, errors = run(path)
    assert trials == [] and len(errors) == 1
    assert isinstance(errors[0], SourceError) and errors[0].source == str(path) and "UTF-8" in errors[0].message


def test_not_a_search_download(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("id,title\n1,x\n", encoding="utf-8")
    _, errors = run(path)
    assert isinstance(errors[0], SourceError) and "NCT Number" in errors[0].message
    _, missing = run(tmp_path / "missing.csv")
    assert isinstance(missing[0], SourceError)


def test_a_bar_with_spaces_belongs_to_the_value() -> None:
    """The download joins values with a bare "|"; "E2S | P.PORTO - ..." and "Roth | McFarlane ..." are
    one facility each (NCT06953895, NCT06963164), never a location cut at the bar."""
    from kg.sources.ctgov_csv import _items

    path = ROOT / "tests" / "data" / "more" / "ctgov-csv" / "semantic-model.ctg-studies.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = {row["NCT Number"]: row for row in csv.DictReader(handle)}
    for nct, facility in (("NCT06953895", "E2S | P.PORTO - Escola Superior de Saúde do Politécnico do Porto"),
                          ("NCT06963164", "Roth | McFarlane Hand and Upper Limb Centre (HULC)")):
        cell = rows[nct]["Locations"]
        sites = [split_location(item) for item in _items(cell)]
        assert len(sites) == cell.count("|") - cell.count(" | ") + 1
        assert facility in {site.facility for site in sites}


def test_a_country_name_with_a_comma_stays_whole() -> None:
    """NCT02384928 (real): "Korea, Republic of" split at its comma made "Republic of" the country."""
    site = split_location("Jaseng Hospital of Korean Medicine, Seoul, Gangnam-Gu, 06110, Korea, Republic of")
    assert (site.facility, site.city, site.state, site.zip, site.country) == (
        "Jaseng Hospital of Korean Medicine", "Seoul", "Gangnam-Gu", "06110", "Korea, Republic of")
    site = split_location("Tehran University, Tehran, Iran, Islamic Republic of")
    assert (site.city, site.country) == ("Tehran", "Iran, Islamic Republic of")
