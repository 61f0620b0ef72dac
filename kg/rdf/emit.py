"""Trial records to N-Quads text, one named graph per source record.

The emitter writes strings, not term objects: at registry scale (hundreds of millions of
triples) building an object per term would dominate the build. Each line is a complete
N-Quads statement, so chunks can be concatenated, sharded or bulk-loaded anywhere.

Shared entities (people, organisations, sites, conditions, criterion concepts, MeSH
descriptors, publications) get IRIs from their resolved keys, so two trials that name
the same investigator point at the same node, and a query can join on it.

Example:
    >>> from kg.model import Trial
    >>> lines = emit_trial(Trial(nct_id="NCT00000001", brief_title="A"))
    >>> lines[0].split()[2]
    '<https://w3id.org/trialkg/ontology#Trial>'
"""

from __future__ import annotations

from collections import Counter

from kg.model import Intervention, MeshTerm, Organization, PersonMention, Reference, StudyDate, Trial
from kg.rdf import iris
from kg.rdf.emit_constraints import constraint_lines
from kg.rdf.emit_publication import citation_lines
from kg.rdf.emit_quality import quality_lines
from kg.rdf.emitted import Emitted
from kg.rdf.namespaces import LABEL, SAME_AS, TKG, A
from kg.rdf.terms import boolean, date_literal, decimal, integer, iri, literal

# Registry role codes -> role types. Site-level investigators are not the trial's PI.
_OFFICIAL_ROLES = {
    "PRINCIPAL_INVESTIGATOR": TKG.PrincipalInvestigator,
    "STUDY_CHAIR": TKG.StudyChair,
    "STUDY_DIRECTOR": TKG.StudyDirector,
}
_SITE_ROLES = {"PRINCIPAL_INVESTIGATOR": TKG.SiteInvestigator, "SUB_INVESTIGATOR": TKG.SubInvestigator}
_REFERENCE_PROPERTY = {
    "BACKGROUND": TKG.backgroundReference,
    "RESULT": TKG.resultReference,
    "DERIVED": TKG.derivedReference,
}
_CRITERION_CLASS = {"INCLUSION": TKG.InclusionCriterion, "EXCLUSION": TKG.ExclusionCriterion}
# Trial -> concept shortcuts, so "which trials share this criterion" is one triple pattern.
_CONCEPT_SHORTCUT = {"INCLUSION": TKG.inclusionConcept, "EXCLUSION": TKG.exclusionConcept}


def record_graph(trial: Trial) -> str:
    """The named graph IRI of a trial's record (one per NCT id: a newer copy replaces it)."""
    return iris.record_graph("ctgov", trial.nct_id)


class _Quads:
    """Collects N-Quads lines for one graph."""

    __slots__ = ("graph", "lines", "names")

    def __init__(self, graph: str, names: tuple[tuple[str, str, str], ...] = ()) -> None:
        self.graph = iri(graph)
        self.lines: list[str] = []
        self.names = {(kind, key): name for kind, key, name in names}  # the record's one name per node

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self.lines.append(f"{subject} {predicate} {obj} {self.graph} .\n")

    def text(self, subject: str, predicate: str, value: str | None) -> None:
        if value:
            self.lines.append(f"{subject} {predicate} {literal(value)} {self.graph} .\n")

    def date(self, subject: str, predicate: str, type_predicate: str | None, value: StudyDate | None) -> None:
        if value is None:
            return
        self.add(subject, predicate, date_literal(value.date))
        if type_predicate and value.type:
            self.add(subject, type_predicate, literal(value.type))


