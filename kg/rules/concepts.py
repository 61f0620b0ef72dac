"""Keys of conditions and interventions: one node per concept a trial names.

Why a rule of its own: a condition ("CO Poisoning") or an intervention ("Co-trimoxazole")
is no institution, so the institution rule's abbreviations ("co" -> "company", "st" ->
"saint", "med" -> "medical") must not touch it. The key folds only what does not change
the meaning: case, Unicode compatibility forms, punctuation and spacing.

Example:
    >>> concept_key("Diabetes Mellitus, Type 1"), concept_key("CO Poisoning")
    ('diabetes mellitus type 1', 'co poisoning')
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["concept_key"]

_PUNCT = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def concept_key(name: str | None) -> str | None:
    """The key of a condition or intervention name (None for a name with no letters or digits)."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKC", name).lower()
    return _SPACES.sub(" ", _PUNCT.sub(" ", folded)).strip() or None
