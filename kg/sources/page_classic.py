"""Text captures of the classic ClinicalTrials.gov study page.

The classic page is a set of tables flattened to text: ``Label: | value |`` rows, a
``Condition or disease | Intervention/treatment | Phase`` table, an ``Arm |
Intervention/treatment`` table whose cells span lines, dash-bulleted outcomes and
criteria, a locations block and, at the bottom, keywords and MeSH terms. Values are
display labels ("Active Comparator", "Phase 1"), mapped to API v2 codes.

The capture drops some headings: outcome bullets that come before any "Secondary
Outcome Measures" heading are primary outcomes (the page always lists primary first),
and the MeSH terms are run together without separators, so they are kept as text.

Example:
    >>> from pathlib import Path
    >>> raw = next(read_page_classic(Path("examples/001_ca6197c953f8c59c.txt")))
    >>> parse_page_classic(raw).trial.enrollment
    Enrollment(count=22, type='ACTUAL')
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
    Outcome,
    ResponsibleParty,
    Site,
    StudyDate,
    Trial,
)
from kg.rules.codes import age_limit, code, iso_date, phases, yes_no
from kg.rules.countries import pop_country
from kg.rules.eligibility import split_criteria
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.pages import head_text, read_page

FORMAT = "page-classic"

_IDENTIFIER = re.compile(r"ClinicalTrials\.gov Identifier:\s*\|?\s*(NCT[0-9]{8})")  # ASCII: the id makes the IRI
# "Label : | value |" or "Label: | value |" on one line.
_ROW = re.compile(r"^([^|]+?)\s*:\s*\|\s*(.*?)\s*\|?\s*$")
_INLINE = re.compile(r"^(First Posted|Last Update Posted|Recruitment Status)\s*:\s*(\S.*)$")
_INTERVENTION_TYPES = (
    "Drug", "Biological", "Device", "Procedure", "Procedure/Surgery", "Radiation", "Behavioral", "Genetic",
    "Dietary Supplement", "Combination Product", "Diagnostic Test", "Other",
)
_TYPED_NAME = re.compile(r"(?:^|\s)(" + "|".join(re.escape(t) for t in _INTERVENTION_TYPES) + r"):\s+")
_ARM_TYPES = ("Experimental", "Active Comparator", "Placebo Comparator", "Sham Comparator", "No Intervention",
              "Other")
_ARM_HEAD = re.compile(r"^(" + "|".join(_ARM_TYPES) + r"):\s*(.+)$")
_OUTCOME = re.compile(r"^-\s+(.*?)\s*\[\s*Time Frame:\s*(.*?)\s*\]\s*$")
_OUTCOME_HEADING = re.compile(r"^(Primary|Secondary|Other(?: Pre-specified)?) Outcome Measures?\s*:?", re.IGNORECASE)
_AGES = re.compile(r"^(.*?)\s+to\s+(.*?)\s*(?:\((.*)\))?$|^(.*?)\s+and (?:older|up)\s*(?:\((.*)\))?$")
_ENROLLMENT = re.compile(r"^(\d[\d,]*)")
_DATE_LABEL = re.compile(r"^(Actual|Estimated|Anticipated)\s+(.*)$")
_ADDRESS = re.compile(r"^([^|]+?)\s*\|\s*$")
_EMPTY_CELLS = re.compile(r"^([^|]*?)\s*\|\s*\|\s*$")


def sniff_page_classic(path: Path, head: bytes) -> bool:
    text = head_text(head)
    return bool(_IDENTIFIER.search(text)) and "|" in text


def read_page_classic(path: Path) -> Iterator[RawRecord | RecordError]:
    """The single record of a classic page capture."""
    return read_page(path, FORMAT)


def parse_page_classic(raw: RawRecord) -> Parsed:
    """A Trial from a classic page capture; missing sections give warnings, no NCT id an error."""
    text: str = raw.payload
    found = _IDENTIFIER.search(text)
    if found is None:
        raise RecordError("no 'ClinicalTrials.gov Identifier:' line: not a trial page", source=raw.source,
                          record=raw.record)
    lines = [line.strip() for line in text.splitlines()]
    rows = _rows(lines)
    warnings: list[str] = []
    conditions, intervention_types, table_phases = _condition_table(lines)
    if not conditions:
        warnings.append("missing section 'Condition or disease' table")
    arms, descriptions = _arm_table(lines, intervention_types)
    if not arms:
        warnings.append("missing section 'Arm | Intervention/treatment' table")
    criteria_text = _block(lines, start=("Inclusion Criteria", "Criteria:"),
                           stop=("To learn more about this study", "Contacts and Locations"))
    if not criteria_text:
        warnings.append("missing section 'Eligibility Criteria'")
    sites = _sites(lines)
    if not sites:
        warnings.append("missing section 'Locations'")
    minimum, maximum, std_ages = _ages(rows.get("Ages Eligible for Study"))
    other_ids = _following_values(lines, "Other Study ID Numbers")
    keywords, mesh_text = _bottom_terms(lines)
    trial = Trial(
        nct_id=found.group(1),
        org_study_id=other_ids[0] if other_ids else None,
        secondary_ids=tuple(Identifier(id=value) for value in other_ids[1:]),
        brief_title=lines[0] or None,
        official_title=rows.get("Official Title"),
        overall_status=code(rows.get("Recruitment Status")),
        phases=table_phases,
        study_type=code(rows.get("Study Type")),
        start_date=_dated(rows, "Study Start Date"),
        primary_completion_date=_dated(rows, "Primary Completion Date"),
        completion_date=_dated(rows, "Study Completion Date"),
        enrollment=_enrollment(rows),
        allocation=code(rows.get("Allocation")),
        intervention_model=code(rows.get("Intervention Model")),
        masking=code(rows.get("Masking")),
        primary_purpose=code(rows.get("Primary Purpose")),
        conditions=conditions,
        keywords=keywords,
        mesh_text=mesh_text,
        arms=tuple(arms),
        interventions=tuple(
            Intervention(
                name=name,
                type=code(kind),
                description=descriptions.get(name),
                arm_labels=tuple(arm.label for arm in arms if name in arm.intervention_names),
            )
            for name, kind in intervention_types.items()
        ),
        outcomes=_outcomes(lines),
        eligibility=Eligibility(
            criteria=split_criteria(criteria_text),
            minimum_age=minimum,
            maximum_age=maximum,
            sex=code(rows.get("Sexes Eligible for Study")),
            healthy_volunteers=yes_no(rows.get("Accepts Healthy Volunteers")),
            std_ages=std_ages,
            text=criteria_text or None,
        ),
        responsible_party=_responsible_party(rows.get("Responsible Party")),
        sites=sites,
        first_posted=_posted(rows.get("First Posted")),
        last_update_posted=_posted(rows.get("Last Update Posted")),
        last_verified=iso_date(rows.get("Last Verified")),
        has_results=False if any(line.startswith("- No Results Posted") for line in lines) else None,
    )
    if trial.lead_sponsor is None:
        warnings.append("missing section 'Sponsor' (the capture does not name the lead sponsor)")
    return Parsed(record=trial, warnings=tuple(warnings))


def _rows(lines: list[str]) -> dict[str, str]:
    """``Label: | value |`` rows and the header's ``Label :`` + next-line values (first wins)."""
    rows: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = _ROW.match(line) or _INLINE.match(line)
        if match and match.group(2):
            rows.setdefault(match.group(1).strip(), match.group(2).strip())
        elif line.endswith(":") and "|" not in line and i + 1 < len(lines) and lines[i + 1]:
            rows.setdefault(line[:-1].strip(), lines[i + 1].strip(" |"))
    # "Actual Enrollment", "Estimated Study Start Date": keep the qualifier reachable.
    for label in list(rows):
        qualified = _DATE_LABEL.match(label)
        if qualified:
            rows.setdefault(qualified.group(2), rows[label])
            rows.setdefault(qualified.group(2) + " type", qualified.group(1))
    return rows


