"""Which of a trial's investigators wrote its publications: scored links with their evidence.

Why: "which investigators publish the trials they run" needs the registry's people
("Jianming Tan, professor", principal investigator) joined to the author lists of the
trial's publications ("Tan J", last of 13 authors). Names alone are weak evidence (there
are many "Wang J"), so each link carries a confidence and the reasons for it.

How (linear in the data, never investigators x authors across the registry):

1. Rows from the mention tables the load wrote (or, for a store without them, SPARQL over
   the store; :mod:`kg.resolve.authorship_rows`): the trial-publication pairs (the
   registration's references and the PubMed records' databank/abstract links, with their
   kinds), the author list of every such publication (one row per place: family name,
   initials, given names, affiliations), and the investigators of every trial that has
   publications (people in any role: principal investigators, responsible-party
   investigators, officials, site investigators, with role types and affiliations). What
   several record graphs state of one node is merged here, by one rule per value.
2. Python blocking: per trial, investigators are indexed by folded family name (both
   readings of a name, "Jianming Tan" and family-first "Tan Jianming"); each author is
   compared only with the investigators in its block.
3. Scoring (:func:`score_pair`): compatible names are required (family names equal after
   folding; given names equal, or initials compatible); then the link kind (result,
   derived and PubMed-side links are the trial's own papers; a background reference is
   somebody else's), the investigator's role, the author position (first, last) and
   affiliation overlap add up to a confidence in [0, 1). An investigator who fits two
   places in one author list, or a place that fits two investigators, is ambiguous: the
   confidence is divided among them.

The links are written into their own named graph with PROV-O (:mod:`kg.rdf.emit_links`),
replacing the previous run's. The ``investigator-authors`` query reads them.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> _ = build(["examples"], store)
    >>> report = link_investigators_to_authors(store)
    >>> report.links
    2
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kg.rdf.emit_links import INVESTIGATOR_AUTHOR_GRAPH, AuthorLink, link_lines
from kg.rdf.iris import resource
from kg.rdf.namespaces import PUBMED
from kg.rdf.provenance import extraction_time
from kg.resolve.authorship_rows import AuthorRows, author_rows
from kg.rules.authors import family_candidates, fold, initials_compatible, initials_of
from kg.store.base import Store
from kg.store.derived_graphs import line_chunks, write_derived

__all__ = ["LinkReport", "link_investigators_to_authors", "score_pair"]

MIN_CONFIDENCE = 0.3
METHOD = (
    "Investigators (tkg:Role agents) of each trial compared with the authors of the trial's publications "
    "(registration references and PubMed databank/abstract links), blocked by folded family name; names must be "
    "compatible (given names equal or initials compatible); confidence adds link kind, role, author position "
    "and affiliation overlap, divided when a name fits several places; links below "
    f"{MIN_CONFIDENCE} are dropped. trialkg kg.resolve.authorship."
)
# Evidence weights. The name is necessary, never sufficient: a principal investigator who
# is the last author of the trial's results paper with the right initials gets ~0.85.
_KIND_WEIGHT = {"result": 0.2, "derived": 0.2, "databank": 0.2, "abstract": 0.15, "reference": 0.1,
                "background": 0.0}
_ROLE_WEIGHT = {"PrincipalInvestigator": 0.1, "ResponsiblePartyInvestigator": 0.1, "StudyChair": 0.1,
                "StudyDirector": 0.05}
_WORDS = re.compile(r"[a-z0-9]{3,}")
_STOP = frozenset("the and for with from department dept division university hospital school medicine medical "
                  "center centre institute faculty college clinical research".split())


@dataclass(frozen=True, slots=True)
class Investigator:
    person: str
    name: str
    roles: tuple[str, ...]
    role_types: tuple[str, ...]
    affiliations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorPlace:
    publication: str
    authorship: str
    family: str
    initials: str
    given: str
    position: int
    affiliations: tuple[str, ...]


@dataclass
class LinkReport:
    """What one linking run did (the CLI prints it; tests and notebooks read it)."""

    graph: str = INVESTIGATOR_AUTHOR_GRAPH
    trials: int = 0
    publications: int = 0
    investigators: int = 0
    authorships: int = 0
    comparisons: int = 0
    links: int = 0
    seconds: float = 0.0
    source: str = ""  # where the rows came from: "tables" (the mention tables) or "store" (SPARQL)
    links_by_kind: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for people: what was linked, by kind of reference, and how long it took."""
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.links_by_kind.items()))
        return (f"{self.links} links between {self.investigators} investigators and {self.authorships} "
                f"authorships of {self.publications} publications of {self.trials} trials"
                f"{' (' + kinds + ')' if kinds else ''}, {self.seconds:.1f} s")


