"""Text captures of the modern trial-registry page (label line, blank line, value).

The page is a sequence of sections; each section heading is followed by a one-line
blurb ("Review each arm or cohort ..."), then label/value pairs or free text. Values are
already API v2 codes (``PHASE1/PHASE2``, ``ACTIVE_COMPARATOR``), so little mapping is
needed; the work is in telling headings, blurbs, labels and values apart.

Example:
    >>> from pathlib import Path
    >>> raw = next(read_page_modern(Path("examples/000_df29306579c496cc.txt")))
    >>> parse_page_modern(raw).trial.enrollment
    Enrollment(count=44, type=None)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg.errors import RecordError
from kg.model import (
    AgeLimit,
    Arm,
    Eligibility,
    Enrollment,
    Identifier,
    Intervention,
    Organization,
    PersonMention,
    Reference,
    ResponsibleParty,
    Site,
    StudyDate,
    Trial,
)
from kg.rules.citations import doi_in
from kg.rules.codes import age_limit, code, iso_date, phases, yes_no
from kg.rules.countries import pop_country
from kg.rules.eligibility import split_criteria, unescape_markdown
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.pages import head_text, read_page

FORMAT = "page-modern"

SECTIONS = (
    "Study Results",
    "Basic Information",
    "Brief Summary",
    "Detailed Description",
    "Conditions",
    "Keywords",
    "Study Design",
    "Study Groups",
    "Interventions",
    "Outcome Measures",
    "Eligibility Criteria",
    "Sponsors",
    "Collaborators",
    "Responsible Party",
    "Principal Investigators",
    "Locations",
    "Countries",
    "References",
    "Other Identifiers",
)
_SECTION_SET = frozenset(SECTIONS)
# Sections a complete registration has; their absence is worth a warning.
_EXPECTED = ("Basic Information", "Conditions", "Study Design", "Study Groups", "Eligibility Criteria",
             "Sponsors", "Locations")
_ELIGIBILITY_LABELS = frozenset(
    {"Minimum Eligible Age", "Maximum Eligible Age", "Eligible Sex", "Accepts Healthy Volunteers"}
)
_NCT_LINE = re.compile(r"^NCT ID:\s*(NCT[0-9]{8})\s*$", re.MULTILINE)  # ASCII: the id makes the IRI
_LAST_UPDATED = re.compile(r"^Last Updated:\s*(\S.*?)\s*$", re.MULTILINE)
_GROUP_TYPE = re.compile(r"^Group Type\s+(\S+)$")
_INTERVENTION_TYPE = re.compile(r"^Intervention Type\s+(\S+)$")
_ROLE = re.compile(r"^Role:\s*(\S+)$")
_SPONSOR_ROLE = re.compile(r"^Sponsor Role\s+(\S+)$", re.IGNORECASE)
_PMID = re.compile(r"^PMID:\s*([0-9]+)")
_REFERENCE_TYPE = re.compile(r"^Reference Type\s+(\S+)$")
_ENROLLMENT = re.compile(r"^(\d[\d,]*)")


def sniff_page_modern(path: Path, head: bytes) -> bool:
    text = head_text(head)
    return bool(_NCT_LINE.search(text)) and "Basic Information" in text


def read_page_modern(path: Path) -> Iterator[RawRecord | RecordError]:
    """The single record of a modern page capture."""
    return read_page(path, FORMAT)


def _sections(lines: list[str]) -> dict[str, list[str]]:
    """Split the page's non-blank lines into sections, dropping each heading's blurb.

    Lines keep their indentation and the blank lines between them (a criteria block's items
    are told apart by both); headings and blurbs are recognised on the stripped line.
    """
    sections: dict[str, list[str]] = {"": []}
    current = ""
    skip_blurb = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            sections[current].append("")
            continue
        if stripped in _SECTION_SET and stripped not in sections:
            current = stripped
            sections[current] = []
            skip_blurb = True
            continue
        if skip_blurb:
            skip_blurb = False
            if len(stripped) > 60 and not stripped.startswith("*"):
                continue  # the one-line blurb under every heading
        sections[current].append(line)
    return sections


def _pairs(lines: list[str]) -> dict[str, str]:
    """Label/value pairs of a section (the value is the line after its label)."""
    return {lines[i]: lines[i + 1] for i in range(0, len(lines) - 1, 2)}


def parse_page_modern(raw: RawRecord) -> Parsed:
    """A Trial from a modern page capture; missing sections give warnings, no NCT id an error."""
    text: str = raw.payload
    nct = _NCT_LINE.search(text)
    if nct is None:
        raise RecordError("no 'NCT ID:' line: not a trial page", source=raw.source, record=raw.record)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    raw_sections = _sections([line.rstrip() for line in text.splitlines()])
    sections = {name: [line.strip() for line in body if line.strip()] for name, body in raw_sections.items()}
    warnings = [f"missing section {name!r}" for name in _EXPECTED if name not in sections]
    basic = _pairs(sections.get("Basic Information", []))
    design = _pairs(sections.get("Study Design", []))
    criteria, eligibility_fields = _eligibility(raw_sections.get("Eligibility Criteria", []))
    updated = _LAST_UPDATED.search(text)
    org_study_id, secondary_ids = _identifiers(sections.get("Other Identifiers", []))
    arms, arm_interventions = _arms(sections.get("Study Groups", []))
    sponsors = _sponsors(sections.get("Sponsors", []) + sections.get("Collaborators", []))
    lead = next((org for org, role in sponsors if role == "lead"), None)
    trial = Trial(
        nct_id=nct.group(1),
        org_study_id=org_study_id,
        secondary_ids=secondary_ids,
        brief_title=lines[0] if lines and not lines[0].startswith("NCT ID") else None,
        brief_summary=_paragraphs(sections.get("Brief Summary")),
        detailed_description=_paragraphs(sections.get("Detailed Description")),
        overall_status=code(basic.get("Recruitment Status")),
        phases=phases(basic.get("Clinical Phase")),
        study_type=code(basic.get("Study Classification")),
        start_date=_date(basic.get("Study Start Date")),
        primary_completion_date=_date(basic.get("Primary Completion Date")),
        completion_date=_date(basic.get("Study Completion Date")),
        enrollment=_enrollment(basic.get("Total Enrollment")),
        allocation=code(design.get("Allocation Method")),
        intervention_model=code(design.get("Intervention Model")),
        masking=code(design.get("Blinding Strategy")),
        primary_purpose=code(design.get("Primary Study Purpose")),
        conditions=tuple(sections.get("Conditions", ())),
        keywords=tuple(sections.get("Keywords", ())),
        arms=tuple(Arm(label=a.label, type=a.type, intervention_names=arm_interventions[a.label]) for a in arms),
        interventions=_interventions(sections.get("Interventions", []), arm_interventions),
        eligibility=Eligibility(
            criteria=split_criteria("\n".join(criteria)),
            minimum_age=_age(eligibility_fields.get("Minimum Eligible Age")),
            maximum_age=_age(eligibility_fields.get("Maximum Eligible Age")),
            sex=code(eligibility_fields.get("Eligible Sex")),
            healthy_volunteers=yes_no(eligibility_fields.get("Accepts Healthy Volunteers")),
            text="\n".join(criteria) or None,
        ),
        lead_sponsor=lead,
        collaborators=tuple(org for org, role in sponsors if role != "lead"),
        responsible_party=_responsible_party(sections.get("Responsible Party", [])),
        officials=_officials(sections.get("Principal Investigators", [])),
        sites=_sites(sections.get("Locations", [])),
        references=_references(sections.get("References", [])),
        last_update_posted=_date(updated.group(1)) if updated else None,
        has_results=_has_results(sections.get("Study Results")),
    )
    return Parsed(record=trial, warnings=tuple(warnings))


def _paragraphs(lines: list[str] | None) -> str | None:
    return unescape_markdown("\n\n".join(lines)) if lines else None


def _has_results(lines: list[str] | None) -> bool | None:
    if not lines:
        return None
    return not lines[0].lower().startswith(("results pending", "no results"))


def _date(text: str | None) -> StudyDate | None:
    value = iso_date(text)
    return StudyDate(value) if value else None


def _enrollment(text: str | None) -> Enrollment | None:
    match = _ENROLLMENT.match(text or "")
    return Enrollment(int(match.group(1).replace(",", ""))) if match else None


def _age(text: str | None) -> AgeLimit | None:
    parsed = age_limit(text)
    return AgeLimit(*parsed) if parsed else None


def _eligibility(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Criteria lines as indented on the page (up to the first structured label), and the label/values."""
    criteria: list[str] = []
    fields: dict[str, str] = {}
    labels = [line.strip() for line in lines]
    filled = [i for i, label in enumerate(labels) if label]  # label/value pairs skip the blank lines
    at = 0
    while at < len(filled):
        i = filled[at]
        if labels[i] in _ELIGIBILITY_LABELS:
            if at + 1 < len(filled) and labels[filled[at + 1]] not in _ELIGIBILITY_LABELS:
                fields[labels[i]] = labels[filled[at + 1]]
                at += 2
            else:
                at += 1
            continue
        if not fields:
            criteria.extend(lines[filled[at - 1] + 1 : i] if at else [])  # the blank lines before it
            criteria.append(lines[i])
        at += 1
    return criteria, fields


