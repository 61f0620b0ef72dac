"""The country at the end of a comma-joined address: the registry's country names with a comma kept whole.

The CSV download ("Facility, City, State, Zip, Country") and the modern page ("City, State,
Country") join a location's parts with ", ", and several of ClinicalTrials.gov's country
names hold a comma themselves ("Korea, Republic of", "Iran, Islamic Republic of", "Congo,
The Democratic Republic of the"): split naively, the country becomes "Republic of" and
"Korea" the state. One rule for every format that joins addresses.

Example:
    >>> pieces = ["Jaseng Hospital", "Seoul", "Korea", "Republic of"]
    >>> pop_country(pieces), pieces
    ('Korea, Republic of', ['Jaseng Hospital', 'Seoul'])
    >>> pop_country(["Fuzhou", "Fujian", "China"])
    'China'
"""

from __future__ import annotations

__all__ = ["COMMA_COUNTRY_TAILS", "pop_country"]

# What follows the comma in the registry's (ISO 3166 style) country names that have one.
COMMA_COUNTRY_TAILS = frozenset({
    "republic of", "democratic people's republic of", "islamic republic of", "the democratic republic of the",
    "the former yugoslav republic of", "federated states of", "united republic of", "occupied", "british", "u.s.",
    "sint eustatius and saba", "ascension and tristan da cunha", "plurinational state of",
    "bolivarian republic of", "province of china", "state of",
})


def pop_country(pieces: list[str]) -> str | None:
    """Remove and return the country from the end of ``pieces`` (two pieces for a comma name)."""
    if not pieces:
        return None
    last = pieces.pop()
    if pieces and last.strip().lower() in COMMA_COUNTRY_TAILS:
        return f"{pieces.pop()}, {last}"
    return last