def link_investigators_to_authors(store: Store, min_confidence: float = MIN_CONFIDENCE,
                                  rows: AuthorRows | None = None) -> LinkReport:
    """Compute the investigator-author links of the whole store and replace the links graph.

    ``rows`` is where the links, authors and investigators are read (default: the store's
    mention tables when complete, else the store).

    Example:
        >>> link_investigators_to_authors(open_store("kg-store")).links  # doctest: +SKIP
        2
    """
    started_clock = time.perf_counter()
    started = extraction_time()
    source = rows if rows is not None else author_rows(store)
    report = LinkReport(source=source.source)
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for t, pub, kind in source.links():
        if t and pub and kind:
            pairs[(t, pub)].add(kind)
    authors = _author_places(source.authors())
    investigators = _investigators(source.investigators())
    report.trials = len({t for t, _ in pairs})
    report.publications = len({pub for _, pub in pairs})
    report.investigators = sum(len(people) for people in investigators.values())
    report.authorships = sum(len(places) for places in authors.values())
    by_trial: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)
    for (t, pub), kinds in sorted(pairs.items()):
        by_trial[t].append((pub, kinds))
    links: list[AuthorLink] = []
    for t, publications in by_trial.items():
        block = _block(investigators.get(t, []))
        for pub, kinds in publications:
            places = authors.get(pub, [])
            found, compared = _match_publication(t, places, block, kinds, _author_count(places))
            report.comparisons += compared
            links.extend(link for link in found if link.confidence >= min_confidence)
    links.sort(key=lambda link: link.iri)
    for link in links:
        kind = next((e.split()[-1] for e in link.evidence if e.startswith("publication linked as")), "")
        report.links_by_kind[kind] = report.links_by_kind.get(kind, 0) + 1
    activity = resource("linking", "investigator-author", started)
    write_derived(store, INVESTIGATOR_AUTHOR_GRAPH, line_chunks(link_lines(links, activity, started, METHOD,
                                                                           extraction_time())))
    store.flush()
    report.links = len(links)
    report.seconds = time.perf_counter() - started_clock
    return report


def _author_places(rows: Iterable[tuple[Any, ...]]) -> dict[str, list[AuthorPlace]]:
    """Per publication, its places in the author list, merged over the graphs that state them.

    Whatever order the rows come in: the smallest family name and position, the longest
    initials (the smallest of equally long ones), the smallest given names, every affiliation.
    """
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for pub, authorship, family, position, initials, given, affiliation in rows:
        if not (pub and authorship and family):
            continue
        entry = merged.setdefault((pub, authorship), {"family": family, "position": 0, "initials": "",
                                                      "given": "", "affiliations": set()})
        entry["family"] = min(entry["family"], family)
        if position and (not entry["position"] or int(position) < entry["position"]):
            entry["position"] = int(position)
        if initials and (-len(initials), initials) < (-len(entry["initials"]), entry["initials"]):
            entry["initials"] = initials
        if given and (not entry["given"] or given < entry["given"]):
            entry["given"] = given
        if affiliation:
            entry["affiliations"].add(affiliation)
    places: dict[str, list[AuthorPlace]] = defaultdict(list)
    for (pub, authorship), entry in sorted(merged.items()):
        places[pub].append(AuthorPlace(pub, authorship, entry["family"], entry["initials"], entry["given"],
                                       entry["position"], tuple(sorted(entry["affiliations"]))))
    return places


