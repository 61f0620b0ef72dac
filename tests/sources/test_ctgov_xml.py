"""Legacy ClinicalTrials.gov XML on real files: every record builds, counts agree with the
raw documents (counted here with the standard library, not with the code under test),
and unsafe or broken input is reported by name while the other records still parse.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from kg.errors import KGError, RecordError, SourceError
from kg.model import AgeLimit, Enrollment, PersonMention, StudyDate, Trial
from kg.rules.codes import standard_ages
from kg.rules.contacts import contact_free
from kg.sources import iter_input_files, parse_record, sniff
from kg.sources.ctgov_xml import (
    DTD_MESSAGE,
    parse_ctgov_xml,
    read_ctgov_xml,
    sniff_ctgov_xml,
    sniff_ctgov_xml_zip,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "ctgov-xml"
FIXTURES = DATA / "aact-fixtures"
SEARCH_2016 = DATA / "aact-search-2016"
FILES = sorted(DATA.glob("*/*.xml"))
# Phone numbers as the raw files write them (a sponsor's call centre in a name field).
PHONE = re.compile(r"\d[\d\s().\-/]{6,}\d")


def run(paths: Iterable[Path], finish: bool = False) -> tuple[list[Trial], list[KGError]]:
    """Read and parse like the build does (``finish``: and apply the rules that finish every record)."""
    trials: list[Trial] = []
    errors: list[KGError] = []
    for path in paths:
        try:
            for raw in read_ctgov_xml(path):
                if isinstance(raw, KGError):
                    errors.append(raw)
                    continue
                try:
                    trials.append((parse_record(raw) if finish else parse_ctgov_xml(raw)).trial)
                except RecordError as error:
                    errors.append(error)
        except SourceError as error:
            errors.append(error)
    return trials, errors


@pytest.fixture(scope="module")
def parsed() -> dict[Path, Trial]:
    trials, errors = run(FILES)
    assert errors == []
    return dict(zip(FILES, trials, strict=True))


@pytest.fixture(scope="module")
def finished() -> dict[Path, Trial]:
    """The trials as the build loads them: contact rules applied (kg.rules.finish)."""
    trials, errors = run(FILES, finish=True)
    assert errors == []
    return dict(zip(FILES, trials, strict=True))


def trial(parsed: dict[Path, Trial], name: str) -> Trial:
    return parsed[FIXTURES / name] if (FIXTURES / name).exists() else parsed[SEARCH_2016 / name]


# ---------------------------------------------------------------- every real record


def test_the_real_data_is_all_there() -> None:
    assert len(list(FIXTURES.glob("*.xml"))) == 65
    assert len(list(SEARCH_2016.glob("*.xml"))) == 57


def test_every_real_record_builds(parsed: dict[Path, Trial]) -> None:
    assert len(parsed) == 122
    # example_study.xml and raw_study.xml are two downloads of NCT00002475; NCT00980226.xml
    # is NCT00081588 under an id the registry merged into it (an alias).
    assert len({t.nct_id for t in parsed.values()}) == 120
    assert trial(parsed, "example_study.xml").nct_id == "NCT00002475"
    assert trial(parsed, "raw_study.xml").nct_id == "NCT00002475"
    merged = trial(parsed, "NCT00980226.xml")
    assert merged.nct_id == "NCT00081588"
    assert ("NCT00980226", "NCT_ALIAS") in {(i.id, i.type) for i in merged.secondary_ids}


def raw_counts(path: Path) -> dict[str, int]:
    """What a document states, counted with ElementTree."""
    root = ET.parse(path).getroot()

    def count(xpath: str) -> int:
        return sum(1 for node in root.iterfind(xpath) if (node.text or "").strip())

    officials = [(node.findtext("last_name") or "").strip() for node in root.iterfind("overall_official")]
    return {
        "arms": count("arm_group/arm_group_label"),
        "interventions": count("intervention/intervention_name"),
        "outcomes": count("primary_outcome/measure")
        + count("secondary_outcome/measure")
        + count("other_outcome/measure"),
        # A "name" that is a phone number (a call centre) is no person: finishing leaves it out.
        "officials": sum(1 for name in officials if name and not PHONE.search(name)),
        "sites": len(root.findall("location")),
        "site_investigators": count("location/investigator/last_name"),
        "pmids": count("reference/PMID") + count("results_reference/PMID"),
        "references": len(root.findall("reference")) + len(root.findall("results_reference")),
        "mesh": count("condition_browse/mesh_term") + count("intervention_browse/mesh_term"),
        "conditions": count("condition"),
        "keywords": count("keyword"),
        "collaborators": count("sponsors/collaborator/agency"),
        "secondary_ids": count("id_info/secondary_id") + count("id_info/nct_alias"),
        "links": count("link/url"),
    }


def parsed_counts(t: Trial) -> dict[str, int]:
    return {
        "arms": len(t.arms),
        "interventions": len(t.interventions),
        "outcomes": len(t.outcomes),
        "officials": len(t.officials),
        "sites": len(t.sites),
        "site_investigators": sum(len(site.investigators) for site in t.sites),
        "pmids": sum(1 for r in t.references if r.pmid),
        "references": len(t.references),
        "mesh": len(t.condition_mesh) + len(t.intervention_mesh),
        "conditions": len(t.conditions),
        "keywords": len(t.keywords),
        "collaborators": len(t.collaborators),
        "secondary_ids": len(t.secondary_ids),
        "links": sum(1 for d in t.documents if d.type == "LINK"),
    }


def test_counts_equal_the_raw_documents(finished: dict[Path, Trial]) -> None:
    parsed = finished
    mismatches = {
        path.name: (expected, got)
        for path, t in parsed.items()
        if (expected := raw_counts(path)) != (got := parsed_counts(t))
    }
    assert mismatches == {}
    totals = {key: sum(parsed_counts(t)[key] for t in parsed.values()) for key in parsed_counts(Trial("NCT0"))}
    # The totals of this data set, so a silent change of the fixtures shows too.
    assert totals["sites"] == 9516
    assert totals["site_investigators"] == 1169
    assert totals["arms"] == 278
    assert totals["interventions"] == 284
    assert totals["officials"] == 170
    assert totals["pmids"] == 157
    assert totals["mesh"] == 449


def test_no_contact_details_are_carried(finished: dict[Path, Trial]) -> None:
    parsed = finished
    checked = 0
    for path, t in parsed.items():
        root = ET.parse(path).getroot()
        contacts = [
            (node.text or "").strip()
            for tag in ("overall_contact", "overall_contact_backup", "location/contact", "location/contact_backup")
            for field in ("email", "phone")
            for node in root.iterfind(f"{tag}/{field}")
        ]
        text = repr(t)
        leaked = [value for value in contacts if value and value in text]
        assert leaked == [], path.name
        checked += len(contacts)
    assert checked > 2000  # the fixtures do hold contact e-mails and phones


# ---------------------------------------------------------------- specific values


def test_nct02028676_arrow(parsed: dict[Path, Trial]) -> None:
    t = trial(parsed, "NCT02028676.xml")
    assert t.nct_id == "NCT02028676"
    assert t.acronym == "ARROW"
    assert t.org_study_id == "G0300400"
    assert [i.id for i in t.secondary_ids] == ["24791884", "G0300400"]
    assert t.phases == ("PHASE4",)
    assert t.overall_status == "COMPLETED"
    assert t.study_type == "INTERVENTIONAL"
    assert (t.allocation, t.intervention_model, t.primary_purpose, t.masking) == (
        "RANDOMIZED",
        "FACTORIAL",
        "TREATMENT",
        "NONE",
    )
    assert t.start_date == StudyDate("2007-03")
    assert t.completion_date == StudyDate("2012-06", "ACTUAL")
    assert t.primary_completion_date == StudyDate("2012-03", "ACTUAL")
    assert t.enrollment == Enrollment(1206, "ACTUAL")
    assert len(t.officials) == 10
    assert t.officials[0] == PersonMention(
        name="Diana M Gibb, MD", role="PRINCIPAL_INVESTIGATOR", affiliation="Medical Research Council"
    )
    assert {o.role for o in t.officials} == {"PRINCIPAL_INVESTIGATOR"}
    assert t.lead_sponsor is not None and (t.lead_sponsor.name, t.lead_sponsor.org_class) == (
        "Medical Research Council",
        "OTHER",
    )
    assert [(c.name, c.org_class) for c in t.collaborators][1] == ("ViiV Healthcare", "INDUSTRY")
    site = t.sites[0]
    assert (site.facility, site.city, site.country) == ("MRC /UVRI Uganda Research Unit on AIDS", "Entebbe", "Uganda")
    assert [(r.pmid, r.type) for r in t.references] == [("23473847", "RESULT"), ("24382064", "RESULT")]
    assert t.references[0].doi == "10.1016/S0140-6736(12)62198-9"
    assert t.documents[0].url == "http://www.arrowtrial.org/" and t.documents[0].type == "LINK"
    assert t.arms[1].type == "ACTIVE_COMPARATOR"
    assert t.arms[1].intervention_names == ("Laboratory plus Clinical Monitoring (LCM)",)
    drug = t.interventions[2]
    assert (drug.type, drug.name) == ("DRUG", "Arm A: ABC+3TC+NNRTI")
    assert "3TC: lamivudine: Epivir" in drug.other_names
    assert t.condition_mesh[-1].term == "HIV Infections" and t.condition_mesh[-1].id is None
    eligibility = t.eligibility
    assert (eligibility.minimum_age, eligibility.maximum_age) == (AgeLimit(3, "Months"), AgeLimit(17, "Years"))
    assert (eligibility.sex, eligibility.healthy_volunteers, eligibility.std_ages) == ("ALL", False, ("CHILD",))
    kinds = [c.kind for c in eligibility.criteria]
    assert "INCLUSION" in kinds and "EXCLUSION" in kinds
    assert eligibility.text is not None and eligibility.text.startswith("For initial randomisation")
    assert t.responsible_party is not None and t.responsible_party.type == "PRINCIPAL_INVESTIGATOR"
    assert t.first_submitted == "2013-12-31"
    assert t.first_posted == StudyDate("2014-01-07", "ESTIMATED")
    assert t.last_verified == "2014-06"
    assert t.results_first_posted is not None and t.has_results is True
    assert t.brief_summary is not None and t.brief_summary.startswith("The two original objectives")


def test_many_sites_with_investigators(parsed: dict[Path, Trial]) -> None:
    t = trial(parsed, "NCT02465060.xml")
    assert len(t.sites) == 1218
    assert sum(len(s.investigators) for s in t.sites) == 1113
    first = t.sites[0]
    assert (first.facility, first.city, first.state, first.zip, first.country, first.status) == (
        "University of Alabama at Birmingham Cancer Center",
        "Birmingham",
        "Alabama",
        "35233",
        "United States",
        "RECRUITING",
    )
    assert first.investigators == (
        PersonMention(
            name="Carla I. Falkson",
            role="PRINCIPAL_INVESTIGATOR",
            affiliation="University of Alabama at Birmingham Cancer Center",
        ),
    )
    assert t.enrollment == Enrollment(6452, "ESTIMATED")
    assert t.start_date == StudyDate("2015-08-12", "ACTUAL")


def test_pre_2017_layout(parsed: dict[Path, Trial]) -> None:
    t = trial(parsed, "NCT00179647.xml")
    # "Endpoint Classification: ..., Intervention Model: Single Group Assignment, Masking: Open Label, ..."
    assert (t.allocation, t.intervention_model, t.masking, t.primary_purpose) == (
        "NON_RANDOMIZED",
        "SINGLE_GROUP",
        "NONE",
        "TREATMENT",
    )
    assert t.first_submitted == "2005-09-13"  # firstreceived_date
    assert t.last_update_submitted == "2010-03-10"  # lastchanged_date
    assert t.first_posted is None and t.last_changed == "2010-03-10"
    assert t.responsible_party is not None
    assert t.responsible_party.affiliation == "Celgene Corporation"
    assert ("NCT00331903", "NCT_ALIAS") in {(i.id, i.type) for i in t.secondary_ids}
    assert t.has_results is True


def test_blind_masking_labels_map_to_api_codes(parsed: dict[Path, Trial]) -> None:
    maskings = {t.masking for t in parsed.values()}
    assert maskings <= {None, "NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"}
    assert "DOUBLE" in maskings


def test_codes_are_api_v2_codes(parsed: dict[Path, Trial]) -> None:
    dates = [d for t in parsed.values() for d in (t.start_date, t.completion_date, t.first_posted) if d]
    assert {d.type for d in dates} <= {None, "ACTUAL", "ESTIMATED"}
    assert {t.eligibility.sex for t in parsed.values()} <= {None, "ALL", "FEMALE", "MALE"}
    assert {o.role for t in parsed.values() for o in t.officials} <= {
        "PRINCIPAL_INVESTIGATOR",
        "STUDY_CHAIR",
        "STUDY_DIRECTOR",
    }
    classes = {c.org_class for t in parsed.values() for c in (t.lead_sponsor, *t.collaborators) if c}
    assert classes <= {None, "NIH", "FED", "INDUSTRY", "OTHER"}
    assert all(re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", d.date) for d in dates)


def test_provided_documents(parsed: dict[Path, Trial]) -> None:
    documents = trial(parsed, "NCT01298141.xml").documents
    protocol = next(d for d in documents if d.label == "Study Protocol: Original Protocol")
    assert protocol.type == "Prot" and protocol.date == "2010-09-30"
    assert protocol.url.endswith("/NCT01298141/Prot_000.pdf")


def test_call_centre_numbers_are_no_people() -> None:
    """Finished as the build finishes it: the contact rules of kg.rules.contacts applied."""
    (raw,) = read_ctgov_xml(SEARCH_2016 / "NCT00475644.xml")
    assert not isinstance(raw, KGError)
    t = parse_record(raw).trial
    assert all(not PHONE.search(o.name) for o in t.officials)
    assert all(not PHONE.search(s.facility or "") for s in t.sites)
    assert contact_free("Dr A (a@b.org, +1 617 555 0100)") == ("Dr A", True)
    assert contact_free("Hospital 2012-2015") == ("Hospital 2012-2015", False)
    # NCT02271620 (real): an official's affiliation that is only a phone number without separators
    assert contact_free("66815818803") == (None, True)
    assert contact_free("840042") == ("840042", False)  # a short site number is no phone


def test_standard_ages_follow_the_registry_rule() -> None:
    assert standard_ages(None, None) == ("CHILD", "ADULT", "OLDER_ADULT")
    assert standard_ages(AgeLimit(18, "Years"), AgeLimit(65, "Years")) == ("ADULT", "OLDER_ADULT")
    assert standard_ages(AgeLimit(18, "Years"), AgeLimit(64, "Years")) == ("ADULT",)
    assert standard_ages(None, AgeLimit(17, "Years")) == ("CHILD",)
    assert standard_ages(AgeLimit(65, "Years"), None) == ("OLDER_ADULT",)


# ---------------------------------------------------------------- sniffing


def test_sniffing() -> None:
    for path in FILES:
        assert sniff(path).name == "ctgov-xml", path.name
    head = (ROOT / "tests" / "data" / "pubmed" / "pubmr-search-result.xml").read_bytes()[:65536]
    assert not sniff_ctgov_xml(Path("x.xml"), head)
    assert not sniff_ctgov_xml_zip(Path("x.xml"), head)
    bom = b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- a comment -->\n<!DOCTYPE clinical_study>\n<clinical_study rank='1'>"
    assert sniff_ctgov_xml(Path("x.xml"), bom)
    assert not sniff_ctgov_xml(Path("x.xml"), b" " * 60000 + b"<foo>")


# ---------------------------------------------------------------- zip archives


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_allpublicxml_style_zip(tmp_path: Path) -> None:
    good = sorted(SEARCH_2016.glob("*.xml"))[:8]
    members = {f"{p.stem[:7]}xxxx/{p.name}": p.read_bytes() for p in good}
    members["Contents.txt"] = b"a listing the registry puts next to the studies"
    members["NCT0000xxxx/README.xml"] = b"<?xml version='1.0'?><readme>not a study</readme>"
    members["NCT0000xxxx/notes.txt"] = b"notes"
    members["NCT0000xxxx/NCT00000999.xml"] = good[0].read_bytes()[:500]  # truncated
    archive = write_zip(tmp_path / "AllPublicXML.zip", members)
    assert sniff(archive).name == "ctgov-xml-zip"

    trials, errors = run([archive])
    assert [t.nct_id for t in trials] == [p.stem for p in good]
    by_member = {error.source.split("!", 1)[1]: error for error in errors if error.source}
    assert set(by_member) == {"NCT0000xxxx/README.xml", "NCT0000xxxx/notes.txt", "NCT0000xxxx/NCT00000999.xml"}
    assert "not a <clinical_study>" in by_member["NCT0000xxxx/README.xml"].message
    assert "not well-formed XML" in by_member["NCT0000xxxx/NCT00000999.xml"].message
    assert all(str(archive) in str(error) for error in errors)
    raw = next(r for r in read_ctgov_xml(archive) if not isinstance(r, KGError))
    assert raw.source == f"{archive}!NCT0017xxxx/{good[0].name}" and raw.record == good[0].stem


def test_damaged_zip_is_a_source_error(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "a.zip", {"NCT0000xxxx/NCT00000102.xml": FILES[0].read_bytes()})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[:200])
    trials, errors = run([cut])
    assert trials == [] and len(errors) == 1
    assert isinstance(errors[0], SourceError) and errors[0].source == str(cut)


# ---------------------------------------------------------------- bad input


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<clinical_study><id_info><nct_id>NCT09999991</nct_id></id_info><brief_title>&lol9;</brief_title></clinical_study>
"""

