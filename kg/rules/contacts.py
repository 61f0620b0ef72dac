"""Personal contact data, kept out of the graph: the one rule for every format.

Registries put e-mail addresses and phone numbers where names, affiliations and facilities
belong (a sponsor's call-centre number as an "official", "Site 1234 - call 555-0100"), and
in free text. The graph is shared and linked; contact details of individuals have no place
in it, so every parser passes those fields through these functions.

Each returns the cleaned text and whether anything was removed, so the parser can say so
in a warning naming the field.

Example:
    >>> contact_free("Mayo Clinic, tel: +1 507 284 2511")
    ('Mayo Clinic', True)
    >>> person_name_or_none("Call Center 1-877-822-9493")
    (None, True)
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE_CORE = r"\+?\(?\d(?:[ .\-/()]{0,3}\d){6,}\)?"
_PHONE = re.compile(r"(?<![\w.+\-])" + _PHONE_CORE + r"(?!\w)")
_CUED_PHONE = re.compile(
    r"(\b(?:tel(?:ephone)?|phone|fax|mobile|cell|call|hotline|contact\w*)\b[^\d\n]{0,25}?)(" + _PHONE_CORE + r")(?!\w)",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"^(?:19|20)\d\d(?:\s*[-/.]\s*(?:19|20)?\d{1,2}){0,2}$|^(?:19|20)\d\d\s*[-/]\s*(?:19|20)\d\d$")
_MAYBE_CONTACT = re.compile(r"[\d@]")
_SEVEN_DIGITS = re.compile(r"\d(?:[ .\-/()]{0,3}\d){6}")  # cheap pre-check before the cued-phone scan
_CONTACT_LABEL = re.compile(
    r"\b(?:tel(?:ephone)?|phone|ph|fax|mobile|cell|e-?mail|call)\b\.?\s*:?\s*(?=[,;/|)\]]|$)", re.IGNORECASE
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_SPACES = re.compile(r"\s+")
_TIDY_EDGES = " ,;:-/|"
_EMAIL_MARK = "[email removed]"
_PHONE_MARK = "[phone removed]"


def _is_phone(text: str) -> bool:
    """Seven or more digits with a ``+`` or separators (not a bare id number), and no date."""
    digits = sum(char.isdigit() for char in text)
    if not 7 <= digits <= 16 or _DATE_LIKE.match(text.strip("()")):
        return False
    return text.startswith("+") or digits < len(text.strip("()"))


def _drop_phone(match: re.Match[str]) -> str:
    return " " if _is_phone(match.group(0)) else match.group(0)


def _mark_phone(match: re.Match[str]) -> str:
    return match.group(1) + _PHONE_MARK if _is_phone(match.group(2)) else match.group(0)


def contact_free(text: str) -> tuple[str | None, bool]:
    """A name, title, affiliation or facility with any e-mail address and phone number removed.

    Returns the cleaned text (None when nothing but contact data was there) and whether
    anything was removed.
    """
    if not _MAYBE_CONTACT.search(text):
        return text, False
    cleaned = _PHONE.sub(_drop_phone, _EMAIL.sub(" ", text))
    if cleaned == text:
        return text, False
    cleaned = _CONTACT_LABEL.sub(" ", _EMPTY_BRACKETS.sub(" ", cleaned))
    cleaned = _SPACES.sub(" ", cleaned).strip(_TIDY_EDGES)
    if cleaned.startswith("(") and cleaned.endswith(")") and cleaned.count("(") == 1:
        cleaned = cleaned[1:-1].strip()
    return (cleaned if any(char.isalpha() for char in cleaned) else None), True


def person_name_or_none(text: str) -> tuple[str | None, bool]:
    """A person's name; a "name" that holds a phone number or address is a call centre: (None, True)."""
    if not _MAYBE_CONTACT.search(text):
        return text, False
    if _EMAIL.search(text) or any(_is_phone(match.group(0)) for match in _PHONE.finditer(text)):
        return None, True
    return text, False


def prose(text: str) -> tuple[str, bool]:
    """Free text with e-mail addresses, and phone numbers introduced as such, marked removed."""
    cleaned = _EMAIL.sub(_EMAIL_MARK, text) if "@" in text else text
    if _SEVEN_DIGITS.search(cleaned):
        cleaned = _CUED_PHONE.sub(_mark_phone, cleaned)
    return cleaned, cleaned != text
