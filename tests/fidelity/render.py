"""One API v2 JSON study written as the registry's other formats: a legacy XML file and a CSV row.

Why: the same trial from two formats must give the same facts for every field both carry,
but the real downloads rarely hold the same trial twice, and when they do it is two
versions of it (an XML snapshot of 2019, a JSON record of 2023). Rendering a JSON study
the way ClinicalTrials.gov wrote its legacy XML (display labels such as "Active, not
recruiting", dates such as "March 15, 2019", ``<textblock>`` criteria) and its "Download
CSV" rows (codes, ``|``-joined cells, "measure, description, time frame") makes pairs
that differ only in format. The writers follow the published formats, not trialkg's
parsers, and import nothing from ``kg``.
"""

from __future__ import annotations

import calendar
import csv
import io
from xml.etree import ElementTree as ET

from tests.fidelity.sources import unescape

# Codes whose legacy label is not the code in sentence case.
_LABELS = {
    "UNKNOWN": "Unknown status", "ACTIVE_NOT_RECRUITING": "Active, not recruiting", "FED": "U.S. Fed",
    "ESTIMATED": "Anticipated", "NA": "N/A", "EARLY_PHASE1": "Early Phase 1", "NIH": "NIH",
    "PRINCIPAL_INVESTIGATOR": "Principal Investigator", "STUDY_CHAIR": "Study Chair",
    "STUDY_DIRECTOR": "Study Director", "ALL": "All", "INDIV": "Individual",
}
CSV_COLUMNS = ("NCT Number", "Study Title", "Study URL", "Acronym", "Study Status", "Brief Summary", "Study Results",
               "Conditions", "Interventions", "Primary Outcome Measures", "Secondary Outcome Measures",
               "Other Outcome Measures", "Sponsor", "Collaborators", "Sex", "Age", "Phases", "Enrollment",
               "Funder Type", "Study Type", "Study Design", "Other IDs", "Start Date", "Primary Completion Date",
               "Completion Date", "First Posted", "Results First Posted", "Last Update Posted", "Locations",
               "Study Documents")


_MODULES = ("identificationModule", "statusModule", "sponsorCollaboratorsModule", "conditionsModule", "designModule",
            "armsInterventionsModule", "outcomesModule", "eligibilityModule", "contactsLocationsModule",
            "referencesModule")


def _modules(study: dict) -> list[dict]:
    """The protocol section's modules, in ``_MODULES`` order ({} for a module the study lacks)."""
    protocol = study.get("protocolSection", {})
    return [protocol.get(name, {}) for name in _MODULES]


def label(code: str | None) -> str | None:
    """The legacy display label of an API v2 code: ``ACTIVE_COMPARATOR`` -> ``Active comparator``."""
    if not code:
        return None
    if code in _LABELS:
        return _LABELS[code]
    if code.startswith("PHASE"):
        return "Phase " + code.removeprefix("PHASE")
    return code.replace("_", " ").capitalize()


def legacy_date(iso: str | None) -> str | None:
    """``2019-03`` -> ``March 2019``; ``2019-03-15`` -> ``March 15, 2019`` (the legacy XML's dates)."""
    if not iso:
        return None
    parts = iso.split("-")
    if len(parts) == 1:
        return parts[0]
    month = calendar.month_name[int(parts[1])]
    return f"{month} {int(parts[2])}, {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"


def _add(parent: ET.Element, tag: str, text: object | None, **attributes: str | None) -> ET.Element | None:
    """A child element; API v2's markdown escapes ("\\<50 kg") removed: the legacy XML is plain text."""
    if text is None or text == "":
        return None
    element = ET.SubElement(parent, tag, {k: v for k, v in attributes.items() if v})
    element.text = unescape(str(text)) if isinstance(text, str) else str(text)
    return element


def _date(parent: ET.Element, tag: str, struct: dict | None) -> None:
    if struct:
        _add(parent, tag, legacy_date(struct.get("date")), type=label(struct.get("type")))


