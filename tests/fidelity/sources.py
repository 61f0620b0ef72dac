"""Minimal readers of the raw registry files, independent of ``kg.sources``.

The fidelity checker must not reuse the parsers it checks: a bug shared by the reader and the
builder would agree with itself. These readers take each file apart with the standard
library only (json + zipfile, ElementTree, csv) and state, per record, what the record says,
in the graph's representation where the two differ only in spelling (the small tables below:
"Phase 1/Phase 2" -> PHASE1, PHASE2; "May 2016" -> 2016-05; "Anticipated" -> ESTIMATED).

A field a format does not carry (CSV has no arms, no officials, no criteria) is absent from
``fields`` and therefore not checked; a field the format carries but the record leaves empty
is an empty list, so the graph must state nothing there either.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Markdown backslash escapes the API v2 and CSV texts carry (CommonMark: any ASCII punctuation).
_MD_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_SPACE = re.compile(r"\s+")


def unescape(text: str) -> str:
    """Markdown backslash escapes removed (``\\>`` -> ``>``): the record means the character."""
    return _MD_ESCAPE.sub(r"\1", text)


def norm(text: str | None, markdown: bool = True) -> str | None:
    """Whitespace collapsed (line wrapping is layout, not content); escapes removed if asked."""
    if text is None:
        return None
    text = _SPACE.sub(" ", unescape(text) if markdown else text).strip()
    return text or None


# Contact data (left out of the graph on purpose): e-mail addresses and phone numbers.
CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ()-]{6,}\d|1-8\d\d-[A-Z0-9-]+")


def decontact(text: str | None) -> str | None:
    """A text with e-mails and phone numbers taken out (and the brackets they leave empty)."""
    if not text or not CONTACT.search(text):
        return text
    text = re.sub(r"\(\s*[,;]?\s*\)", " ", CONTACT.sub(" ", text))
    return " ".join(text.split()).strip(" ,;:") or None


def officials(rows: list[tuple]) -> list[tuple]:
    """Officials as the graph may state them: a "name" that is a phone line is contact data, and
    e-mails or phone numbers inside an affiliation are scrubbed ("1-844-599-2273 (UCB)" -> "UCB")."""
    kept = []
    for name, role, affiliation in rows:
        if name and CONTACT.search(name):
            continue
        if affiliation and CONTACT.search(affiliation):
            affiliation = CONTACT.sub(" ", affiliation).strip(" ()-,;:") or None
        kept.append((name, role, affiliation))
    return kept


def mesh_id(value: str) -> str:
    """A MeSH descriptor id without zero padding: API v2 writes D000008175 for D008175."""
    return value[0] + str(int(value[1:])) if value[1:].isdigit() else value


def number(value: str | float | None) -> str | None:
    """A coordinate as a comparable string (5 decimals, ~1 m)."""
    return None if value in (None, "") else f"{float(value):.5f}"


def age(value: str | None) -> str | None:
    """"18 Years" / "6 months" as "18 year" / "6 month"; "N/A" and blanks as None."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\b", value or "", re.I)
    return f"{float(match.group(1)):g} {match.group(2).lower()}" if match else None


@dataclass
class SourceRecord:
    """What one record states: field -> values (strings or tuples), plus the criteria block."""

    nct: str
    fmt: str
    source: str
    fields: dict[str, list] = field(default_factory=dict)
    criteria_block: str | None = None
    changed: str = ""  # last-update date, ISO, to pick the copy a build must keep


# ----------------------------------------------------------------------------- API v2 JSON

_DISPLAY_TYPES = ("Drug", "Device", "Biological", "Procedure", "Radiation", "Behavioral", "Genetic",
                  "Dietary Supplement", "Combination Product", "Diagnostic Test", "Other")
_ARM_INTERVENTION = re.compile(r"^(?:{}): ".format("|".join(_DISPLAY_TYPES)))


