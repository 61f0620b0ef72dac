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

from kg.model import Site

# The one table of abbreviations in institution names, for organisation and site keys here
# and for the facility tokens resolution compares (kg.rules.places, which adds its own
# table of equivalent word forms: plurals, British spellings, other languages).
ABBREVIATIONS = {
    "univ": "university", "uni": "university", "hosp": "hospital", "ctr": "center", "cntr": "center",
    "centre": "center", "med": "medical", "inst": "institute", "natl": "national", "dept": "department",
    "coll": "college", "sch": "school", "intl": "international", "st": "saint", "ste": "sainte",
    "mt": "mount", "ft": "fort", "sci": "sciences", "assoc": "associates", "hlth": "health",
    "co": "company", "corp": "corporation", "&": "and",
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


def location_key(site: Site, nct: str, position: int) -> tuple[str, ...] | None:
    """The key parts of a location's site node: the one rule emit, resolution and the mention tables share.

    A facility is one site per facility, city, country, state and postal code
    (``resource/site/{facility}/{city}/{country}/{state}/{zip}``, empty parts ``_``; without state
    and zip the three parts alone), so two trials at one address share it and two addresses of one
    name stay two. A location without a facility name is a place of this trial only:
    ``(nct, n)``, its 1-based position in the record's list. None for a location that names no place.
    """
    key = site_key(site.facility, site.city, site.country)
    if key is None:
        if not (site.city or site.state or site.zip or site.country):
            return None
        return (nct, str(position))
    if site.state or site.zip:
        return (*key, site.state or "", site.zip or "")
    return key