def emit_trial(trial: Trial, graph: str | None = None) -> list[str]:
    """The N-Quads lines stating everything a Trial record says, in its record graph."""
    q = _Quads(graph or record_graph(trial), trial.node_names)
    t = iri(iris.trial(trial.nct_id))
    nct = trial.nct_id
    q.add(t, A, TKG.Trial)
    q.text(t, TKG.nctId, nct)
    q.text(t, LABEL, trial.brief_title or nct)
    q.text(t, TKG.orgStudyId, trial.org_study_id)
    for identifier in trial.secondary_ids:
        node = iri(iris.resource("identifier", nct, identifier.id))
        q.add(t, TKG.hasIdentifier, node)
        q.add(node, A, TKG.Identifier)
        q.text(node, TKG.identifierValue, identifier.id)
        q.text(node, TKG.identifierType, identifier.type)
        q.text(node, TKG.identifierDomain, identifier.domain)
    q.text(t, TKG.briefTitle, trial.brief_title)
    q.text(t, TKG.officialTitle, trial.official_title)
    q.text(t, TKG.acronym, trial.acronym)
    q.text(t, TKG.briefSummary, trial.brief_summary)
    q.text(t, TKG.detailedDescription, trial.detailed_description)
    q.text(t, TKG.overallStatus, trial.overall_status)
    q.text(t, TKG.whyStopped, trial.why_stopped)
    for phase in trial.phases:
        q.text(t, TKG.phase, phase)
    q.text(t, TKG.studyType, trial.study_type)
    q.date(t, TKG.startDate, TKG.startDateType, trial.start_date)
    q.date(t, TKG.primaryCompletionDate, TKG.primaryCompletionDateType, trial.primary_completion_date)
    q.date(t, TKG.completionDate, TKG.completionDateType, trial.completion_date)
    if trial.enrollment is not None:
        q.add(t, TKG.enrollment, integer(trial.enrollment.count))
        q.text(t, TKG.enrollmentType, trial.enrollment.type)
    q.text(t, TKG.allocation, trial.allocation)
    q.text(t, TKG.interventionModel, trial.intervention_model)
    q.text(t, TKG.masking, trial.masking)
    q.text(t, TKG.primaryPurpose, trial.primary_purpose)
    _conditions(q, t, trial)
    _arms_and_interventions(q, t, trial)
    _outcomes(q, t, trial)
    _eligibility(q, t, trial)
    _organizations(q, t, trial)
    _people(q, t, trial)
    _sites(q, t, trial)
    _references(q, t, trial.references)
    for document in trial.documents:
        node = iri(document.url)
        q.add(t, TKG.hasDocument, node)
        q.add(node, A, TKG.Document)
        q.text(node, LABEL, document.label)
        q.text(node, TKG.documentType, document.type)
        if document.date:
            q.add(node, TKG.documentDate, date_literal(document.date))
    if trial.first_submitted:
        q.add(t, TKG.firstSubmitted, date_literal(trial.first_submitted))
    q.date(t, TKG.firstPosted, None, trial.first_posted)
    if trial.last_update_submitted:
        q.add(t, TKG.lastUpdateSubmitted, date_literal(trial.last_update_submitted))
    q.date(t, TKG.lastUpdatePosted, None, trial.last_update_posted)
    if trial.last_verified:
        q.add(t, TKG.lastVerified, date_literal(trial.last_verified))
    q.date(t, TKG.resultsFirstPosted, None, trial.results_first_posted)
    if trial.has_results is not None:
        q.add(t, TKG.hasResults, boolean(trial.has_results))
    q.lines += quality_lines(trial.nct_id, trial.findings, t, q.graph)
    return q.lines


def _mesh(q: _Quads, t: str, predicate: str, terms: tuple[MeshTerm, ...], label_predicate: str | None = None) -> None:
    """MeSH headings as descriptor IRIs; headings without a descriptor id (legacy XML) as labels."""
    for term in terms:
        if term.id:
            node = iri(iris.mesh(term.id))
            q.add(t, predicate, node)
            q.text(node, LABEL, term.term)
        elif label_predicate:
            q.text(t, label_predicate, term.term)


