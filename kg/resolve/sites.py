"""Sites: one facility in one city, however the trials that run there spell it.

Candidates meet only inside one country and city (city spellings folded: "St. Louis" and
"Saint Louis", "Zhenzhou" and "Zhengzhou"), through keys that hold the spellings of one name
(the same words, the name without spaces, the words with one left out) and through the
name's rarest words while fewer than 16 sites of the city share them: a city's "rehabilitation"
block grows with the registry, a name's spellings do not, so the comparisons per site stay
bounded. :func:`kg.rules.places.facility_score` decides. Two guards keep precision:

* anonymised facilities ("Local Institution", "Investigational Site Number 840042") never
  merge: each trial's mention becomes its own site, even at the same surface key;
* two differently named locations one trial lists separately are two sites, so no chain of
  matches may put them in one cluster.

A resolved site is linked to the organisation that runs it when a sponsor, collaborator or
investigator affiliation of one of its trials names the same institution (the seed pages'
"Fuzhou General Hospital" is sponsor, affiliation and facility at once).

The work is per site node, not per trial that lists it: each node is read once with its
place (:class:`~kg.resolve.mentions.SurfaceSite`), the (trial, site) pairs only to count and
separate the trials of each node, and the resolved site of a pair is computed when asked
(:meth:`SiteResolution.site_of`), not held for millions of pairs.

Example:
    >>> from kg.resolve.mentions import SiteMention, SurfaceSite
    >>> m = [SiteMention("s:1", "Fuzhou General Hospital", "Fuzhou", None, "China", None, None, "t:1", "NCT1"),
    ...      SiteMention("s:2", "Fuzhou General Hospital, Xiamen Univ", "Fuzhou", None, "China", None, None,
    ...                  "t:2", "NCT2")]
    >>> resolve_sites(m).site_of("NCT2", "s:2")
    's:1'
"""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from kg.resolve.cluster import Edge, UnionFind, candidate_pairs, cluster
from kg.resolve.mentions import SiteMention, SurfaceSite
from kg.rules.places import (
    GENERIC,
    NameTokens,
    city_key,
    contains_facility,
    distinctive_tokens,
    facility_score,
    facility_tokens,
    is_anonymous_facility,
    place_words,
)

MAX_BLOCK = 400
WORD_BLOCK = 15  # a rare-word block of more sites than this is left to the name keys
_NAME_KEY = "name|"
_NEAR_KM = 2.0


@dataclass
class SiteResolution:
    canonical: dict[str, str] = field(default_factory=dict)  # named surface site -> canonical
    anonymous: dict[str, str] = field(default_factory=dict)  # canonical (one per trial listing it) -> surface
    surface: Mapping[str, SurfaceSite] = field(default_factory=dict)  # surface site -> its record
    trials: dict[str, tuple[str, ...]] = field(default_factory=dict)  # surface site -> trial IRIs listing it
    confidence: dict[str, float] = field(default_factory=dict)
    evidence: list[tuple[str, str, float, tuple[str, ...]]] = field(default_factory=list)
    places: dict[str, frozenset[str]] = field(default_factory=dict)  # surface -> city/state/country words
    tokens: dict[str, NameTokens] = field(default_factory=dict)  # surface -> facility tokens
    comparisons: int = 0  # pairs of named sites scored: bounded per site by blocking, never all pairs
    mentions: int = 0  # (trial, site) pairs read

    @property
    def merged(self) -> int:
        return sum(1 for surface, canonical in self.canonical.items() if surface != canonical)

    def site_of(self, nct: str, surface: str) -> str:
        """The resolved site of a trial's surface site: the surface itself when resolution never saw the pair."""
        found = self.canonical.get(surface)
        if found is not None:
            return found
        anonymous = _anonymous_iri(surface, nct)
        return anonymous if anonymous in self.anonymous else surface


def _anonymous_iri(surface: str, nct: str) -> str:
    """One trial's own site where its record names an anonymised facility."""
    return f"{surface}/{nct}"


@dataclass(frozen=True, slots=True)
class _Site:
    iri: str
    tokens: NameTokens
    city: str
    state: str
    country: str
    places: frozenset[str]
    lat: float | None
    lon: float | None


