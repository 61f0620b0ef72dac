"""Pools of shared entities (people, organisations, sites, criteria, references) with Zipf popularity.

Why: the questions the graph answers (who shares a PI, a site, a sponsor, an exclusion criterion)
only get realistic cost and realistic answers if entities recur the way they do in the registry:
a few investigators run many trials, most run one; a few boilerplate criteria ("Pregnancy") appear
everywhere. Each pool has ``size`` members ranked by popularity; a *shared* draw picks rank ``r``
with Zipf weight ``(r + 1 + q) ** -1.1`` (the offset ``q`` tempers only the head), a *fresh* draw
takes the next never-used member (a one-off: a trial-specific criterion, a first-time investigator).
Members are synthesised from their index alone (real head first, then recombinations of real
tokens), so a pool of a million members costs one cumulative-weight array, not a million strings,
and member ``i`` is the same in every study.

Example:
    >>> import random
    >>> from benchmarks.synthetic.corpus import load_corpus
    >>> pools = Pools(5000, seed=42, corpus=load_corpus())
    >>> pools.exclusion.member(0)  # the most frequent real exclusion criterion leads its pool
    'Pregnancy'
    >>> pools.persons.member(7) == pools.persons.member(7)  # members are functions of their index
    True
    >>> rng = random.Random(42)
    >>> len({pools.persons.pick(rng) for _ in range(1000)}) < 1000  # shared draws repeat
    True
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from benchmarks.synthetic.corpus import Corpus
from benchmarks.synthetic.zipf import Permutation, WeightedChoice, ZipfSampler, mix, unit

T = TypeVar("T")
_HEAD = 4096
_BITS21 = (1 << 21) - 1
PMID_BASE = 90_000_000  # synthetic PMIDs sit far above real ones (about 40 million in 2025)
# Clauses that real criteria append to a condition; the variants of a real criterion use them.
_TIMED = ("within the past {n} months", "within {n} weeks before screening", "in the last {n} days",
          "within {n} days prior to randomization", "for at least {n} weeks", "during the previous {n} years",
          "within {n} months of enrollment", "in the {n} weeks before the baseline visit")
_PLAIN = ("as judged by the investigator", "in the opinion of the investigator", "at screening",
          "at the screening visit", "confirmed by imaging", "that could interfere with study participation",
          "requiring treatment", "per medical history", "according to the investigator",
          "that may affect the study results", "documented in the medical record", "at baseline")
_SUFFIXES = tuple(q.format(n=n) for q in _TIMED for n in range(2, 62)) + _PLAIN
_DOI = re.compile(r"\s*doi:\s*\S+|\s*Epub [^.]*\.|\s*PMID:\s*\d+\.?", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-2]\d)\b")


@dataclass(frozen=True, slots=True)
class Organization:
    index: int
    name: str
    cls: str


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    name: str
    degree: str
    title: str
    org: Organization

    @property
    def mention(self) -> str:
        """The name as overall officials and contacts write it: "First Last, MD"."""
        return f"{self.name}, {self.degree}" if self.degree else self.name


class Pool(Generic[T]):
    """``size`` members drawn by Zipf rank (with probability ``p_shared``), else fresh one-offs beyond ``size``."""

    def __init__(self, size: int, member: Callable[[int], T], offset: float, p_shared: float) -> None:
        self.size = size
        self.zipf = ZipfSampler(size, offset=offset)
        self.p_shared = p_shared
        self._member = member
        self._next_fresh = size
        self._head: dict[int, T] = {}  # the popular ranks are drawn again and again: build them once

    def member(self, index: int) -> T:
        if index >= _HEAD:
            return self._member(index)
        found = self._head.get(index)
        if found is None:
            found = self._head[index] = self._member(index)
        return found

    def pick(self, rng: random.Random) -> int:
        """The index of a shared member (probability ``p_shared``) or of the next one-off."""
        return self.zipf.draw(rng) if rng.random() < self.p_shared else self._take_fresh()

    def draw(self, rng: random.Random) -> T:
        return self.member(self.pick(rng))

    def fresh(self) -> T:
        return self.member(self._take_fresh())

    def draws(self, rng: random.Random, count: int, taken: set[int] | None = None) -> list[T]:
        """``count`` distinct members (a trial lists a site or a criterion once): a repeat is redrawn,
        and after three repeats replaced by a one-off."""
        taken = set() if taken is None else taken
        chosen = []
        for _ in range(count):
            index = self.pick(rng)
            tries = 0
            while index in taken:
                tries += 1
                index = self.pick(rng) if tries < 3 else self._take_fresh()
            taken.add(index)
            chosen.append(self.member(index))
        return chosen

    def _take_fresh(self) -> int:
        self._next_fresh += 1
        return self._next_fresh - 1


class Pools:
    """All pools for one run, sized relative to the number of studies ``n``."""

    def __init__(self, n: int, seed: int, corpus: Corpus) -> None:
        self.seed = seed
        self._firsts = [name for name, _ in corpus.first_names]
        self._lasts = [name for name, _ in corpus.last_names]
        self._cities = [place.city for place, _ in corpus.places]
        self._qualifiers = self._cities + self._lasts
        self._departments = corpus.departments
        self._org_kinds = corpus.kinds
        self._site_kinds = [kind for kind in corpus.kinds if kind[1] == "OTHER"]
        self._places = WeightedChoice([p for p, _ in corpus.places], [n for _, n in corpus.places])
        self._degrees = WeightedChoice([d for d, _ in corpus.degrees], [n for _, n in corpus.degrees])
        self._titles = WeightedChoice([t for t, _ in corpus.titles], [n for _, n in corpus.titles])
        self._name_order = Permutation(len(self._firsts) * len(self._lasts), seed, 11)
        self._org_order = Permutation(len(self._qualifiers) * len(self._org_kinds), seed, 21)
        self._site_order = Permutation(len(self._qualifiers) * len(self._site_kinds), seed, 31)
        self._real_orgs = _seeded([((name, cls), k) for name, cls, k in corpus.organizations], seed, 1)
        self._real_sites = _seeded(corpus.sites, seed, 2)
        self._real_inclusion = _Criteria(_seeded(corpus.inclusion, seed, 3))
        self._real_exclusion = _Criteria(_seeded(corpus.exclusion, seed, 4))
        self._real_references = _seeded([((c, p), k) for c, p, k in corpus.references], seed, 5)
        # A synthetic citation is a real one without its DOI/PMID text, around a new year.
        self._citation_parts = [_YEAR.split(_DOI.sub("", citation), maxsplit=1)
                                for citation, _pmid in self._real_references]
        # Sizes follow the registry's proportions (about one organisation per 20 trials, one person per 3,
        # one site per 4, two distinct criteria per trial). Offsets flatten only the head of the Zipf curve
        # to the real registry's heaviest hitters (a busy PI runs ~0.1-0.3% of trials, the largest sponsors
        # and sites a few percent, "Pregnancy" excludes in 10% of the real records here); the tail keeps
        # exponent 1.1. p_shared is how often a mention reuses a pool member rather than a one-off.
        real_orgs, real_sites = len(self._real_orgs), len(self._real_sites)
        real_inclusion, real_exclusion = len(self._real_inclusion.real), len(self._real_exclusion.real)
        self.organizations = Pool(max(n // 20, real_orgs), self._organization, offset=3, p_shared=0.9)
        self.persons = Pool(max(n // 3, 1), self._person, offset=30, p_shared=0.5)
        self.sites = Pool(max(n // 4, real_sites), self._site, offset=10, p_shared=0.8)
        self.inclusion = Pool(max(n, real_inclusion), self._inclusion, offset=5, p_shared=0.4)
        self.exclusion = Pool(max(n, real_exclusion), self._exclusion, offset=5, p_shared=0.5)
        self.references = Pool(max(n // 2, len(self._real_references)), self._reference, offset=3, p_shared=0.3)

    def _person(self, index: int) -> Person:
        """A recombined name: every (first, last) pair once, in seeded order, then again with middle
        initials, so every index has its own name; degree, title and home organisation hashed from it."""
        space = self._name_order.size
        pair = self._name_order(index % space)
        first, last = self._firsts[pair % len(self._firsts)], self._lasts[pair // len(self._firsts)]
        tier = index // space
        bits = mix(self.seed, 12, index)  # 21 bits for the degree, 21 for the title, 1 for the initials' style
        name = f"{first} {_initials(tier - 1, bits >> 63 == 1)} {last}" if tier else f"{first} {last}"
        org = self.organizations.member(self.organizations.zipf.rank_at(unit(self.seed, 13, index)))
        degree = self._degrees.at((bits & _BITS21) / (_BITS21 + 1))
        return Person(index, name, degree, self._titles.at((bits >> 21 & _BITS21) / (_BITS21 + 1)), org)

    def _organization(self, index: int) -> Organization:
        """Real sponsors first; then "{city or surname} {kind}" ("Ankara Medical Center", "Seo
        Pharmaceuticals"), then the same with ", {city}" as registries write "University Health
        Network, Toronto"."""
        if index < len(self._real_orgs):
            return Organization(index, *self._real_orgs[index])
        local = index - len(self._real_orgs)
        name, cls, tier = _institution(local, self._org_order, self._qualifiers, self._org_kinds)
        if tier:
            name += f", {self._cities[(tier - 1) % len(self._cities)]}"
            if tier > len(self._cities):
                name += f" {(tier - 1) // len(self._cities) + 1}"
        return Organization(index, name, cls)

    def _site(self, index: int) -> dict[str, Any]:
        """Real sites first; then a synthetic facility (later ones as departments of it) in a real city
        drawn with the real cities' frequencies."""
        if index < len(self._real_sites):
            return self._real_sites[index]
        local = index - len(self._real_sites)
        facility, _, tier = _institution(local, self._site_order, self._qualifiers, self._site_kinds)
        if tier and tier <= len(self._departments):
            facility = f"Department of {self._departments[tier - 1]}, {facility}"
        elif tier:
            facility = f"{facility} Clinical Research Site {tier - len(self._departments)}"
        place = self._places.at(unit(self.seed, 32, index))
        site: dict[str, Any] = {"facility": facility, "city": place.city}
        if place.state:
            site["state"] = place.state
        if place.zip:
            site["zip"] = place.zip
        site["country"] = place.country
        site["geoPoint"] = {"lat": place.lat, "lon": place.lon}
        return site

    def _inclusion(self, index: int) -> str:
        return self._real_inclusion.member(index)

    def _exclusion(self, index: int) -> str:
        return self._real_exclusion.member(index)

    def _reference(self, index: int) -> dict[str, str]:
        """A real citation (with its PMID) at the head; beyond, a real citation re-dated, stripped of
        DOI and PMID text, under a synthetic PMID."""
        real = self._real_references
        if index < len(real):
            citation, pmid = real[index]
            return {"pmid": pmid, "citation": citation} if pmid else {"citation": citation}
        parts = self._citation_parts[index % len(real)]
        year = str(1990 + mix(self.seed, 41, index) % 35)
        citation = f"{parts[0]}{year}{parts[2]}" if len(parts) == 3 else parts[0]
        return {"pmid": str(PMID_BASE + index), "citation": citation}


def _institution(index: int, order: Permutation, qualifiers: Sequence[str],
                 kinds: Sequence[tuple[str, str]]) -> tuple[str, str, int]:
    """Name, agency class and tier (how many times the combinations have been used up) of index."""
    slot = order(index % order.size)
    kind, cls = kinds[slot // len(qualifiers)]
    return f"{qualifiers[slot % len(qualifiers)]} {kind}", cls, index // order.size


class _Criteria:
    """Real criterion ``i`` for the first indices; beyond, real criterion ``i % len`` with one clause
    (then two) from ``_SUFFIXES``, so each index has its own text."""

    def __init__(self, real: list[str]) -> None:
        self.real = real
        self._stems = [text.rstrip(" .,;") for text in real]
        self._ends = ["." if text.rstrip().endswith(".") else "" for text in real]

    def member(self, index: int) -> str:
        count = len(self.real)
        if index < count:
            return self.real[index]
        which, variant = index % count, index // count - 1
        stem, end, size = self._stems[which], self._ends[which], len(_SUFFIXES)
        # Each criterion walks the clauses from its own starting point, so variants read differently.
        if variant < size:
            return f"{stem} {_SUFFIXES[(variant + which * 7919) % size]}{end}"
        first, second = divmod(variant - size, size)
        return f"{stem} {_SUFFIXES[(second + which * 7919) % size]}, {_SUFFIXES[(first + which * 104729) % size]}{end}"


def _seeded(counted: Sequence[tuple[T, int]], seed: int, salt: int) -> list[T]:
    """Items most frequent first; ties broken by a seeded hash, so each seed leads with other names."""
    order = sorted(range(len(counted)), key=lambda i: (-counted[i][1], mix(seed, salt, i)))
    return [counted[i][0] for i in order]


def _initials(k: int, dotted: bool) -> str:
    """Middle initials number ``k``: "B", then "B R" ("B." / "B. R." when ``dotted``)."""
    letters = "ABCDEFGHJKLMNPRSTW"
    if k < len(letters):
        chosen = [letters[k]]
    else:
        k -= len(letters)
        chosen = [letters[(k // len(letters)) % len(letters)], letters[k % len(letters)]]
    return " ".join(f"{c}." if dotted else c for c in chosen)
