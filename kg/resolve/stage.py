"""The resolution stage: one linear pass over a built store, writing the resolution graph.

After the record graphs are loaded, ``resolve(store)`` reads the mentions (roles, sponsors,
affiliations, sites, criterion concepts) from the mention tables the load wrote (or, for a
store without them, with streamed SPARQL), resolves organisations, then
sites (which need organisations to name who runs them), then persons (whose evidence is
resolved affiliations, sites and sponsors), then criteria, and replaces the resolution
graph. Each resolver blocks before it compares, so the pass grows linearly with the store.

Re-running is safe and deterministic: the same store gives the same graph (byte for byte
with ``SOURCE_DATE_EPOCH``). IRIs an earlier run published stay resolvable: a canonical
entity is always one of its surface nodes, which link to it with owl:sameAs, and an IRI the
previous graph used as a canonical that is no longer one gets an owl:sameAs to the entity
its mentions now belong to.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> _ = build(["examples"], store)
    >>> report = resolve(store)
    >>> report.persons.entities, report.persons.mentions
    (1, 2)
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

from kg.measure import peak_rss
from kg.rdf import iris
from kg.rdf.emit_resolution import ResolutionWriter
from kg.rdf.namespaces import ONTOLOGY, OWL, RESOLUTION_GRAPH
from kg.rdf.provenance import extraction_time
from kg.resolve.criteria import resolve_criteria
from kg.resolve.mention_source import TableMentions, mention_source
from kg.resolve.mentions import RoleMention, StoreMentions
from kg.resolve.organizations import resolve_organizations
from kg.resolve.persons import PersonContext, resolve_persons
from kg.resolve.sharing import write_sharing
from kg.resolve.sites import resolve_surface_sites, site_organizations
from kg.store.base import Store
from kg.store.derived_graphs import DerivedGraphWriter, GraphWrite
from kg.store.mention_tables import FORMS_MEMO, MEMORY_LIMIT, READ_MEMORY_LIMIT, mention_tables
from kg.store.select_stream import iter_select

CHUNK_LINES = 200_000


@dataclass
class KindReport:
    mentions: int = 0
    entities: int = 0
    merged: int = 0  # mentions that resolved to an entity other than their own node
    seconds: float = 0.0  # the whole kind: reading its mentions, comparing, writing
    read_seconds: float = 0.0  # of which reading the mentions from the store
    comparisons: int = 0  # candidate pairs scored: blocking keeps this proportional to the mentions
    peak_rss_bytes: int = 0  # the process's peak resident memory when this kind was done (0: unknown)


@dataclass
class ResolutionReport:
    organizations: KindReport = field(default_factory=KindReport)
    sites: KindReport = field(default_factory=KindReport)
    persons: KindReport = field(default_factory=KindReport)
    criteria: KindReport = field(default_factory=KindReport)
    anonymous_sites: int = 0
    junk_person_mentions: int = 0
    retired_iris: int = 0
    quads: int = 0
    seconds: float = 0.0
    shared_pairs: dict[str, int] = field(default_factory=dict)  # ranked pairs stated per kind (sharing graph)
    sharing_seconds: dict[str, float] = field(default_factory=dict)  # per kind, and "graph": writing it
    source: str = ""  # where the mentions came from: "tables" (written by the load) or "store" (read back)
    writes: dict[str, GraphWrite] = field(default_factory=dict)  # per derived graph: its difference, or whole

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        """One line for a terminal: entities per kind and the time taken."""
        parts = [f"{getattr(self, kind).mentions} {label} -> {getattr(self, kind).entities}"
                 for kind, label in (("persons", "person mentions"), ("organizations", "organisations"),
                                     ("sites", "site mentions"), ("criteria", "criterion concepts"))]
        written = "".join(f"; {graph} graph {write}" for graph, write in self.writes.items())
        return (", ".join(parts) + f" ({self.junk_person_mentions} placeholders, {self.anonymous_sites} anonymised "
                f"sites, {self.retired_iris} earlier IRIs redirected; {self.quads} quads{written}, "
                f"{self.seconds:.1f} s)")


_PREVIOUS = f"""PREFIX tkg: <{ONTOLOGY}>
SELECT ?m ?c WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{
  {{ ?m tkg:resolvedAs ?c }} UNION {{ ?m tkg:resolvedAgent ?c }} }} }}"""
_PREVIOUS_RETIRED = f"""SELECT ?old ?target WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?old <{OWL}sameAs> ?target }} }}"""


def _previous(store: Store) -> dict[str, set[str]]:
    """IRIs the previous resolution graph published as canonical, with their mentions."""
    members: dict[str, set[str]] = defaultdict(set)
    for mention, canonical in iter_select(store, _PREVIOUS):
        if mention and canonical:
            members[canonical].add(mention)
    for old, target in iter_select(store, _PREVIOUS_RETIRED):
        if old and target and old not in members:
            members[old] |= members.get(target, set())
    return members


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while resolution builds its millions of records.

    Why: each full collection walks every live object, so as the mentions and comparison
    forms grow with the registry so does every collection, and a linear pass turns
    superlinear (15% of the criteria stage at 100,000 studies). The records built here hold
    no reference cycles; reference counting frees them all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def resolve(store: Store, source: TableMentions | StoreMentions | None = None) -> ResolutionReport:
    """Resolve organisations, sites, persons and criteria in ``store``; replace its resolution graph.

    The mentions come from ``source``: by default the mention tables the load wrote
    (:func:`kg.resolve.mention_source.mention_source`), or the store itself when it has none.
    """
    tables = mention_tables(store)
    tables.set_memory_limit(READ_MEMORY_LIMIT)  # the resolvers read; the ranked pairs' joins raise it again
    try:
        with _without_cycle_collection():
            return _resolve(store, mention_source(store) if source is None else source)
    finally:
        tables.set_memory_limit(MEMORY_LIMIT)


def _resolve(store: Store, source: TableMentions | StoreMentions) -> ResolutionReport:
    started = time.perf_counter()
    report = ResolutionReport(source="tables" if isinstance(source, TableMentions) else "store")
    previous = _previous(store)
    graph = DerivedGraphWriter(store, RESOLUTION_GRAPH)
    writer = ResolutionWriter(extraction_time(), sink=graph.add, chunk_lines=CHUNK_LINES)
    writer.header()
    new_of: dict[str, str] = {}  # mention -> canonical, for the previous graph's IRIs

    # Organisations: sponsors, collaborators, affiliations.
    clock = time.perf_counter()
    names = source.organizations()
    ncts = source.ncts()
    sponsors = source.sponsors(ncts)
    affiliations = source.affiliations()
    read_seconds = time.perf_counter() - clock
    usage = Counter(org for orgs in sponsors.values() for org in orgs)
    usage.update(affiliations.values())
    orgs = resolve_organizations(names, usage)
    for surface, canonical in orgs.canonical.items():
        writer.canonical(surface, canonical)
        new_of[surface] = canonical
    for canonical, value in orgs.confidence.items():
        writer.organization(canonical, orgs.names[canonical], value)
    for a, b, score, reasons in orgs.evidence:
        writer.evidence("organization", orgs.canonical[a], a, b, score, reasons)
    report.organizations = KindReport(len(names), len(orgs.confidence), orgs.merged, time.perf_counter() - clock,
                                      read_seconds, orgs.comparisons, peak_rss())

    # Sites, and the organisations that run them. The (trial, site) pairs are streamed from
    # the source each time they are needed, not held: millions at registry scale.
    clock = time.perf_counter()
    places = source.site_places()
    read_seconds = time.perf_counter() - clock  # the pairs are read as they are resolved: not counted here
    sites = resolve_surface_sites(places, source.site_pairs(ncts, places))
    for trial, nct, surface in source.site_pairs(ncts, places):
        writer.trial_site(trial, sites.site_of(nct, surface))
    for surface, canonical in sorted(sites.canonical.items()):
        writer.canonical(surface, canonical)
        new_of[surface] = canonical
    members: dict[str, list[str]] = defaultdict(list)
    for surface, canonical in sorted(sites.canonical.items()):
        members[canonical].append(surface)
    for canonical, surfaces in members.items():
        label = places[canonical]
        writer.site(canonical, surfaces, sites.confidence[canonical], label.facility, label.city, label.country)
    for canonical, surface in sorted(sites.anonymous.items()):
        label = places[surface]
        writer.anonymous_site(canonical, surface, label.facility, label.city, label.country)
    for a, b, score, reasons in sites.evidence:
        writer.evidence("site", sites.canonical[a], a, b, score, reasons)
    read_started = time.perf_counter()
    roles = source.roles(ncts)
    read_seconds += time.perf_counter() - read_started
    trial_orgs: dict[str, set[str]] = defaultdict(set)
    for nct, orgs_of_trial in sponsors.items():
        trial_orgs[iris.trial(nct)] |= orgs_of_trial
    for role in roles:
        if role.role in affiliations:
            trial_orgs[iris.trial(role.trial)].add(affiliations[role.role])
    for site, org in sorted(site_organizations(sites, trial_orgs, orgs.tokens).items()):
        writer.site_organization(site, orgs.canonical.get(org, org))
    del trial_orgs
    report.sites = KindReport(sites.mentions, len(members) + len(sites.anonymous), sites.merged,
                              time.perf_counter() - clock, read_seconds, sites.comparisons, peak_rss())
    report.anonymous_sites = len(sites.anonymous)

    # Persons.
    clock = time.perf_counter()
    canonical_sponsors = {nct: {orgs.canonical.get(o, o) for o in found} for nct, found in sponsors.items()}
    context = PersonContext(
        affiliation_org={r: orgs.canonical.get(o, o) for r, o in affiliations.items()},
        role_site={r.role: sites.site_of(r.trial, r.site) for r in roles if r.site},
        trial_sponsors=canonical_sponsors,
        sponsor_trials=Counter(o for found in canonical_sponsors.values() for o in found),
    )
    people = resolve_persons(roles, context)
    for person in sorted(people.people.values(), key=lambda p: p.iri):
        writer.person(person.iri, person.label, " ".join(person.given), person.family, person.confidence,
                      person.roles)
    for surface, canonical in sorted(people.same_as.items()):
        writer.same_as(surface, canonical)
    for a, b, score, reasons in people.evidence:
        writer.evidence("person", people.role_person[a], a, b, score, reasons)
    new_of.update(people.role_person)
    new_of.update(people.same_as)  # surface person IRIs: linked already, never "retired"
    report.persons = KindReport(len(roles), len(people.people), len(roles) - people.junk - len(people.people),
                                time.perf_counter() - clock, 0.0, people.comparisons,  # roles read with sites
                                peak_rss())
    report.junk_person_mentions = people.junk
    role_person = people.role_person
    del people, context, canonical_sponsors  # written: only who each role is stays, for the ranked pairs

    # Criterion concepts.
    clock = time.perf_counter()
    # Read as it goes (the read time is in the stage's); the working tables go beside the mention
    # tables, on the store's disk, not in a /tmp that may be memory.
    scratch = source.tables.path.parent if isinstance(source, TableMentions) else None
    criteria = resolve_criteria(source.concepts(), workdir=scratch,
                                memo=scratch / FORMS_MEMO if scratch is not None else None)
    for concept in criteria.iris:  # millions: kept out of new_of (criteria answers for them)
        writer.canonical(concept, criteria.canonical.get(concept, concept))
    new_of.update(criteria.canonical)
    for canonical, value in criteria.confidence.items():
        if value < 1.0:
            writer.confidence(canonical, value)
    for a, b, score, reasons in criteria.evidence:
        writer.evidence("criterion", criteria.canonical[a], a, b, score, reasons)
    report.criteria = KindReport(len(criteria.iris), criteria.clusters, criteria.merged,
                                 time.perf_counter() - clock, 0.0, criteria.comparisons, peak_rss())

    # Registry-wide ranked pairs, from the resolved sites, sponsors, principal investigators
    # and exclusion criterion concepts of each trial: what the pair queries join on.
    site_members = ((nct, sites.site_of(nct, surface)) for _, nct, surface in source.site_pairs(ncts, places))
    sponsor_members = ((nct, orgs.canonical.get(o, o)) for nct, found in sponsors.items() for o in found)
    mention_tables(store).set_memory_limit(MEMORY_LIMIT)  # the joins: fewer pairs in less memory
    report.shared_pairs = write_sharing(store, mention_tables(store), {
        "site": site_members, "sponsor": sponsor_members,
        "principal-investigator": _investigator_members(roles, role_person),
        "exclusion-criteria": _exclusion_members(source.exclusions(ncts), criteria.canonical_of)},
        seconds=report.sharing_seconds, writes=report.writes)

    report.retired_iris = _retire(writer, previous, new_of, criteria.canonical_of)
    writer.flush()
    report.writes["resolution"] = graph.close()
    store.flush()
    report.quads = writer.quads
    report.seconds = time.perf_counter() - started
    return report


_PRINCIPAL_INVESTIGATORS = frozenset({"PrincipalInvestigator", "ResponsiblePartyInvestigator"})


def _investigator_members(roles: list[RoleMention], role_person: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """(NCT id, person, via) of each principal investigator role, as shared-principal-investigator joins them.

    A resolved role meets others through its resolved person; a role resolution left out (a
    desk, a placeholder) only through its exact-spelling person node, and only with other
    such roles (the query's fallback branch).
    """
    for role in roles:
        if role.role_type not in _PRINCIPAL_INVESTIGATORS:
            continue
        person = role_person.get(role.role)
        if person is not None:
            yield role.trial, person, ""
        elif role.agent is not None:
            yield role.trial, role.agent, "agent"


def _exclusion_members(rows: Iterable[tuple[str, str]], canonical_of: Callable[[str], str | None]
                       ) -> Iterator[tuple[str, str, str]]:
    """(NCT id, concept, via) of each exclusion criterion, as shared-exclusion-criteria joins them.

    A concept meets others through its resolved concept; one resolution has not covered
    only itself (the query's fallback branch).
    """
    for nct, concept in rows:
        resolved = canonical_of(concept)
        yield (nct, resolved, "") if resolved is not None else (nct, concept, "concept")


def _retire(writer: ResolutionWriter, previous: dict[str, set[str]], new_of: dict[str, str],
            concept_of: Callable[[str], str | None]) -> int:
    """owl:sameAs from IRIs the previous graph published that are no longer canonical.

    ``new_of`` maps each mention to its canonical node except the criterion concepts that
    merged with none (millions at registry scale), which ``concept_of`` answers for.
    """
    current = set(new_of.values())
    count = 0
    for old in sorted(previous):
        if old in current or old in new_of or concept_of(old) is not None:
            continue  # still canonical, or a surface node that links itself
        targets = Counter(target for m in previous[old] if (target := new_of.get(m) or concept_of(m)) is not None)
        if targets:
            writer.retired(old, min(targets, key=lambda c: (-targets[c], c)))
            count += 1
    return count
