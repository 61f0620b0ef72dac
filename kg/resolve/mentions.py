"""What resolution reads from a store: person roles, sponsors, sites (places and pairs), criterion concepts, exclusions.

Each reader streams one-pattern SPARQL scans over the union of the record graphs, joins
them in Python dicts and returns compact records sorted by IRI (store order is not stable,
resolution must be). Scans, not joins, for two reasons. A shared node (a site, a sponsor, a
criterion concept) is stated again in every record graph that uses it, and the union
default graph returns each statement once per graph, so joining a shared node's
properties in SPARQL gives rows that grow with the square of the graphs sharing it
("Pregnancy" is a criterion of tens of thousands of trials). And a join's cost per row
grows with the store, a scan's does not (at 100,000 studies: 368 µs a row for the
five-pattern role join, 16 µs for one pattern). Where a node carries several values (two
spellings of one site's facility), the smallest is kept.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> _ = build(["examples"], store)
    >>> sorted({r.name for r in read_roles(store)})
    ['Jianming Tan', 'Jianming Tan, professor']
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Container, Iterator
from dataclasses import dataclass
from typing import SupportsFloat

from kg.rdf import iris
from kg.rdf.namespaces import ONTOLOGY
from kg.store.base import Store
from kg.store.select_stream import iter_predicate, iter_select

PREFIX = f"PREFIX tkg: <{ONTOLOGY}>\n"


@dataclass(frozen=True, slots=True)
class RoleMention:
    """A person named in one role of one trial (the unit person resolution clusters)."""

    role: str
    trial: str  # NCT id
    role_type: str  # local name: PrincipalInvestigator, SiteInvestigator, ...
    name: str
    affiliation: str | None
    site: str | None  # surface site IRI for site investigators
    agent: str | None  # surface person IRI the record graph links


@dataclass(frozen=True, slots=True)
class SurfaceSite:
    """A surface site node as its records state it (the unit site resolution clusters).

    Read once per node, not once per trial that lists it: at registry scale 1.8 million
    (trial, site) pairs name 640,000 nodes.
    """

    site: str
    facility: str
    city: str | None
    state: str | None
    country: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class SiteMention(SurfaceSite):
    """A surface site as one trial lists it: the site and the pair at once, as tests and examples write them."""

    trial_iri: str
    trial: str


_ORGANIZATIONS = PREFIX + "SELECT ?org ?name WHERE { ?org tkg:name ?name . FILTER(STRSTARTS(STR(?org), ?base)) }"
_SITE_PROPERTY = PREFIX + "SELECT ?site ?value WHERE {{ ?site tkg:{} ?value . FILTER(STRSTARTS(STR(?site), ?base)) }}"
_SITE_PROPERTIES = ("facilityName", "city", "state", "country", "latitude", "longitude")
# One pattern and a filter, not a join through the criteria: 40 s instead of 67 s at 100,000 studies.
_CONCEPTS = PREFIX + """SELECT ?concept ?norm WHERE {
  ?concept tkg:normalizedText ?norm . FILTER(STRSTARTS(STR(?concept), ?base)) }"""


def _scan(store: Store, name: str) -> Iterator[tuple[str, str]]:
    """One tkg: property, as (subject, value) rows."""
    return iter_predicate(store, ONTOLOGY + name)


def _smallest(store: Store, name: str, subjects: Container[str] | None = None) -> dict[str, str]:
    """Subject -> the smallest value of one tkg: property (of ``subjects`` only, when given)."""
    out: dict[str, str] = {}
    for subject, value in _scan(store, name):
        if subjects is None or subject in subjects:
            known = out.get(subject)
            out[subject] = value if known is None or value < known else known
    return out


def trial_ncts(store: Store) -> dict[str, str]:
    """Trial IRI -> NCT id."""
    return _smallest(store, "nctId")


def read_roles(store: Store, ncts: dict[str, str] | None = None) -> list[RoleMention]:
    """Every role of a trial naming a person, once each, sorted by role IRI."""
    ncts = trial_ncts(store) if ncts is None else ncts
    role_of = {role: trial for trial, role in _scan(store, "hasRole") if trial in ncts}
    kinds = _smallest(store, "roleType", role_of)
    names = _smallest(store, "mentionedName", role_of)
    affiliations = _smallest(store, "affiliationText", role_of)
    sites = _smallest(store, "atSite", role_of)
    agents = _smallest(store, "agent", role_of)
    return [role_mention(role, ncts[trial], kinds[role].rsplit("#", 1)[-1], names[role], affiliations.get(role),
                         sites.get(role), agents.get(role))
            for role, trial in sorted(role_of.items()) if role in kinds and role in names]


def interned(value: str | None) -> str | None:
    """One string object per distinct value: mentions repeat them (a city, a sponsor, a role type).

    Why: at 560,000 studies the 783,834 role mentions hold 4 distinct role types, 23,881
    affiliations and 504,146 trials; read as new strings each, they took about 200 MB more.
    """
    return sys.intern(value) if value is not None else None


def role_mention(role: str, trial: str, role_type: str, name: str, affiliation: str | None, site: str | None,
                 agent: str | None) -> RoleMention:
    """A role mention whose values are shared strings (its IRI too: the affiliations are read by it)."""
    return RoleMention(sys.intern(role), sys.intern(trial), sys.intern(role_type), sys.intern(name),
                       interned(affiliation), interned(site), interned(agent))


def read_sponsors(store: Store, ncts: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Lead sponsors and collaborators (surface organisation IRIs) per NCT id."""
    ncts = trial_ncts(store) if ncts is None else ncts
    out: dict[str, set[str]] = defaultdict(set)
    for name in ("leadSponsor", "collaborator"):
        for trial, org in _scan(store, name):
            if trial in ncts:
                out[ncts[trial]].add(sys.intern(org))
    return out