def read_json(path: Path, root: Path) -> Iterator[SourceRecord]:
    """Studies of a single-study file, a JSON array, or a zip of single-study files."""
    source = path.relative_to(root).as_posix()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name.endswith(".json"):
                    yield _json_study(json.loads(archive.read(name)), source)
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    for study in document if isinstance(document, list) else [document]:
        yield _json_study(study, source)


def _json_study(study: dict, source: str) -> SourceRecord:
    p = study.get("protocolSection", {})
    ident, status = p.get("identificationModule", {}), p.get("statusModule", {})
    design, conds = p.get("designModule", {}), p.get("conditionsModule", {})
    arms_mod, elig = p.get("armsInterventionsModule", {}), p.get("eligibilityModule", {})
    sponsors, contacts = p.get("sponsorCollaboratorsModule", {}), p.get("contactsLocationsModule", {})
    outcomes = p.get("outcomesModule", {})
    nct = ident.get("nctId", "")
    rec = SourceRecord(nct, "ctgov-json", source)
    f = rec.fields
    f["nct_id"] = [nct]
    ids = [ident.get("orgStudyIdInfo", {}).get("id")] + [s.get("id") for s in ident.get("secondaryIdInfos", [])]
    f["other_ids"] = _ids(ids + ident.get("nctIdAliases", []))
    f["brief_title"] = _one(norm(ident.get("briefTitle")))
    f["official_title"] = _one(norm(ident.get("officialTitle")))
    f["acronym"] = _one(norm(ident.get("acronym")))
    f["overall_status"] = _one(status.get("overallStatus"))
    f["phases"] = list(design.get("phases", []))
    f["study_type"] = _one(design.get("studyType"))
    enrollment = design.get("enrollmentInfo", {})
    f["enrollment_count"] = _one(None if enrollment.get("count") is None else str(enrollment["count"]))
    f["enrollment_type"] = _one(enrollment.get("type"))
    for name, key in (("start_date", "startDateStruct"), ("primary_completion_date", "primaryCompletionDateStruct"),
                      ("completion_date", "completionDateStruct"), ("first_posted", "studyFirstPostDateStruct"),
                      ("last_update_posted", "lastUpdatePostDateStruct")):
        f[name] = _one(status.get(key, {}).get("date"))
    f["first_submitted"] = _one(status.get("studyFirstSubmitDate"))
    f["last_update_submitted"] = _one(status.get("lastUpdateSubmitDate"))
    rec.changed = status.get("lastUpdatePostDateStruct", {}).get("date", "")
    f["conditions"] = [norm(c) for c in conds.get("conditions", []) if norm(c)]
    f["keywords"] = [norm(k) for k in conds.get("keywords", []) if norm(k)]
    meshes = study.get("derivedSection", {}).get("conditionBrowseModule", {}).get("meshes", [])
    f["condition_mesh"] = [mesh_id(m["id"]) for m in meshes if m.get("id")]
    interventions = arms_mod.get("interventions", [])
    f["interventions.count"] = [str(len(interventions))]
    f["interventions"] = [(norm(i.get("name")), i.get("type"), norm(i.get("description"))) for i in interventions]
    arms = arms_mod.get("armGroups", [])
    f["arms"] = [(norm(a.get("label")), a.get("type"), norm(a.get("description"))) for a in arms]
    links = {(norm(a.get("label")), norm(_ARM_INTERVENTION.sub("", n))) for a in arms
             for n in a.get("interventionNames", [])}
    links |= {(norm(label), norm(i.get("name"))) for i in interventions for label in i.get("armGroupLabels", [])}
    f["arm_interventions"] = sorted(links, key=str)
    f["outcomes"] = [(kind, norm(o.get("measure")), norm(o.get("timeFrame")))
                     for kind, key in (("PRIMARY", "primaryOutcomes"), ("SECONDARY", "secondaryOutcomes"),
                                       ("OTHER", "otherOutcomes")) for o in outcomes.get(key, [])]
    f["minimum_age"] = _one(age(elig.get("minimumAge")))
    f["maximum_age"] = _one(age(elig.get("maximumAge")))
    f["sex"] = _one(elig.get("sex"))
    hv = elig.get("healthyVolunteers")
    f["healthy_volunteers"] = _one(None if hv is None else str(bool(hv)).lower())
    rec.criteria_block = elig.get("eligibilityCriteria")
    f["lead_sponsor"] = _one(norm(sponsors.get("leadSponsor", {}).get("name")))
    f["collaborators"] = [norm(c.get("name")) for c in sponsors.get("collaborators", []) if norm(c.get("name"))]
    f["officials"] = officials([(norm(o.get("name")), o.get("role"), norm(o.get("affiliation")))
                                for o in contacts.get("overallOfficials", [])])
    locations = contacts.get("locations", [])
    f["locations.count"] = [str(len(locations))]
    f["locations"] = [(decontact(norm(s.get("facility"))), norm(s.get("city")), norm(s.get("state")),
                       norm(s.get("zip")), norm(s.get("country")), number(s.get("geoPoint", {}).get("lat")),
                       number(s.get("geoPoint", {}).get("lon"))) for s in locations]
    f["references"] = [(r.get("pmid"), r.get("type"), norm(r.get("citation")))
                       for r in p.get("referencesModule", {}).get("references", [])]
    results = study.get("hasResults", "resultsSection" in study)
    f["has_results"] = [str(bool(results)).lower()]
    return rec


