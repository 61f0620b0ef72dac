"""Person names: strip degrees and titles, drop placeholders, key what remains.

Registries write "Jianming Tan, professor", "Jianming Tan, Professor, Fuzhou General
Hospital", "Vikram Patel, PhD", "Dr. John Smith MD"; the same person must get one key.
Person fields also hold placeholders ("Medical Director", "Study Director", "Clinical
Trials", "Call Center") and companies ("Bristol-Myers Squibb"), which are roles, desks or
sponsors, not people, and get no key. Full parsing (given and family names, initials) for
cross-record resolution is in :mod:`kg.rules.person_names`.

Example:
    >>> split_person_name("Jianming Tan, Professor, Fuzhou General Hospital")
    ('Jianming Tan', ('Professor', 'Fuzhou General Hospital'))
    >>> person_key("Jianming Tan, professor"), person_key("Medical Director")
    ('jianming tan', None)
"""

from __future__ import annotations

import re
import unicodedata

# Degrees, honorifics and academic titles, compared lowercase without dots.
TITLES = frozenset(
    (
        "md phd mph msc ms ma mba bsc bs ba rn bsn msn np pa pharmd dds dmd do dvm drph scd dsc frcp frcs frcpc "
        "facp facs mbbs mbchb mb bch chb mrcp dphil lic ccrp cnm crnp pac mpharm pharm mmed med frac fesc facc "
        "faha prof professor dr doctor mr mrs miss sir md-phd jr sr ii iii iv msw lcsw psyd edd"
    ).split()
)
# Whole names that are desks, roles or organisations rather than people.
PLACEHOLDERS = frozenset(
    {
        "medical director", "study director", "clinical trials", "call center", "call centre", "clinical trial",
        "central contact", "study physician", "principal investigator", "investigator", "sponsor", "director",
        "medical monitor", "trial manager", "clinical operations", "clinical development", "study manager",
        "clinical program director", "global clinical leader", "use central contact", "not applicable",
        "clinical director", "medical affairs", "clinical research", "study team", "research team",
    }
)
_PLACEHOLDER_WORDS = re.compile(
    r"\b(call cent(er|re)|clinical trials?|medical (director|monitor|affairs)|study (director|team|chair)|"
    r"contact|director|department|inc|ltd|gmbh|corporation|pharmaceuticals?|hospital|university)\b",
    re.IGNORECASE,
)
# Words that make a mention a company or a desk rather than a person ("GSK Clinical Trials",
# "Teva Medical Expert", "UCB Cares"), unless they only follow a two-word personal name.
_ORG_WORDS = re.compile(
    r"\b(squibb|novartis|pfizer|sanofi|roche|genentech|glaxo|gsk|merck|lilly|bayer|astrazeneca|abbvie|amgen|"
    r"ipsen|teva|shire|ucb|takeda|celgene|janssen|boehringer|medtronic|microbia|centocor|tibotec|daiichi|"
    r"cares|physician|leader|team|operations|management|expert|respiratory|clinical|medical|study|trials?)\b",
    re.IGNORECASE,
)
_TOKEN_SPLIT = re.compile(r"[\s.]+")
_NOT_NAME = re.compile(r"[^\w\s'-]")
_SPACES = re.compile(r"\s+")


def _bare(token: str) -> str:
    return token.lower().replace(".", "").strip()


def split_person_name(text: str) -> tuple[str, tuple[str, ...]]:
    """The name part of a mention and the comma-separated qualifiers after it."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return "", ()
    name_tokens = [t for t in _TOKEN_SPLIT.split(parts[0]) if t and _bare(t) not in TITLES]
    return " ".join(name_tokens), tuple(parts[1:])


def degrees_of(text: str) -> tuple[str, ...]:
    """Degrees and titles stated in a mention, kept as data ("MD", "PhD", "Professor")."""
    found: list[str] = []
    _name, qualifiers = split_person_name(text)
    first = text.split(",")[0]
    for token in _TOKEN_SPLIT.split(first):
        if token and _bare(token) in TITLES:
            found.append(token.strip("."))
    for qualifier in qualifiers:
        words = [w for w in _TOKEN_SPLIT.split(qualifier) if w]
        if words and all(_bare(w) in TITLES for w in words):
            found.append(qualifier)
    return tuple(found)


def is_placeholder(name: str) -> bool:
    """True for role or desk names that registries put in person fields."""
    bare = _SPACES.sub(" ", _NOT_NAME.sub(" ", name.lower())).strip()
    if not bare or bare in PLACEHOLDERS:
        return True
    words = bare.split()
    if len(words) < 2 and not bare.isalpha():
        return True
    return bool(_PLACEHOLDER_WORDS.search(bare))


def _is_title(token: str) -> bool:
    return _bare(token) in TITLES


def is_junk_name(text: str) -> bool:
    """True for desks, roles and companies that registries put in person fields.

    Example:
        >>> [is_junk_name(n) for n in ("Clinical Trials", "GSK Clinical Trials", "Jon Ebbert", "UCB Cares")]
        [True, True, False, True]
    """
    name_part = text.split(",")[0]
    if is_placeholder(name_part):
        return True
    words = [w for w in _TOKEN_SPLIT.split(name_part) if w and not _is_title(w)]
    if not words or any(w.isdigit() for w in words):
        return True  # "4968 Clinical Trial Leader"
    return bool(_ORG_WORDS.search(name_part)) and not (
        len(words) >= 2 and not _ORG_WORDS.search(" ".join(words[:2])))


def person_key(text: str | None) -> str | None:
    """The identity key of a person mention, or None when it names no person."""
    if not text:
        return None
    name, _ = split_person_name(text)
    folded = unicodedata.normalize("NFKC", name)
    key = _SPACES.sub(" ", _NOT_NAME.sub(" ", folded.lower())).strip()
    if not key or is_junk_name(text):
        return None
    return key
