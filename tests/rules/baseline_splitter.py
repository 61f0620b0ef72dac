"""The splitter trialkg used before kg.rules.eligibility, frozen here as the baseline it is measured against.

Copied unchanged (but for this paragraph) from kg/sources/criteria_text.py at commit b54ec0b, so the
old-vs-new figures in docs/eligibility-splitting.md stay reproducible. Not used by the package.

Split a free-text eligibility block into atomic inclusion and exclusion criteria.

Registries store eligibility as one text block: markdown bullets in API v2 JSON and
on the modern page (``* BMI \\>35 kg/m\\^2.``), dash bullets on the classic page, indented
paragraphs in legacy XML. Queries such as "which trials share an exclusion criterion"
need each criterion as its own node, so this module finds the inclusion/exclusion
headings, the bullets, and the continuation lines that belong to the bullet above.

Example:
    >>> [c.kind[0] + ":" + c.text for c in split_criteria(
    ...     "Inclusion Criteria:\\n- Age 18\\n  or older\\nExclusion Criteria:\\n- BMI \\\\>35")]
    ['I:Age 18 or older', 'E:BMI >35']
"""

from __future__ import annotations

import re

from kg.model import Criterion

INCLUSION = "INCLUSION"
EXCLUSION = "EXCLUSION"
UNSPECIFIED = "UNSPECIFIED"

# "Inclusion Criteria:", "Key inclusion criteria", "INCLUSION CRITERIA -", "Exclusion criteria for all participants:"
_HEADING = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?\s*(?:key\s+|main\s+|general\s+)?(inclusion|exclusion)\s+criteri(?:a|on)\b[^:\n]{0,60}:?\s*(?:\*\*)?\s*$",
    re.IGNORECASE,
)
# A heading with the first criterion on the same line: "Inclusion Criteria: age > 18".
_INLINE_HEADING = re.compile(r"^\s*(inclusion|exclusion)\s+criteri(?:a|on)\s*:\s*(\S.*)$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[*\-\u2022\u00b7\u25aa\u25cf+]|\d{1,3}[.)]|[a-zA-Z][.)](?=\s))\s+(.*)$")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^~|=])")
_SPACES = re.compile(r"\s+")


def unescape_markdown(text: str) -> str:
    """Remove markdown backslash escapes: ``\\>35`` -> ``>35``, ``m\\^2`` -> ``m^2``."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text) if "\\" in text else text


def split_criteria(text: str | None) -> tuple[Criterion, ...]:
    """Atomic criteria of an eligibility block, in order, headings removed.

    A line that is not a bullet continues the bullet above it, unless a blank line
    separates them and it reads as a sub-heading (ends with a colon): registries write
    "For female participants:" above a list, and that is context, not a criterion.
    Without any heading the kind is ``UNSPECIFIED``.
    """
    if not text:
        return ()
    kind = UNSPECIFIED
    criteria: list[Criterion] = []
    current: list[str] = []
    after_blank = True

    def flush() -> None:
        if current:
            joined = _SPACES.sub(" ", " ".join(current)).strip()
            if joined:
                criteria.append(Criterion(text=joined, kind=kind))
            current.clear()

    for raw_line in unescape_markdown(text).splitlines():
        line = raw_line.strip()
        if not line:
            after_blank = True
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            kind = INCLUSION if heading.group(1).lower() == "inclusion" else EXCLUSION
            after_blank = True
            continue
        inline = _INLINE_HEADING.match(line)
        if inline:
            flush()
            kind = INCLUSION if inline.group(1).lower() == "inclusion" else EXCLUSION
            current.append(inline.group(2))
            after_blank = False
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            current.append(bullet.group(1))
        elif current and not (after_blank and line.endswith(":")):
            if after_blank and not _continues(current[-1]):
                flush()
                current.append(line)
            else:
                current.append(line)
        elif line.endswith(":"):
            flush()  # a sub-heading such as "For adolescent participants:"
        else:
            current.append(line)
        after_blank = False
    flush()
    kinds = {c.kind for c in criteria}
    if EXCLUSION in kinds and INCLUSION not in kinds:
        # "Eligibility criteria:" ... "Exclusion criteria:": what precedes the exclusions includes.
        criteria = [Criterion(c.text, INCLUSION) if c.kind == UNSPECIFIED else c for c in criteria]
    return tuple(criteria)


def _continues(previous: str) -> bool:
    """Whether a paragraph after a blank line still belongs to the text before it."""
    return not previous.rstrip().endswith((".", ";", ":", "?", "!"))
