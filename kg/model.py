"""Frozen, typed records for what a trial registration states.

Every source format (saved registry pages, API v2 JSON, legacy XML, CSV downloads) is
parsed into these records, and only these records reach the RDF emitter. That keeps
the formats independent of the ontology: a new format is a new parser, nothing else.

Conventions, chosen so the records are comparable across formats:

* Coded values use the ClinicalTrials.gov API v2 vocabulary (``"COMPLETED"``,
  ``"PHASE1"``, ``"RANDOMIZED"``, ``"ACTIVE_COMPARATOR"``...). Parsers of older formats
  map their labels with :mod:`kg.rules.codes`.
* Dates are ISO 8601 strings of the precision the source states (``"2011-01"`` or
  ``"2011-01-31"``), never invented days.
* Absent means ``None`` (scalars) or ``()`` (lists); parsers never store empty strings.
* No rdflib here: records are plain data, cheap to pickle across a process pool.

Example:
    >>> Trial(nct_id="NCT01374854", brief_title="UC-MSC in T1DM").nct_id
    'NCT01374854'
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StudyDate:
    """A date as the registry states it, with ACTUAL/ESTIMATED (anticipated) when given."""

    date: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Enrollment:
    count: int
    type: str | None = None  # ACTUAL | ESTIMATED


@dataclass(frozen=True, slots=True)
class Identifier:
    """A secondary identifier (another registry's number, a grant, a sponsor's code)."""

    id: str
    type: str | None = None
    domain: str | None = None


@dataclass(frozen=True, slots=True)
class Organization:
    """An organisation as named by the source; ``org_class`` is the registry's agency class."""

    name: str
    org_class: str | None = None  # NIH | FED | INDUSTRY | OTHER | ...
    key: str | None = None  # finished at parse: the institution key (kg.rules.institutions)


@dataclass(frozen=True, slots=True)
class PersonMention:
    """A person as one source names them, in one role.

    ``name`` is the text as given ("Jianming Tan, professor"); splitting off degrees and
    titles is the resolver's job, so the original mention survives for evidence.
    """

    name: str
    role: str  # PRINCIPAL_INVESTIGATOR | STUDY_CHAIR | STUDY_DIRECTOR | SUB_INVESTIGATOR | RESPONSIBLE_PARTY ...
    degree: str | None = None
    affiliation: str | None = None
    # Finished at parse (kg.rules.persons, kg.rules.institutions): the person key (None for a
    # desk, a role or a company), the name without degrees, the degrees stated, the
    # affiliation's institution key.
    key: str | None = None
    person_name: str | None = None
    degrees: tuple[str, ...] = ()
    affiliation_key: str | None = None


@dataclass(frozen=True, slots=True)
class ResponsibleParty:
    type: str | None = None  # SPONSOR | PRINCIPAL_INVESTIGATOR | SPONSOR_INVESTIGATOR
    name: str | None = None
    title: str | None = None
    affiliation: str | None = None
    mention: PersonMention | None = None  # finished at parse: the investigator it names, if any


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Site:
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: str | None = None  # RECRUITING | COMPLETED | ...
    geo: GeoPoint | None = None
    investigators: tuple[PersonMention, ...] = ()
    key: tuple[str, ...] | None = None  # finished at parse: kg.rules.institutions.location_key


@dataclass(frozen=True, slots=True)
class Arm:
    label: str
    type: str | None = None  # EXPERIMENTAL | ACTIVE_COMPARATOR | PLACEBO_COMPARATOR | ...
    description: str | None = None
    intervention_names: tuple[str, ...] = ()  # names of Trial.interventions


@dataclass(frozen=True, slots=True)
class Intervention:
    name: str
    type: str | None = None  # DRUG | BIOLOGICAL | DEVICE | ...
    description: str | None = None
    arm_labels: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()
    normalized_name: str | None = None  # finished at parse (kg.rules.concepts)


