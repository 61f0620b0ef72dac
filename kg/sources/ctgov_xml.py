"""Legacy ClinicalTrials.gov XML: one ``<clinical_study>`` document per study.

Why a format of its own: until 2024 the registry's bulk download was AllPublicXML.zip
(one ``NCT0000xxxx/NCT00000102.xml`` member per study), and AACT snapshots, archives and
many published datasets are still in that layout. It writes display labels ("Phase
1/Phase 2", "Anticipated", "None (Open Label)") where API v2 has codes, so every label
goes through :mod:`kg.rules.codes` and a trial gives the same facts from either format.

Decisions worth knowing:

* Untrusted XML is never entity-expanded and never fetches anything: lxml runs with
  entity substitution, DTD loading and network access off, and a document that declares
  entities at all (billion laughs, XXE) is refused with a :class:`RecordError`.
* Personal contact data (``overall_contact``, ``contact``, ``contact_backup``: names,
  emails, phones) is never read. Site investigators and officials are kept: they are
  what the registry publishes as the people responsible. Some sponsors put a call-centre
  number where a facility or an official's name belongs; the contact rules every format
  shares (:mod:`kg.rules.contacts`, applied when the record is finished) remove e-mail
  addresses and phone numbers from names, facilities and affiliations, and leave out a
  "name" that is a phone number.
* Older files say ``firstreceived_date`` / ``lastchanged_date``; those are the dates the
  registry *received* a version (AACT renamed them ``study_first_submitted`` and
  ``last_update_submitted``), so they fill the ``*_submitted`` fields, never ``*_posted``.
* The XML has no standard age groups; they are derived from the age limits with the
  registry's own rule (child < 18 years <= adult < 65 years <= older adult), so they
  compare with API v2 and CSV records.

Example:
    >>> raw = RawRecord("ctgov-xml", "a.xml", "NCT00000102", b"<clinical_study><id_info>"
    ...     b"<nct_id>NCT00000102</nct_id></id_info><phase>Phase 1/Phase 2</phase></clinical_study>")
    >>> parse_ctgov_xml(raw).trial.phases
    ('PHASE1', 'PHASE2')
"""

from __future__ import annotations

import functools
import re
import textwrap
from typing import Any

from lxml import etree

from kg.errors import KGError, RecordError
from kg.model import (
    AgeLimit,
    Arm,
    Document,
    Eligibility,
    Enrollment,
    Identifier,
    Intervention,
    MeshTerm,
    Organization,
    Outcome,
    PersonMention,
    Reference,
    ResponsibleParty,
    Site,
    StudyDate,
    Trial,
)
from kg.rules.citations import doi_in
from kg.rules.codes import age_limit, iso_date, phases, pubmed_id, quoted, standard_ages, web_address, yes_no
from kg.rules.codes import code as _vocab_code
from kg.rules.codes import nct_id as registry_id
from kg.rules.eligibility import split_criteria
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.ctgov_xml_read import (
    FORMAT,
    read_ctgov_xml,
    read_ctgov_xml_zip,
    sniff_ctgov_xml,
    sniff_ctgov_xml_zip,
)
from kg.sources.safe_xml import DTD_MESSAGE, study_root

__all__ = ["DTD_MESSAGE", "FORMAT", "parse_ctgov_xml"]


_LEGACY_DESIGN_KEYS = (
    "Allocation|Endpoint Classification|Intervention Model|Masking|Primary Purpose|Observational Model|Time Perspective"
)
_LEGACY_DESIGN = re.compile(rf"({_LEGACY_DESIGN_KEYS}):\s*(.*?)\s*(?=,\s*(?:{_LEGACY_DESIGN_KEYS}):|$)")
_DOCUMENT_KIND = re.compile(r"/((?:Prot|SAP|ICF)(?:_(?:SAP|ICF))*)_\d+\.pdf$", re.IGNORECASE)
_REDACTED = "[Redacted]"
_SPACES = re.compile(r"\s+")

# Labels the shared vocabulary leaves in a non-API form.
_DATE_TYPES = {"ESTIMATE": "ESTIMATED", "ANTICIPATED": "ESTIMATED"}
_MASKING = {f"{level}_BLIND": level for level in ("SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE")}

# A registry uses a few hundred distinct labels; mapping each once keeps sites cheap.
code = functools.lru_cache(maxsize=4096)(_vocab_code)


# ---------------------------------------------------------------- parsing


