"""The mentions resolution needs, as plain rows, from the same finished record emit maps.

Why: resolution used to read its mentions back from the store by SPARQL scans after the
load, which at registry scale costs as much as the load itself and holds every scan's
dict in memory. The parse already has each mention; this module maps a finished record to
rows (tuples of strings) with the very IRIs and values :mod:`kg.rdf.emit` writes, so the
pipeline can append them to on-disk tables (:mod:`kg.store.mention_tables`) as it loads,
and resolution reads them there. Each row says what one statement (or one group of
statements about one node) of the record graph says; a value emit leaves out (empty text)
is ``None`` here.

Tables, and the columns after the record graph each row starts with:

* ``trials``: trial IRI, NCT id;
* ``organizations``: organisation IRI, name (sponsors, collaborators, affiliations, grant agencies);
* ``sponsors``: NCT id, organisation IRI (lead sponsor and collaborators);
* ``roles``: role IRI, NCT id, role type (local name), mentioned name, affiliation text,
  site IRI, person IRI, affiliation organisation IRI;
* ``sites``: trial IRI, NCT id, site IRI, facility, city, state, country, latitude, longitude
  (the decimal's lexical form);
* ``concepts``: criterion concept IRI, normalised text;
* ``exclusions``: NCT id, criterion concept IRI (the trial's ``tkg:exclusionConcept``);
* ``persons``: person IRI, name (the ``tkg:name`` the record states for it);
* ``publication_links``: trial IRI, publication IRI, kind (a trial's references by type:
  background, result, derived, reference; a PubMed record's trial links: databank, abstract);
* ``authorships``: publication IRI, authorship IRI, family name, position, initials, given
  names, affiliation (one row per affiliation; none when the author has none); authors
  without a family name are left out (investigator-author linking needs one).

Example:
    >>> from kg.model import Trial, Organization
    >>> rows = mention_rows(Trial("NCT00000001", lead_sponsor=Organization("Pfizer Inc.", key="pfizer")))
    >>> rows["sponsors"]
    [('NCT00000001', 'https://w3id.org/trialkg/resource/organization/pfizer')]
    >>> rows["organizations"][0][1]
    'Pfizer Inc.'
"""

from __future__ import annotations

import re
from typing import Any

from kg.model import Author, PersonMention, Publication, Trial
from kg.rdf import iris
from kg.rdf.emit_publication import authorship_iri
from kg.rdf.terms import decimal, iri

__all__ = ["AUTHOR_TABLES", "RESOLUTION_TABLES", "TABLES", "MentionRows", "mention_rows"]

MentionRows = dict[str, list[tuple[str | None, ...]]]

# Table -> columns after ``graph`` (the order of each row's values).
TABLES: dict[str, tuple[str, ...]] = {
    "trials": ("trial", "nct"),
    "organizations": ("org", "name"),
    "sponsors": ("nct", "org"),
    "roles": ("role", "nct", "role_type", "name", "affiliation_text", "site", "agent", "affiliation_org"),
    "sites": ("trial", "nct", "site", "facility", "city", "state", "country", "lat", "lon"),
    "concepts": ("concept", "norm"),
    "exclusions": ("nct", "concept"),
    "persons": ("person", "name"),
    "publication_links": ("trial", "publication", "kind"),
    "authorships": ("publication", "authorship", "family", "position", "initials", "given", "affiliation"),
}

# What each reader needs (a store whose tables predate one of them reads the store instead).
RESOLUTION_TABLES = ("trials", "organizations", "sponsors", "roles", "sites", "concepts", "exclusions")
AUTHOR_TABLES = ("trials", "roles", "sites", "persons", "publication_links", "authorships")

_OFFICIAL_ROLES = {"PRINCIPAL_INVESTIGATOR": "PrincipalInvestigator", "STUDY_CHAIR": "StudyChair",
                   "STUDY_DIRECTOR": "StudyDirector"}
_SITE_ROLES = {"PRINCIPAL_INVESTIGATOR": "SiteInvestigator", "SUB_INVESTIGATOR": "SubInvestigator"}
_REFERENCE_KINDS = {"BACKGROUND": "background", "RESULT": "result", "DERIVED": "derived"}  # else "reference"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _iri(value: str) -> str:
    """The IRI as the store gives it back (what IRIREF forbids percent-encoded, as emit writes it)."""
    return iri(value)[1:-1]


def _text(value: str | None) -> str | None:
    """A literal's value as the store gives it back; ``None`` where emit states nothing."""
    if not value:
        return None
    return _SURROGATE.sub("\ufffd", value)