def to_xml(study: dict) -> bytes:
    """The ``<clinical_study>`` document of the legacy XML download for ``study``."""
    ident, status, sponsors, conds, design, arms_mod, outcomes, elig, contacts, refs = _modules(study)
    root = ET.Element("clinical_study", rank="1")
    ids = ET.SubElement(root, "id_info")
    _add(ids, "org_study_id", ident.get("orgStudyIdInfo", {}).get("id"))
    for secondary in ident.get("secondaryIdInfos", []):
        _add(ids, "secondary_id", secondary.get("id"))
    _add(ids, "nct_id", ident.get("nctId"))
    for alias in ident.get("nctIdAliases", []):
        _add(ids, "nct_alias", alias)
    _add(root, "brief_title", ident.get("briefTitle"))
    _add(root, "acronym", ident.get("acronym"))
    _add(root, "official_title", ident.get("officialTitle"))
    sponsor_element = ET.SubElement(root, "sponsors")
    for tag, org in [("lead_sponsor", sponsors.get("leadSponsor"))] + [("collaborator", c) for c in
                                                                      sponsors.get("collaborators", [])]:
        if org:
            element = ET.SubElement(sponsor_element, tag)
            _add(element, "agency", org.get("name"))
            _add(element, "agency_class", label(org.get("class")))
    _add(root, "overall_status", label(status.get("overallStatus")))
    _add(root, "why_stopped", status.get("whyStopped"))
    _date(root, "start_date", status.get("startDateStruct"))
    _date(root, "completion_date", status.get("completionDateStruct"))
    _date(root, "primary_completion_date", status.get("primaryCompletionDateStruct"))
    _add(root, "phase", "/".join(label(x) or "" for x in design.get("phases", [])))
    _add(root, "study_type", label(design.get("studyType")))
    enrollment = design.get("enrollmentInfo", {})
    _add(root, "enrollment", enrollment.get("count"), type=label(enrollment.get("type")))
    for tag, module_key in (("primary_outcome", "primaryOutcomes"), ("secondary_outcome", "secondaryOutcomes"),
                            ("other_outcome", "otherOutcomes")):
        for outcome in outcomes.get(module_key, []):
            element = ET.SubElement(root, tag)
            _add(element, "measure", outcome.get("measure"))
            _add(element, "time_frame", outcome.get("timeFrame"))
            _add(element, "description", outcome.get("description"))
    for condition in conds.get("conditions", []):
        _add(root, "condition", condition)
    for arm in arms_mod.get("armGroups", []):
        element = ET.SubElement(root, "arm_group")
        _add(element, "arm_group_label", arm.get("label"))
        _add(element, "arm_group_type", label(arm.get("type")))
        _add(element, "description", arm.get("description"))
    for intervention in arms_mod.get("interventions", []):
        element = ET.SubElement(root, "intervention")
        _add(element, "intervention_type", label(intervention.get("type")))
        _add(element, "intervention_name", intervention.get("name"))
        _add(element, "description", intervention.get("description"))
        for arm_label in intervention.get("armGroupLabels", []):
            _add(element, "arm_group_label", arm_label)
        for other in intervention.get("otherNames", []):
            _add(element, "other_name", other)
    eligibility = ET.SubElement(root, "eligibility")
    if elig.get("eligibilityCriteria"):
        _add(ET.SubElement(eligibility, "criteria"), "textblock", elig["eligibilityCriteria"])
    _add(eligibility, "gender", label(elig.get("sex")))
    _add(eligibility, "minimum_age", elig.get("minimumAge"))
    _add(eligibility, "maximum_age", elig.get("maximumAge"))
    if "healthyVolunteers" in elig:
        _add(eligibility, "healthy_volunteers", "Accepts Healthy Volunteers" if elig["healthyVolunteers"] else "No")
    for official in contacts.get("overallOfficials", []):
        element = ET.SubElement(root, "overall_official")
        _add(element, "last_name", official.get("name"))
        _add(element, "role", label(official.get("role")))
        _add(element, "affiliation", official.get("affiliation"))
    for location in contacts.get("locations", []):
        facility = ET.SubElement(ET.SubElement(root, "location"), "facility")
        _add(facility, "name", location.get("facility"))
        address = ET.SubElement(facility, "address")
        for tag in ("city", "state", "zip", "country"):
            _add(address, tag, location.get(tag))
    for reference in refs.get("references", []):
        tag = {"BACKGROUND": "reference", "RESULT": "results_reference"}.get(reference.get("type", ""))
        if tag:  # the legacy XML has no derived references
            element = ET.SubElement(root, tag)
            _add(element, "citation", reference.get("citation"))
            _add(element, "PMID", reference.get("pmid"))
    _add(root, "study_first_submitted", legacy_date(status.get("studyFirstSubmitDate")))
    _date(root, "study_first_posted", status.get("studyFirstPostDateStruct"))
    _add(root, "last_update_submitted", legacy_date(status.get("lastUpdateSubmitDate")))
    _date(root, "last_update_posted", status.get("lastUpdatePostDateStruct"))
    browse = study.get("derivedSection", {}).get("conditionBrowseModule", {}).get("meshes", [])
    if browse:
        element = ET.SubElement(root, "condition_browse")
        for mesh in browse:
            _add(element, "mesh_term", mesh.get("term"))
    for keyword in conds.get("keywords", []):
        _add(root, "keyword", keyword)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _join(*parts: object) -> str:
    return ", ".join(str(part) for part in parts if part not in (None, ""))