def _ids(values: list) -> list[str]:
    """Identifiers as a set: a record listing one id three times states one identifier."""
    return sorted({t for v in values if (t := norm(v, markdown=False))})


def _one(value: str | None) -> list:
    return [] if value is None else [value]


# ----------------------------------------------------------------------------- legacy XML

_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"), start=1)}
_XML_STATUS = {"active, not recruiting": "ACTIVE_NOT_RECRUITING", "unknown status": "UNKNOWN",
               "temporarily not available": "TEMPORARILY_NOT_AVAILABLE", "no longer available": "NO_LONGER_AVAILABLE",
               "approved for marketing": "APPROVED_FOR_MARKETING"}
_XML_PHASE = {"n/a": ["NA"], "early phase 1": ["EARLY_PHASE1"], "phase 0": ["EARLY_PHASE1"]}
_XML_ENROLLMENT = {"actual": "ACTUAL", "anticipated": "ESTIMATED", "estimate": "ESTIMATED", "estimated": "ESTIMATED"}
_XML_SEX = {"both": "ALL", "all": "ALL", "female": "FEMALE", "male": "MALE"}
_XML_STUDY_TYPE = {"n/a": "NA", "interventional": "INTERVENTIONAL", "observational": "OBSERVATIONAL",
                   "observational [patient registry]": "OBSERVATIONAL", "expanded access": "EXPANDED_ACCESS"}


def code(text: str | None) -> str | None:
    """A display value as its API v2 code: "Active Comparator" -> ACTIVE_COMPARATOR."""
    text = norm(text, markdown=False)
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_") if text else None


def xml_date(text: str | None) -> str | None:
    """"May 2016" -> 2016-05, "May 5, 2016" -> 2016-05-05, ISO kept."""
    text = norm(text, markdown=False) or ""
    if re.fullmatch(r"\d{4}(-\d{2}){0,2}", text):
        return text
    match = re.fullmatch(r"([A-Za-z]+)\s+(?:(\d{1,2}),\s*)?(\d{4})", text)
    if not match or match.group(1).lower() not in _MONTHS:
        return None
    month, day, year = _MONTHS[match.group(1).lower()], match.group(2), match.group(3)
    return f"{year}-{month:02d}" + (f"-{int(day):02d}" if day else "")


def xml_phases(text: str | None) -> list[str]:
    text = (norm(text, markdown=False) or "").lower()
    if not text:
        return []
    if text in _XML_PHASE:
        return _XML_PHASE[text]
    return ["PHASE" + part.strip().removeprefix("phase").strip() for part in text.split("/")]


