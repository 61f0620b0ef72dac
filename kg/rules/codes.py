"""Map registry display labels to the API v2 codes the record model uses.

The classic web page, the legacy XML and the CSV download show labels ("Active
Comparator", "Phase 1/Phase 2", "None (Open Label)", "Unknown status"); API v2 JSON has
codes (``ACTIVE_COMPARATOR``, ``PHASE1``/``PHASE2``, ``NONE``, ``UNKNOWN``). Mapping every
format onto the codes makes the same trial give the same facts whatever it came from.

Example:
    >>> code("Active Comparator"), phases("Phase 1/Phase 2"), iso_date("January 2011")
    ('ACTIVE_COMPARATOR', ('PHASE1', 'PHASE2'), '2011-01')
"""

from __future__ import annotations

import calendar
import math
import re

_NON_CODE = re.compile(r"[^A-Z0-9]+")

# Labels whose code is not their upper-snake form.
_EXCEPTIONS = {
    "UNKNOWN_STATUS": "UNKNOWN",
    "INTERVENTIONAL_CLINICAL_TRIAL": "INTERVENTIONAL",
    "OBSERVATIONAL_PATIENT_REGISTRY": "OBSERVATIONAL",
    "N_A": "NA",
    "NOT_APPLICABLE": "NA",
    "PARALLEL_ASSIGNMENT": "PARALLEL",
    "SINGLE_GROUP_ASSIGNMENT": "SINGLE_GROUP",
    "CROSSOVER_ASSIGNMENT": "CROSSOVER",
    "FACTORIAL_ASSIGNMENT": "FACTORIAL",
    "SEQUENTIAL_ASSIGNMENT": "SEQUENTIAL",
    "NONE_OPEN_LABEL": "NONE",
    "OPEN_LABEL": "NONE",
    "NON_RANDOMIZED": "NON_RANDOMIZED",
    "EDUCATIONAL_COUNSELING_TRAINING": "ECT",
    "PROCEDURE_SURGERY": "PROCEDURE",
    "RADIATION_THERAPY": "RADIATION",
    "BOTH": "ALL",
    "U_S_FED": "FED",
    "SPONSOR_INVESTIGATOR": "SPONSOR_INVESTIGATOR",
    "ANTICIPATED": "ESTIMATED",
    "ESTIMATE": "ESTIMATED",
    "SINGLE_BLIND": "SINGLE",
    "DOUBLE_BLIND": "DOUBLE",
    "TRIPLE_BLIND": "TRIPLE",
    "QUADRUPLE_BLIND": "QUADRUPLE",
    "AVAILABLE_FOR_EXPANDED_ACCESS": "AVAILABLE",
}

# Masking labels carry who is masked in parentheses: "Double (Participant, Investigator)".
_PAREN = re.compile(r"\s*\(.*\)\s*$")


def code(label: str | None) -> str | None:
    """The API v2 code for a display label; codes pass through unchanged."""
    if label is None:
        return None
    text = label.strip()
    if not text:
        return None
    key = _NON_CODE.sub("_", text.upper()).strip("_")
    if key in _EXCEPTIONS:
        return _EXCEPTIONS[key]
    stripped = _NON_CODE.sub("_", _PAREN.sub("", text).upper()).strip("_")
    return _EXCEPTIONS.get(stripped, stripped) or None


_PHASE_TOKEN = re.compile(r"(early\s*phase\s*1|phase\s*[1-4]|n/?a|not applicable)", re.IGNORECASE)


def phases(label: str | None) -> tuple[str, ...]:
    """Phases from labels such as ``Phase 1/Phase 2``, ``PHASE1/PHASE2``, ``Phase 1 Phase 2``."""
    if not label:
        return ()
    found: list[str] = []
    for token in _PHASE_TOKEN.findall(label.replace("PHASE", "Phase ").replace("EARLY_", "Early ")):
        lowered = token.lower().replace(" ", "")
        if lowered.startswith("early"):
            value = "EARLY_PHASE1"
        elif lowered.startswith("phase"):
            value = "PHASE" + lowered[-1]
        else:
            value = "NA"
        if value not in found:
            found.append(value)
    return tuple(found)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"],
        start=1,
    )
}
_MONTHS.update({name[:3]: number for name, number in list(_MONTHS.items())})
# ASCII digits only: \d also matches other scripts' digits ("٢٠١١"), which no xsd:date holds.
_ISO = re.compile(r"^([0-9]{4})(?:-([0-9]{1,2}))?(?:-([0-9]{1,2}))?$")
_TEXT_DATE = re.compile(r"^([A-Za-z]+)\.?\s+(?:([0-9]{1,2}),?\s+)?([0-9]{4})$")


