"""Persons: which role mentions, across trials, name one investigator.

A name alone does not identify a person ("David M. King" may be two people; "J. Tan" may be
Jianming Tan), so two mentions merge when their names are compatible and the evidence adds
up: a score from the names (the same spelling scores more than an initial against a full
name) plus the context they share, each kind counted once:

===================================  ======
same trial (two roles of one record)   4.0
same affiliation (resolved org)        2.5
same site (resolved site)              2.5
shared co-investigator (an official)   2.0
distinctive word of the affiliation    1.5
shared sponsor (officials only)        1.5, 0.75 for sponsors of many trials
===================================  ======

Mentions merge when the total reaches 3.0. Mentions never meet all pairs, nor all pairs of
a name block: inside one spelling they meet through shared evidence, across spellings
only inside a bucket of one blocking key (:func:`kg.rules.person_names.blocking_keys`) and one
piece of evidence, so the work stays linear in the number of mentions. A cluster
never joins names that are incompatible with each other, whatever chain of matches links
them. Placeholders ("Medical Director") resolve to no person.

Example:
    >>> from kg.resolve.mentions import RoleMention
    >>> roles = [RoleMention("r:1", "NCT01374854", "PrincipalInvestigator", "Jianming Tan, professor",
    ...                      "Fuzhou General Hospital", None, None),
    ...          RoleMention("r:2", "NCT01719640", "ResponsiblePartyInvestigator", "Jianming Tan",
    ...                      "Fuzhou General Hospital", None, None)]
    >>> result = resolve_persons(roles, PersonContext())
    >>> result.role_person["r:1"] == result.role_person["r:2"], result.people[result.role_person["r:1"]].label
    (True, 'Jianming Tan')
"""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from kg.rdf import iris
from kg.resolve.cluster import Edge, cluster
from kg.resolve.mentions import RoleMention
from kg.rules.person_names import PersonName, blocking_keys, name_similarity, parse_person_name
from kg.rules.persons import person_key
from kg.rules.places import GENERIC, facility_tokens, organization_core

THRESHOLD = 3.0
WEIGHTS = {"trial": 4.0, "aff": 2.5, "site": 2.5, "coinv": 2.0, "affword": 1.5, "sponsor": 1.5}
BUSY_SPONSOR = 200  # a sponsor of more trials than this says less about who its officials are
MAX_NAME_SCORE = 2.0  # what two compatible spellings can score at most, before evidence
MENTIONS_PER_SPELLING = 3  # compared per spelling in one evidence bucket
MAX_COINVESTIGATORS = 30
_SITE_ROLES = frozenset({"SiteInvestigator", "SubInvestigator"})


@dataclass
class PersonContext:
    """What other stages know about the mentions' context (all optional)."""

    affiliation_org: dict[str, str] = field(default_factory=dict)  # role IRI -> canonical org
    role_site: dict[str, str] = field(default_factory=dict)  # role IRI -> canonical site
    trial_sponsors: dict[str, set[str]] = field(default_factory=dict)  # NCT id -> canonical orgs
    sponsor_trials: dict[str, int] = field(default_factory=dict)  # canonical org -> number of trials


@dataclass
class Person:
    iri: str
    label: str
    given: tuple[str, ...]
    family: str
    confidence: float
    roles: list[str]


