"""Organisation and site names: normalise spelling so one institution gets one key.

Example:
    >>> organization_key("The Univ. of Oxford"), organization_key("UNIVERSITY OF OXFORD")
    ('university of oxford', 'university of oxford')
    >>> site_key("Fuzhou General Hospital", "Fuzhou", "China")
    ('fuzhou general hospital', 'fuzhou', 'china')
"""

from __future__ import annotations

import re
import unicodedata

ABBREVIATIONS = {
    "univ": "university",
    "uni": "university",
    "hosp": "hospital",
    "ctr": "center",
    "centre": "center",
    "med": "medical",
    "inst": "institute",
    "natl": "national",
    "dept": "department",
    "coll": "college",
    "sch": "school",
    "intl": "international",
    "st": "saint",
    "co": "company",
    "corp": "corporation",
    "&": "and",
}
_PUNCT = re.compile(r"[^\w&\s]")
_SPACES = re.compile(r"\s+")


def normalize_organization(name: str) -> str:
    """Lowercase, punctuation folded, abbreviations expanded, a leading "the" dropped."""
    folded = unicodedata.normalize("NFKC", name).lower()
    words = _SPACES.sub(" ", _PUNCT.sub(" ", folded)).split()
    words = [ABBREVIATIONS.get(word, word) for word in words]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def organization_key(name: str | None) -> str | None:
    if not name:
        return None
    return normalize_organization(name) or None


def site_key(facility: str | None, city: str | None, country: str | None) -> tuple[str, str, str] | None:
    """A site is a facility in a city and country; without a facility there is no site."""
    facility_key = organization_key(facility)
    if facility_key is None:
        return None
    return (facility_key, organization_key(city) or "", organization_key(country) or "")
