"""Legacy ClinicalTrials.gov XML: one ``<clinical_study>`` document per study.

Why a format of its own: until 2024 the registry's bulk download was AllPublicXML.zip
(one ``NCT0000xxxx/NCT00000102.xml`` member per study), and AACT snapshots, archives and
many published datasets are still in that layout. It writes display labels ("Phase
1/Phase 2", "Anticipated", "None (Open Label)") where API v2 has codes, so every label
goes through :mod:`kg.sources.vocab` and a trial gives the same facts from either format.

Decisions worth knowing:

* Untrusted XML is never entity-expanded and never fetches anything: lxml runs with
  entity substitution, DTD loading and network access off, and a document that declares
  entities at all (billion laughs, XXE) is refused with a :class:`RecordError`.
* Personal contact data (``overall_contact``, ``contact``, ``contact_backup``: names,
  emails, phones) is never read. Site investigators and officials are kept: they are
  what the registry publishes as the people responsible. Some sponsors put a call-centre
  number where a facility or an official's name belongs; e-mail addresses and phone
  numbers are removed from names, facilities and affiliations (:func:`without_contact`),
  and a "name" that is a phone number is no person and is left out.
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

import re
import struct
import textwrap
import threading
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from kg.errors import KGError, RecordError, SourceError
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
from kg.sources import register
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.criteria_text import split_criteria
from kg.sources.vocab import age_limit, code, iso_date, phases

__all__ = [
    "parse_ctgov_xml",
    "read_ctgov_xml",
    "read_ctgov_xml_zip",
    "sniff_ctgov_xml",
    "sniff_ctgov_xml_zip",
    "standard_ages",
    "without_contact",
]

FORMAT = "ctgov-xml"
DTD_MESSAGE = "DTD/entity declarations are not allowed in untrusted XML"
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # the largest real study documents are a few MB
_PROBE_BYTES = 65536
# Root listing files that AllPublicXML-style archives carry next to the studies.
_IGNORED_MEMBERS = frozenset({"contents.txt"})

# Prolog (BOM, whitespace, XML declaration, processing instructions, comments, DOCTYPE)
# then the root element. Single-character whitespace alternatives keep the match linear.
_STUDY_HEAD = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE\b[^\[>]*(?:\[.*?\])?\s*>)*<clinical_study\b",
    re.DOTALL,
)
_NCT_ELEMENT = re.compile(rb"<nct_id>\s*(NCT\d{8})\s*</nct_id>")
_NCT_NAME = re.compile(r"NCT\d{8}")
_DOCTYPE = b"<!DOCTYPE"
_ENTITY = b"<!ENTITY"
_LEGACY_DESIGN_KEYS = (
    "Allocation|Endpoint Classification|Intervention Model|Masking|Primary Purpose|Observational Model|Time Perspective"
)
_LEGACY_DESIGN = re.compile(rf"({_LEGACY_DESIGN_KEYS}):\s*(.*?)\s*(?=,\s*(?:{_LEGACY_DESIGN_KEYS}):|$)")
_DOCUMENT_KIND = re.compile(r"/((?:Prot|SAP|ICF)(?:_(?:SAP|ICF))*)_\d+\.pdf$", re.IGNORECASE)
_REDACTED = "[Redacted]"
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_DOI_TRAILING = ".,;:)]"
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().\-/]{6,}\d")
_YEAR_RANGE = re.compile(r"^\d{4}\s*[-/]\s*\d{4}$")
_EMPTY_BRACKETS = re.compile(r"\(\s*[,;/\s]*\)|\[\s*[,;/\s]*\]")
_SPACES = re.compile(r"\s+")

# Labels the shared vocabulary leaves in a non-API form.
_DATE_TYPES = {"ESTIMATE": "ESTIMATED", "ANTICIPATED": "ESTIMATED"}
_MASKING = {f"{level}_BLIND": level for level in ("SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE")}
_YES = frozenset({"yes", "accepts healthy volunteers", "true"})
_NO = frozenset({"no", "false"})

_local = threading.local()


# ---------------------------------------------------------------- sniffing


def sniff_ctgov_xml(path: Path, head: bytes) -> bool:
    """A ``<clinical_study>`` document: the root element follows the prolog."""
    return bool(_STUDY_HEAD.match(head)) or b"<!DOCTYPE clinical_study" in head[:4096]


def sniff_ctgov_xml_zip(path: Path, head: bytes) -> bool:
    """A zip archive whose members are mostly ``.xml`` files (AllPublicXML layout)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    names = [name for name in _head_member_names(head) if not name.endswith(b"/")]
    if not names:  # only folders in the first bytes: ask the central directory
        names = _directory_member_names(path, 50)
    xml = sum(name.lower().endswith(b".xml") for name in names)
    return xml > 0 and 2 * xml > len(names)