def parse_ctgov_xml(raw: RawRecord) -> Parsed:
    """Map one ``<clinical_study>`` document to a :class:`~kg.model.Trial`.

    Raises RecordError (naming the file and record) for an unsafe, malformed or
    non-study document; never lets a parser exception escape.
    """
    root = study_root(raw)
    try:
        return _parse_study(root)
    except KGError as error:
        raise RecordError(error.message, source=raw.source, record=raw.record) from None
    except (ValueError, TypeError, AttributeError) as error:  # a shape this code did not foresee
        raise RecordError(
            f"cannot map study: {type(error).__name__}: {error}", source=raw.source, record=raw.record
        ) from error


def _parse_study(root: etree._Element) -> Parsed:
    study = _Children(root)
    ids = study.child("id_info")
    nct_id = ids.text("nct_id")
    if not nct_id:
        raise RecordError("no <id_info><nct_id>")
    if not registry_id(nct_id):  # it becomes the trial's IRI
        raise RecordError(f"<nct_id> {quoted(nct_id)} is not an NCT id")
    warnings: list[str] = []
    interventions = _interventions(study.all("intervention"))
    design = _design(study)
    sponsors = study.child("sponsors")
    trial = Trial(
        nct_id=nct_id,
        org_study_id=ids.text("org_study_id"),
        secondary_ids=tuple(Identifier(value) for value in ids.texts("secondary_id"))
        # An alias is an NCT id the registry merged into this one: kept, it joins records.
        + tuple(Identifier(value, "NCT_ALIAS", "ClinicalTrials.gov") for value in ids.texts("nct_alias")),
        brief_title=study.text("brief_title"),
        official_title=study.text("official_title"),
        acronym=study.text("acronym"),
        brief_summary=_block(study.first("brief_summary")),
        detailed_description=_block(study.first("detailed_description")),
        overall_status=code(study.text("overall_status")),
        why_stopped=study.text("why_stopped"),
        phases=phases(study.text("phase")),
        study_type=code(study.text("study_type")),
        start_date=_study_date(study, "start_date", warnings),
        primary_completion_date=_study_date(study, "primary_completion_date", warnings),
        completion_date=_study_date(study, "completion_date", warnings),
        enrollment=_enrollment(study.first("enrollment"), warnings),
        allocation=design.get("allocation"),
        intervention_model=design.get("intervention_model"),
        masking=design.get("masking"),
        primary_purpose=design.get("primary_purpose"),
        conditions=study.texts("condition"),
        keywords=study.texts("keyword"),
        condition_mesh=tuple(MeshTerm(term) for term in study.child("condition_browse").texts("mesh_term")),
        intervention_mesh=tuple(MeshTerm(term) for term in study.child("intervention_browse").texts("mesh_term")),
        arms=_arms(study.all("arm_group"), interventions),
        interventions=interventions,
        outcomes=_outcomes(study),
        eligibility=_eligibility(study.first("eligibility")),
        lead_sponsor=_organization(sponsors.first("lead_sponsor")),
        collaborators=tuple(org for org in map(_organization, sponsors.all("collaborator")) if org),
        responsible_party=_responsible_party(study.first("responsible_party")),
        officials=tuple(m for node in study.all("overall_official") if (m := _person(node, warnings))),
        sites=tuple(_site(location, warnings) for location in study.all("location")),
        references=_references(study, warnings),
        documents=_documents(study, warnings),
        first_submitted=_date(study, "study_first_submitted", warnings) or _date(study, "firstreceived_date", warnings),
        first_posted=_study_date(study, "study_first_posted", warnings),
        last_update_submitted=_date(study, "last_update_submitted", warnings)
        or _date(study, "lastchanged_date", warnings),
        last_update_posted=_study_date(study, "last_update_posted", warnings),
        last_verified=_date(study, "verification_date", warnings),
        results_first_posted=_study_date(study, "results_first_posted", warnings),
        has_results=any(
            tag in study.groups for tag in ("clinical_results", "results_first_posted", "firstreceived_results_date")
        ),
    )
    return Parsed(record=trial, warnings=tuple(warnings))


# The per-record path groups an element's children by tag in one pass: lxml's
# find/findtext walk ElementPath in Python and cost six times as much per field.


def _strip(element: etree._Element | None) -> str | None:
    """An element's own text, stripped; None for absent or blank."""
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


class _Children:
    """The child elements of one element, grouped by tag (an absent element has none)."""

    __slots__ = ("groups",)

    def __init__(self, element: etree._Element | None) -> None:
        self.groups: dict[Any, list[etree._Element]] = {}
        if element is not None:
            for child in element:
                self.groups.setdefault(child.tag, []).append(child)

    def all(self, tag: str) -> list[etree._Element]:
        return self.groups.get(tag, [])

    def first(self, tag: str) -> etree._Element | None:
        found = self.groups.get(tag)
        return found[0] if found else None

    def child(self, tag: str) -> _Children:
        return _Children(self.first(tag))

    def text(self, tag: str) -> str | None:
        return _strip(self.first(tag))

    def texts(self, tag: str) -> tuple[str, ...]:
        return tuple(value for node in self.groups.get(tag, ()) if (value := _strip(node)))