def csv_row(study: dict) -> dict[str, str]:
    """The "Download CSV" row of ``study``: codes, ``|``-joined cells, composite texts joined by ", "."""
    ident, status, sponsors, conds, design, arms_mod, outcomes, elig, contacts, _ = _modules(study)
    nct = ident.get("nctId", "")
    lead = sponsors.get("leadSponsor", {})
    row = dict.fromkeys(CSV_COLUMNS, "")
    row.update({
        "NCT Number": nct, "Study Title": ident.get("briefTitle", ""),
        "Study URL": f"https://clinicaltrials.gov/study/{nct}", "Acronym": ident.get("acronym", ""),
        "Study Status": status.get("overallStatus", ""),
        "Study Results": "YES" if study.get("hasResults") else "NO",
        "Conditions": "|".join(conds.get("conditions", [])),
        "Interventions": "|".join(f"{i.get('type', '')}: {i.get('name', '')}"
                                  for i in arms_mod.get("interventions", [])),
        "Sponsor": lead.get("name", ""), "Collaborators": "|".join(c.get("name", "") for c in
                                                                  sponsors.get("collaborators", [])),
        "Sex": elig.get("sex", ""), "Age": ", ".join(elig.get("stdAges", [])),
        "Phases": "|".join(design.get("phases", [])),
        "Enrollment": str(design.get("enrollmentInfo", {}).get("count", "")),
        "Funder Type": lead.get("class", ""), "Study Type": design.get("studyType", ""),
        "Other IDs": "|".join([ident.get("orgStudyIdInfo", {}).get("id", "")] +
                              [s.get("id", "") for s in ident.get("secondaryIdInfos", [])]).strip("|"),
        "Start Date": status.get("startDateStruct", {}).get("date", ""),
        "Primary Completion Date": status.get("primaryCompletionDateStruct", {}).get("date", ""),
        "Completion Date": status.get("completionDateStruct", {}).get("date", ""),
        "First Posted": status.get("studyFirstPostDateStruct", {}).get("date", ""),
        "Last Update Posted": status.get("lastUpdatePostDateStruct", {}).get("date", ""),
        "Locations": "|".join(_join(loc.get("facility"), loc.get("city"), loc.get("state"), loc.get("zip"),
                                    loc.get("country")) for loc in contacts.get("locations", [])),
    })
    for column, key in (("Primary Outcome Measures", "primaryOutcomes"), ("Secondary Outcome Measures",
                                                                         "secondaryOutcomes"),
                        ("Other Outcome Measures", "otherOutcomes")):
        row[column] = "|".join(_join(o.get("measure"), o.get("description"), o.get("timeFrame"))
                               for o in outcomes.get(key, []))
    return row


