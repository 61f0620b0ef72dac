"""Author names: folding, initials, keys, and when an investigator's name fits an author's.

Why: publications name people as "Tan J" (family name + initials; PubMed adds "Jianming"),
registrations as "Jianming Tan, professor". Whether the two can be one person is a
question of compatible names, never of equal strings, and the same rules serve the
citation parser, the emitter (author keys) and the investigator-author linker.

Decisions:

* Folding is NFKD, accents dropped, lowercase, apostrophes and hyphens removed inside
  names ("O'Byrne" -> ``obyrne``, "Gómez-Sánchez" -> ``gomezsanchez``), so spellings that
  differ only in those compare equal.
* An author key is the folded family name plus all initials (``tan j``), the way PubMed's
  author search keys names. It is a *name*, not a person: two people share it, and the
  co-author network built on it says so in its query header.
* A registry name can be written given-first ("Jianming Tan") or family-first ("Tan
  Jianming", common for Chinese names); :func:`family_candidates` gives both readings,
  with the particles of multi-word family names ("van der Berg", "De Luca") kept.

Example:
    >>> author_key("Tan", "J"), initials_of("Jian-Ming")
    ('tan j', 'JM')
    >>> initials_compatible("J", "JM"), initials_compatible("JM", "JK")
    (True, False)
"""

from __future__ import annotations

import functools
import re
import unicodedata

from kg.rules.persons import split_person_name

_INNER_PUNCT = re.compile(r"['’`\-.]")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
_GIVEN_PARTS = re.compile(r"[\s\-.]+")
_PARTICLES = frozenset("van von der den de del della di da dos das du la le ten ter st san al el bin ibn".split())


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """A name folded for comparison: ASCII, lowercase, inner punctuation removed, single spaces."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", _INNER_PUNCT.sub("", ascii_text))).strip()


def initials_of(given: str | None) -> str:
    """Initials of given names: "Paul M" -> ``PM``, "Jian-Ming" -> ``JM``, "J. Mark" -> ``JM``."""
    if not given:
        return ""
    return "".join(part[0] for part in _GIVEN_PARTS.split(given) if part and part[0].isalpha()).upper()


def author_key(family: str | None, initials: str | None) -> str | None:
    """The name key of an author: folded family name and initials (``tan j``); None without a family name."""
    if not family:
        return None
    folded = fold(family)
    if not folded:
        return None
    letters = fold(initials or "").replace(" ", "")
    return f"{folded} {letters}" if letters else folded


def initials_compatible(first: str | None, second: str | None) -> bool:
    """Whether two initials strings can belong to one person: same first letter, one a prefix of the other.

    Citations drop middle initials ("Tan J" for Jian-Ming Tan, "JM"), so a prefix fits;
    different letters ("JM" vs "JK") do not. Unknown initials fit anything.
    """
    a = (first or "").upper()
    b = (second or "").upper()
    if not a or not b:
        return True
    return a.startswith(b) or b.startswith(a)


def family_candidates(name: str) -> list[tuple[str, str]]:
    """The (family, given) readings of a registry person name, most likely first.

    Titles and degrees are removed first. "Jianming Tan" reads as family "Tan" (given
    "Jianming") or, family-first, "Jianming" (given "Tan"); a lowercase particle joins
    the family name ("Ludwig van Beethoven" -> "van Beethoven").

    Example:
        >>> family_candidates("Jianming Tan, professor")
        [('Tan', 'Jianming'), ('Jianming', 'Tan')]
    """
    bare, _ = split_person_name(name)
    tokens = [t for t in bare.replace(",", " ").split() if t]
    if not tokens:
        return []
    if len(tokens) == 1:
        return [(tokens[0], "")]
    start = len(tokens) - 1
    while start > 1 and fold(tokens[start - 1]) in _PARTICLES:
        start -= 1
    readings = [(" ".join(tokens[start:]), " ".join(tokens[:start]))]
    family_first = (tokens[0], " ".join(tokens[1:]))
    if family_first not in readings:
        readings.append(family_first)
    return readings