def _arms(lines: list[str]) -> tuple[list[Arm], dict[str, tuple[str, ...]]]:
    """Arms (label line before each ``Group Type``) and the interventions listed under each."""
    arms: list[Arm] = []
    names: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        group = _GROUP_TYPE.match(line)
        if group and i > 0:
            arms.append(Arm(label=lines[i - 1], type=code(group.group(1))))
            names[lines[i - 1]] = []
        intervention = _INTERVENTION_TYPE.match(line)
        if intervention and arms and i > 0:
            names[arms[-1].label].append(lines[i - 1])
    return arms, {label: tuple(found) for label, found in names.items()}


def _interventions(lines: list[str], arm_interventions: dict[str, tuple[str, ...]]) -> tuple[Intervention, ...]:
    """Interventions: name, description lines, then ``Intervention Type X`` closes each."""
    found: list[Intervention] = []
    block: list[str] = []
    for line in lines:
        match = _INTERVENTION_TYPE.match(line)
        if match is None:
            block.append(line)
            continue
        if block:
            name = block[0]
            arms = tuple(label for label, names in arm_interventions.items() if name in names)
            found.append(
                Intervention(
                    name=name,
                    type=code(match.group(1)),
                    description=unescape_markdown(" ".join(block[1:])) or None,
                    arm_labels=arms,
                )
            )
        block = []
    return tuple(found)


