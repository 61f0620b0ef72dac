"""Facility, organisation and city names: the normal forms and the rules that say two are one.

Registries spell one hospital many ways ("Univ Of Ark For Med Sci", "H. Lee Moffitt Cancer
Center and Research Inst.", "1211 - CHU d'Angers", "Fuzhou General Hospital, Xiamen Univ")
and hide others behind placeholders ("Local Institution", "Investigational Site Number
840042") that say nothing about which facility is meant. This module turns names into
comparable token tuples and decides, for two names in the same city, whether they name
the same facility:

* equal tokens (case, accents, punctuation, abbreviations, legal suffixes, a leading "The",
  site-number prefixes and parenthetical acronyms removed), or a near-equal spelling;
* one name inside the other, the extra words being units, departments, places, a parent
  institution or an eponym of a cancer centre ("University of Maryland Medical Center
  Greenbaum Cancer Ctr") but not another facility or a branch ("Cleveland Clinic Cancer
  Center at Fairview Hospital", "Thompson Cancer Survival Center - West").

Example:
    >>> same_facility(facility_tokens("Fuzhou General Hospital, Xiamen Univ"),
    ...               facility_tokens("Fuzhou General Hospital"), frozenset({"fuzhou"}))
    True
    >>> is_anonymous_facility("Investigational Site Number 840042"), city_key("St. Louis")
    (True, 'saintlouis')
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from kg.rules.institutions import ABBREVIATIONS as _ABBREVIATIONS
from kg.rules.person_names import fold

# Word forms that name the same thing in facility names: compared as equal by resolution,
# kept as written in keys (a key must not turn "Centro Hospitalar" into "center hospitalar").
WORD_FORMS = {
    "centro": "center", "organisation": "organization", "orthopaedic": "orthopedic", "paediatric": "pediatric",
    "universitari": "university", "universitario": "university", "universitaria": "university",
    "universitaire": "university", "universitat": "university", "universitatsklinikum": "university hospital",
    "universitaetsklinikum": "university hospital", "hospitals": "hospital", "clinics": "clinic",
    "centers": "center", "centres": "center", "systems": "system", "institutes": "institute",
    "universities": "university", "services": "service", "sciences": "science", "healthsystem": "health system",
}
ABBREVIATIONS = {**_ABBREVIATIONS, **WORD_FORMS}  # what facility tokens expand, in one lookup
# Acronyms that name one institution wherever they appear.
ACRONYMS = {
    "uc": "university of california", "ucsd": "university of california san diego",
    "ucla": "university of california los angeles", "ucsf": "university of california san francisco",
    "usc": "university of southern california", "unc": "university of north carolina",
    "uab": "university of alabama at birmingham", "upmc": "university of pittsburgh medical center",
    "nyu": "new york university", "osu": "ohio state university", "musc": "medical university of south carolina",
    "ohsu": "oregon health and science university", "suny": "state university of new york",
    "mgh": "massachusetts general hospital", "nih": "national institutes of health",
    "chu": "center hospitalier university", "chru": "center hospitalier regional university",
}
LEGAL = frozenset("inc incorporated ltd limited llc llp plc pllc pc pa co corp corporation company gmbh ag sa spa "
                  "srl bv nv kk pvt".split())
STOP = frozenset("the of and for at in de del la le da di des du van von y e i a an".split())
# Words that name a kind of unit, not which one: their presence or absence does not change the place.
GENERIC = frozenset((
    "hospital hospitals medical medicine center centers clinic clinics health healthcare system systems care "
    "school college faculty university institute institutes research foundation department division unit "
    "section service services program group network trust nhs cancer comprehensive oncology hematology "
    "haematology heme onc hem nephrology cardiology neurology neurological neurosurgery surgery radiation "
    "pediatric pediatrics psychiatry orthopedic sciences science clinical regional region memorial general "
    "community teaching county municipal district provincial national lutheran baptist methodist "
    "presbyterian episcopal catholic adventist associates partners physicians practice main affiliated "
    "academic hospitalier universitaire chu sciences laboratory center knowledge "
    # the same words in the registry's other common languages
    "hospital hopital hospitalario ospedale ospedaliera ospedaliero azienda policlinico klinik klinikum "
    "krankenhaus abteilung interne medizinische universitaria universitario istituto instituto institut "
    "servicio servizio departamento dipartimento unidad unita centro zentrum ziekenhuis sjukhus "
    "i ii iii iv v vi"
).split()) | STOP | LEGAL
# Words that name a branch of an institution: a name that adds one is another site.
BRANCH = frozenset("north south east west northeast northwest southeast southwest central midtown downtown "
                   "uptown satellite annex branch first second third fourth fifth sixth seventh eighth "
                   "ninth tenth".split())
# Words after which the rest of a name is a department of the institution ("... Division of Nephrology").
DEPARTMENT = frozenset("department dept division section unit service program programme laboratory lab "
                       "abteilung servicio servizio departamento dipartimento unidad".split())
# Words after which an extra name is another facility rather than a unit of this one.
FACILITY = frozenset("hospital hospitals campus clinic clinics".split())
_ANONYMOUS_WORDS = frozenset("site sites research investigational investigative investigator investigators study "
                             "clinical local institution number no nr ref reference id facility center trial".split())
_ANONYMOUS_PHRASE = re.compile(r"for additional information|call for information|contact .*for (?:site|location)",
                               re.IGNORECASE)
_ANONYMOUS_TAIL = re.compile(r"(?:investigational|investigative|research|study|clinical|trial)\s+sites?\b",
                             re.IGNORECASE)
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SITE_NUMBER = re.compile(r"^\s*(?:site\s*)?#?\d+\s*[-:.]\s+", re.IGNORECASE)
# A street address after the name: ", 9000 Rockville Pike", "1100 Salem Avenue", "Suite 102".
_ADDRESS = re.compile(r"[,\s]+\d+[a-z]?\s+(?:[A-Za-z.]+\s+){0,4}(?:street|st|avenue|ave|road|rd|pike|drive|dr|"
                      r"boulevard|blvd|way|lane|ln|highway|hwy|parkway|pkwy|place|pl)\b.*$|[,\s]+suite\s+\d+.*$",
                      re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_APOSTROPHE_S = re.compile(r"'s\b|’s\b")
_WORDS = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class NameTokens:
    """A facility or organisation name as comparable tokens, with acronyms marked."""

    tokens: tuple[str, ...]
    acronyms: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return " ".join(self.tokens)

    @property
    def spaceless(self) -> str:
        return "".join(self.tokens)


def _tokens(text: str) -> tuple[list[str], set[str]]:
    raw = _CAMEL.sub(" ", _APOSTROPHE_S.sub("", text.replace("&", " and ")))
    acronyms = {fold(w) for w in re.findall(r"\b[A-Z]{2,6}\b", raw)}
    words: list[str] = []
    letters: list[str] = []  # "A.O.U." and "M D Anderson": single letters spell one word
    for word in [*_WORDS.findall(fold(raw)), ""]:
        if len(word) == 1 and word.isalpha():
            letters.append(word)
            continue
        if letters:
            joined = "".join(letters)
            words.append(joined)
            if len(letters) > 1:
                acronyms.add(joined)
            letters = []
        if not word:
            break
        expanded = ACRONYMS.get(word) or word
        words.extend(ABBREVIATIONS.get(part, part) for part in expanded.split())
    return " ".join(words).split(), acronyms


# Pure functions of one string, called once per mention: a registry names the same cities,
# countries and institutions over and over (the shared real data: 94,852 tokenisations of
# far fewer strings). The caches are bounded, so memory stays flat whatever the registry.
_CACHE = 1 << 16


@functools.lru_cache(maxsize=_CACHE)
def facility_tokens(name: str) -> NameTokens:
    """Comparable tokens of a facility or organisation name.

    Example:
        >>> facility_tokens("1211 - CHU d'Angers").key, facility_tokens("The West Clinic (ACORN)").key
        ('center hospitalier university d angers', 'west clinic')
    """
    text = _ADDRESS.sub("", _SITE_NUMBER.sub("", _PARENS.sub(" ", unicodedata.normalize("NFKC", name))))
    words, acronyms = _tokens(text)
    words = [w for w in words if w not in LEGAL]
    if words and words[0] == "the":
        words = words[1:]
    return NameTokens(tuple(words), frozenset(acronyms))


def organization_core(name: str) -> str:
    """A key under which spellings of one organisation coincide ("Pfizer Inc." = "PFIZER")."""
    return "".join(w for w in facility_tokens(name).tokens if w not in STOP)


@functools.lru_cache(maxsize=_CACHE)
def city_key(city: str | None) -> str:
    """A city as one lowercase ASCII word: "St. Louis" = "Saint Louis", "La Crosse" = "LaCrosse"."""
    if not city:
        return ""
    words, _ = _tokens(city)
    if len(words) > 1 and words[-1] in ("si", "shi", "gun"):
        words = words[:-1]  # "Seongnam-si"
    return "".join(words)


@functools.lru_cache(maxsize=_CACHE)
def place_words(*places: str | None) -> frozenset[str]:
    """The words of a city, state and country: naming them in a facility name adds nothing."""
    out: set[str] = set()
    for place in places:
        if place:
            out.update(_tokens(place)[0])
    return frozenset(out)


def is_anonymous_facility(name: str | None) -> bool:
    """True for placeholders that hide which facility is meant ("Local Institution", "Research Site").

    Example:
        >>> [is_anonymous_facility(n) for n in ("Research Site", "Ironwood Investigational Site",
        ...  "Site Reference ID/Investigator# 58201", "As0006 407", "Mayo Clinic")]
        [True, True, True, True, False]
    """
    if not name:
        return True
    if _ANONYMOUS_PHRASE.search(name):
        return True
    words = _WORDS.findall(fold(name))
    if not words:
        return True
    if all(_DIGITS.search(w) for w in words):
        return True  # a site code
    named = [w for w in words if w not in _ANONYMOUS_WORDS and not _DIGITS.search(w)]
    if not named:
        return True
    # "<Sponsor> Investigational Site [number]": at most two words besides the placeholder.
    return bool(_ANONYMOUS_TAIL.search(name)) and len(named) <= 2


def _same_word(a: str, b: str) -> bool:
    """One word, spelt twice: equal, a one-letter typo in a long word, or an abbreviation ("ark")."""
    if a == b:
        return True
    shortest = min(len(a), len(b))
    if shortest >= 6 and Levenshtein.distance(a, b) <= 1:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return 3 <= len(short) <= 4 and len(long) >= 6 and long.startswith(short)


def _covered(short: NameTokens, long: NameTokens, places: frozenset[str]) -> set[str] | None:
    """The words of ``long`` that ``short`` accounts for, or None when a word of ``short`` is missing."""
    covered: set[str] = set()
    for token in short.tokens:
        if token in places and token not in long.tokens:
            continue  # "Providence Saint Joseph Medical Center - Burbank": the city is not the name
        match = next((t for t in long.tokens if _same_word(token, t)), None)
        if match is None:
            return None
        covered.add(match)
    return covered


def _extra_runs(shared: set[str], long: NameTokens, places: frozenset[str]) -> list[tuple[int, int]] | None:
    """Runs (start, end) of distinctive extra words of ``long``; None when a branch word is extra."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    department = False
    for index, token in enumerate(long.tokens):
        department = department or token in DEPARTMENT
        distinctive = (token not in shared and token not in GENERIC and token not in places and not department
                       and len(token) > 1)
        if distinctive and token in BRANCH:
            return None
        if distinctive and token in long.acronyms:
            distinctive = False  # a parent or programme acronym ("UHN", "NCORP", "CCOP")
        if distinctive and start is None:
            start = index
        elif not distinctive and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(long.tokens)))
    return runs