def _investigators(rows: Iterable[tuple[Any, ...]]) -> dict[str, list[Investigator]]:
    """Per trial, one Investigator per person (all their roles in that trial together)."""
    roles: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    affiliations: dict[tuple[str, str], set[str]] = defaultdict(set)
    names: dict[tuple[str, str], str] = {}
    for t, person, role, role_type, name, affiliation in rows:
        if not (t and person and role and name):
            continue
        key = (t, person)
        roles[key].add((role, (role_type or "").rsplit("#", 1)[-1]))
        if affiliation:
            affiliations[key].add(affiliation)
        names[key] = min(names.get(key, name), name)
    result: dict[str, list[Investigator]] = defaultdict(list)
    for (t, person), held in sorted(roles.items()):
        ordered = sorted(held)
        result[t].append(Investigator(person, names[(t, person)], tuple(role for role, _ in ordered),
                                      tuple(kind for _, kind in ordered),
                                      tuple(sorted(affiliations.get((t, person), ())))))
    return result


def _block(investigators: list[Investigator]) -> dict[str, list[tuple[Investigator, str, bool]]]:
    """Folded family name -> (investigator, given names in that reading, family-first reading?)."""
    block: dict[str, list[tuple[Investigator, str, bool]]] = defaultdict(list)
    for investigator in investigators:
        for index, (family, given) in enumerate(family_candidates(investigator.name)):
            block[fold(family)].append((investigator, given, index > 0))
    return block


def _author_count(places: list[AuthorPlace]) -> int:
    return max((place.position for place in places), default=0)


def _match_publication(trial: str, places: list[AuthorPlace], block: dict[str, list[tuple[Investigator, str, bool]]],
                       kinds: set[str], author_count: int) -> tuple[list[AuthorLink], int]:
    """Scored candidate links of one trial-publication pair, ambiguity shared out."""
    scored: list[tuple[Investigator, AuthorPlace, float, list[str]]] = []
    compared = 0
    for place in places:
        for investigator, given, family_first in block.get(fold(place.family), ()):
            compared += 1
            result = score_pair(investigator, given, family_first, place, kinds, author_count)
            if result is not None:
                scored.append((investigator, place, *result))
    places_per_person: dict[str, set[str]] = defaultdict(set)
    people_per_place: dict[str, dict[str, str]] = defaultdict(dict)
    for investigator, place, _score, _evidence in scored:
        places_per_person[investigator.person].add(place.authorship)
        people_per_place[place.authorship][investigator.person] = investigator.name
    best: dict[tuple[str, str], AuthorLink] = {}
    for investigator, place, score, evidence in scored:
        people = _distinct_people(people_per_place[place.authorship].values())
        share = max(len(places_per_person[investigator.person]), people)
        if share > 1:
            score /= share
            evidence = [*evidence, f"ambiguous: the name fits {share} candidates, confidence shared"]
        pmid = place.publication[len(PUBMED):] if place.publication.startswith(PUBMED) else None
        link = AuthorLink(trial, investigator.person, investigator.roles, place.authorship, place.publication,
                          round(min(score, 0.99), 3), tuple(evidence), person_name=investigator.name,
                          role_types=investigator.role_types, author_name=f"{place.family} {place.initials}".strip(),
                          position=place.position or None, pmid=pmid)
        key = (investigator.person, place.authorship)
        if key not in best or best[key].confidence < link.confidence:
            best[key] = link
    return list(best.values()), compared


