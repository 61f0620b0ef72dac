"""Section headings of an eligibility block: their kind, and the scope a qualified heading gives.

Part of the eligibility splitter (kg/rules/eligibility.py, docs/eligibility-splitting.md). A heading
line names inclusion, exclusion or eligibility: "Inclusion Criteria:", "- Key Exclusion criteria",
"**INCLUSION CRITERIA**", "5.3 Exclusion", "Phase 1b Key Exclusion Criteria:". It sets the kind of
the items under it. A *qualified* heading, one with words beyond the generic ones ("Phase 1 Key
Inclusion Criteria", "Inclusion criteria for participation in R2.", "Inclusion Criteria (Controls):"),
also names the group its list is for: it is the scope of every criterion of its section, so the
same criterion in two groups' lists is two criteria.

    >>> heading_kind("Phase 1 Key Inclusion Criteria"), heading_scope("**Phase 1 Key Inclusion Criteria:**")
    ('INCLUSION', 'Phase 1 Key Inclusion Criteria:')
    >>> heading_kind("5.3 Exclusion"), heading_scope("5.3 Exclusion"), heading_scope("Key Inclusion Criteria")
    ('EXCLUSION', None, None)
"""

from __future__ import annotations

import re

INCLUSION = "INCLUSION"
EXCLUSION = "EXCLUSION"
UNSPECIFIED = "UNSPECIFIED"

EMPHASIS = " \t*_#"  # markdown emphasis and heading marks around a heading
# Boilerplate notes that are no criterion and would otherwise be "shared" by thousands of trials.
NOTE = re.compile(
    r"(?:note:?\s*)?(?:(?:other|additional)\s+(?:protocol[- ]defined\s+|drug[- ]specific\s+)?"
    r"(?:inclusion|exclusion|eligibility)\b.{0,40}\bcriteria\b.{0,40}\bapply"
    r"|(?:the\s+)?(?:above\s+)?information\s+(?:listed\s+above\s+)?is\s+not\s+intended\b"
    r"|for\s+more\s+information\b)",
    re.IGNORECASE,
)
# Headings: "Inclusion Criteria:", "- Key Exclusion criteria", "**INCLUSION CRITERIA**", "## Exclusion",
# "Inclusion:", "Exclusion criteria for all participants:", "Non-inclusion criteria:", "5.3 Exclusion".
_HEADING = re.compile(
    r"(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?(?:the\s+)?((?:[\w/().,-]+\s+){0,4}?)"
    r"(non[- ]?)?(inclusion|exclusion|eligibility)(\s+crit[a-z]*)?\b([^:]{0,200})",
    re.IGNORECASE,
)
# Words that may precede "Inclusion criteria" in any case; other prefixes must be Title Case ("Phase 1 Key").
_HEADING_PREFIX = re.compile(
    r"(?:(?:key|main|general|major|principal|additional|other|specific|selected|study|patients?|participants?|"
    r"donors?|siblings?|subjects?)\s+)*",
    re.IGNORECASE,
)
# Words of a heading that name no group: "Key Inclusion Criteria", "5.3 Exclusion", "Inclusion/Exclusion criteria".
_GENERIC = frozenset(
    "inclusion exclusion eligibility non criteria criterion criterias key main general major principal "
    "additional other selected study the and or patient patients participant participants subject subjects"
    .split()
)
_WORDS = re.compile(r"[^\W\d_]+")


def heading_kind(body: str) -> str | None:
    """INCLUSION/EXCLUSION for a heading line, "" for a neutral one ("Eligibility criteria"), else None."""
    lowered = body.lower()
    if "clusion" not in lowered and "eligib" not in lowered:
        return None  # every heading names inclusion, exclusion or eligibility: skip the patterns
    core = body.strip(EMPHASIS).rstrip(": \t").strip("*_ ")
    if len(core) > 200 or NOTE.match(core):
        return None
    match = _HEADING.fullmatch(core)
    if match is None:
        return None
    prefix, negated, word, criteria, tail = match.groups()
    if not criteria and tail.strip(" -"):
        return None  # "Inclusion of the child, step 2: ..." is text, not a heading
    if prefix and not _HEADING_PREFIX.fullmatch(prefix) and not (body.rstrip().endswith(":") or prefix.istitle()):
        return None  # "Not meeting inclusion criteria" is a criterion; "Phase 1b Key Inclusion Criteria" a heading
    if ". " in tail or tail.count(" ") > (25 if not prefix else 9):
        return None
    if word.lower() == "eligibility":
        return ""
    return EXCLUSION if negated or word.lower() == "exclusion" else INCLUSION


def heading_scope(body: str) -> str | None:
    """A heading line's text as the scope of its section, when it names a group; None for a generic one.

    The text is as written: emphasis and heading marks around it removed, whitespace collapsed,
    the trailing colon kept ("Inclusion Criteria (Controls):").
    """
    label = " ".join(body.strip(EMPHASIS).split())
    if any(word.lower() not in _GENERIC for word in _WORDS.findall(label)):
        return label
    return None