@dataclass
class PersonResolution:
    role_person: dict[str, str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    same_as: dict[str, str] = field(default_factory=dict)  # surface person IRI -> canonical
    junk: int = 0
    evidence: list[tuple[str, str, float, tuple[str, ...]]] = field(default_factory=list)
    comparisons: int = 0  # pairs of mentions or spellings scored: bounded per mention, never all pairs


def _exact_score(name: PersonName) -> float:
    """What the same spelling is worth: a full given name says more than initials."""
    if name.has_full_given:
        return 2.0
    return 1.2 if name.given else 0.5


def _confidence(score: float) -> float:
    return round(1 - math.exp(-score / 2), 3)


def _evidence_tokens(mentions: list[RoleMention], names: list[PersonName], context: PersonContext
                     ) -> list[dict[str, float]]:
    """Each mention's evidence tokens with their weights."""
    df: Counter[str] = Counter()
    aff_words: list[list[str]] = []
    for mention in mentions:
        words = [w for w in set(facility_tokens(mention.affiliation or "").tokens) if w not in GENERIC and len(w) > 3]
        aff_words.append(words)
        df.update(words)
    officials: dict[str, list[str]] = defaultdict(list)
    for mention, name in zip(mentions, names, strict=True):
        if mention.role_type not in _SITE_ROLES and len(officials[mention.trial]) < MAX_COINVESTIGATORS:
            officials[mention.trial].append(name.key)
    out: list[dict[str, float]] = []
    # Many mentions hold one token (a trial's, a sponsor's, a site's): one string each, not one per mention.
    intern = sys.intern
    for index, (mention, name) in enumerate(zip(mentions, names, strict=True)):
        tokens: dict[str, float] = {intern(f"trial|{mention.trial}"): WEIGHTS["trial"]}
        org = context.affiliation_org.get(mention.role)
        if org:
            tokens[intern(f"aff|{org}")] = WEIGHTS["aff"]
        elif mention.affiliation:
            tokens[intern(f"aff|{organization_core(mention.affiliation)}")] = WEIGHTS["aff"]
        for word in sorted(aff_words[index], key=lambda w: (df[w], w))[:2]:
            tokens[intern(f"affword|{word}")] = WEIGHTS["affword"]
        site = context.role_site.get(mention.role)
        if site:
            tokens[intern(f"site|{site}")] = WEIGHTS["site"]
        if mention.role_type not in _SITE_ROLES:
            for sponsor in sorted(context.trial_sponsors.get(mention.trial, ())):
                busy = context.sponsor_trials.get(sponsor, 0) > BUSY_SPONSOR
                tokens[intern(f"sponsor|{sponsor}")] = WEIGHTS["sponsor"] / (2 if busy else 1)
        for other in officials.get(mention.trial, ()):
            if other != name.key:
                tokens[intern(f"coinv|{other}")] = WEIGHTS["coinv"]
        out.append(tokens)
    return out


def _shared(left: dict[str, float], right: dict[str, float]) -> tuple[float, tuple[str, ...]]:
    """The evidence two mentions share: the strongest token of each kind, summed."""
    best: dict[str, float] = {}
    for token, weight in left.items():
        if token in right:
            kind = token.split("|", 1)[0]
            best[kind] = max(best.get(kind, 0.0), min(weight, right[token]))
    return sum(best.values()), tuple(sorted(best))


def resolve_persons(mentions: list[RoleMention], context: PersonContext) -> PersonResolution:
    """Cluster role mentions into persons; mint each person's IRI from its fullest name."""
    result = PersonResolution()
    kept: list[RoleMention] = []
    names: list[PersonName] = []
    for mention in mentions:
        name = parse_person_name(mention.name)
        if name is None or not name.family:
            result.junk += 1
            continue
        kept.append(mention)
        names.append(name)
    tokens = _evidence_tokens(kept, names, context)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        groups[name.key].append(index)
    same, same_compared = _same_spelling_edges(groups, names, tokens)
    compatible_edges, compatible_compared = _compatible_spelling_edges(groups, names, tokens)
    del tokens  # the evidence tokens (a dict per mention) are in the edges now: free them before clustering
    edges = same + compatible_edges
    result.comparisons = same_compared + compatible_compared
    similarity: dict[tuple[str, str], float] = {}

    def compatible(left: list[int], right: list[int]) -> bool:
        for ka in {names[i].key for i in left}:
            for kb in {names[j].key for j in right}:
                pair = (ka, kb) if ka <= kb else (kb, ka)
                if pair not in similarity:
                    first = next(i for i in left + right if names[i].key == pair[0])
                    second = next(j for j in left + right if names[j].key == pair[1])
                    similarity[pair] = name_similarity(names[first], names[second])
                if similarity[pair] <= 0:
                    return False
        return True

    uf, used = cluster(len(kept), edges, compatible)
    _collect(result, uf.groups(), kept, names, used)
    return result


def _same_spelling_edges(groups: dict[str, list[int]], names: list[PersonName], tokens: list[dict[str, float]]
                         ) -> tuple[list[Edge], int]:
    """Mentions of one spelling meet through shared evidence tokens (no pairwise comparison).

    Returns the edges and the number of mention pairs scored.
    """
    edges: list[Edge] = []
    reasons: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per kind of evidence, not per edge
    compared = 0
    for members in groups.values():
        exact = _exact_score(names[members[0]])
        holder: dict[str, int] = {}
        for index in members:
            for token, weight in tokens[index].items():
                if exact + weight < THRESHOLD:
                    continue
                first = holder.setdefault(token, index)
                if first != index:
                    compared += 1
                    score, kinds = _shared(tokens[first], tokens[index])
                    evidence = ("same name", *kinds)
                    edges.append(Edge(exact + score, first, index, reasons.setdefault(evidence, evidence)))
    return edges, compared


def _compatible_spelling_edges(groups: dict[str, list[int]], names: list[PersonName],
                               tokens: list[dict[str, float]]) -> tuple[list[Edge], int]:
    """Different spellings that can be one name ("J. Tan", "Jianming Tan") with enough evidence.

    Two spellings' mentions can merge only when they share a name blocking key and a piece
    of evidence that could reach the threshold with the best name score, so mentions are
    indexed by (blocking key, evidence token) and compared only inside one such bucket. A
    bucket grows with the similar names that share one trial, affiliation, site, sponsor or
    co-investigator, not with the similar names in the registry ("smith j" blocks hold
    hundreds of spellings at registry scale): at 100,000 synthetic studies, blocks alone
    gave 81 candidate pairs per spelling, against 2 at 10,000. Inside a bucket each pair of
    compatible spellings is compared through its first few mentions: the others of a
    spelling share the same evidence with those and are joined to them by
    :func:`_same_spelling_edges`. Returns the edges and the number of spelling and mention
    pairs scored.
    """
    # The buckets are made one evidence token at a time, from an index of the mentions holding
    # each token: holding every (blocking key, token) bucket at once took ~4.6 KB per mention
    # (a tuple key and a list per blocking key and token). A bucket's members keep the order
    # they had (spelling, then mention), so the same pairs are compared and the same edges found.
    holders: dict[str, list[int]] = defaultdict(list)
    block_keys: dict[str, list[str]] = {}
    # Spellings by number, in the order of their keys, so a pair of spellings is one int:
    # at registry scale millions of spelling pairs are scored, and a (key, key) tuple per
    # pair held ~300 bytes each (1.4 GB of the 560k persons stage) against ~70 for an int.
    spelling_of = [0] * len(names)
    for number, key in enumerate(sorted(groups)):
        members = groups[key]
        block_keys[key] = sorted(blocking_keys(names[members[0]]))
        for index in members:
            spelling_of[index] = number
            for token, weight in tokens[index].items():
                if weight + MAX_NAME_SCORE >= THRESHOLD:
                    holders[token].append(index)
    spelling_count = len(groups)
    similarity: dict[int, float] = {}  # spelling pair (a * count + b, a < b) -> name similarity
    values: dict[float, float] = {}  # one float object per distinct similarity (they are rounded: few)
    seen: set[int] = set()  # mention pairs compared, as one int each (index * count + other, index < other)
    count = len(names)
    reasons: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per kind of evidence, not per edge
    edges: list[Edge] = []
    compared = 0
    for bucket in _buckets(holders, block_keys, names):
        spellings: dict[int, list[int]] = defaultdict(list)
        for index in bucket:
            if len(spellings[spelling_of[index]]) < MENTIONS_PER_SPELLING:
                spellings[spelling_of[index]].append(index)
        if len(spellings) < 2:
            continue
        ordered = sorted(spellings)
        for position, spelling_a in enumerate(ordered):
            for spelling_b in ordered[position + 1:]:
                pair_key = spelling_a * spelling_count + spelling_b
                found = similarity.get(pair_key)
                if found is None:
                    compared += 1
                    value = name_similarity(names[spellings[spelling_a][0]], names[spellings[spelling_b][0]])
                    found = similarity[pair_key] = values.setdefault(value, value)
                name_score = MAX_NAME_SCORE * found
                if name_score <= 0:
                    continue
                for index in spellings[spelling_a]:
                    for other in spellings[spelling_b]:
                        pair = index * count + other if index < other else other * count + index
                        if pair in seen:
                            continue
                        seen.add(pair)
                        compared += 1
                        score, kinds = _shared(tokens[index], tokens[other])
                        if name_score + score >= THRESHOLD:
                            evidence = ("compatible name", *kinds)
                            edges.append(Edge(round(name_score + score, 4), index, other,
                                              reasons.setdefault(evidence, evidence)))
    return edges, compared


def _buckets(holders: dict[str, list[int]], block_keys: dict[str, list[str]], names: list[PersonName]
             ) -> Iterator[list[int]]:
    """The mentions of each (blocking key, evidence token) bucket with two spellings or more."""
    for held in holders.values():
        first = names[held[0]].key
        if all(names[index].key == first for index in held):
            continue  # one spelling: nothing to compare across spellings
        by_block: dict[str, list[int]] = defaultdict(list)
        for index in held:
            for block in block_keys[names[index].key]:
                by_block[block].append(index)
        yield from by_block.values()


def _collect(result: PersonResolution, groups: dict[int, list[int]], kept: list[RoleMention],
             names: list[PersonName], used: list[Edge]) -> None:
    weakest: dict[int, float] = {}
    for edge in used:
        for member in (edge.a, edge.b):
            weakest[member] = min(weakest.get(member, math.inf), edge.score)
    claims: dict[str, list[tuple[int, str, list[int]]]] = defaultdict(list)
    for members in groups.values():
        counts = Counter(names[m].key for m in members)
        best = max(members, key=lambda m: (sum(len(g) > 1 for g in names[m].given), len(names[m].given),
                                           counts[names[m].key], names[m].key))
        key = person_key(kept[best].name) or names[best].key
        anchor = min(kept[m].role for m in members)
        claims[iris.resource("person", key)].append((len(members), anchor, members))
    for iri, claimants in claims.items():
        claimants.sort(key=lambda c: (-c[0], c[1]))
        for rank, (_, anchor, members) in enumerate(claimants):
            person_iri = iri if rank == 0 else f"{iri}/{iris.text_hash(anchor, 8)}"
            scores = [weakest[m] for m in members if m in weakest]
            best = max(members, key=lambda m: (sum(len(g) > 1 for g in names[m].given), len(names[m].given),
                                               names[m].key))
            name = names[best]
            confidence = _confidence(min(scores)) if scores else (1.0 if name.has_full_given else 0.6)
            roles = sorted(kept[m].role for m in members)
            result.people[person_iri] = Person(person_iri, name.display, name.given, name.family, confidence, roles)
            for member in members:
                result.role_person[kept[member].role] = person_iri
    surfaces: dict[str, set[str]] = defaultdict(set)
    for mention in kept:
        if mention.agent:
            surfaces[mention.agent].add(result.role_person[mention.role])
    for surface, canonicals in surfaces.items():
        if len(canonicals) == 1 and surface not in canonicals:
            result.same_as[surface] = next(iter(canonicals))
    for edge in used:
        result.evidence.append((kept[edge.a].role, kept[edge.b].role, _confidence(edge.score), edge.evidence))