def _conditions(q: _Quads, t: str, trial: Trial) -> None:
    for condition, key in zip(trial.conditions, trial.condition_keys, strict=True):
        if not key:
            continue
        node = iri(iris.resource("condition", key))
        q.add(t, TKG.condition, node)
        q.add(node, A, TKG.Condition)
        q.text(node, LABEL, condition)
    for keyword in trial.keywords:
        q.text(t, TKG.keyword, keyword)
    _mesh(q, t, TKG.conditionMesh, trial.condition_mesh, TKG.conditionMeshTerm)
    _mesh(q, t, TKG.conditionMeshAncestor, trial.condition_mesh_ancestors)
    _mesh(q, t, TKG.interventionMesh, trial.intervention_mesh, TKG.interventionMeshTerm)
    _mesh(q, t, TKG.interventionMeshAncestor, trial.intervention_mesh_ancestors)
    for text in trial.mesh_text:
        q.text(t, TKG.meshText, text)


def _intervention_iris(nct: str, interventions: tuple[Intervention, ...]) -> list[str]:
    """One node per intervention the record lists: a name shared (case ignored) is told apart by position.

    A name the record lists once keeps ``resource/intervention/{nct}/{name}``; three dose regimens of
    one drug, all named "Aspirin", become ``.../aspirin/1``, ``.../aspirin/2``, ``.../aspirin/3`` (the
    1-based positions in the record's list), never one node with three descriptions.
    """
    counts = Counter(intervention.name.casefold() for intervention in interventions)
    return [
        iri(iris.resource("intervention", nct, intervention.name, *(
            (str(position),) if counts[intervention.name.casefold()] > 1 else ())))
        for position, intervention in enumerate(interventions, start=1)
    ]


def _arms_and_interventions(q: _Quads, t: str, trial: Trial) -> None:
    nct = trial.nct_id
    nodes = _intervention_iris(nct, trial.interventions)
    by_name: dict[str, list[int]] = {}
    for index, intervention in enumerate(trial.interventions):
        by_name.setdefault(intervention.name.casefold(), []).append(index)
        node = nodes[index]
        q.add(t, TKG.hasIntervention, node)
        q.add(node, A, TKG.Intervention)
        q.text(node, LABEL, intervention.name)
        q.text(node, TKG.name, intervention.name)
        q.text(node, TKG.normalizedName, intervention.normalized_name)
        q.text(node, TKG.interventionType, intervention.type)
        q.text(node, TKG.description, intervention.description)
        for other in intervention.other_names:
            q.text(node, TKG.otherName, other)
    for arm in trial.arms:
        node = iri(iris.resource("arm", nct, arm.label))
        q.add(t, TKG.hasArm, node)
        q.add(node, A, TKG.Arm)
        q.text(node, LABEL, arm.label)
        q.text(node, TKG.armType, arm.type)
        q.text(node, TKG.description, arm.description)
        for name in arm.intervention_names:
            for index in _named(trial.interventions, by_name.get(name.casefold(), []), name):
                q.add(node, TKG.armIntervention, nodes[index])
    declared = {arm.label for arm in trial.arms}  # a label no arm group has names no arm node this graph states
    for index, intervention in enumerate(trial.interventions):
        for label in intervention.arm_labels:
            if label in declared:
                q.add(iri(iris.resource("arm", nct, label)), TKG.armIntervention, nodes[index])


def _named(interventions: tuple[Intervention, ...], candidates: list[int], name: str) -> list[int]:
    """The interventions an arm means by ``name``: the one so named, or, when several share the name,
    the one written exactly so; if that is still ambiguous, none here when the interventions name their
    arms themselves (the record's ``armGroupLabels`` link them), else all of them."""
    if len(candidates) <= 1:
        return candidates
    exact = [index for index in candidates if interventions[index].name == name]
    if len(exact) == 1:
        return exact
    candidates = exact or candidates
    if any(interventions[index].arm_labels for index in candidates):
        return []
    return candidates