def _decimal(value: float) -> str:
    text = decimal(value)
    return text[1:text.index('"', 1)]


def mention_rows(record: Any) -> MentionRows:
    """Rows per table for one finished record (a Trial or a Publication; other kinds have none)."""
    rows: MentionRows = {name: [] for name in TABLES}
    if isinstance(record, Trial):
        _trial(rows, record)
    elif isinstance(record, Publication):
        for grant in record.grants:
            _organization(rows, grant.agency, grant.agency_key)
        publication = _iri(iris.pubmed(record.pmid))
        for link in record.trial_links:
            kind = "databank" if link.source == "DATABANK" else "abstract"
            rows["publication_links"].append((_iri(iris.trial(link.nct_id)), publication, kind))
        _authorships(rows, publication, record.authors)
    return rows


def _authorships(rows: MentionRows, publication: str, authors: tuple[Author, ...]) -> None:
    """The author places emit states for a publication (its ``tkg:hasAuthorship`` nodes)."""
    for position, author in enumerate(authors, start=1):
        family = _text(author.family)
        if family is None:
            continue
        node = _iri(authorship_iri(publication, position))
        values = (publication, node, family, str(position), _text(author.initials), _text(author.given))
        for affiliation in author.affiliations or (None,):
            rows["authorships"].append((*values, _text(affiliation)))


def _organization(rows: MentionRows, name: str | None, key: str | None,
                  names: dict[tuple[str, str], str] | None = None) -> str | None:
    if key is None or name is None:
        return None
    node = _iri(iris.resource("organization", key))
    text = _text(names.get(("organization", key), name) if names else name)  # the record's one name, as emit states it
    if text is not None:
        rows["organizations"].append((node, text))
    return node


def _trial(rows: MentionRows, trial: Trial) -> None:
    nct = trial.nct_id
    trial_iri = _iri(iris.trial(nct))
    rows["trials"].append((trial_iri, _text(nct)))
    names = {(kind, key): name for kind, key, name in trial.node_names}  # the record's one name per node, as emit
    for org in (trial.lead_sponsor, *trial.collaborators):
        if org is not None:
            node = _organization(rows, org.name, org.key, names)
            if node:
                rows["sponsors"].append((nct, node))
    for official in trial.officials:
        _role(rows, nct, official, _OFFICIAL_ROLES.get(official.role, "OtherRole"), names)
    party = trial.responsible_party
    if party is not None and party.mention is not None:
        _role(rows, nct, party.mention, "ResponsiblePartyInvestigator", names)
    for site in trial.sites:
        if site.key is None:
            continue
        node = _iri(iris.resource("site", *site.key))
        lat = _decimal(site.geo.lat) if site.geo is not None else None
        lon = _decimal(site.geo.lon) if site.geo is not None else None
        rows["sites"].append((trial_iri, nct, node, _text(site.facility), _text(site.city), _text(site.state),
                              _text(site.country), lat, lon))
        for investigator in site.investigators:
            _role(rows, nct, investigator, _SITE_ROLES.get(investigator.role, "SiteInvestigator"), names, site.key,
                  node)
    for criterion in trial.eligibility.criteria:
        if criterion.normalized and criterion.node_key:  # what emit states a criterion node for
            concept = _iri(iris.resource("criterion-concept", criterion.concept_key))
            rows["concepts"].append((concept, _text(criterion.normalized)))
            if criterion.kind == "EXCLUSION":
                rows["exclusions"].append((nct, concept))
    for reference in trial.references:
        cited = iris.cited(reference.pmid, reference.citation)
        if cited is None:
            continue
        publication = _iri(cited)
        rows["publication_links"].append((trial_iri, publication, _REFERENCE_KINDS.get(reference.type or "",
                                                                                        "reference")))
        if reference.parsed:
            _authorships(rows, publication, reference.parsed.authors)


def _role(rows: MentionRows, nct: str, mention: PersonMention, role_type: str, names: dict[tuple[str, str], str],
          site: tuple[str, ...] = (), site_node: str | None = None) -> None:
    key = mention.key
    role = _iri(iris.resource("role", nct, role_type, key or mention.name, *site))
    agent = None
    if key is not None:
        agent = _iri(iris.resource("person", key))
        name = _text(names.get(("person", key), mention.person_name))  # the person node's name, as emit states it
        if name is not None:
            rows["persons"].append((agent, name))
    org = _organization(rows, mention.affiliation, mention.affiliation_key, names) if mention.affiliation else None
    rows["roles"].append((role, nct, role_type, _text(mention.name), _text(mention.affiliation), site_node, agent,
                          org))
