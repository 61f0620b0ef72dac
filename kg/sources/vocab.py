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
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
_TEXT_DATE = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")


def iso_date(text: str | None) -> str | None:
    """An ISO date of the precision stated: ``January 2011`` -> ``2011-01``.

    Returns None when the text is no date, so callers can warn rather than guess.
    """
    if not text:
        return None
    value = text.strip()
    match = _ISO.match(value)
    if match:
        year, month, day = match.groups()
        parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
        return "-".join(parts)
    match = _TEXT_DATE.match(value)
    if match:
        month_name, day, year = match.groups()
        month = _MONTHS.get(month_name.lower())
        if month is None:
            return None
        return f"{year}-{month:02d}-{int(day):02d}" if day else f"{year}-{month:02d}"
    return None


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)")


def age_limit(text: str | None) -> tuple[float, str] | None:
    """``'18 Years'`` -> ``(18.0, 'Years')``; ``'N/A'`` and blanks give None."""
    if not text:
        return None
    match = _AGE.match(text)
    if not match:
        return None
    unit = match.group(2).capitalize()
    if not unit.endswith("s"):
        unit += "s"
    return float(match.group(1)), unit