def _outcomes(q: _Quads, t: str, trial: Trial) -> None:
    for outcome in trial.outcomes:
        key = iris.text_hash(f"{outcome.measure}\x1f{outcome.time_frame or ''}\x1f{outcome.description or ''}", 12)
        node = iri(iris.resource("outcome", trial.nct_id, outcome.kind.lower(), key))
        q.add(t, TKG.hasOutcome, node)
        q.add(node, A, TKG.Outcome)
        q.text(node, LABEL, outcome.measure)
        q.text(node, TKG.measure, outcome.measure)
        q.text(node, TKG.outcomeKind, outcome.kind)
        q.text(node, TKG.timeFrame, outcome.time_frame)
        q.text(node, TKG.description, outcome.description)


def _eligibility(q: _Quads, t: str, trial: Trial) -> None:
    eligibility = trial.eligibility
    for position, criterion in enumerate(eligibility.criteria, start=1):
        normal, concept_key = criterion.normalized, criterion.concept_key
        if not normal or not criterion.node_key:
            continue
        # One node per kind, wording and scope (kg.rules.criteria.criterion_node_key): the same text under
        # two sub-headings is two nodes of one concept, each with its own position.
        node = iri(iris.resource("criterion", trial.nct_id, *criterion.node_key))
        concept = iri(iris.resource("criterion-concept", concept_key))
        q.add(t, TKG.hasCriterion, node)
        q.add(node, A, TKG.EligibilityCriterion)
        kind_class = _CRITERION_CLASS.get(criterion.kind)
        if kind_class:
            q.add(node, A, kind_class)
            q.add(t, _CONCEPT_SHORTCUT[criterion.kind], concept)
        q.text(node, TKG.criterionText, criterion.text)
        q.text(node, TKG.criterionScope, criterion.scope)
        q.add(node, TKG.position, integer(position))
        q.add(node, TKG.criterionConcept, concept)
        q.add(concept, A, TKG.CriterionConcept)
        q.text(concept, TKG.normalizedText, normal)
        q.lines += constraint_lines(node, criterion.constraints, q.graph)
    for limit, text_predicate, years_predicate in (
        (eligibility.minimum_age, TKG.minimumAge, TKG.minimumAgeYears),
        (eligibility.maximum_age, TKG.maximumAge, TKG.maximumAgeYears),
    ):
        if limit is not None:
            q.text(t, text_predicate, f"{limit.value:g} {limit.unit}")
            q.add(t, years_predicate, decimal(round(limit.years, 4)))
    q.text(t, TKG.sex, eligibility.sex)
    if eligibility.healthy_volunteers is not None:
        q.add(t, TKG.healthyVolunteers, boolean(eligibility.healthy_volunteers))
    for group in eligibility.std_ages:
        q.text(t, TKG.stdAge, group)
    q.text(t, TKG.eligibilityText, eligibility.text)


def _organization(q: _Quads, org_name: str | None, key: str | None, org_class: str | None = None) -> str | None:
    if key is None or org_name is None:
        return None
    node = iri(iris.resource("organization", key))
    org_name = q.names.get(("organization", key), org_name)
    q.add(node, A, TKG.Organization)
    q.text(node, LABEL, org_name)
    q.text(node, TKG.name, org_name)
    q.text(node, TKG.agencyClass, org_class)
    return node


def _organizations(q: _Quads, t: str, trial: Trial) -> None:
    sponsors: list[tuple[str, Organization | None]] = [(TKG.leadSponsor, trial.lead_sponsor)]
    sponsors += [(TKG.collaborator, org) for org in trial.collaborators]
    for predicate, org in sponsors:
        if org is not None:
            node = _organization(q, org.name, org.key, org.org_class)
            if node:
                q.add(t, predicate, node)