def to_csv(studies: list[dict]) -> str:
    """A whole "Download CSV" file (with its byte-order mark, as the registry writes it)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for study in studies:
        writer.writerow(csv_row(study))
    return "\ufeff" + out.getvalue()


# The one-line blurbs the modern page prints under each section heading (from examples/000_*.txt).
_BLURBS = {
    "Study Results": "The study team has not published outcome measurements, participant flow, or safety data "
                     "for this trial yet. Check back later for updates.",
    "Basic Information": "Get a concise snapshot of the trial, including recruitment status, study phase, "
                         "enrollment targets, and key timeline milestones.",
    "Conditions": "See the medical conditions and disease areas that this research is targeting or investigating.",
    "Study Groups": "Review each arm or cohort in the study, along with the interventions and objectives "
                    "associated with them.",
    "Interventions": "Learn about the drugs, procedures, or behavioral strategies being tested and how they are "
                     "applied within this trial.",
    "Eligibility Criteria": "Check the participation requirements, including inclusion and exclusion rules, age "
                            "limits, and whether healthy volunteers are accepted.",
    "Sponsors": "Meet the organizations funding or collaborating on the study and learn about their roles.",
    "Principal Investigators": "Learn about the lead researchers overseeing the trial and their institutional "
                               "affiliations.",
    "Locations": "Explore where the study is taking place and check the recruitment status at each "
                 "participating site.",
    "References": "Explore related publications, articles, or registry entries linked to this study.",
    "Other Identifiers": "Review additional registry numbers or institutional identifiers associated with this "
                         "trial.",
}


def to_modern_page(study: dict) -> str:
    """The text capture of the modern registry page for ``study`` (as in examples/000_*.txt).

    Each section is its heading, its blurb, then label/value lines; values are API v2 codes.
    """
    ident, status, sponsors, conds, design, arms_mod, _, elig, contacts, refs = _modules(study)
    lines: list[str] = [ident.get("briefTitle", ""), f"NCT ID: {ident.get('nctId')}"]
    updated = status.get("lastUpdatePostDateStruct", {}).get("date")
    if updated:
        lines.append(f"Last Updated: {updated}")

    def section(name: str, body: list[str], always: bool = False) -> None:
        if body or always:
            lines.extend([name, _BLURBS.get(name, f"About the {name.lower()} of this trial, as registered here."),
                          *body])

    def pairs(*items: tuple[str, object | None]) -> list[str]:
        return [text for label_, value in items if value not in (None, "") for text in (label_, str(value))]

    section("Study Results", ["Results pending"] if not study.get("hasResults") else ["Results posted"])
    enrollment = design.get("enrollmentInfo", {}).get("count")
    section("Basic Information", pairs(
        ("Recruitment Status", status.get("overallStatus")), ("Clinical Phase", "/".join(design.get("phases", []))),
        ("Total Enrollment", f"{enrollment} participants" if enrollment is not None else None),
        ("Study Classification", design.get("studyType")),
        ("Study Start Date", status.get("startDateStruct", {}).get("date")),
        ("Primary Completion Date", status.get("primaryCompletionDateStruct", {}).get("date")),
        ("Study Completion Date", status.get("completionDateStruct", {}).get("date"))), always=True)
    section("Conditions", list(conds.get("conditions", [])))
    interventions = arms_mod.get("interventions", [])
    groups: list[str] = []
    for arm in arms_mod.get("armGroups", []):
        groups += [arm.get("label", ""), f"Group Type {arm.get('type', 'OTHER')}"]
        for intervention in interventions:
            if arm.get("label") in intervention.get("armGroupLabels", []):
                groups += [intervention.get("name", ""), f"Intervention Type {intervention.get('type', 'OTHER')}"]
    section("Study Groups", groups)
    section("Interventions", [text for i in interventions for text in
                              [i.get("name", ""), *(i.get("description", "").splitlines()),
                               f"Intervention Type {i.get('type', 'OTHER')}"]])
    healthy = elig.get("healthyVolunteers")
    # The criteria block keeps its own lines (consecutive bullets, indented sub-items), as the capture shows it.
    block = [elig["eligibilityCriteria"]] if elig.get("eligibilityCriteria") else []
    section("Eligibility Criteria", [*block, *pairs(
        ("Minimum Eligible Age", elig.get("minimumAge")), ("Maximum Eligible Age", elig.get("maximumAge")),
        ("Eligible Sex", elig.get("sex")),
        ("Accepts Healthy Volunteers", None if healthy is None else "Yes" if healthy else "No"))])
    orgs = [(sponsors.get("leadSponsor"), "lead")] + [(c, "collaborator") for c in sponsors.get("collaborators", [])]
    section("Sponsors", [text for org, role in orgs if org for text in
                         [org.get("name", ""), org.get("class", "OTHER"), f"Sponsor Role {role}"]])
    section("Principal Investigators", [text for o in contacts.get("overallOfficials", []) for text in
                                        [o.get("name", ""), f"Role: {o.get('role', 'PRINCIPAL_INVESTIGATOR')}",
                                         *([o["affiliation"]] if o.get("affiliation") else [])]])
    # A location without a facility is left out: the capture's "facility line, address line" pairs
    # cannot show one (what the registry page prints for it is not in any capture we have).
    section("Locations", [text for loc in contacts.get("locations", []) if loc.get("facility") for text in
                          [loc.get("facility", ""), ", ".join(part for part in (loc.get("city"), loc.get("state"),
                                                                                 loc.get("country")) if part),
                           *(["Site Status", loc["status"]] if loc.get("status") else [])]])
    section("References", [text for r in refs.get("references", []) for text in
                           [r.get("citation", ""), f"Reference Type {r.get('type', 'BACKGROUND')}",
                            *([f"PMID: {r['pmid']} (View on PubMed)"] if r.get("pmid") else [])]])
    identifiers = [[ident.get("orgStudyIdInfo", {}).get("id"), "-", "org_study_id"]] + [
        [s.get("id"), s.get("type", "-"), s.get("domain", "-")] for s in ident.get("secondaryIdInfos", [])]
    section("Other Identifiers", [text for value, id_type, source in identifiers if value for text in
                                  [value, f"Identifier Type: {id_type}", f"Identifier Source: {source}"]])
    return "\n\n".join(line for line in lines if line is not None) + "\n"
