"""Finish a parsed record: apply every rule once, so emit only maps and resolve only reads.

Why a step of its own: the parsers of six formats each produce the same record model; the
keys, normal forms, constraints, parsed citations and findings that follow from it are the
same rules for all of them, so they are applied here, once, right after the parse, and
carried on the record. Emit never normalises a string and resolution never re-parses one.

Example:
    >>> from kg.model import Criterion, Eligibility, Trial
    >>> criteria = (Criterion("BMI \\\\>35 kg/m\\\\^2", "EXCLUSION"),)
    >>> trial = finish_trial(Trial("NCT1", eligibility=Eligibility(criteria)))
    >>> criterion = trial.eligibility.criteria[0]
    >>> criterion.normalized, criterion.constraints[0].variable
    ('bmi > 35 kg/m2', 'bmi')
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kg.digest import text_hash
from kg.model import (
    Author,
    Citation,
    Criterion,
    Grant,
    Journal,
    Organization,
    PersonMention,
    Publication,
    Reference,
    ResponsibleParty,
    Site,
    Trial,
)
from kg.rules.authors import author_key, fold
from kg.rules.citations import parse_citation
from kg.rules.concepts import concept_key
from kg.rules.constraints import parse_constraints
from kg.rules.contacts import without_contacts
from kg.rules.criteria import criterion_node_key, normalize_criterion
from kg.rules.institutions import location_key, organization_key
from kg.rules.persons import degrees_of, person_key, split_person_name
from kg.rules.quality import find_issues

__all__ = ["finish", "finish_publication", "finish_trial"]


def finish(record: Any, warnings: list[str] | None = None) -> Any:
    """The finished form of any record the parsers produce (other records pass unchanged).

    ``warnings`` receives what the finishing changed that a user should know (contact
    details removed, a "name" that was a phone number left out), naming the field.
    """
    if isinstance(record, Trial):
        return finish_trial(record, warnings)
    if isinstance(record, Publication):
        return finish_publication(record)
    return record


def finish_trial(trial: Trial, warnings: list[str] | None = None) -> Trial:
    """A trial with its contact data removed and its keys, criterion forms, parsed citations
    and findings filled in."""
    trial = without_contacts(trial, warnings if warnings is not None else [])
    eligibility = trial.eligibility
    finished = replace(
        trial,
        condition_keys=tuple(concept_key(name) or "" for name in trial.conditions),
        interventions=tuple(replace(i, normalized_name=concept_key(i.name)) for i in trial.interventions),
        eligibility=replace(eligibility, criteria=tuple(_criterion(c) for c in eligibility.criteria)),
        lead_sponsor=_organization(trial.lead_sponsor),
        collaborators=tuple(replace(org, key=organization_key(org.name)) for org in trial.collaborators),
        responsible_party=_responsible_party(trial.responsible_party),
        officials=tuple(_person(official) for official in trial.officials),
        sites=tuple(_site(site, trial.nct_id, n) for n, site in enumerate(trial.sites, start=1)),
        references=tuple(_reference(reference) for reference in trial.references),
    )
    return replace(finished, findings=tuple(find_issues(finished)), node_names=node_names(finished))


def node_names(trial: Trial) -> tuple[tuple[str, str, str], ...]:
    """The name each organisation and person node of one record is stated with: the first spelling.

    Why: two spellings in one record with one key ("M.D. Anderson Cancer Center" as lead
    sponsor, "M D Anderson Cancer Center" as a site investigator's affiliation) are one node,
    and a node with two names does not say which the sponsor is called. The first spelling in
    a fixed order (sponsors, then officials, the responsible party, site investigators) names
    the node; every other spelling stays on the role that wrote it (``tkg:affiliationText``,
    ``tkg:mentionedName``), and resolution still sees all of them.
    """
    people = [*trial.officials, *([trial.responsible_party.mention] if trial.responsible_party
                                  and trial.responsible_party.mention else []),
              *(investigator for site in trial.sites for investigator in site.investigators)]
    names: dict[tuple[str, str], str] = {}
    for org in (trial.lead_sponsor, *trial.collaborators):
        if org is not None and org.key:
            names.setdefault(("organization", org.key), org.name)
    for mention in people:
        if mention.affiliation_key and mention.affiliation:
            names.setdefault(("organization", mention.affiliation_key), mention.affiliation)
    for mention in people:
        if mention.key and mention.person_name:
            names.setdefault(("person", mention.key), mention.person_name)
    return tuple((kind, key, name) for (kind, key), name in names.items())


def _organization(org: Organization | None) -> Organization | None:
    return None if org is None else replace(org, key=organization_key(org.name))


def _person(mention: PersonMention) -> PersonMention:
    key = person_key(mention.name)
    return replace(
        mention,
        key=key,
        person_name=split_person_name(mention.name)[0] if key is not None else None,
        degrees=(mention.degree,) if mention.degree else degrees_of(mention.name),
        affiliation_key=organization_key(mention.affiliation) if mention.affiliation else None,
    )


def _responsible_party(party: ResponsibleParty | None) -> ResponsibleParty | None:
    """The party, and the investigator it names when it is not the sponsor itself."""
    if party is None or not party.name or party.type == "SPONSOR":
        return party
    mention = PersonMention(name=party.name, role="RESPONSIBLE_PARTY", affiliation=party.affiliation)
    return replace(party, mention=_person(mention))


def _site(site: Site, nct: str, position: int) -> Site:
    return replace(
        site,
        key=location_key(site, nct, position),
        investigators=tuple(_person(investigator) for investigator in site.investigators),
    )


def _criterion(criterion: Criterion) -> Criterion:
    normal = normalize_criterion(criterion.text)
    if not normal:
        return criterion
    # Every bound has a number; most criteria have none, and skip the constraint parser.
    constraints = parse_constraints(normal, normalized=True) if any(c.isdigit() for c in normal) else []
    key = text_hash(normal)
    return replace(criterion, normalized=normal, concept_key=key,
                   node_key=criterion_node_key(criterion.kind, key, criterion.scope), constraints=tuple(constraints))


def _reference(reference: Reference) -> Reference:
    if not reference.citation:
        return reference
    return replace(reference, parsed=finish_citation(parse_citation(reference.citation)))


def finish_citation(citation: Citation) -> Citation:
    """A parsed citation with its authors' and journal's keys."""
    return replace(
        citation,
        authors=tuple(_author(author) for author in citation.authors),
        journal_key=fold(citation.journal) if citation.journal else None,
    )


def _author(author: Author) -> Author:
    return replace(author, key=author_key(author.family, author.initials))


def finish_publication(publication: Publication) -> Publication:
    """A PubMed record with its authors', journal's and funders' keys."""
    journal = publication.journal
    return replace(
        publication,
        authors=tuple(_author(author) for author in publication.authors),
        journal=None if journal is None else _journal(journal),
        grants=tuple(_grant(grant) for grant in publication.grants),
    )


def _journal(journal: Journal) -> Journal:
    abbreviation = journal.medline_ta or journal.iso_abbreviation or journal.title
    return replace(journal, key=fold(abbreviation) if abbreviation else None)


def _grant(grant: Grant) -> Grant:
    return replace(grant, agency_key=organization_key(grant.agency))
