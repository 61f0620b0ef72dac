"""Keys of conditions and interventions: one node per concept a trial names.

Why a rule of its own: a condition ("CO Poisoning") or an intervention ("Co-trimoxazole")
is no institution, so the institution rule's abbreviations ("co" -> "company") must not
touch it.

Example:
    >>> concept_key("Diabetes Mellitus, Type 1")
    'diabetes mellitus type 1'
"""

from __future__ import annotations

from kg.rules.institutions import organization_key


def concept_key(name: str | None) -> str | None:
    """The key of a condition or intervention name (None for an empty name)."""
    return organization_key(name)
