"""Person names: parse a registry's free-text name into given names, family name and degrees.

Registries write one person many ways: "Jianming Tan, professor", "Jianming Tan, Professor,
Fuzhou General Hospital", "R. Jeffrey Chang, M.D.", "Tuğba KURU ÇOLAK", "Fan Rong Fan Rong,
master", "KIMMINYOUNG". Deciding that two mentions are one person needs the parts, not the
string: a family name, the given names (full or initials), and the degrees and titles kept
apart as data. Desks and roles in person fields ("Medical Director", "Clinical Trials",
"Bristol-Myers Squibb") parse to ``None``.

:func:`name_similarity` says how well two parsed names agree (0 means they cannot be one
person); :func:`blocking_keys` gives the keys under which compatible names meet, so a
resolver compares only names that share a key instead of all pairs.

Example:
    >>> name = parse_person_name("R. Jeffrey Chang, M.D.")
    >>> name.given, name.family, name.degrees
    (('r', 'jeffrey'), 'chang', ('M.D.',))
    >>> name_similarity(name, parse_person_name("Jeffrey Chang, MD")) > 0
    True
    >>> name_similarity(name, parse_person_name("Julie Chang")), parse_person_name("Medical Director")
    (0.0, None)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from kg.rules.persons import TITLES, is_junk_name

# Words that end the name part of a mention when they follow it ("M Elhafeez Assistant
# Professor Obstetrics", "n khazragy lecturer", "Turgut Donmez, operator MD").
_ROLE_WORDS = frozenset(
    "assistant associate assoc professor prof lecturer operator master consultant director chief head resident "
    "fellow senior junior specialist investigator principal coordinator vice president manager officer "
    "obstetrics gynecology department dept".split()
)
# Particles that belong to the family name ("H van Santbrink", "Maria de la Cruz").
_PARTICLES = frozenset("van von de der den da di del della dos das du la le ter ten al el bin ibn mac st".split())
_SPECIAL_LETTERS = str.maketrans({"ı": "i", "İ": "I", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE",
                                  "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "œ": "oe", "þ": "th"})
_PARENS = re.compile(r"\([^)]*\)")
_SLASH_TAIL = re.compile(r"\s/\s.*$")
_TOKENS = re.compile(r"[^\s.,]+")
_LETTERS = re.compile(r"[^a-z'-]")


def fold(text: str) -> str:
    """Lowercase ASCII: accents and special letters folded ("Taştan" -> "tastan")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode().lower()


@dataclass(frozen=True, slots=True)
class PersonName:
    """A parsed person name: folded given names and family name, degrees as written."""

    text: str
    given: tuple[str, ...]
    family: str
    degrees: tuple[str, ...] = ()
    display: str = ""

    @property
    def key(self) -> str:
        """The exact identity of the spelling: given names and family name, folded."""
        return " ".join((*self.given, self.family))

    @property
    def initials(self) -> str:
        return "".join(g[0] for g in self.given)

    @property
    def has_full_given(self) -> bool:
        return any(len(g) > 1 for g in self.given)


def _bare(token: str) -> str:
    return token.lower().replace(".", "").strip("*'")


def _is_degree(token: str) -> bool:
    bare = _bare(token)
    return bare in TITLES or bare.replace("-", "") in TITLES