def read_xml(path: Path, root: Path) -> SourceRecord:
    """One ``<clinical_study>`` file."""
    study = ET.parse(path).getroot()

    def text(element: ET.Element | None, tag: str) -> str | None:
        return norm(element.findtext(tag), markdown=False) if element is not None else None

    nct = text(study, "id_info/nct_id") or ""
    rec = SourceRecord(nct, "ctgov-xml", path.relative_to(root).as_posix())
    f = rec.fields
    f["nct_id"] = [nct]
    ids = study.findall("id_info/secondary_id") + study.findall("id_info/nct_alias")
    f["other_ids"] = _ids([text(study, "id_info/org_study_id")] + [e.text for e in ids])
    f["brief_title"] = _one(text(study, "brief_title"))
    f["official_title"] = _one(text(study, "official_title"))
    f["acronym"] = _one(text(study, "acronym"))
    status = (text(study, "overall_status") or "").lower()
    f["overall_status"] = _one(_XML_STATUS.get(status, code(status)))
    f["phases"] = xml_phases(text(study, "phase"))
    study_type = (text(study, "study_type") or "").lower()
    f["study_type"] = _one(_XML_STUDY_TYPE.get(study_type, code(study_type)))
    enrollment = study.find("enrollment")
    f["enrollment_count"] = _one(text(study, "enrollment"))
    f["enrollment_type"] = _one(None if enrollment is None else _XML_ENROLLMENT.get(enrollment.get("type", "").lower()))
    for name, tag in (("start_date", "start_date"), ("primary_completion_date", "primary_completion_date"),
                      ("completion_date", "completion_date")):
        f[name] = _one(xml_date(text(study, tag)))
    # 2016 downloads predate the "posted" dates: firstreceived/lastchanged are submission dates.
    f["first_posted"] = _one(xml_date(text(study, "study_first_posted")))
    f["last_update_posted"] = _one(xml_date(text(study, "last_update_posted")))
    f["first_submitted"] = _one(xml_date(text(study, "study_first_submitted") or text(study, "firstreceived_date")))
    f["last_update_submitted"] = _one(xml_date(text(study, "last_update_submitted") or text(study, "lastchanged_date")))
    # Copies with the same last-update date: the later download is the newer copy.
    downloaded = xml_date((text(study, "required_header/download_date") or "").rpartition(" on ")[2]) or ""
    rec.changed = (f["last_update_posted"] or f["last_update_submitted"] or [""])[0] + "|" + downloaded
    f["conditions"] = [t for e in study.findall("condition") if (t := norm(e.text, markdown=False))]
    f["keywords"] = [t for e in study.findall("keyword") if (t := norm(e.text, markdown=False))]
    f["condition_mesh"] = [t for e in study.findall("condition_browse/mesh_term") if (t := norm(e.text, False))]
    interventions = study.findall("intervention")
    f["interventions.count"] = [str(len(interventions))]
    f["interventions"] = [(text(i, "intervention_name"), code(i.findtext("intervention_type")),
                           text(i, "description")) for i in interventions]
    arms = study.findall("arm_group")
    f["arms"] = [(text(a, "arm_group_label"), code(a.findtext("arm_group_type")), text(a, "description"))
                 for a in arms]
    f["arm_interventions"] = sorted({(norm(label.text, False), text(i, "intervention_name"))
                                     for i in interventions for label in i.findall("arm_group_label")}, key=str)
    f["outcomes"] = [(kind, text(o, "measure"), text(o, "time_frame"))
                     for kind in ("PRIMARY", "SECONDARY", "OTHER") for o in study.findall(f"{kind.lower()}_outcome")]
    elig = study.find("eligibility")
    f["minimum_age"] = _one(age(text(elig, "minimum_age")))
    f["maximum_age"] = _one(age(text(elig, "maximum_age")))
    f["sex"] = _one(_XML_SEX.get((text(elig, "gender") or "").lower()))
    hv = (text(elig, "healthy_volunteers") or "").lower()
    f["healthy_volunteers"] = _one({"accepts healthy volunteers": "true", "no": "false"}.get(hv))
    rec.criteria_block = elig.findtext("criteria/textblock") if elig is not None else None
    f["lead_sponsor"] = _one(text(study, "sponsors/lead_sponsor/agency"))
    f["collaborators"] = [t for c in study.findall("sponsors/collaborator") if (t := text(c, "agency"))]
    f["officials"] = officials([(text(o, "last_name"), code(o.findtext("role")), text(o, "affiliation"))
                                for o in study.findall("overall_official")])
    locations = study.findall("location")
    f["locations.count"] = [str(len(locations))]
    f["locations"] = [(decontact(text(s, "facility/name")), text(s, "facility/address/city"),
                       text(s, "facility/address/state"), text(s, "facility/address/zip"),
                       text(s, "facility/address/country"), None, None) for s in locations]
    f["references"] = [(text(r, "PMID"), kind, text(r, "citation")) for kind, tag in
                       (("BACKGROUND", "reference"), ("RESULT", "results_reference")) for r in study.findall(tag)]
    f["has_results"] = ["true" if study.find("clinical_results") is not None else "false"]
    return rec