@dataclass(frozen=True, slots=True)
class Outcome:
    measure: str
    kind: str  # PRIMARY | SECONDARY | OTHER
    time_frame: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One atomic eligibility criterion, as written (markdown escapes removed)."""

    text: str
    kind: str  # INCLUSION | EXCLUSION
    # The sub-heading or lead-in that governs it ("Cohort 1:", "For parent participants:"), as
    # written, whitespace collapsed; nested ones joined with " › " (kg.rules.eligibility).
    scope: str | None = None
    # Finished at parse (kg.rules.criteria, kg.rules.constraints): the normal form that
    # equal criteria share, its concept key, the key of its node in the trial (kind, concept
    # key, scope hash: kg.rules.criteria.criterion_node_key) and the bounds it states.
    normalized: str = ""
    concept_key: str = ""
    node_key: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraint:
    """One bound a criterion states: ``variable comparator value unit`` (kg.rules.constraints)."""

    variable: str
    comparator: str  # < <= > >= =
    value: float
    unit: str | None
    normalized_value: float | None
    normalized_unit: str | None
    text: str
    variable_label: str = ""

    @property
    def signature(self) -> tuple[str, str, float]:
        """What two criteria must share to state the same bound (the value in canonical units)."""
        value = self.normalized_value if self.normalized_value is not None else self.value
        return (self.variable, self.comparator, round(value, 6))


@dataclass(frozen=True, slots=True)
class Finding:
    """A data-quality finding about one record: two of its fields contradict each other."""

    code: str
    severity: str  # error | warning
    message: str
    stated: str | None = None
    structured: str | None = None


@dataclass(frozen=True, slots=True)
class AgeLimit:
    value: float
    unit: str  # Years | Months | Weeks | Days | Hours | Minutes

    @property
    def years(self) -> float:
        """The limit in years, so limits given in different units compare."""
        return self.value / _UNITS_PER_YEAR.get(self.unit.lower().rstrip("s") + "s", 1.0)


_UNITS_PER_YEAR = {"years": 1.0, "months": 12.0, "weeks": 52.1775, "days": 365.25, "hours": 8766.0, "minutes": 525960.0}


@dataclass(frozen=True, slots=True)
class Eligibility:
    criteria: tuple[Criterion, ...] = ()
    minimum_age: AgeLimit | None = None
    maximum_age: AgeLimit | None = None
    sex: str | None = None  # ALL | FEMALE | MALE
    healthy_volunteers: bool | None = None
    std_ages: tuple[str, ...] = ()  # CHILD | ADULT | OLDER_ADULT
    text: str | None = None  # the criteria block as given, for audit


@dataclass(frozen=True, slots=True)
class MeshTerm:
    """A MeSH heading; ``id`` (descriptor UI such as D003922) when the source gives it."""

    term: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    pmid: str | None = None
    citation: str | None = None
    type: str | None = None  # BACKGROUND | RESULT | DERIVED
    doi: str | None = None
    parsed: Citation | None = None  # finished at parse (kg.rules.citations)


@dataclass(frozen=True, slots=True)
class Document:
    """A large document attached to the record (protocol, SAP, consent form) or a link."""

    url: str
    label: str | None = None
    type: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Trial:
    """Everything one registration states about one trial."""

    nct_id: str
    org_study_id: str | None = None
    secondary_ids: tuple[Identifier, ...] = ()
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    overall_status: str | None = None
    why_stopped: str | None = None
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    start_date: StudyDate | None = None
    primary_completion_date: StudyDate | None = None
    completion_date: StudyDate | None = None
    enrollment: Enrollment | None = None
    allocation: str | None = None
    intervention_model: str | None = None
    masking: str | None = None
    primary_purpose: str | None = None
    conditions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    condition_mesh: tuple[MeshTerm, ...] = ()
    condition_mesh_ancestors: tuple[MeshTerm, ...] = ()
    intervention_mesh: tuple[MeshTerm, ...] = ()
    intervention_mesh_ancestors: tuple[MeshTerm, ...] = ()
    # MeSH terms a page lists as run-together text ("Diabetes Mellitus Diabetes Mellitus, Type 2
    # Glucose Metabolism Disorders"): the capture lost the separators, so the text is kept
    # whole rather than split into guessed headings.
    mesh_text: tuple[str, ...] = ()
    arms: tuple[Arm, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    eligibility: Eligibility = field(default_factory=Eligibility)
    lead_sponsor: Organization | None = None
    collaborators: tuple[Organization, ...] = ()
    responsible_party: ResponsibleParty | None = None
    officials: tuple[PersonMention, ...] = ()
    sites: tuple[Site, ...] = ()
    references: tuple[Reference, ...] = ()
    documents: tuple[Document, ...] = ()
    first_submitted: str | None = None
    first_posted: StudyDate | None = None
    last_update_submitted: str | None = None
    last_update_posted: StudyDate | None = None
    last_verified: str | None = None
    results_first_posted: StudyDate | None = None
    has_results: bool | None = None
    # Finished at parse: condition keys (parallel to ``conditions``; "" for none) and the
    # data-quality findings of this record (kg.rules.quality).
    condition_keys: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    # The one name each keyed organisation and person node of this record is stated with
    # (``("organization", key, name)``, ``("person", key, name)``; kg.rules.finish.node_names).
    node_names: tuple[tuple[str, str, str], ...] = ()

    @property
    def last_changed(self) -> str:
        """The best date of this version of the record, to keep the newest of two copies."""
        for candidate in (self.last_update_posted, self.last_update_submitted, self.first_posted):
            if candidate is None:
                continue
            return candidate.date if isinstance(candidate, StudyDate) else candidate
        return ""


# ---------------------------------------------------------------- publications
#
# PubMed records and the citations registries print. Same conventions as above: ISO dates
# of the stated precision, None/() for absent, no rdflib.


@dataclass(frozen=True, slots=True)
class Author:
    """One author of a publication, in its place in the author list.

    A person has ``family`` (and usually ``initials``, PubMed also gives ``given``); a group
    author ("Canadian Respiratory Research Network") has only ``collective``. Citations
    give family name and initials only ("Tan J").
    """

    family: str | None = None
    given: str | None = None
    initials: str | None = None
    suffix: str | None = None
    collective: str | None = None
    affiliations: tuple[str, ...] = ()
    orcid: str | None = None  # the bare id, 0000-0002-4590-7461
    key: str | None = None  # finished at parse: family name + initials, folded (kg.rules.authors)

    @property
    def display_name(self) -> str:
        """The name as an NLM citation writes it: "Tan J", "O'Byrne PM Jr", or the group name."""
        if self.collective:
            return self.collective
        return " ".join(part for part in (self.family, self.initials, self.suffix) if part)


@dataclass(frozen=True, slots=True)
class Journal:
    """The journal an article appeared in; ``medline_ta`` is the abbreviation NLM citations use."""

    title: str | None = None
    iso_abbreviation: str | None = None
    medline_ta: str | None = None
    issn: tuple[tuple[str, str | None], ...] = ()  # (ISSN, Print | Electronic)
    issn_linking: str | None = None
    nlm_id: str | None = None
    country: str | None = None
    key: str | None = None  # finished at parse: the folded abbreviation


@dataclass(frozen=True, slots=True)
class MeshQualifier:
    name: str
    id: str | None = None  # Q000188
    major: bool = False


@dataclass(frozen=True, slots=True)
class MeshHeading:
    """A MeSH heading of an article: descriptor, major-topic flag and qualifiers (subheadings)."""

    descriptor: str
    id: str | None = None  # D001249
    major: bool = False
    qualifiers: tuple[MeshQualifier, ...] = ()


@dataclass(frozen=True, slots=True)
class PublicationType:
    name: str
    id: str | None = None  # a MeSH publication-type descriptor, D016428 "Journal Article"


@dataclass(frozen=True, slots=True)
class Grant:
    id: str | None = None
    agency: str | None = None
    acronym: str | None = None
    country: str | None = None
    agency_key: str | None = None  # finished at parse: the agency's institution key


@dataclass(frozen=True, slots=True)
class Accession:
    """A databank accession number an article lists (ClinicalTrials.gov NCT id, GenBank, PDB...)."""

    databank: str
    number: str


@dataclass(frozen=True, slots=True)
class TrialLink:
    """A trial a publication itself names, and where: ``DATABANK`` (DataBankList) or ``ABSTRACT``."""

    nct_id: str
    source: str  # DATABANK | ABSTRACT


@dataclass(frozen=True, slots=True)
class Citation:
    """What a citation string states, parsed (Vancouver/NLM style as registries print it)."""

    text: str
    authors: tuple[Author, ...] = ()
    authors_truncated: bool = False  # "et al."
    title: str | None = None
    journal: str | None = None
    published: str | None = None  # ISO date of the stated precision
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    epublished: str | None = None  # "Epub 2015 Dec 1"
    journal_key: str | None = None  # finished at parse: the folded journal abbreviation


@dataclass(frozen=True, slots=True)
class Publication:
    """Everything one PubMed record states about one article."""

    pmid: str
    title: str | None = None
    abstract: str | None = None
    journal: Journal | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    published: str | None = None  # ISO date of the stated precision (PubDate)
    published_text: str | None = None  # PubDate as written when it is no plain date ("1978 Jul-Sep")
    epublished: str | None = None  # ArticleDate DateType="Electronic"
    doi: str | None = None
    pmcid: str | None = None
    languages: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    authors_complete: bool = True  # AuthorList CompleteYN
    publication_types: tuple[PublicationType, ...] = ()
    mesh: tuple[MeshHeading, ...] = ()
    keywords: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()
    accessions: tuple[Accession, ...] = ()
    trial_links: tuple[TrialLink, ...] = ()
    cites: tuple[str, ...] = ()  # PMIDs of the references it cites
    revised: str | None = None  # DateRevised: the version of the record

    @property
    def last_changed(self) -> str:
        """The record's revision date, to keep the newest of two copies (baseline + updates)."""
        return self.revised or ""