def contains_facility(short: NameTokens, long: NameTokens, places: frozenset[str]) -> bool:
    """True when ``long`` is ``short`` plus words that do not make it another facility."""
    if not short.tokens or not set(short.tokens) - GENERIC:
        return False  # "Memorial Hospital" inside anything says nothing
    shared = _covered(short, long, places)
    if shared is None:
        return False
    runs = _extra_runs(shared, long, places)
    if runs is None or len(runs) > 1:
        return False
    if not runs:
        return True
    start, end = runs[0]
    if end - start > 4 or end == len(long.tokens):
        return False  # a long extra name, or a trailing branch name ("...-Andrews")
    following = long.tokens[end:]
    for token in following:
        if token in FACILITY:
            return False  # "... at Fairview Hospital": another facility
        if token in shared or token not in GENERIC:
            break
    return True


def same_facility(a: NameTokens, b: NameTokens, places: frozenset[str]) -> bool:
    """Whether two facility names in the same city name one facility."""
    return facility_score(a, b, places) > 0


def facility_score(a: NameTokens, b: NameTokens, places: frozenset[str]) -> float:
    """1 for the same tokens, 0.9 for a near spelling, 0.8 for a contained name, else 0."""
    if a.tokens == b.tokens or a.spaceless == b.spaceless or set(a.tokens) == set(b.tokens):
        return 1.0
    if _DIGITS.findall(a.key) != _DIGITS.findall(b.key):
        return 0.0
    differing = set(a.tokens) ^ set(b.tokens)
    if (min(len(a.spaceless), len(b.spaceless)) >= 10 and not differing & BRANCH
            and fuzz.ratio(a.key, b.key) >= 93):
        return 0.9
    short, long = (a, b) if len(a.tokens) <= len(b.tokens) else (b, a)
    if contains_facility(short, long, places):
        return 0.8
    return 0.0


def distinctive_tokens(name: NameTokens, places: frozenset[str]) -> set[str]:
    """The words that say which facility this is: the keys two matching names must share.

    A place word counts ("Fuzhou General Hospital" is known by "fuzhou"); generic words do
    not, unless the name has nothing else ("Memorial Hospital").
    """
    words = {t for t in name.tokens if t not in GENERIC and len(t) > 1}
    return words or {t for t in name.tokens if t not in STOP} or {name.spaceless}