XXE = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE clinical_study [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<clinical_study><id_info><nct_id>NCT09999992</nct_id></id_info><brief_title>&secret;</brief_title></clinical_study>
"""


def passwd_marker() -> str:
    passwd = Path("/etc/passwd")
    first = passwd.read_text(errors="replace").splitlines()[0] if passwd.exists() else ""
    return first or "root:x:0:0"


def test_entity_bombs_and_external_entities_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.xml").write_bytes((FIXTURES / "NCT02028676.xml").read_bytes())
    (folder / "bomb.xml").write_bytes(BILLION_LAUGHS)
    (folder / "xxe.xml").write_bytes(XXE.format(encoding="UTF-8").encode())
    # UTF-16 hides the declarations from a byte scan: the check after parsing catches them.
    (folder / "xxe16.xml").write_bytes(XXE.format(encoding="UTF-16").encode("utf-16"))
    (folder / "z-good.xml").write_bytes((SEARCH_2016 / "NCT00179647.xml").read_bytes())
    for name in ("bomb.xml", "xxe.xml"):
        assert sniff(folder / name).name == "ctgov-xml"

    started = time.perf_counter()
    trials, errors = run(iter_input_files([folder]))
    assert time.perf_counter() - started < 5

    assert [t.nct_id for t in trials] == ["NCT02028676", "NCT00179647"]
    assert sorted(Path(e.source or "").name for e in errors) == ["bomb.xml", "xxe.xml", "xxe16.xml"]
    assert all(isinstance(e, RecordError) and e.message == DTD_MESSAGE for e in errors)
    marker = passwd_marker()
    everything = repr(trials) + "".join(str(e) for e in errors)
    assert marker not in everything and "lollollol" not in everything


def test_an_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "SECRET-FROM-THE-DTD">')
    document = tmp_path / "external.xml"
    document.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE clinical_study SYSTEM "{dtd.as_uri()}">\n'
        "<clinical_study><id_info><nct_id>NCT09999993</nct_id></id_info>"
        "<brief_title>Title &secret;</brief_title></clinical_study>"
    )
    trials, errors = run([document])
    assert errors == [] and trials[0].brief_title == "Title"  # the entity stays unexpanded
    assert "SECRET-FROM-THE-DTD" not in repr(trials)


def test_truncated_xml_names_the_file(tmp_path: Path) -> None:
    cut = tmp_path / "NCT02028676.xml"
    cut.write_bytes((FIXTURES / "NCT02028676.xml").read_bytes()[:5000])
    trials, errors = run([cut])
    assert trials == []
    assert len(errors) == 1 and isinstance(errors[0], RecordError)
    assert errors[0].source == str(cut) and errors[0].record == "NCT02028676"
    assert "not well-formed XML" in str(errors[0])


def test_not_utf8_names_the_file(tmp_path: Path) -> None:
    text = (FIXTURES / "NCT02028676.xml").read_text(encoding="utf-8")
    assert "naïve" in text
    latin1 = tmp_path / "latin1.xml"
    latin1.write_bytes(text.encode("latin-1", errors="replace"))  # still declares UTF-8
    trials, errors = run([latin1])
    assert trials == [] and len(errors) == 1
    assert errors[0].source == str(latin1) and "not well-formed XML" in errors[0].message


def test_other_bad_documents(tmp_path: Path) -> None:
    cases = {
        "empty.xml": b"",
        "pubmed.xml": (ROOT / "tests" / "data" / "pubmed" / "biopython-pubmed1.xml").read_bytes(),
        "no-id.xml": b"<clinical_study><brief_title>x</brief_title></clinical_study>",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    trials, errors = run(tmp_path / name for name in cases)
    assert trials == []
    messages = {Path(e.source or "").name: e.message for e in errors}
    assert "not well-formed" in messages["empty.xml"]
    assert "root element is <PubmedArticleSet>" in messages["pubmed.xml"]
    assert "nct_id" in messages["no-id.xml"]
    _, missing = run([tmp_path / "missing.xml"])
    assert isinstance(missing[0], SourceError) and missing[0].source == str(tmp_path / "missing.xml")


# ---------------------------------------------------------------- streaming


# Run in a fresh process: ru_maxrss is inherited across fork/exec, so the parent's peak
# would hide the child's. Resident memory is sampled as the records stream by.
STREAM_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from kg.errors import KGError
from kg.sources.ctgov_xml import parse_ctgov_xml, read_ctgov_xml

def resident_kb():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

before = resident_kb()
peak = before
started = time.perf_counter()
count = errors = sites = 0
for raw in read_ctgov_xml(Path(sys.argv[1])):
    if isinstance(raw, KGError):
        errors += 1
        continue
    sites += len(parse_ctgov_xml(raw).trial.sites)
    count += 1
    if count % 250 == 0:
        peak = max(peak, resident_kb())
print(json.dumps({"count": count, "errors": errors, "sites": sites, "growth_kb": max(peak, resident_kb()) - before,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "seconds": time.perf_counter() - started}))
"""


@pytest.mark.slow
def test_streaming_a_big_archive_keeps_memory_flat(tmp_path: Path) -> None:
    """20,000 studies (real documents under new NCT ids) in an AllPublicXML-style zip."""
    total = 20_000
    sources = [(path, path.read_bytes()) for path in FILES if path.stat().st_size < 10_000]
    site_counts = [raw_counts(path)["sites"] for path, _ in sources]
    old_ids = [(ET.fromstring(data).findtext("id_info/nct_id") or "").encode() for _, data in sources]
    archive = tmp_path / "AllPublicXML.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for number in range(total):
            _, data = sources[number % len(sources)]
            nct = f"NCT9{number:07d}"
            out.writestr(f"{nct[:7]}xxxx/{nct}.xml", data.replace(old_ids[number % len(sources)], nct.encode()))
    expected_sites = sum(site_counts[number % len(sources)] for number in range(total))

    result = subprocess.run(
        [sys.executable, "-c", STREAM_SCRIPT, str(archive)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["count"] == total and report["errors"] == 0
    assert report["sites"] == expected_sites
    assert report["growth_kb"] < 100 * 1024, report
    assert report["seconds"] < 60, report