def _dated(rows: dict[str, str], label: str) -> StudyDate | None:
    value = iso_date(rows.get(label))
    if value is None:
        return None
    return StudyDate(value, code(rows.get(label + " type")))


def _posted(text: str | None) -> StudyDate | None:
    if not text:
        return None
    value = iso_date(re.sub(r"\s+Key Record Dates.*$", "", text).strip())
    return StudyDate(value) if value else None


def _enrollment(rows: dict[str, str]) -> Enrollment | None:
    match = _ENROLLMENT.match(rows.get("Enrollment", ""))
    if not match:
        return None
    return Enrollment(int(match.group(1).replace(",", "")), code(rows.get("Enrollment type")))


def _split_typed(text: str) -> list[tuple[str, str]]:
    """``Drug: a Drug: b`` -> [("Drug", "a"), ("Drug", "b")]."""
    parts = _TYPED_NAME.split(text)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def _condition_table(lines: list[str]) -> tuple[tuple[str, ...], dict[str, str], tuple[str, ...]]:
    """Conditions, interventions (name -> type) and phases from the summary table."""
    for i, line in enumerate(lines):
        if line.startswith("Condition or disease") and i + 2 < len(lines):
            cells = [cell.strip() for cell in lines[i + 2].split("|")]
            cells += [""] * (3 - len(cells))
            interventions = {name: kind for kind, name in _split_typed(cells[1])}
            conditions = (cells[0],) if cells[0] else ()
            return conditions, interventions, phases(cells[2])
    return (), {}, ()