def _head_member_names(head: bytes) -> list[bytes]:
    """Member names from the local file headers inside the first bytes of a zip."""
    names: list[bytes] = []
    offset = 0
    while offset + 30 <= len(head) and head[offset : offset + 4] == b"PK\x03\x04":
        (flags,) = struct.unpack_from("<H", head, offset + 6)
        (size,) = struct.unpack_from("<I", head, offset + 18)
        name_length, extra_length = struct.unpack_from("<HH", head, offset + 26)
        names.append(head[offset + 30 : offset + 30 + name_length])
        if flags & 0x08 or size == 0xFFFFFFFF:  # size only known after the data
            break
        offset += 30 + name_length + extra_length + size
    return names


def _directory_member_names(path: Path, limit: int) -> list[bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()[:limit]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
    return [info.filename.encode() for info in infos if not info.is_dir()]


# ---------------------------------------------------------------- reading


def read_ctgov_xml(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the study documents of one XML file or of an AllPublicXML-style zip.

    Example:
        >>> [r.record for r in read_ctgov_xml(Path("tests/data/ctgov-xml/aact-fixtures/NCT02028676.xml"))]
        ['NCT02028676']
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None
    if magic == b"PK\x03\x04":
        yield from read_ctgov_xml_zip(path)
        return
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise SourceError(f"file of {size} bytes is larger than a study document can be", source=str(path))
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None
    yield RawRecord(FORMAT, str(path), _record_name(data, path.name), data)


def read_ctgov_xml_zip(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the members of an AllPublicXML-style zip, one study document each.

    Members that are not ``.xml`` or not ``<clinical_study>`` documents, oversized or
    damaged members are reported as RecordError by member name; the others go on.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise SourceError(f"not a readable zip archive: {error}", source=str(path)) from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename.rsplit("/", 1)[-1]
            if name.lower() in _IGNORED_MEMBERS:
                continue
            source = f"{path}!{info.filename}"
            problem, data = _member_bytes(archive, info)
            if problem is None and not _STUDY_HEAD.match(data[:_PROBE_BYTES]):
                problem = "member is not a <clinical_study> XML document"
            if problem is not None:
                yield RecordError(problem, source=source, record=name)
                continue
            yield RawRecord(FORMAT, source, _record_name(data, name), data)


def _member_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str | None, bytes]:
    """A member's bytes, or why they cannot be had (never an exception)."""
    if not info.filename.lower().endswith(".xml"):
        return "not an .xml member", b""
    if info.file_size > MAX_DOCUMENT_BYTES:
        return f"member of {info.file_size} bytes is larger than a study document can be", b""
    try:
        with archive.open(info) as member:
            data = member.read(MAX_DOCUMENT_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as error:
        return f"cannot extract member: {error}", b""
    if len(data) > MAX_DOCUMENT_BYTES:
        return "member is larger than a study document can be", b""
    return None, data


def _record_name(data: bytes, fallback: str) -> str:
    """The NCT id when it shows early in the document, else the file or member name."""
    match = _NCT_ELEMENT.search(data, 0, _PROBE_BYTES)
    if match:
        return match.group(1).decode("ascii")
    named = _NCT_NAME.search(fallback)
    return named.group(0) if named else fallback


# ---------------------------------------------------------------- parsing


def parse_ctgov_xml(raw: RawRecord) -> Parsed:
    """Map one ``<clinical_study>`` document to a :class:`~kg.model.Trial`.

    Raises RecordError (naming the file and record) for an unsafe, malformed or
    non-study document; never lets a parser exception escape.
    """
    root = _study_root(raw)
    try:
        return _parse_study(root)
    except KGError as error:
        raise RecordError(error.message, source=raw.source, record=raw.record) from None
    except (ValueError, TypeError, AttributeError) as error:  # a shape this code did not foresee
        raise RecordError(
            f"cannot map study: {type(error).__name__}: {error}", source=raw.source, record=raw.record
        ) from error


def _xml_parser() -> etree.XMLParser:
    """One safe parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
        )
        _local.parser = parser
    return parser


def _study_root(raw: RawRecord) -> etree._Element:
    data = raw.payload.encode("utf-8") if isinstance(raw.payload, str) else raw.payload
    if not isinstance(data, bytes):
        raise RecordError(f"payload is {type(data).__name__}, not XML bytes", source=raw.source, record=raw.record)
    # Refuse before parsing when the bytes show it; the DTD check after parsing catches
    # declarations the byte scan cannot see (UTF-16 documents).
    if _DOCTYPE in data and _ENTITY in data:
        raise RecordError(DTD_MESSAGE, source=raw.source, record=raw.record)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as error:
        raise RecordError(f"not well-formed XML: {error}", source=raw.source, record=raw.record) from None
    except (ValueError, LookupError) as error:  # unknown encoding declarations and the like
        raise RecordError(f"unreadable XML: {error}", source=raw.source, record=raw.record) from None
    if _declares_entities(root.getroottree().docinfo.internalDTD):
        raise RecordError(DTD_MESSAGE, source=raw.source, record=raw.record)
    if root.tag != "clinical_study":
        raise RecordError(f"root element is <{root.tag}>, not <clinical_study>", source=raw.source, record=raw.record)
    return root


def _declares_entities(dtd: Any) -> bool:
    """Whether an internal DTD subset declares entities (typed Any: lxml-stubs lack DTD.iterentities)."""
    return dtd is not None and any(True for _ in dtd.iterentities())


def _parse_study(root: etree._Element) -> Parsed:
    nct_id = _text(root, "id_info/nct_id")
    if not nct_id:
        raise RecordError("no <id_info><nct_id>")
    warnings: list[str] = []
    design = _design(root)
    interventions = _interventions(root)
    trial = Trial(
        nct_id=nct_id,
        org_study_id=_text(root, "id_info/org_study_id"),
        secondary_ids=_secondary_ids(root),
        brief_title=_text(root, "brief_title"),
        official_title=_text(root, "official_title"),
        acronym=_text(root, "acronym"),
        brief_summary=_block(root, "brief_summary/textblock"),
        detailed_description=_block(root, "detailed_description/textblock"),
        overall_status=code(_text(root, "overall_status")),
        why_stopped=_text(root, "why_stopped"),
        phases=phases(_text(root, "phase")),
        study_type=code(_text(root, "study_type")),
        start_date=_study_date(root, "start_date", warnings),
        primary_completion_date=_study_date(root, "primary_completion_date", warnings),
        completion_date=_study_date(root, "completion_date", warnings),
        enrollment=_enrollment(root, warnings),
        allocation=design.get("allocation"),
        intervention_model=design.get("intervention_model"),
        masking=design.get("masking"),
        primary_purpose=design.get("primary_purpose"),
        conditions=_texts(root, "condition"),
        keywords=_texts(root, "keyword"),
        condition_mesh=tuple(MeshTerm(term) for term in _texts(root, "condition_browse/mesh_term")),
        intervention_mesh=tuple(MeshTerm(term) for term in _texts(root, "intervention_browse/mesh_term")),
        arms=_arms(root, interventions),
        interventions=interventions,
        outcomes=_outcomes(root),
        eligibility=_eligibility(root),
        lead_sponsor=_organization(root.find("sponsors/lead_sponsor")),
        collaborators=tuple(o for o in map(_organization, root.iterfind("sponsors/collaborator")) if o),
        responsible_party=_responsible_party(root.find("responsible_party")),
        officials=_officials(root, warnings),
        sites=tuple(_site(location, warnings) for location in root.iterfind("location")),
        references=_references(root),
        documents=_documents(root, warnings),
        first_submitted=_date(root, "study_first_submitted", warnings) or _date(root, "firstreceived_date", warnings),
        first_posted=_study_date(root, "study_first_posted", warnings),
        last_update_submitted=_date(root, "last_update_submitted", warnings)
        or _date(root, "lastchanged_date", warnings),
        last_update_posted=_study_date(root, "last_update_posted", warnings),
        last_verified=_date(root, "verification_date", warnings),
        results_first_posted=_study_date(root, "results_first_posted", warnings),
        has_results=root.find("clinical_results") is not None
        or root.find("results_first_posted") is not None
        or root.find("firstreceived_results_date") is not None,
    )
    return Parsed(trial=trial, warnings=tuple(warnings))


# Small field mappers. Each returns None / () for what the document does not state.


def _text(element: etree._Element, path: str) -> str | None:
    value = element.findtext(path)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _texts(element: etree._Element, path: str) -> tuple[str, ...]:
    return tuple(value for node in element.iterfind(path) if node.text and (value := node.text.strip()))


def _block(element: etree._Element, path: str) -> str | None:
    """A ``textblock``: the registry indents every line by six spaces; remove that."""
    value = element.findtext(path)
    if not value or not value.strip():
        return None
    return textwrap.dedent(value.strip("\n")).strip()


def _clean(value: str | None) -> str | None:
    """A responsible party's field without "[Redacted]" placeholders and contact details."""
    return None if value == _REDACTED else without_contact(value)


def _date(element: etree._Element, path: str, warnings: list[str]) -> str | None:
    text = _text(element, path)
    if text is None:
        return None
    value = iso_date(text)
    if value is None:
        warnings.append(f"{path}: not a date: {text!r}")
    return value


def _date_type(label: str | None) -> str | None:
    value = code(label)
    return _DATE_TYPES.get(value, value) if value else None


def _study_date(element: etree._Element, path: str, warnings: list[str]) -> StudyDate | None:
    node = element.find(path)
    if node is None:
        return None
    value = _date(element, path, warnings)
    return StudyDate(value, _date_type(node.get("type"))) if value else None


def _enrollment(root: etree._Element, warnings: list[str]) -> Enrollment | None:
    node = root.find("enrollment")
    text = (node.text or "").strip() if node is not None else ""
    if node is None or not text:
        return None
    try:
        count = int(float(text))
    except ValueError:
        warnings.append(f"enrollment: not a number: {text!r}")
        return None
    return Enrollment(count, _date_type(node.get("type")))


def _secondary_ids(root: etree._Element) -> tuple[Identifier, ...]:
    ids = [Identifier(value) for value in _texts(root, "id_info/secondary_id")]
    # An alias is an NCT id the registry merged into this one: keep it, it joins records.
    ids += [
        Identifier(value, type="NCT_ALIAS", domain="ClinicalTrials.gov") for value in _texts(root, "id_info/nct_alias")
    ]
    return tuple(ids)


def _design(root: etree._Element) -> dict[str, str]:
    """Design codes from ``study_design_info``, or from the pre-2017 ``study_design`` line."""
    design: dict[str, str] = {}
    info = root.find("study_design_info")
    if info is not None:
        for field in ("allocation", "intervention_model", "masking", "primary_purpose"):
            value = code(_text(info, field))
            if value:
                design[field] = value
    else:
        legacy = _text(root, "study_design")
        for key, label in _LEGACY_DESIGN.findall(legacy or ""):
            value = code(label)
            field = key.lower().replace(" ", "_")
            if value and field in ("allocation", "intervention_model", "masking", "primary_purpose"):
                design[field] = value
    if "masking" in design:
        design["masking"] = _MASKING.get(design["masking"], design["masking"])
    return design


def _interventions(root: etree._Element) -> tuple[Intervention, ...]:
    found = []
    for node in root.iterfind("intervention"):
        name = _text(node, "intervention_name")
        if name:
            found.append(
                Intervention(
                    name=name,
                    type=code(_text(node, "intervention_type")),
                    description=_text(node, "description"),
                    arm_labels=_texts(node, "arm_group_label"),
                    other_names=_texts(node, "other_name"),
                )
            )
    return tuple(found)


def _arms(root: etree._Element, interventions: tuple[Intervention, ...]) -> tuple[Arm, ...]:
    arms = []
    for node in root.iterfind("arm_group"):
        label = _text(node, "arm_group_label")
        if label:
            arms.append(
                Arm(
                    label=label,
                    type=code(_text(node, "arm_group_type")),
                    description=_text(node, "description"),
                    intervention_names=tuple(i.name for i in interventions if label in i.arm_labels),
                )
            )
    return tuple(arms)


def _outcomes(root: etree._Element) -> tuple[Outcome, ...]:
    found = []
    for kind in ("primary", "secondary", "other"):
        for node in root.iterfind(f"{kind}_outcome"):
            measure = _text(node, "measure")
            if measure:
                found.append(Outcome(measure, kind.upper(), _text(node, "time_frame"), _text(node, "description")))
    return tuple(found)


def _eligibility(root: etree._Element) -> Eligibility:
    node = root.find("eligibility")
    if node is None:
        return Eligibility()
    text = _block(node, "criteria/textblock")
    minimum = _age(_text(node, "minimum_age"))
    maximum = _age(_text(node, "maximum_age"))
    return Eligibility(
        criteria=split_criteria(text),
        minimum_age=minimum,
        maximum_age=maximum,
        sex=code(_text(node, "gender")),
        healthy_volunteers=_yes_no(_text(node, "healthy_volunteers")),
        std_ages=standard_ages(minimum, maximum),
        text=text,
    )


def _age(text: str | None) -> AgeLimit | None:
    limit = age_limit(text)
    return AgeLimit(*limit) if limit else None


def standard_ages(minimum: AgeLimit | None, maximum: AgeLimit | None) -> tuple[str, ...]:
    """The registry's age groups for an age range: CHILD < 18 <= ADULT < 65 <= OLDER_ADULT.

    Example:
        >>> standard_ages(AgeLimit(18, "Years"), None)
        ('ADULT', 'OLDER_ADULT')
    """
    low = minimum.years if minimum else 0.0
    high = maximum.years if maximum else float("inf")
    groups = []
    if low < 18:
        groups.append("CHILD")
    if low < 65 and high >= 18:
        groups.append("ADULT")
    if high >= 65:
        groups.append("OLDER_ADULT")
    return tuple(groups)


def _yes_no(text: str | None) -> bool | None:
    if text is None:
        return None
    lowered = text.lower()
    return True if lowered in _YES else False if lowered in _NO else None


def _organization(node: etree._Element | None) -> Organization | None:
    if node is None:
        return None
    name = _text(node, "agency")
    return Organization(name, code(_text(node, "agency_class"))) if name else None


def _responsible_party(node: etree._Element | None) -> ResponsibleParty | None:
    if node is None:
        return None
    party = ResponsibleParty(
        type=code(_text(node, "responsible_party_type")),
        name=_clean(_text(node, "investigator_full_name") or _text(node, "name_title")),
        title=_clean(_text(node, "investigator_title")),
        affiliation=_clean(_text(node, "investigator_affiliation") or _text(node, "organization")),
    )
    return party if party != ResponsibleParty() else None


def without_contact(text: str | None) -> str | None:
    """A name, facility or affiliation with e-mail addresses and phone numbers removed.

    Example:
        >>> without_contact("Eli Lilly call centre (1-877-285-4559, 1-317-615-4559)")
        'Eli Lilly call centre'
    """
    if not text or not ("@" in text or _PHONE.search(text)):
        return text
    cleaned = _PHONE.sub(_drop_phone, _EMAIL.sub(" ", text))
    if cleaned == text:
        return text
    cleaned = _SPACES.sub(" ", _EMPTY_BRACKETS.sub(" ", cleaned)).strip(" ,;:-/")
    return cleaned if any(char.isalpha() for char in cleaned) else None


def _drop_phone(match: re.Match[str]) -> str:
    return " " if _is_phone(match.group(0)) else match.group(0)


def _is_phone(text: str) -> bool:
    """Seven digits or more that are not a year range ("2012-2015")."""
    return sum(char.isdigit() for char in text) >= 7 and not _YEAR_RANGE.match(text.strip(" ()"))


def _person_name(node: etree._Element, warnings: list[str]) -> str | None:
    """A person's name; a "name" holding an e-mail address or phone number is no person."""
    parts = [_text(node, tag) for tag in ("first_name", "middle_name", "last_name")]
    name = " ".join(part for part in parts if part)
    if not name:
        return None
    if "@" in name or any(_is_phone(match.group(0)) for match in _PHONE.finditer(name)):
        warnings.append(f"{node.tag}: a name holding contact details left out")
        return None
    return name


def _officials(root: etree._Element, warnings: list[str]) -> tuple[PersonMention, ...]:
    found = []
    for node in root.iterfind("overall_official"):
        name = _person_name(node, warnings)
        if name:
            found.append(
                PersonMention(
                    name=name,
                    role=code(_text(node, "role")) or "UNKNOWN",
                    degree=_text(node, "degree"),
                    affiliation=without_contact(_text(node, "affiliation")),
                )
            )
    return tuple(found)


def _site(location: etree._Element, warnings: list[str]) -> Site:
    facility = without_contact(_text(location, "facility/name"))
    investigators = []
    for node in location.iterfind("investigator"):
        name = _person_name(node, warnings)
        if name:
            investigators.append(
                PersonMention(
                    name=name,
                    role=code(_text(node, "role")) or "UNKNOWN",
                    degree=_text(node, "degree"),
                    affiliation=facility,
                )
            )
    address = location.find("facility/address")
    return Site(
        facility=facility,
        city=_text(address, "city") if address is not None else None,
        state=_text(address, "state") if address is not None else None,
        zip=_text(address, "zip") if address is not None else None,
        country=_text(address, "country") if address is not None else None,
        status=code(_text(location, "status")),
        investigators=tuple(investigators),
    )


def _references(root: etree._Element) -> tuple[Reference, ...]:
    found = []
    for tag, kind in (("reference", "BACKGROUND"), ("results_reference", "RESULT")):
        for node in root.iterfind(tag):
            pmid = _text(node, "PMID")
            citation = _text(node, "citation")
            if pmid or citation:
                found.append(Reference(pmid=pmid, citation=citation, type=kind, doi=_doi(citation)))
    return tuple(found)


def _doi(citation: str | None) -> str | None:
    """The DOI a citation states ("... doi: 10.1056/NEJMoa1214901. Erratum in ...")."""
    if not citation or "10." not in citation:
        return None
    match = _DOI.search(citation)
    return match.group(1).rstrip(_DOI_TRAILING) if match else None


def _documents(root: etree._Element, warnings: list[str]) -> tuple[Document, ...]:
    found = []
    for node in root.iterfind("link"):
        url = _text(node, "url")
        if url:
            found.append(Document(url, _text(node, "description"), "LINK"))
    for node in root.iterfind("provided_document_section/provided_document"):
        url = _text(node, "document_url")
        if url:
            found.append(
                Document(
                    url, _text(node, "document_type"), _provided_kind(node, url), _date(node, "document_date", warnings)
                )
            )
    for node in root.iterfind("study_docs/study_doc"):
        url = _text(node, "doc_url")
        if url:
            found.append(Document(url, _text(node, "doc_type"), "AVAILABLE_IPD"))
    return tuple(found)


def _provided_kind(node: etree._Element, url: str) -> str | None:
    """API v2's ``typeAbbrev`` (Prot, SAP, ICF, Prot_SAP...) from the has_* flags or the URL."""
    parts = [
        abbrev
        for tag, abbrev in (("document_has_protocol", "Prot"), ("document_has_sap", "SAP"), ("document_has_icf", "ICF"))
        if (_text(node, tag) or "").lower() == "yes"
    ]
    if parts:
        return "_".join(parts)
    match = _DOCUMENT_KIND.search(url)
    return match.group(1) if match else None


register(
    SourceFormat(
        name=FORMAT,
        description="Legacy ClinicalTrials.gov XML (<clinical_study>, one study per file)",
        sniff=sniff_ctgov_xml,
        read=read_ctgov_xml,
        parse=parse_ctgov_xml,
    )
)
register(
    SourceFormat(
        name="ctgov-xml-zip",
        description="AllPublicXML-style zip of legacy ClinicalTrials.gov XML studies",
        sniff=sniff_ctgov_xml_zip,
        read=read_ctgov_xml_zip,
        parse=parse_ctgov_xml,
    )
)