def read_affiliations(store: Store) -> dict[str, str]:
    """The surface organisation each role's affiliation names."""
    return {sys.intern(role): sys.intern(org) for role, org in _smallest(store, "affiliation").items()}


def _bind_base(query: str, kind: str) -> str:
    return query.replace("?base", f'"{iris.resource(kind, "")[:-1]}"')


def read_organizations(store: Store) -> dict[str, str]:
    """Surface organisation IRI -> a name (the smallest of its spellings)."""
    out: dict[str, str] = {}
    for org, name in iter_select(store, _bind_base(_ORGANIZATIONS, "organization")):
        if org and name:
            out[org] = min(out.get(org, name), name)
    return dict(sorted(out.items()))


def read_site_places(store: Store) -> dict[str, SurfaceSite]:
    """Every surface site with a facility name, by IRI (sorted)."""
    places: dict[str, dict[str, str]] = defaultdict(dict)
    for name in _SITE_PROPERTIES:
        for site, value in iter_select(store, _bind_base(_SITE_PROPERTY.format(name), "site")):
            if site and value is not None:
                known = places[site].get(name)
                places[site][name] = value if known is None else min(known, value)
    return {site: surface_site(site, place["facilityName"], place.get("city"), place.get("state"),
                               place.get("country"), place.get("latitude"), place.get("longitude"))
            for site, place in sorted(places.items()) if place.get("facilityName")}


def surface_site(site: str, facility: str, city: str | None, state: str | None, country: str | None,
                 lat: SupportsFloat | str | None, lon: SupportsFloat | str | None) -> SurfaceSite:
    """A site node's record, its coordinates as numbers (stored as xsd:decimal text, or DECIMAL)."""
    return SurfaceSite(site, facility, interned(city), interned(state), interned(country),
                       float(lat) if lat is not None else None, float(lon) if lon is not None else None)


def read_site_pairs(store: Store, places: Container[str], ncts: dict[str, str] | None = None
                    ) -> list[tuple[str, str, str]]:
    """(trial IRI, NCT id, site IRI) of every trial listing a site of ``places``, sorted."""
    ncts = trial_ncts(store) if ncts is None else ncts
    return sorted({(trial, ncts[trial], site) for trial, site in _scan(store, "hasSite")
                   if trial in ncts and site in places})


def read_concepts(store: Store) -> list[tuple[str, str]]:
    """Criterion concepts with their normalised text, sorted by IRI."""
    out: dict[str, str] = {}
    for concept, norm in iter_select(store, _bind_base(_CONCEPTS, "criterion-concept")):
        if concept and norm is not None:
            out[concept] = min(out.get(concept, norm), norm)
    return sorted(out.items())


def read_exclusions(store: Store, ncts: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """(NCT id, criterion concept IRI) of each trial's exclusion criteria, streamed (in store order)."""
    ncts = trial_ncts(store) if ncts is None else ncts
    return ((ncts[trial], concept) for trial, concept in _scan(store, "exclusionConcept") if trial in ncts)


class StoreMentions:
    """The mentions read back from the store (stores built before the mention tables, remote stores)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ncts(self) -> dict[str, str]:
        return trial_ncts(self.store)

    def organizations(self) -> dict[str, str]:
        return read_organizations(self.store)

    def sponsors(self, ncts: dict[str, str]) -> dict[str, set[str]]:
        return read_sponsors(self.store, ncts)

    def affiliations(self) -> dict[str, str]:
        return read_affiliations(self.store)

    def site_places(self) -> dict[str, SurfaceSite]:
        return read_site_places(self.store)

    def site_pairs(self, ncts: dict[str, str], places: Container[str]) -> Iterator[tuple[str, str, str]]:
        return iter(read_site_pairs(self.store, places, ncts))

    def roles(self, ncts: dict[str, str]) -> list[RoleMention]:
        return read_roles(self.store, ncts)

    def concepts(self) -> list[tuple[str, str]]:
        return read_concepts(self.store)

    def exclusions(self, ncts: dict[str, str]) -> Iterator[tuple[str, str]]:
        return read_exclusions(self.store, ncts)