# ----------------------------------------------------------------------------- website CSV


def comma_spaced(text: str) -> str:
    """Spacing around commas made uniform: the CSV joins parts with ", " whatever they end with."""
    return re.sub(r"\s*,\s*", ", ", text)


def _cells(value: str) -> list[str]:
    """A multi-valued cell: values separated by "|". The download writes the separator without
    spaces; a " | " with spaces is part of a value (a facility named "E2S | P.PORTO - ...")."""
    return [t for part in re.split(r"(?<! )\|(?! )", value) if (t := norm(part))] if value else []


def read_csv(path: Path, root: Path) -> Iterator[SourceRecord]:
    """Rows of a "Download CSV" file; outcomes and locations stay joined texts (see compare)."""
    source = path.relative_to(root).as_posix()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            nct = row["NCT Number"].strip()
            rec = SourceRecord(nct, "ctgov-csv", source)
            f = rec.fields
            f["nct_id"] = [nct]
            f["other_ids"] = _ids(_cells(row.get("Other IDs", "")))
            f["brief_title"] = _one(norm(row.get("Study Title")))
            f["acronym"] = _one(norm(row.get("Acronym")))
            f["overall_status"] = _one(norm(row.get("Study Status")))
            f["phases"] = _cells(row.get("Phases", ""))
            f["study_type"] = _one(norm(row.get("Study Type")))
            f["enrollment_count"] = _one(norm(row.get("Enrollment")))
            f["enrollment_type"] = []  # the CSV does not say whether the count is actual or estimated
            for name, column in (("start_date", "Start Date"), ("primary_completion_date", "Primary Completion Date"),
                                 ("completion_date", "Completion Date"), ("first_posted", "First Posted"),
                                 ("last_update_posted", "Last Update Posted")):
                f[name] = _one(norm(row.get(column)))
            rec.changed = row.get("Last Update Posted", "")
            f["conditions"] = _cells(row.get("Conditions", ""))
            interventions = _cells(row.get("Interventions", ""))
            f["interventions.count"] = [str(len(interventions))]
            f["interventions"] = [(norm(i.partition(": ")[2]), i.partition(": ")[0]) for i in interventions]
            f["outcomes"] = [(kind, comma_spaced(text)) for kind, column in
                             (("PRIMARY", "Primary Outcome Measures"), ("SECONDARY", "Secondary Outcome Measures"),
                              ("OTHER", "Other Outcome Measures")) for text in _cells(row.get(column, ""))]
            f["sex"] = _one(norm(row.get("Sex")))
            f["lead_sponsor"] = _one(norm(row.get("Sponsor")))
            f["collaborators"] = _cells(row.get("Collaborators", ""))
            locations = _cells(row.get("Locations", ""))
            f["locations.count"] = [str(len(locations))]
            f["locations"] = [(comma_spaced(text),) for text in locations]
            f["has_results"] = [{"YES": "true", "NO": "false"}.get(row.get("Study Results", ""), "?")]
            yield rec
