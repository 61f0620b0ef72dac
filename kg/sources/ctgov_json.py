"""ClinicalTrials.gov API v2 JSON: one study's document -> a Trial (pure).

The readers in :mod:`kg.sources.ctgov_json_read` hand over one study as bytes; this module
maps its modules onto the record model. Contact data never reaches the record: central
contacts and location contacts other than investigators are dropped, and e-mail addresses
and phone numbers in names, affiliations, facilities and free text are removed by the
rules in :mod:`kg.rules.contacts`.

Mapping notes: values stay as API v2 states them (codes, ISO dates, MeSH ids such as
``D000013166``); ``armGroups[].interventionNames`` lose their ``"Drug: "`` prefix so they
equal ``Intervention.name``; ``nctIdAliases`` become identifiers of type ``NCT_ALIAS``;
``seeAlsoLinks`` and ``availIpds`` become documents of type ``SEE_ALSO`` and
``AVAILABLE_IPD``; uploaded protocols/SAPs/ICFs get their CDN address. The results
section carries no references or people, so only ``hasResults`` is read from it.

Example:
    >>> from pathlib import Path
    >>> from kg.sources.ctgov_json_read import read_ctgov_json
    >>> raws = read_ctgov_json(Path("tests/data/ctgov-json/single/NCT00465816.json"))
    >>> parse_ctgov_json(next(raws)).trial.references[0].pmid
    '22107850'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from kg.errors import RecordError
from kg.model import (
    AgeLimit,
    Arm,
    Document,
    Eligibility,
    Enrollment,
    GeoPoint,
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
from kg.rules.codes import age_limit, iso_date, mesh_id, nct_id, pubmed_id, quoted, web_address, yes_no
from kg.rules.eligibility import split_criteria
from kg.rules.markdown import unescape_record
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.ctgov_json_read import (
    FORMAT,
    ZIP_FORMAT,
    _json_problem,
    _not_a_study,
    read_ctgov_json,
    read_ctgov_json_zip,
    sniff_ctgov_json,
    sniff_ctgov_json_zip,
)

_EMPTY: Mapping[str, Any] = {}
_CORE_MODULES = (
    "statusModule",
    "sponsorCollaboratorsModule",
    "descriptionModule",
    "conditionsModule",
    "designModule",
    "eligibilityModule",
)
# armGroups[].interventionNames are "Type: Name"; the type is a display label of these.
_INTERVENTION_PREFIX = re.compile(
    r"^(?:Drug|Device|Biological|Procedure|Radiation|Behavioral|Genetic|Dietary Supplement|"
    r"Combination Product|Diagnostic Test|Other):\s*"
)
_SITE_INVESTIGATOR_ROLES = frozenset({"PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR"})
_LARGE_DOCS_URL = "https://cdn.clinicaltrials.gov/large-docs/{}/{}/{}"


def parse_ctgov_json(raw: RawRecord) -> Parsed:
    """The trial one API v2 study states; RecordError when the payload is no study."""
    payload = raw.payload
    if not isinstance(payload, (bytes, bytearray, memoryview, str, dict)):
        raise RecordError(f"payload is {type(payload).__name__}, not JSON", source=raw.source, record=raw.record)
    try:
        study = payload if isinstance(payload, dict) else orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        problem_text = payload if isinstance(payload, (bytes, str)) else bytes(payload)
        raise RecordError(_json_problem(error, problem_text), source=raw.source, record=raw.record) from None
    problem = _not_a_study(study)
    if problem:
        raise RecordError(problem, source=raw.source, record=raw.record)
    protocol = study["protocolSection"]
    nct = _text(_module(protocol, "identificationModule").get("nctId"))
    if not nct:
        raise RecordError("no protocolSection.identificationModule.nctId", source=raw.source, record=raw.record)
    if not nct_id(nct):  # it becomes the trial's IRI
        raise RecordError(f"not an NCT id: {quoted(nct)}", source=raw.source, record=raw.record)
    warnings: list[str] = []
    try:
        trial = unescape_record(_trial(study, protocol, nct, warnings))
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        message = f"malformed study JSON ({type(error).__name__}: {error})"
        raise RecordError(message, source=raw.source, record=nct) from None
    return Parsed(trial, tuple(dict.fromkeys(warnings)))


def _trial(study: Mapping[str, Any], protocol: Mapping[str, Any], nct: str, warnings: list[str]) -> Trial:
    missing = [name for name in _CORE_MODULES if not isinstance(protocol.get(name), dict)]
    if missing:
        warnings.append(f"no {', '.join(missing)} in protocolSection")
    ident = _module(protocol, "identificationModule")
    status = _module(protocol, "statusModule")
    description = _module(protocol, "descriptionModule")
    conditions = _module(protocol, "conditionsModule")
    design = _module(protocol, "designModule")
    design_info = _module(design, "designInfo")
    sponsors = _module(protocol, "sponsorCollaboratorsModule")
    derived = _module(study, "derivedSection")
    arms, interventions = _arms_interventions(_module(protocol, "armsInterventionsModule"), warnings)
    officials, sites = _contacts_locations(_module(protocol, "contactsLocationsModule"), warnings)
    references, links = _references(_module(protocol, "referencesModule"), warnings)
    return Trial(
        nct_id=nct,
        org_study_id=_text(_module(ident, "orgStudyIdInfo").get("id")),
        secondary_ids=_secondary_ids(ident),
        brief_title=_text(ident.get("briefTitle")),
        official_title=_text(ident.get("officialTitle")),
        acronym=_text(ident.get("acronym")),
        brief_summary=_text(description.get("briefSummary")),
        detailed_description=_text(description.get("detailedDescription")),
        overall_status=_text(status.get("overallStatus")),
        why_stopped=_text(status.get("whyStopped")),
        phases=_texts(design.get("phases")),
        study_type=_text(design.get("studyType")),
        start_date=_date_struct(status, "startDateStruct", warnings),
        primary_completion_date=_date_struct(status, "primaryCompletionDateStruct", warnings),
        completion_date=_date_struct(status, "completionDateStruct", warnings),
        enrollment=_enrollment(_module(design, "enrollmentInfo"), warnings),
        allocation=_text(design_info.get("allocation")),
        intervention_model=_text(design_info.get("interventionModel")),
        masking=_text(_module(design_info, "maskingInfo").get("masking")),
        primary_purpose=_text(design_info.get("primaryPurpose")),
        conditions=_texts(conditions.get("conditions")),
        keywords=_texts(conditions.get("keywords")),
        condition_mesh=_mesh(_module(derived, "conditionBrowseModule").get("meshes")),
        condition_mesh_ancestors=_mesh(_module(derived, "conditionBrowseModule").get("ancestors")),
        intervention_mesh=_mesh(_module(derived, "interventionBrowseModule").get("meshes")),
        intervention_mesh_ancestors=_mesh(_module(derived, "interventionBrowseModule").get("ancestors")),
        arms=arms,
        interventions=interventions,
        outcomes=_outcomes(_module(protocol, "outcomesModule"), warnings),
        eligibility=_eligibility(_module(protocol, "eligibilityModule"), warnings),
        lead_sponsor=_organization(sponsors.get("leadSponsor"), "leadSponsor", warnings),
        collaborators=_collaborators(sponsors.get("collaborators"), warnings),
        responsible_party=_responsible_party(sponsors.get("responsibleParty"), warnings),
        officials=officials,
        sites=sites,
        references=references,
        documents=_large_documents(study, nct, warnings) + links,
        first_submitted=_date(status.get("studyFirstSubmitDate"), "studyFirstSubmitDate", warnings),
        first_posted=_date_struct(status, "studyFirstPostDateStruct", warnings),
        last_update_submitted=_date(status.get("lastUpdateSubmitDate"), "lastUpdateSubmitDate", warnings),
        last_update_posted=_date_struct(status, "lastUpdatePostDateStruct", warnings),
        last_verified=_date(status.get("statusVerifiedDate"), "statusVerifiedDate", warnings),
        results_first_posted=_date_struct(status, "resultsFirstPostDateStruct", warnings),
        has_results=yes_no(study.get("hasResults")),
    )


# --- small value helpers ---------------------------------------------------------------


def _module(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else _EMPTY


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    """A string stripped of surrounding whitespace; blanks, containers and booleans give None."""
    if value.__class__ is str:  # the hot path: JSON strings are exactly str
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(text for text in map(_text, value) if text)


def _date(value: Any, where: str, warnings: list[str]) -> str | None:
    text = _text(value)
    if text is None:
        return None
    date = iso_date(text)  # API v2 dates are ISO already; this also refuses 2011-13-45
    if date is None:
        warnings.append(f"{where}: unrecognised date {quoted(text)} left out")
    return date


def _date_struct(status: Mapping[str, Any], key: str, warnings: list[str]) -> StudyDate | None:
    struct_value = _module(status, key)
    date = _date(struct_value.get("date"), key, warnings)
    return StudyDate(date, _text(struct_value.get("type"))) if date else None


# --- modules ---------------------------------------------------------------------------


def _secondary_ids(ident: Mapping[str, Any]) -> tuple[Identifier, ...]:
    """Secondary ids, then NCT ids merged into this one (``nctIdAliases``, type NCT_ALIAS)."""
    found = [
        Identifier(id_, _text(info.get("type")), _text(info.get("domain")))
        for info in _objects(ident.get("secondaryIdInfos"))
        if (id_ := _text(info.get("id")))
    ]
    found.extend(Identifier(alias, "NCT_ALIAS", "ClinicalTrials.gov") for alias in _texts(ident.get("nctIdAliases")))
    return tuple(found)


def _enrollment(info: Mapping[str, Any], warnings: list[str]) -> Enrollment | None:
    count = info.get("count")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool):
        return None
    if count < 0:
        warnings.append(f"enrollmentInfo: negative count {count} left out")
        return None
    return Enrollment(count, _text(info.get("type")))


def _arms_interventions(
    module: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[Arm, ...], tuple[Intervention, ...]]:
    interventions = tuple(
        Intervention(
            name=name,
            type=_text(item.get("type")),
            description=_text(item.get("description")),
            arm_labels=_texts(item.get("armGroupLabels")),
            other_names=_texts(item.get("otherNames")),
        )
        for item in _objects(module.get("interventions"))
        if (name := _text(item.get("name")))
    )
    known = {intervention.name for intervention in interventions}
    arms = tuple(
        Arm(
            label=label,
            type=_text(group.get("type")),
            description=_text(group.get("description")),
            intervention_names=tuple(_intervention_name(n, known) for n in _texts(group.get("interventionNames"))),
        )
        for group in _objects(module.get("armGroups"))
        if (label := _text(group.get("label")))
    )
    return arms, interventions


def _intervention_name(text: str, known: set[str]) -> str:
    """``"Drug: Metformin"`` -> ``"Metformin"``, unless the full text is itself a name."""
    if text in known:
        return text
    return _INTERVENTION_PREFIX.sub("", text, count=1).strip() or text


def _outcomes(module: Mapping[str, Any], warnings: list[str]) -> tuple[Outcome, ...]:
    found: list[Outcome] = []
    for key, kind in (("primaryOutcomes", "PRIMARY"), ("secondaryOutcomes", "SECONDARY"), ("otherOutcomes", "OTHER")):
        for item in _objects(module.get(key)):
            measure = _text(item.get("measure"))
            if measure is None:
                warnings.append(f"{key}: an outcome without measure left out")
                continue
            description = _text(item.get("description"))
            found.append(Outcome(measure, kind, _text(item.get("timeFrame")), description))
    return tuple(found)


def _eligibility(module: Mapping[str, Any], warnings: list[str]) -> Eligibility:
    text = _text(module.get("eligibilityCriteria"))
    return Eligibility(
        criteria=split_criteria(text),
        minimum_age=_age(module.get("minimumAge")),
        maximum_age=_age(module.get("maximumAge")),
        sex=_text(module.get("sex")),
        healthy_volunteers=yes_no(module.get("healthyVolunteers")),
        std_ages=_texts(module.get("stdAges")),
        text=text,
    )


def _age(value: Any) -> AgeLimit | None:
    limit = age_limit(_text(value))
    return AgeLimit(*limit) if limit else None


def _organization(value: Any, where: str, warnings: list[str]) -> Organization | None:
    if not isinstance(value, dict):
        return None
    name = _text(value.get("name"))
    return Organization(name, _text(value.get("class"))) if name else None


def _collaborators(value: Any, warnings: list[str]) -> tuple[Organization, ...]:
    found = (_organization(item, "collaborators", warnings) for item in _objects(value))
    return tuple(organization for organization in found if organization)


def _responsible_party(value: Any, warnings: list[str]) -> ResponsibleParty | None:
    """The responsible party; records from before 2017 name it in ``oldNameTitle``/``oldOrganization``."""
    if not isinstance(value, dict):
        return None
    party = ResponsibleParty(
        type=_text(value.get("type")),
        name=_text(value.get("investigatorFullName") or value.get("oldNameTitle")),
        title=_text(value.get("investigatorTitle")),
        affiliation=_text(value.get("investigatorAffiliation") or value.get("oldOrganization")),
    )
    return party if any((party.type, party.name, party.title, party.affiliation)) else None


def _contacts_locations(
    module: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[PersonMention, ...], tuple[Site, ...]]:
    """Overall officials and sites; centralContacts and plain location contacts are contact data, left out."""
    officials = tuple(
        PersonMention(
            name=name,
            role=_text(item.get("role")) or "UNKNOWN",
            affiliation=_text(item.get("affiliation")),
        )
        for item in _objects(module.get("overallOfficials"))
        if (name := _text(item.get("name")))
    )
    sites = tuple(_site(item, warnings) for item in _objects(module.get("locations")))
    return officials, sites


def _site(location: Mapping[str, Any], warnings: list[str]) -> Site:
    facility = _text(location.get("facility"))
    investigators = tuple(
        PersonMention(name=name, role=role, affiliation=facility)
        for contact in _objects(location.get("contacts"))
        if (role := _text(contact.get("role"))) in _SITE_INVESTIGATOR_ROLES
        and (name := _text(contact.get("name")))
    )
    return Site(
        facility=facility,
        city=_text(location.get("city")),
        state=_text(location.get("state")),
        zip=_text(location.get("zip")),
        country=_text(location.get("country")),
        status=_text(location.get("status")),
        geo=_geo(location.get("geoPoint"), warnings),
        investigators=investigators,
    )


def _geo(value: Any, warnings: list[str]) -> GeoPoint | None:
    if not isinstance(value, dict):
        return None
    lat, lon = value.get("lat"), value.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool):
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return GeoPoint(float(lat), float(lon))
        warnings.append(f"locations.geoPoint: ({lat}, {lon}) is no WGS 84 position, left out")
    return None


def _references(
    module: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[Reference, ...], tuple[Document, ...]]:
    """Literature references, and the links (``seeAlsoLinks``, ``availIpds``) as documents."""
    references: list[Reference] = []
    for item in _objects(module.get("references")):
        pmid, citation = _text(item.get("pmid")), _text(item.get("citation"))
        if pmid and not pubmed_id(pmid):  # it becomes the publication's PubMed IRI
            warnings.append(f"references: PMID {quoted(pmid)} is no PubMed id, left out")
            pmid = None
        if pmid or citation:
            kind = _text(item.get("type"))
            references.append(Reference(pmid=pmid, citation=citation, type=kind, doi=doi_in(citation)))
    links = [
        Document(url=url, label=_text(item.get("label")), type="LINK")
        for item in _objects(module.get("seeAlsoLinks"))
        if (url := _web_address(item.get("url"), "seeAlsoLinks", warnings))
    ]
    links.extend(
        Document(url=url, label=_text(item.get("type")), type="AVAILABLE_IPD")
        for item in _objects(module.get("availIpds"))
        if (url := _web_address(item.get("url"), "availIpds", warnings))
    )
    return tuple(references), tuple(links)


def _web_address(value: Any, where: str, warnings: list[str]) -> str | None:
    """A link's address, which becomes the document's IRI: an address that is none is left out."""
    text = _text(value)
    url = web_address(text)
    if text and url is None:
        warnings.append(f"{where}: {quoted(text)} is no web address, left out")
    return url


def _large_documents(study: Mapping[str, Any], nct: str, warnings: list[str]) -> tuple[Document, ...]:
    """Protocols, SAPs and consent forms uploaded to the registry, with their CDN address."""
    docs = _objects(_module(_module(study, "documentSection"), "largeDocumentModule").get("largeDocs"))
    return tuple(
        Document(
            url=url,
            label=_text(doc.get("label")),
            type=_text(doc.get("typeAbbrev")),
            date=iso_date(_text(doc.get("date"))),
        )
        for doc in docs
        if (filename := _text(doc.get("filename")))
        and (url := _web_address(_LARGE_DOCS_URL.format(nct[-2:], nct, filename), "largeDocs", warnings))
    )


def _mesh(value: Any) -> tuple[MeshTerm, ...]:
    """MeSH headings as given (``D000013166``); ids of browse leaves (``M...``) are no MeSH ids."""
    found: list[MeshTerm] = []
    for item in _objects(value):
        term = _text(item.get("term"))
        if term:
            found.append(MeshTerm(term, mesh_id(_text(item.get("id")))))
    return tuple(found)



# ---------------------------------------------------------------------------------------


JSON_FORMAT = SourceFormat(
    name=FORMAT,
    description="ClinicalTrials.gov API v2 JSON: one study, an array, an /api/v2/studies page, or JSON Lines",
    sniff=sniff_ctgov_json,
    read=read_ctgov_json,
    parse=parse_ctgov_json,
)
JSON_ZIP_FORMAT = SourceFormat(
    name=ZIP_FORMAT,
    description="Zip of ClinicalTrials.gov API v2 JSON files (ctg-studies.json.zip)",
    sniff=sniff_ctgov_json_zip,
    read=read_ctgov_json_zip,
    parse=parse_ctgov_json,
)