def _block(element: etree._Element | None) -> str | None:
    """A ``<textblock>``: the registry indents every line by six spaces; remove that."""
    value = element.findtext("textblock") if element is not None else None
    if not value or not value.strip():
        return None
    return textwrap.dedent(value.strip("\n")).strip()


def _date(study: _Children, tag: str, warnings: list[str]) -> str | None:
    text = study.text(tag)
    if text is None:
        return None
    value = iso_date(text)
    if value is None:
        warnings.append(f"{tag}: not a date: {quoted(text)}")
    return value


def _date_type(label: str | None) -> str | None:
    value = code(label)
    return _DATE_TYPES.get(value, value) if value else None


def _study_date(study: _Children, tag: str, warnings: list[str]) -> StudyDate | None:
    value = _date(study, tag, warnings)
    node = study.first(tag)
    return StudyDate(value, _date_type(node.get("type"))) if value and node is not None else None


def _enrollment(node: etree._Element | None, warnings: list[str]) -> Enrollment | None:
    text = _strip(node)
    if node is None or text is None:
        return None
    try:
        count = int(float(text))
    except (ValueError, OverflowError):  # "many", "1e400"
        warnings.append(f"enrollment: not a number: {quoted(text)}")
        return None
    if count < 0:
        warnings.append(f"enrollment: negative count {count} left out")
        return None
    return Enrollment(count, _date_type(node.get("type")))


_DESIGN_FIELDS = ("allocation", "intervention_model", "masking", "primary_purpose")


def _design(study: _Children) -> dict[str, str]:
    """Design codes from ``study_design_info``, or from the pre-2017 ``study_design`` line."""
    design: dict[str, str] = {}
    if "study_design_info" in study.groups:
        info = study.child("study_design_info")
        labels = [(field, info.text(field)) for field in _DESIGN_FIELDS]
    else:
        found = _LEGACY_DESIGN.findall(study.text("study_design") or "")
        labels = [(key.lower().replace(" ", "_"), label) for key, label in found]
    for field, label in labels:
        value = code(label)
        if value and field in _DESIGN_FIELDS:
            design[field] = _MASKING.get(value, value) if field == "masking" else value
    return design


def _interventions(nodes: list[etree._Element]) -> tuple[Intervention, ...]:
    found = []
    for node in nodes:
        parts = _Children(node)
        name = parts.text("intervention_name")
        if name:
            found.append(
                Intervention(
                    name=name,
                    type=code(parts.text("intervention_type")),
                    description=parts.text("description"),
                    arm_labels=parts.texts("arm_group_label"),
                    other_names=parts.texts("other_name"),
                )
            )
    return tuple(found)


def _arms(nodes: list[etree._Element], interventions: tuple[Intervention, ...]) -> tuple[Arm, ...]:
    arms = []
    for node in nodes:
        parts = _Children(node)
        label = parts.text("arm_group_label")
        if label:
            arms.append(
                Arm(
                    label=label,
                    type=code(parts.text("arm_group_type")),
                    description=parts.text("description"),
                    intervention_names=tuple(i.name for i in interventions if label in i.arm_labels),
                )
            )
    return tuple(arms)


def _outcomes(study: _Children) -> tuple[Outcome, ...]:
    found = []
    for kind in ("primary", "secondary", "other"):
        for node in study.all(f"{kind}_outcome"):
            parts = _Children(node)
            measure = parts.text("measure")
            if measure:
                found.append(Outcome(measure, kind.upper(), parts.text("time_frame"), parts.text("description")))
    return tuple(found)


def _eligibility(node: etree._Element | None) -> Eligibility:
    if node is None:
        return Eligibility()
    parts = _Children(node)
    text = _block(parts.first("criteria"))
    minimum = _age(parts.text("minimum_age"))
    maximum = _age(parts.text("maximum_age"))
    return Eligibility(
        criteria=split_criteria(text),
        minimum_age=minimum,
        maximum_age=maximum,
        sex=code(parts.text("gender")),
        healthy_volunteers=yes_no(parts.text("healthy_volunteers")),
        std_ages=standard_ages(minimum, maximum),
        text=text,
    )


def _age(text: str | None) -> AgeLimit | None:
    limit = age_limit(text)
    return AgeLimit(*limit) if limit else None


def _organization(node: etree._Element | None) -> Organization | None:
    parts = _Children(node)
    name = parts.text("agency")
    return Organization(name, code(parts.text("agency_class"))) if name else None