def _sponsors(lines: list[str]) -> list[tuple[Organization, str]]:
    """(organisation, role) pairs: name, class, then ``Sponsor Role lead|collaborator``."""
    found: list[tuple[Organization, str]] = []
    block: list[str] = []
    for line in lines:
        role = _SPONSOR_ROLE.match(line)
        if role is None:
            block.append(line)
            continue
        if block:
            org_class = block[1] if len(block) > 1 else None
            found.append((Organization(name=block[0], org_class=org_class), role.group(1).lower()))
        block = []
    return found


def _responsible_party(lines: list[str]) -> ResponsibleParty | None:
    if not lines:
        return None
    party_type = None
    details: list[str] = []
    for line in lines:
        if line.startswith("Responsibility Role"):
            party_type = code(line.removeprefix("Responsibility Role"))
        else:
            details.append(line)
    name = details[0] if details else None
    affiliation = details[-1] if len(details) > 1 else None
    return ResponsibleParty(type=party_type, name=name, affiliation=affiliation)


def _officials(lines: list[str]) -> tuple[PersonMention, ...]:
    """Officials: name line, ``Role: X``, then affiliation lines up to the next name."""
    role_at = [i for i, line in enumerate(lines) if _ROLE.match(line)]
    found: list[PersonMention] = []
    for n, i in enumerate(role_at):
        if i == 0:
            continue
        next_name = role_at[n + 1] - 1 if n + 1 < len(role_at) else len(lines)
        affiliation = " ".join(lines[i + 1 : next_name]) or None
        match = _ROLE.match(lines[i])
        assert match is not None
        found.append(PersonMention(name=lines[i - 1], role=code(match.group(1)) or "", affiliation=affiliation))
    return tuple(found)