def iso_date(text: str | None) -> str | None:
    """An ISO date of the precision stated: ``January 2011`` -> ``2011-01``.

    Returns None when the text is no date (``2011-13``, ``February 30, 2011`` included),
    so callers can warn rather than guess.
    """
    if not text:
        return None
    value = text.strip()
    match = _ISO.match(value)
    if match:
        year, month, day = match.groups()
        return _checked_date(int(year), int(month) if month else None, int(day) if day else None)
    match = _TEXT_DATE.match(value)
    if match:
        month_name, day, year = match.groups()
        month = _MONTHS.get(month_name.lower())
        if month is None:
            return None
        return _checked_date(int(year), month, int(day) if day else None)
    return None


def _checked_date(year: int, month: int | None, day: int | None) -> str | None:
    """``YYYY[-MM[-DD]]`` when it is a real calendar date (xsd:date/gYearMonth/gYear), else None."""
    if year < 1 or (month is not None and not 1 <= month <= 12):
        return None
    if day is not None and (month is None or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")


_AGE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)")


def age_limit(text: str | None) -> tuple[float, str] | None:
    """``'18 Years'`` -> ``(18.0, 'Years')``; ``'N/A'`` and blanks give None."""
    if not text:
        return None
    match = _AGE.match(text)
    if not match:
        return None
    value = float(match.group(1))
    if not math.isfinite(value):  # 400 digits are no age (and "inf" no xsd:decimal)
        return None
    unit = match.group(2).capitalize()
    if not unit.endswith("s"):
        unit += "s"
    return value, unit


def quoted(text: str, limit: int = 80) -> str:
    """A value quoted for a message, cut short: a warning must not carry a 100 kB field."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# Identifiers that become IRIs: a value that is not one cannot be trusted in an IRI.
_NCT_ID = re.compile(r"NCT[0-9]{8}")
_PMID = re.compile(r"[0-9]{1,10}")
# Letter + digits; "M..." ids in API v2 browse modules are browse leaves, no MeSH ids.
_MESH_ID = re.compile(r"[A-LN-Z][0-9]{1,12}")


def nct_id(text: str | None) -> str | None:
    """A registry id ``NCT`` + 8 digits, or None."""
    return text if text is not None and _NCT_ID.fullmatch(text) else None


def pubmed_id(text: str | None) -> str | None:
    """A PMID (digits), or None."""
    return text if text is not None and _PMID.fullmatch(text) else None


def mesh_id(text: str | None) -> str | None:
    """A MeSH unique id (``D003920``, ``D000003920``, ``C000657245``), or None (``M3464``, ``D00%``)."""
    return text if text is not None and _MESH_ID.fullmatch(text) else None


# RFC 3987 IRIs, scheme http/https/ftp. The characters an IRI may not hold but the emitter
# percent-encodes (kg.rdf.terms.iri: C0 controls, space, <>"{}|^`\ and DEL) are allowed
# here; what remains must be valid, or Oxigraph refuses the whole chunk of N-Quads.
_ESCAPED_BY_EMITTER = '\x00-\x20<>"{}|^`\\\\\x7f'  # (a regex class: the backslash is escaped)
_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_CHAR = f"A-Za-z0-9\\-._~!$&'()*+,;={_UCSCHAR}{_ESCAPED_BY_EMITTER}"
_PCT = "%[0-9A-Fa-f]{2}"
_WEB_ADDRESS = re.compile(
    rf"(?:https?|ftp)://(?:(?:[{_CHAR}:]|{_PCT})*@)?(?:[{_CHAR}]|{_PCT})*(?::[0-9]*)?"  # [user@]host[:port]
    rf"(?:/(?:[{_CHAR}:@]|{_PCT})*)*"  # path
    rf"(?:\?(?:[{_CHAR}:@/?{_IPRIVATE}]|{_PCT})*)?"  # query
    rf"(?:#(?:[{_CHAR}:@/?]|{_PCT})*)?",  # fragment
    re.IGNORECASE,
)


def web_address(text: str | None) -> str | None:
    """A document's http(s)/ftp address that is a valid IRI once the emitter escapes it, or None.

    Example:
        >>> web_address("https://example.org/a b"), web_address("www.example.org"), web_address("http://x/%zz")
        ('https://example.org/a b', None, None)
    """
    if not text:
        return None
    value = text.strip()
    return value if _WEB_ADDRESS.fullmatch(value) else None


# The one meaning of yes/no across formats: API v2 booleans arrive as JSON true/false; the
# XML, CSV and pages write "Yes", "No", "Accepts Healthy Volunteers". Anything else is no answer.
_YES = frozenset({"yes", "true", "accepts healthy volunteers"})
_NO = frozenset({"no", "false"})


def yes_no(value: object) -> bool | None:
    """True, False or None (not stated, or not a yes/no) for a boolean or a yes/no label.

    Example:
        >>> [yes_no(v) for v in (True, "Yes", "No", " accepts healthy volunteers ", "maybe", None)]
        [True, True, False, True, None, None]
    """
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    return True if lowered in _YES else False if lowered in _NO else None