def _split_name_part(text: str) -> tuple[str, list[str]]:
    """The comma-separated part that holds the name, and the qualifiers after it."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    while parts and all(_is_degree(t) for t in _TOKENS.findall(parts[0])):
        parts = parts[1:]  # "Dr., John Smith" style leading titles
    if not parts:
        return "", []
    return parts[0], parts[1:]


def _caps_family_split(tokens: list[str]) -> int | None:
    """Index where an ALL-CAPS family name starts after mixed-case given names ("Bruno VERDIER")."""
    upper = [t.isupper() and len(t) > 1 and t.isalpha() for t in (x.replace("-", "") for x in tokens)]
    if all(upper) or not any(upper) or upper[0]:
        return None
    first = upper.index(True)
    return first if all(upper[first:]) else None


def parse_person_name(text: str | None) -> PersonName | None:
    """The parts of a person mention, or None when it names a desk, a role or a company."""
    if not text:
        return None
    clean = unicodedata.normalize("NFKC", text).replace("*", " ").strip()
    clean = _SLASH_TAIL.sub("", clean)
    if is_junk_name(clean):
        return None
    name_part, qualifiers = _split_name_part(_PARENS.sub(" ", clean))
    degrees: list[str] = []
    tokens: list[str] = []
    for raw in _TOKENS.findall(name_part.replace(".", ". ")):
        if _is_degree(raw):
            if tokens and _bare(raw) in _ROLE_WORDS:
                break
            degrees.append(raw.strip("."))
            continue
        if tokens and _bare(raw) in _ROLE_WORDS:
            break
        tokens.append(raw)
    for qualifier in qualifiers:
        words = qualifier.split()
        if words and all(_is_degree(w) or _bare(w) in _ROLE_WORDS for w in words):
            degrees.append(qualifier)
    half = len(tokens) // 2
    if len(tokens) >= 4 and len(tokens) % 2 == 0 and [fold(t) for t in tokens[:half]] == [
            fold(t) for t in tokens[half:]]:
        tokens = tokens[:half]  # "Fan Rong Fan Rong"
    tokens = [t for t in tokens if _LETTERS.sub("", fold(t))]
    if not tokens:
        return None
    caps = _caps_family_split(tokens)
    if caps is not None:
        given_raw, family_raw = tokens[:caps], tokens[caps:]
    else:
        cut = len(tokens) - 1
        while cut > 1 and fold(tokens[cut - 1]) in _PARTICLES:
            cut -= 1
        given_raw, family_raw = tokens[:cut], tokens[cut:]
    given: list[str] = []
    for token in given_raw:
        folded = _LETTERS.sub("", fold(token))
        if len(folded) == 2 and token.isupper() and token.isalpha():
            given.extend(folded)  # "DP Suresh": two initials
        elif folded:
            given.append(folded)
    family = " ".join(_LETTERS.sub("", fold(t)) for t in family_raw).strip()
    display = " ".join(t if not t.isupper() or len(t) < 3 else t.capitalize() for t in tokens)
    return PersonName(clean, tuple(given), family, tuple(degrees), display)


def _family_key(name: PersonName) -> str:
    return name.family.replace("-", "").replace(" ", "").replace("'", "")


def _token_match(a: str, b: str) -> float:
    """How well two given-name tokens agree: 1 equal, less for initials, prefixes and typos."""
    a, b = a.replace("-", ""), b.replace("-", "")
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.6 if a[0] == b[0] else 0.0
    if min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)):
        return 0.7
    if min(len(a), len(b)) >= 5 and Levenshtein.distance(a, b) <= 1:
        return 0.8
    return 0.0


def _align(short: tuple[str, ...], long: tuple[str, ...]) -> float:
    """Mean token score when every token of ``short`` matches, in order, a token of ``long``."""
    scores: list[float] = []
    position = 0
    for index, token in enumerate(short):
        for j in range(position, len(long)):
            if index == 0 and j > 0 and len(long[j - 1]) > 1:
                return 0.0  # a first name may skip leading initials ("R. Jeffrey"), not a name ("Young M.")
            score = _token_match(token, long[j])
            if score:
                # A first name aligned past the other's first token ("Jeffrey" in "R. Jeffrey").
                scores.append(score * (0.85 if index == 0 and j > 0 else 1.0))
                position = j + 1
                break
        else:
            return 0.0
    return sum(scores) / len(scores)


def _all_tokens(name: PersonName) -> tuple[str, ...]:
    return (*name.given, *name.family.split())


def _joined(tokens: tuple[str, ...]) -> set[str]:
    """A name written without spaces, in its order and family-name first ("KIMMINYOUNG")."""
    return {"".join(tokens).replace("-", ""), "".join((*tokens[-1:], *tokens[:-1])).replace("-", "")}


def name_similarity(a: PersonName, b: PersonName) -> float:
    """0 when two names cannot be one person; up to 1 for the same spelling.

    Family names must agree (a one-letter typo in a long name is tolerated); given names
    must align in order, an initial matching a full name, a missing middle name allowed.
    A compound family name written in part ("Pablo Herrero" / "Pablo Herrero Gallego")
    and names written without spaces or in swapped order score lower.
    """
    if a.key == b.key:
        return 1.0 if a.given else 0.5
    fa, fb = _family_key(a), _family_key(b)
    if fa == fb:
        family = 1.0
    elif min(len(fa), len(fb)) >= 5 and Levenshtein.distance(fa, fb) <= 1:
        family = 0.8
    else:
        return _partial_similarity(a, b)
    if not a.given or not b.given:
        return 0.3 * family
    short, long = (a.given, b.given) if len(a.given) <= len(b.given) else (b.given, a.given)
    given = _align(short, long)
    if not given and len(a.given) == len(b.given):
        given = _align(long, short)
    if len(short) < len(long):
        given *= 0.95  # a middle name or initial missing on one side
    return round(family * given, 4)


def _partial_similarity(a: PersonName, b: PersonName) -> float:
    """Compound family names given in part, names written together or in swapped order."""
    ta, tb = _all_tokens(a), _all_tokens(b)
    if sorted(ta) == sorted(tb) or _joined(ta) & _joined(tb):
        return 0.7
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if len(short) >= 2 and short[0] == long[0] and _align(short, long) == 1.0:
        return 0.6
    return 0.0


def blocking_keys(name: PersonName) -> set[str]:
    """Keys under which every name compatible with this one also appears.

    Family name with each given initial; every later token as a possible family name (compound
    names); the first full given name with the family's first letters (family-name typos);
    the name written together in both orders (names without spaces or swapped).
    """
    tokens = _all_tokens(name)
    family = _family_key(name)
    keys = {f"f:{family}:{g[0]}" for g in name.given} or {f"f:{family}:"}
    keys.update(f"f:{t.replace('-', '')}:{tokens[0][0]}" for t in tokens[1:] if len(t) > 2)
    full = [g for g in name.given if len(g) > 1]
    if full:
        keys.add(f"t:{full[0]}:{family[:3]}")
    if len(tokens) <= 3:
        keys.update("j:" + joined for joined in _joined(tokens))
    return keys