def _responsible_party(node: etree._Element | None) -> ResponsibleParty | None:
    if node is None:
        return None
    parts = _Children(node)
    party = ResponsibleParty(
        type=code(parts.text("responsible_party_type")),
        name=_clean(parts.text("investigator_full_name") or parts.text("name_title")),
        title=_clean(parts.text("investigator_title")),
        affiliation=_clean(parts.text("investigator_affiliation") or parts.text("organization")),
    )
    return party if party != ResponsibleParty() else None


def _clean(value: str | None) -> str | None:
    """A responsible party's field without "[Redacted]" placeholders and contact details."""
    return None if value == _REDACTED else value


def _person(node: etree._Element, warnings: list[str], site: str | None = None) -> PersonMention | None:
    """An overall official, or an investigator at the facility ``site`` (their affiliation).

    A "name" holding an e-mail address or phone number is a call centre, no person.
    """
    parts = _Children(node)
    name = " ".join(part for tag in ("first_name", "middle_name", "last_name") if (part := parts.text(tag)))
    if not name:
        return None
    return PersonMention(
        name=name,
        role=code(parts.text("role")) or "",  # no role stated: none (the role code is left out)
        degree=parts.text("degree"),
        affiliation=site if node.tag == "investigator" else parts.text("affiliation"),
    )


def _site(location: etree._Element, warnings: list[str]) -> Site:
    parts = _Children(location)
    facility = parts.child("facility")
    name = facility.text("name")
    address = facility.child("address")
    investigators = (_person(node, warnings, site=name) for node in parts.all("investigator"))
    return Site(
        facility=name,
        city=address.text("city"),
        state=address.text("state"),
        zip=address.text("zip"),
        country=address.text("country"),
        status=code(parts.text("status")),
        investigators=tuple(m for m in investigators if m),
    )


def _references(study: _Children, warnings: list[str]) -> tuple[Reference, ...]:
    found = []
    for tag, kind in (("reference", "BACKGROUND"), ("results_reference", "RESULT")):
        for node in study.all(tag):
            parts = _Children(node)
            pmid, citation = parts.text("PMID"), parts.text("citation")
            if pmid and not pubmed_id(pmid):  # it becomes the publication's PubMed IRI
                warnings.append(f"{tag}: PMID {quoted(pmid)} is no PubMed id, left out")
                pmid = None
            if pmid or citation:
                found.append(Reference(pmid=pmid, citation=citation, type=kind, doi=doi_in(citation)))
    return tuple(found)


def _documents(study: _Children, warnings: list[str]) -> tuple[Document, ...]:
    found = []
    for node in study.all("link"):
        parts = _Children(node)
        if url := _web_address(parts, "url", warnings):
            found.append(Document(url, parts.text("description"), "LINK"))
    for node in study.child("provided_document_section").all("provided_document"):
        parts = _Children(node)
        if url := _web_address(parts, "document_url", warnings):
            date = _date(parts, "document_date", warnings)
            found.append(Document(url, parts.text("document_type"), _provided_kind(parts, url), date))
    for node in study.child("study_docs").all("study_doc"):
        parts = _Children(node)
        if url := _web_address(parts, "doc_url", warnings):
            found.append(Document(url, parts.text("doc_type"), "AVAILABLE_IPD"))
    return tuple(found)


def _web_address(parts: _Children, tag: str, warnings: list[str]) -> str | None:
    """A document's address, which becomes its IRI: an address that is none is left out."""
    text = parts.text(tag)
    url = web_address(text)
    if text and url is None:
        warnings.append(f"{tag}: {quoted(text)} is no web address, left out")
    return url


def _provided_kind(parts: _Children, url: str) -> str | None:
    """API v2's ``typeAbbrev`` (Prot, SAP, ICF, Prot_SAP...) from the has_* flags or the URL."""
    flags = (("document_has_protocol", "Prot"), ("document_has_sap", "SAP"), ("document_has_icf", "ICF"))
    kinds = [abbrev for tag, abbrev in flags if (parts.text(tag) or "").lower() == "yes"]
    if kinds:
        return "_".join(kinds)
    match = _DOCUMENT_KIND.search(url)
    return match.group(1) if match else None


XML_FORMAT = SourceFormat(
    name=FORMAT,
    description="Legacy ClinicalTrials.gov XML (<clinical_study>, one study per file)",
    sniff=sniff_ctgov_xml,
    read=read_ctgov_xml,
    parse=parse_ctgov_xml,
)
XML_ZIP_FORMAT = SourceFormat(
    name="ctgov-xml-zip",
    description="AllPublicXML-style zip of legacy ClinicalTrials.gov XML studies",
    sniff=sniff_ctgov_xml_zip,
    read=read_ctgov_xml_zip,
    parse=parse_ctgov_xml,
)