def _distinct_people(names: Iterable[str]) -> int:
    """How many different people a set of registry names (same family name) can be.

    Registrations often state one person twice with different keys ("Ulrich J Spreng" as
    principal investigator, "Ulrich Johannes Spreng" as responsible party; "Lashmi" and
    "lashmikumar"): first given names where one starts with the other are one person.
    """
    firsts: list[str] = []
    for name in sorted(names):
        readings = family_candidates(name)
        given = fold(readings[0][1]).split() if readings else []
        first = given[0] if given else ""
        if not any(first.startswith(seen) or seen.startswith(first) for seen in firsts):
            firsts.append(first)
    return max(len(firsts), 1)


def score_pair(investigator: Investigator, given: str, family_first: bool, place: AuthorPlace, kinds: set[str],
               author_count: int) -> tuple[float, list[str]] | None:
    """The confidence and evidence that ``investigator`` holds ``place``, or None when the names conflict.

    ``given`` is the investigator's given names in the reading whose family name matched
    the author's (blocking guarantees the family names fold equal).
    """
    evidence = [f"family name {place.family} equal" + (" (registry name read family-first)" if family_first else "")]
    score = -0.05 if family_first else 0.0
    name_score = _given_name_score(given, place, evidence)
    if name_score is None:
        return None
    score += name_score
    kind = max(kinds, key=lambda k: _KIND_WEIGHT.get(k, 0.0))
    score += _KIND_WEIGHT.get(kind, 0.0)
    evidence.append(f"publication linked as {kind}")
    role = max(investigator.role_types, key=lambda r: _ROLE_WEIGHT.get(r, 0.0), default="")
    if _ROLE_WEIGHT.get(role):
        score += _ROLE_WEIGHT[role]
        evidence.append(f"investigator is {role}")
    if author_count > 1 and place.position == author_count:
        score += 0.1
        evidence.append(f"last author of {author_count}")
    elif place.position == 1:
        score += 0.05
        evidence.append(f"first author of {author_count}")
    overlap, shared = _affiliation_overlap(investigator.affiliations, place.affiliations)
    if overlap > 0:
        score += 0.15 * overlap
        evidence.append(f"affiliation overlap {overlap:.2f} ({', '.join(shared)})")
    return max(score, 0.0), evidence


def _given_name_score(given: str, place: AuthorPlace, evidence: list[str]) -> float | None:
    """Name evidence beyond the family name; None when given names or initials conflict."""
    if not given:
        evidence.append("investigator's given name unknown")
        return 0.2
    mine, theirs = fold(given).split(), fold(place.given).split()
    if mine and theirs:
        if "".join(mine) == "".join(theirs):
            evidence.append(f"given name {place.given} equal")
            return 0.55
        if mine[0] == theirs[0]:
            evidence.append(f"first given name {place.given.split()[0]} equal")
            return 0.5
        if len(mine[0]) > 1 and len(theirs[0]) > 1:
            return None  # two spelled-out given names that differ: two people
    initials = place.initials or initials_of(place.given)
    expected = initials_of(given)
    if not initials:
        evidence.append("author initials unknown")
        return 0.25
    if not initials_compatible(expected, initials):
        return None
    if expected == initials.upper():
        evidence.append(f"initials {initials} agree with given name {given}")
        return 0.45
    evidence.append(f"initials {initials} compatible with given name {given} (one has more initials)")
    return 0.35


def _affiliation_overlap(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[float, list[str]]:
    """The best word overlap (Jaccard of content words) between two affiliation lists."""
    best, shared = 0.0, []
    for a in mine:
        words_a = set(_WORDS.findall(fold(a))) - _STOP
        for b in theirs:
            words_b = set(_WORDS.findall(fold(b))) - _STOP
            if words_a and words_b:
                common = words_a & words_b
                value = len(common) / len(words_a | words_b)
                if value > best:
                    best, shared = value, sorted(common)
    return round(best, 2), shared