def _sites(lines: list[str]) -> tuple[Site, ...]:
    """Sites: facility, ``City, State, Country`` address, optional ``Site Status`` + value."""
    sites: list[Site] = []
    i = 0
    while i < len(lines):
        facility = lines[i]
        address = lines[i + 1] if i + 1 < len(lines) else ""
        i += 2
        status = None
        if i < len(lines) and lines[i] == "Site Status":
            i += 1
            if i < len(lines) and lines[i].isupper():
                status = code(lines[i])
                i += 1
        parts = [part.strip() for part in address.split(",") if part.strip()]
        country = pop_country(parts)
        city = parts[0] if parts else None
        state = ", ".join(parts[1:]) or None
        sites.append(Site(facility=facility, city=city, state=state, country=country, status=status))
    return tuple(sites)


def _references(lines: list[str]) -> tuple[Reference, ...]:
    """References: citation paragraph, ``Reference Type X``, ``PMID: n (View on PubMed)``."""
    found: list[Reference] = []
    citation: list[str] = []
    ref_type: str | None = None
    for line in lines:
        type_match = _REFERENCE_TYPE.match(line)
        pmid_match = _PMID.match(line)
        if type_match:
            ref_type = code(type_match.group(1))
        elif pmid_match or (citation and ref_type):
            text = " ".join(citation) or None
            doi = doi_in(text)
            found.append(
                Reference(
                    pmid=pmid_match.group(1) if pmid_match else None,
                    citation=text,
                    type=ref_type,
                    doi=doi,
                )
            )
            citation, ref_type = ([] if pmid_match else [line]), None
        else:
            citation.append(line)
    if citation:
        found.append(Reference(citation=" ".join(citation), type=ref_type))
    return tuple(found)


def _identifiers(lines: list[str]) -> tuple[str | None, tuple[Identifier, ...]]:
    """The org study id and secondary ids: id, ``Identifier Type: t``, ``Identifier Source: s``."""
    org_study_id = None
    secondary: list[Identifier] = []
    current: dict[str, str] = {}

    def flush() -> None:
        nonlocal org_study_id
        if "id" not in current:
            return
        source = current.get("source")
        id_type = current.get("type")
        if source == "org_study_id":
            org_study_id = current["id"]
        else:
            secondary.append(Identifier(id=current["id"], type=None if id_type in {None, "-"} else id_type,
                                        domain=source))
        current.clear()

    for line in lines:
        if line.startswith("Identifier Type:"):
            current["type"] = line.split(":", 1)[1].strip()
        elif line.startswith("Identifier Source:"):
            current["source"] = line.split(":", 1)[1].strip()
        else:
            flush()
            current["id"] = line
    flush()
    return org_study_id, tuple(secondary)


MODERN_PAGE_FORMAT = SourceFormat(
    name=FORMAT,
    description="text capture of the modern registry page (label line, blank line, value)",
    sniff=sniff_page_modern,
    read=read_page_modern,
    parse=parse_page_modern,
)