def _arm_table(lines: list[str], interventions: dict[str, str]) -> tuple[list[Arm], dict[str, str]]:
    """Arms and intervention descriptions from the ``Arm | Intervention/treatment`` table.

    Cells span lines and are closed by ``|``; arm cells and intervention cells alternate.
    Intervention descriptions are the text between one ``Type: name`` and the next.
    """
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Arm | Intervention/treatment"))
    except StopIteration:
        return [], {}
    body: list[str] = []
    for line in lines[start + 2 :]:
        if not line or _OUTCOME.match(line) or _OUTCOME_HEADING.match(line):
            break
        body.append(line)
    cells = [cell.strip() for cell in "\n".join(body).split("|")]
    arms: list[Arm] = []
    descriptions: dict[str, str] = {}
    for arm_cell, treatment_cell in zip(cells[0::2], cells[1::2], strict=False):
        head, _, description = arm_cell.partition("\n")
        match = _ARM_HEAD.match(head)
        if match is None:
            continue
        names: list[str] = []
        flat = " ".join(treatment_cell.split())
        for _kind, rest in _split_typed(flat):
            name = max((n for n in interventions if rest.startswith(n)), key=len, default=rest)
            names.append(name)
            detail = rest[len(name) :].strip()
            if detail:
                descriptions.setdefault(name, detail)
        arms.append(Arm(label=match.group(2).strip(), type=code(match.group(1)),
                        description=" ".join(description.split()) or None, intervention_names=tuple(names)))
    return arms, descriptions


def _outcomes(lines: list[str]) -> tuple[Outcome, ...]:
    kind = "PRIMARY"
    found: list[Outcome] = []
    for line in lines:
        heading = _OUTCOME_HEADING.match(line)
        if heading:
            kind = heading.group(1).split()[0].upper()
            continue
        match = _OUTCOME.match(line)
        if match:
            found.append(Outcome(measure=match.group(1), kind=kind, time_frame=match.group(2)))
    return tuple(found)