def _city_classes(cities: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Spelling variants of one city in one country, mapped to one key ("zhenzhou" -> "zhengzhou").

    Variants must share the first letter and be long enough for a typo to be a typo; the
    comparison runs in C (rapidfuzz ``cdist``) per country and first letter.
    """
    by_letter: dict[tuple[str, str], list[str]] = defaultdict(list)
    for country, city in sorted(cities):
        if len(city) >= 7:
            by_letter[(country, city[0])].append(city)
    out: dict[tuple[str, str], str] = {}
    for (country, _), group in by_letter.items():
        uf = UnionFind(len(group))
        if len(group) > 1:
            scores = process.cdist(group, group, scorer=fuzz.ratio, score_cutoff=88, workers=1)
            for i, j in zip(*scores.nonzero(), strict=True):
                if i < j:
                    uf.union(int(i), int(j))
        for members in uf.groups().values():
            name = min(group[m] for m in members)
            for member in members:
                out[(country, group[member])] = name
    return out


def _name_keys(place: str, name: NameTokens) -> set[str]:
    """Keys shared by spellings of one name in one place, whatever the registry's size.

    The same words in any order, the name written without spaces, and the words with one
    left out (a typo in one word, or one word more: "Fuzhou General Hospital" inside "Fuzhou
    General Hospital Xiamen"), as long as what is left still names a facility (not "hospital
    university", which every "X University Hospital" of a city would share).
    """
    words = sorted(set(name.tokens))
    keys = {f"{_NAME_KEY}{place}|={' '.join(words)}", f"{_NAME_KEY}{place}|~{name.spaceless}"}
    for left_out in words:
        rest = [word for word in words if word != left_out]
        if any(word not in GENERIC and len(word) > 1 for word in rest):
            keys.add(f"{_NAME_KEY}{place}|={' '.join(rest)}")
    return keys


def _km(a: _Site, b: _Site) -> float:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return math.inf
    dlat = math.radians(b.lat - a.lat)
    dlon = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371.0 * math.hypot(dlat, dlon)


def resolve_sites(mentions: Iterable[SiteMention]) -> SiteResolution:
    """:func:`resolve_surface_sites` over mentions as tests and examples write them (one record per pair)."""
    listed = list(mentions)
    sites: dict[str, SurfaceSite] = {}
    for mention in listed:
        sites.setdefault(mention.site, mention)  # the first listing describes the site, as a record's first does
    return resolve_surface_sites(dict(sorted(sites.items())), ((m.trial_iri, m.trial, m.site) for m in listed))


def resolve_surface_sites(sites: Mapping[str, SurfaceSite], pairs: Iterable[tuple[str, str, str]]) -> SiteResolution:
    """Cluster the named surface sites; give each anonymised (trial, site) pair its own site.

    ``sites``: every surface site node, by IRI; ``pairs``: (trial IRI, NCT id, site IRI), read once.
    """
    result = SiteResolution(surface=sites)
    anonymous = {iri for iri, site in sites.items() if is_anonymous_facility(site.facility)}
    listing: dict[str, dict[str, None]] = defaultdict(dict)
    intern = sys.intern  # a trial lists many sites: one string for it, not one per pair
    for trial, nct, surface in pairs:
        if surface not in sites:
            continue
        result.mentions += 1
        listing[surface][intern(trial)] = None
        if surface in anonymous:
            canonical = _anonymous_iri(surface, nct)
            result.anonymous[canonical] = surface
            result.confidence[canonical] = 1.0
    result.trials = {surface: tuple(found) for surface, found in listing.items()}
    del listing
    trials = result.trials
    named: list[_Site] = []
    for iri in sorted(trials):
        record = sites[iri]
        places = place_words(record.city, record.state, record.country)
        result.places[iri] = places
        result.tokens[iri] = facility_tokens(record.facility)
        if iri in anonymous:
            continue
        named.append(_Site(iri, result.tokens[iri], city_key(record.city), city_key(record.state),
                           city_key(record.country), places, record.lat, record.lon))
    cities = _city_classes({(s.country, s.city) for s in named if s.city})
    df: Counter[str] = Counter()
    distinctive = [distinctive_tokens(s.tokens, s.places) for s in named]
    for words in distinctive:
        df.update(words)
    place_keys = [f"{site.country}|{cities.get((site.country, site.city), site.city)}" for site in named]
    for component in _components(named, place_keys):
        _resolve_component(result, [named[i] for i in component], [place_keys[i] for i in component],
                           [distinctive[i] for i in component], df, cities)
    return result


def _geo_key(site: _Site) -> str | None:
    """One name at one spot (two decimals of a degree): spellings of a city ("Boston", "Cambridge") may differ."""
    if site.lat is None or site.lon is None:
        return None
    return f"{_NAME_KEY}geo|{round(site.lat, 2)}|{round(site.lon, 2)}|{site.tokens.key}"


def _components(named: list[_Site], places: list[str]) -> list[list[int]]:
    """The named sites in groups that no blocking key crosses: one city, or cities one spot's name joins.

    Why: every key but the spot's holds the site's country and city, so sites of two groups
    never meet, and resolving one group at a time bounds the keys, blocks and edges held to
    the largest city's (3% of the 560k registry's sites) instead of the registry's, with the
    same answer. Groups come in the order of their first site, each in increasing order.
    """
    place_ids = {place: number for number, place in enumerate(dict.fromkeys(places))}
    joined = UnionFind(len(place_ids))
    spot: dict[str, int] = {}
    for site, place in zip(named, places, strict=True):
        key = _geo_key(site)
        if key is not None:
            joined.union(spot.setdefault(key, place_ids[place]), place_ids[place])
    groups: dict[int, list[int]] = defaultdict(list)
    for index, place in enumerate(places):
        groups[joined.find(place_ids[place])].append(index)
    return list(groups.values())


def _resolve_component(result: SiteResolution, named: list[_Site], places: list[str], distinctive: list[set[str]],
                       df: Counter[str], cities: dict[tuple[str, str], str]) -> None:
    """Block, compare and cluster one group of :func:`_components` into ``result``."""
    trials = result.trials
    keys: dict[int, set[str]] = {}
    for index, site in enumerate(named):
        place = places[index]
        keys[index] = _name_keys(place, site.tokens)
        rare = sorted(distinctive[index], key=lambda t: (df[t], t))[:3]
        keys[index].update(f"{place}|{word}" for word in rare)
        keys[index].update(f"{place}|{word[:4]}*" for word in rare)
        geo = _geo_key(site)
        if geo is not None:
            keys[index].add(geo)
    # A rare word's block holds more sites of a city as the registry grows ("seoul|rehabilitation":
    # 376 at 100,000 studies): only those still small are compared all pairs. The name keys
    # are as small at any size, since they hold one name's spellings.
    sizes = Counter(key for found in keys.values() for key in found)
    for found in keys.values():
        found -= {key for key in found if sizes[key] > WORD_BLOCK and not key.startswith(_NAME_KEY)}
    edges: list[Edge] = []
    for a, b in candidate_pairs(keys, MAX_BLOCK):
        result.comparisons += 1
        edge = _site_edge(named[a], named[b], a, b, cities)
        if edge is not None:
            edges.append(edge)

    def compatible(left: list[int], right: list[int]) -> bool:
        seen = {trial for i in left for trial in trials[named[i].iri]}
        return not any(not seen.isdisjoint(trials[named[j].iri]) for j in right)

    uf, used = cluster(len(named), edges, compatible)
    for members in uf.groups().values():
        best = min(members, key=lambda m: (-len(trials[named[m].iri]), len(named[m].tokens.tokens), named[m].iri))
        canonical = named[best].iri
        for member in members:
            result.canonical[named[member].iri] = canonical
        result.confidence[canonical] = 1.0
    for edge in used:
        root = result.canonical[named[edge.a].iri]
        result.confidence[root] = min(result.confidence[root], edge.score)
        result.evidence.append((named[edge.a].iri, named[edge.b].iri, edge.score, edge.evidence))


def _site_edge(a: _Site, b: _Site, ia: int, ib: int, cities: dict[tuple[str, str], str]) -> Edge | None:
    if a.country != b.country:
        return None
    same_city = cities.get((a.country, a.city), a.city) == cities.get((b.country, b.city), b.city)
    near = _km(a, b) <= _NEAR_KM
    if not (same_city or (near and a.tokens.key == b.tokens.key)):
        return None
    if a.state and b.state and a.state != b.state:
        return None
    score = facility_score(a.tokens, b.tokens, a.places | b.places)
    if not score:
        return None
    evidence = ["same city" if same_city else "within 2 km",
                {1.0: "same name", 0.9: "near-identical name"}.get(score, "one name contains the other")]
    return Edge(score, ia, ib, tuple(evidence))


def site_organizations(sites: SiteResolution, trial_orgs: dict[str, set[str]], org_tokens: dict[str, NameTokens]
                       ) -> dict[str, str]:
    """Canonical site -> surface organisation that runs it, when a trial's organisation names it.

    Only organisations that share a distinctive word with the facility are compared (an
    index, not every organisation of every trial at the site: one trial can list a
    thousand sites and as many affiliations).
    """
    index: dict[str, set[str]] = defaultdict(set)
    for org, tokens in org_tokens.items():
        for word in distinctive_tokens(tokens, frozenset()):
            index[word].add(org)
    out: dict[str, tuple[float, str]] = {}
    for surface, canonical in sorted(sites.canonical.items()):
        facility = sites.tokens[surface]
        places = sites.places[surface]
        words = sorted(distinctive_tokens(facility, places), key=lambda w: (len(index.get(w, ())), w))[:2]
        near = set().union(*(index.get(w, set()) for w in words))
        if not near:
            continue
        related = set().union(*(trial_orgs.get(t, set()) for t in sites.trials.get(surface, ())))
        for org in sorted(near & related):
            tokens = org_tokens[org]
            score = 1.0 if tokens.tokens == facility.tokens else (
                0.8 if contains_facility(tokens, facility, places) or contains_facility(facility, tokens, places)
                else 0.0)
            if score and (canonical not in out or (-score, org) < (-out[canonical][0], out[canonical][1])):
                out[canonical] = (score, org)
    return {site: org for site, (_, org) in out.items()}
