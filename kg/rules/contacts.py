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
from dataclasses import replace

from kg.model import Organization, PersonMention, ResponsibleParty, Site, Trial

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
_EMPTY_BRACKETS = re.compile(r"\(\s*[,;/\s]*\)|\[\s*[,;/\s]*\]")  # "( , )" left by removed details
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;])")  # "1-877-CTLILLY , Mon" after "(1-877-285-4559)" went
_DANGLING_OPEN = re.compile(r"[(\[][\s,;/]*$")  # "Dr A ( ," when the phone took the closing bracket
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
    if not any(char.isalpha() for char in text) and sum(char.isdigit() for char in text) >= 7:
        return None, True  # "66815818803" as an affiliation: a phone number without separators, no name
    cleaned = _PHONE.sub(_drop_phone, _EMAIL.sub(" ", text))
    if cleaned == text:
        return text, False
    cleaned = _CONTACT_LABEL.sub(" ", _DANGLING_OPEN.sub(" ", _EMPTY_BRACKETS.sub(" ", cleaned)))
    cleaned = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", cleaned)).strip(_TIDY_EDGES)
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


def without_contacts(trial: Trial, warnings: list[str]) -> Trial:
    """The trial with contact data removed from every field that may hold it, whatever its format.

    Names, titles, affiliations and facilities lose e-mail addresses and phone numbers; a
    person's "name" that holds them is a call centre and is left out; free text keeps its
    words with the contact details marked removed. Each change adds a warning naming the field.
    Citations are left as they are: their numbers are DOIs and pages, not phones.
    """
    def field(text: str | None, where: str) -> str | None:
        if text is None:
            return None
        cleaned, changed = contact_free(text)
        if changed:
            warnings.append(f"{where}: contact details removed")
        return cleaned

    def free_text(text: str | None, where: str) -> str | None:
        if text is None:
            return None
        cleaned, changed = prose(text)
        if changed:
            warnings.append(f"{where}: contact details removed")
        return cleaned

    def person(mention: PersonMention, where: str) -> PersonMention | None:
        name, dropped = person_name_or_none(mention.name)
        if name is None:
            if dropped:
                warnings.append(f"{where}: a name holding contact details left out")
            return None
        return replace(mention, affiliation=field(mention.affiliation, where))

    def organization(org: Organization | None, where: str) -> Organization | None:
        if org is None:
            return None
        name = field(org.name, where)
        return replace(org, name=name) if name else None

    def site(location: Site) -> Site:
        investigators = (person(m, "locations.investigators") for m in location.investigators)
        return replace(location, facility=field(location.facility, "locations"),
                       investigators=tuple(m for m in investigators if m is not None))

    party = trial.responsible_party
    if party is not None:
        name = None
        if party.name is not None:
            name, dropped = person_name_or_none(party.name)
            if dropped:
                warnings.append("responsibleParty: a name holding contact details left out")
        party = replace(party, name=name, title=field(party.title, "responsibleParty"),
                        affiliation=field(party.affiliation, "responsibleParty"))
        party = party if party != ResponsibleParty() else None
    eligibility = trial.eligibility
    criteria = tuple(replace(c, text=free_text(c.text, "eligibilityCriteria") or "") for c in eligibility.criteria)
    officials = (person(m, "overallOfficials") for m in trial.officials)
    return replace(
        trial,
        brief_summary=free_text(trial.brief_summary, "briefSummary"),
        detailed_description=free_text(trial.detailed_description, "detailedDescription"),
        why_stopped=free_text(trial.why_stopped, "whyStopped"),
        interventions=tuple(replace(i, description=free_text(i.description, "interventions"))
                            for i in trial.interventions),
        arms=tuple(replace(a, description=free_text(a.description, "armGroups")) for a in trial.arms),
        outcomes=tuple(replace(o, description=free_text(o.description, "outcomes")) for o in trial.outcomes),
        eligibility=replace(eligibility, text=free_text(eligibility.text, "eligibilityCriteria"), criteria=criteria),
        lead_sponsor=organization(trial.lead_sponsor, "leadSponsor"),
        collaborators=tuple(o for o in (organization(c, "collaborators") for c in trial.collaborators) if o),
        responsible_party=party,
        officials=tuple(m for m in officials if m is not None),
        sites=tuple(site(location) for location in trial.sites),
    )