def _block(lines: list[str], start: tuple[str, ...], stop: tuple[str, ...]) -> str:
    """The text from the first line starting with ``start`` up to a line starting with ``stop``."""
    taken: list[str] = []
    inside = False
    for line in lines:
        if not inside and line.startswith(start):
            inside = True
        elif inside and line.startswith(stop):
            break
        if inside:
            taken.append(line)
    return "\n".join(taken).strip()


def _ages(text: str | None) -> tuple[AgeLimit | None, AgeLimit | None, tuple[str, ...]]:
    """``40 Years to 65 Years (Adult, Older Adult)`` -> limits and age groups."""
    if not text:
        return None, None, ()
    match = _AGES.match(text)
    if not match:
        return None, None, ()
    low_text, high_text, groups = (match.group(1), match.group(2), match.group(3)) if match.group(1) else (
        match.group(4), None, match.group(5))
    low, high = age_limit(low_text), age_limit(high_text)
    std = tuple(code(group) or "" for group in (groups or "").split(",") if group.strip())
    return (AgeLimit(*low) if low else None, AgeLimit(*high) if high else None, std)


def _sites(lines: list[str]) -> tuple[Site, ...]:
    """Sites between the "Please refer to this study" line and "Responsible Party".

    ``Country, State | |`` lines head a group; a ``Facility | |`` line followed by an
    address line ``City, State, Country, Zip |`` is one site.
    """
    block = _block(lines, start=("Please refer to this study",), stop=("Responsible Party", "More Information",
                                                                      "Sponsors and Collaborators"))
    entries = [line for line in block.splitlines()[1:] if line]
    sites: list[Site] = []
    country_header = None
    for i, line in enumerate(entries):
        cells = _EMPTY_CELLS.match(line)
        if cells and i + 1 < len(entries) and _EMPTY_CELLS.match(entries[i + 1]):
            country_header = cells.group(1).split(",")[0].strip()
            continue
        address = _ADDRESS.match(line)
        if cells or address is None or i == 0:
            continue
        facility_line = _EMPTY_CELLS.match(entries[i - 1])
        if facility_line is None:
            continue
        parts = [part.strip() for part in address.group(1).split(",")]
        zip_code = parts.pop() if parts and any(ch.isdigit() for ch in parts[-1]) else None
        country = pop_country(parts) or country_header
        sites.append(
            Site(
                facility=facility_line.group(1).strip() or None,
                city=parts[0] if parts else None,
                state=parts[1] if len(parts) > 1 else None,
                zip=zip_code,
                country=country,
            )
        )
    return tuple(sites)


def _responsible_party(text: str | None) -> ResponsibleParty | None:
    """``Name, Title, Organisation``: the classic page shows investigators this way."""
    if not text:
        return None
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) == 1:
        return ResponsibleParty(name=parts[0])
    return ResponsibleParty(
        name=parts[0],
        title=", ".join(parts[1:-1]) or None,
        affiliation=parts[-1] if len(parts) > 2 else None,
    )


def _following_values(lines: list[str], label: str) -> list[str]:
    """Values listed one per line (``value |``) after a ``Label: |`` row."""
    values: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith(label):
            for following in lines[i + 1 :]:
                value = following.rstrip("|").strip()
                if not value or ":" in following:
                    break
                values.append(value)
            break
    return values


def _bottom_terms(lines: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Keywords and MeSH terms: the unlabeled ``text |`` lines after the FDA-regulation rows."""
    try:
        start = max(i for i, line in enumerate(lines) if line.startswith("Studies a U.S. FDA-regulated"))
    except ValueError:
        return (), ()
    values = [line.rstrip("|").strip() for line in lines[start + 1 :] if line.endswith("|") and ":" not in line]
    values = [value for value in values if value]
    return tuple(values[:1]), tuple(values[1:])


CLASSIC_PAGE_FORMAT = SourceFormat(
    name=FORMAT,
    description="text capture of the classic ClinicalTrials.gov page ('Label: | value |' rows)",
    sniff=sniff_page_classic,
    read=read_page_classic,
    parse=parse_page_classic,
)