def _role(q: _Quads, t: str, nct: str, mention: PersonMention, role_type: str,
          site: tuple[str, ...] = ()) -> str:
    """A person's role in a trial: a node linking trial, person, role type, affiliation."""
    key = mention.key
    role_name = role_type[role_type.rfind("#") + 1 : -1]
    role = iri(iris.resource("role", nct, role_name, key or mention.name, *site))
    q.add(t, TKG.hasRole, role)
    q.add(role, A, TKG.Role)
    q.add(role, TKG.roleType, role_type)
    q.text(role, TKG.roleCode, mention.role)
    q.text(role, TKG.mentionedName, mention.name)
    for degree in mention.degrees:
        q.text(role, TKG.degree, degree)
    if key is not None:
        person = iri(iris.resource("person", key))
        q.add(role, TKG.agent, person)
        person_name = q.names.get(("person", key), mention.person_name)
        q.add(person, A, TKG.Person)
        q.text(person, LABEL, person_name)
        q.text(person, TKG.name, person_name)
    if mention.affiliation:
        q.text(role, TKG.affiliationText, mention.affiliation)
        org = _organization(q, mention.affiliation, mention.affiliation_key)
        if org:
            q.add(role, TKG.affiliation, org)
    return role


def _people(q: _Quads, t: str, trial: Trial) -> None:
    for official in trial.officials:
        _role(q, t, trial.nct_id, official, _OFFICIAL_ROLES.get(official.role, TKG.OtherRole))
    party = trial.responsible_party
    if party is None:
        return
    q.text(t, TKG.responsiblePartyType, party.type)
    if party.mention is not None:
        role = _role(q, t, trial.nct_id, party.mention, TKG.ResponsiblePartyInvestigator)
        q.text(role, TKG.roleTitle, party.title)


def _sites(q: _Quads, t: str, trial: Trial) -> None:
    for site in trial.sites:
        key = site.key  # finished at parse (kg.rules.institutions.location_key)
        if key is None:
            continue
        node = iri(iris.resource("site", *key))
        q.add(t, TKG.hasSite, node)
        q.add(node, A, TKG.Site)
        # A location without a facility name is labelled by its place ("Bautzen, Sachsen, Germany").
        q.text(node, LABEL, site.facility or ", ".join(p for p in (site.city, site.state, site.country) if p))
        q.text(node, TKG.facilityName, site.facility)
        q.text(node, TKG.city, site.city)
        q.text(node, TKG.state, site.state)
        q.text(node, TKG.postalCode, site.zip)
        q.text(node, TKG.country, site.country)
        if site.geo is not None:
            q.add(node, TKG.latitude, decimal(site.geo.lat))
            q.add(node, TKG.longitude, decimal(site.geo.lon))
        if site.status:
            record = iri(iris.resource("trial-site", trial.nct_id, *key))
            q.add(t, TKG.hasTrialSite, record)
            q.add(record, A, TKG.TrialSite)
            q.add(record, TKG.site, node)
            q.text(record, TKG.recruitmentStatus, site.status)
        for investigator in site.investigators:
            role_type = _SITE_ROLES.get(investigator.role, TKG.SiteInvestigator)
            role = _role(q, t, trial.nct_id, investigator, role_type, site=key)
            q.add(role, TKG.atSite, node)


def _references(q: _Quads, t: str, references: tuple[Reference, ...]) -> None:
    for reference in references:
        publication = iris.cited(reference.pmid, reference.citation)
        if publication is None:
            continue
        node = iri(publication)
        q.add(t, _REFERENCE_PROPERTY.get(reference.type or "", TKG.hasReference), node)
        q.add(node, A, TKG.Publication)
        q.text(node, TKG.pmid, reference.pmid)
        q.text(node, TKG.citation, reference.citation)
        if reference.doi:
            q.text(node, TKG.doi, reference.doi)
            q.add(node, SAME_AS, iri(iris.doi(reference.doi)))
        q.lines += citation_lines(q.graph, node, reference.parsed, reference.doi)


def emitted_trial(trial: Trial) -> Emitted:
    """A trial record as the build pipeline loads it (one graph per NCT id)."""
    graph = record_graph(trial)
    return Emitted(graph, iris.trial(trial.nct_id), trial.nct_id, trial.last_changed, emit_trial(trial, graph))

