"""Name the cause of each disagreement, so the list in docs/fidelity.md is a work list.

Each rule looks only at the two sides of one field of one record (what the record states,
what the graph states) and recognises a pattern: a kept markdown escape, two values joined
on one node (" ‖ " in the graph side: the node carries two values where the record has
two things), a missing value with no counterpart, and so on. A disagreement can have
several causes; each is a class. What no rule recognises is reported as unclassified, not
hidden.
"""

from __future__ import annotations

from collections import Counter

from tests.fidelity.compare import Disagreement
from tests.fidelity.criteria import (
    DROPPED_LEAD_IN,
    DROPPED_TEXT,
    GLUED,
    MERGED,
    SCOPE_AFTER,
    SCOPE_HEADING,
    SCOPE_MISSING,
)
from tests.fidelity.sources import CONTACT, unescape

JOINED = " ‖ "
ESCAPE = "markdown escape kept in {where} (e.g. \\>, \\&, \\[, \\^): the record means the bare character"
_PARTS = ("facility", "city", "state", "zip", "country", "lat", "lon")

CRITERIA_DIAGNOSES = {
    "placeholder criterion": "placeholder stated as a criterion ('None', 'N/A', '-'): the record states no criterion",
    "heading stated as a criterion": "heading line ('Inclusion Criteria:', 'Donor Inclusion Criteria') stated as a "
                                     "criterion",
    "criterion without words (markup only)": "markup-only line ('<!-- -->') stated as a criterion",
    "markdown escape kept in criterion": ESCAPE.format(where="criterion text"),
    MERGED: "repeated criterion (same normalised text and scope in one record, e.g. per-group lists under "
            "sub-headings the splitter does not see) merged into one node: several texts/positions on it, later "
            "occurrences lose their place",
    SCOPE_MISSING: "criterion scope (tkg:criterionScope) not found in the block: sub-heading text rewritten, or "
                   "two scopes on one node",
    SCOPE_HEADING: "inclusion/exclusion heading ('Inclusion Criteria:') stated as a criterion's scope",
    SCOPE_AFTER: "criterion scope found only after its criterion in the block (a sub-heading cannot govern what "
                 "precedes it)",
    "criterion text not in source block": "criterion text not found in the block: lines glued together across a "
                                          "bullet/enumerator or a sub-heading, or text rewritten",
    GLUED: "two list items (or an item and the next line/sub-heading) glued into one criterion: the criterion "
           "runs across the start of a line of the same or a lower indentation",
    "criterion out of source order": "criterion position does not follow the block order",
    "criterion spans an inclusion/exclusion heading": "one criterion runs across a section heading "
                                                      "(block not split at the heading)",
    "criterion without inclusion/exclusion kind": "criterion without inclusion/exclusion kind although the block "
                                                  "has headings (text before the first heading, or under an "
                                                  "unrecognised heading such as 'Cohort 1:')",
    "criterion without kind in a block without headings (inclusion by convention)":
        "block without any heading: criteria left without kind (before any exclusion heading = inclusion)",
    "exclusion criterion taken from the inclusion section": "criterion typed EXCLUSION but it sits in the "
                                                            "inclusion part of the block (heading missed or "
                                                            "mis-read)",
    "inclusion criterion taken from the exclusion section": "criterion typed INCLUSION but it sits under an "
                                                            "exclusion heading",
    DROPPED_LEAD_IN: "lead-in or sub-heading line ending in ':' ('For parent participants:', 'Cohort 1:') in no "
                     "criterion: criteria under it lose their scope",
    DROPPED_TEXT: "source text in no criterion (dropped: e.g. a non-bulleted line, or the text after a glued "
                  "sub-heading)",
}


def _has_joined(values: list) -> bool:
    return any(JOINED in str(v) for v in values)


def _escaped(missing: list, extra: list) -> bool:
    """An extra value that is a missing value with markdown escapes left in."""
    def plain(value):
        return tuple(unescape(x) if isinstance(x, str) else x for x in value) if isinstance(value, tuple) \
            else unescape(value) if isinstance(value, str) else value
    wanted = set(missing)
    return any(e != plain(e) and plain(e) in wanted for e in extra)


def _duplicates(d: Disagreement, expected_counts: Counter) -> bool:
    """A missing value the record lists more than once, still present once in the graph."""
    return any(expected_counts[m] > 1 for m in d.missing)


def classify(d: Disagreement, base: Disagreement | None = None) -> set[str]:
    """The causes of one disagreement; a count takes the causes of its list (``base``)."""
    if d.field == "criteria":
        return {CRITERIA_DIAGNOSES.get(k, k).replace("criterion text", f"{d.fmt} criterion text") for k in d.notes}
    if d.field.endswith(".count"):  # a count differs for the reasons its list differs
        causes = {c for c in classify(base) if not c.startswith("markdown escape")} if base else set()
        return causes or {f"{d.field}: count differs (unclassified)"}
    expected = d.expected
    counts = Counter(expected)
    f, fmt = d.field, d.fmt
    causes: set[str] = set()
    if _escaped(d.missing, d.extra):
        causes.add(ESCAPE.format(where=f"{fmt} {f} literals"))
    if f == "locations":
        causes |= _locations(d, counts, fmt)
    elif f in ("interventions", "arm_interventions"):
        causes |= _interventions(d, expected)
    elif f in ("lead_sponsor", "collaborators") and _has_joined(d.extra):
        causes.add("organisation node keyed by a normalised name: another spelling of it in the same record "
                   "(collaborator, official's affiliation) added as a second tkg:name")
    elif f == "conditions" and _has_joined(d.extra):
        causes.add("conditions that differ only in case/punctuation ('Non-small' vs 'Non Small') merged into one "
                   "condition node carrying both labels")
    elif f == "condition_mesh_linked":
        causes.add("legacy XML MeSH term given by name only is not linked to a MeSH descriptor IRI "
                   "(only tkg:conditionMeshTerm text)")
    elif f == "officials":
        if any(e[2] and CONTACT.search(e[2]) for e in d.extra):
            causes.add("phone number kept as an official's affiliation (contact data must be left out)")
        if any(m[1] is None for m in d.missing) and any(e[1] == "UNKNOWN" for e in d.extra):
            causes.add("official without a role given role code UNKNOWN instead of none")
    elif f == "references" and any("removed]" in str(e) for e in d.extra):
        causes.add("contact scrubber rewrote digits in a citation (DOI '10.1016/j.cell.2018.06.045' -> "
                   "'[phone removed]')")
    elif f == "outcomes" and fmt == "ctgov-csv" and not causes:
        causes.add("CSV outcome re-joined from the graph's measure/description/time frame differs from the "
                   "cell's text (split at the wrong comma)")
    if fmt == "ctgov-csv" and not causes and any(" | " in str(m) for m in d.missing):
        causes.add("CSV: a ' | ' inside a value read as the list separator: the value split in two")
    if not causes and _duplicates(d, counts):
        causes.add(f"{f}: identical value listed twice in the record stated once")
    return causes or {f"{f}: value differs (unclassified)"}


def _fold(text: str | None) -> str:
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


def _locations(d: Disagreement, counts: Counter, fmt: str) -> set[str]:
    if fmt == "ctgov-csv":
        return _csv_locations(d, counts)
    causes = set()
    expected = list(counts)
    for m in d.missing:
        if m[0] is None:
            causes.add("location without a facility name dropped")
            continue
        if counts[m] > 1:
            causes.add("identical location listed twice in the record stated once (one site node)")
            continue
        if any(e[0] and _fold(e[0]) == _fold(m[0]) for e in d.extra):
            causes.add("contact details removed from the facility name leave a stray comma (the letters agree; "
                       "the vanity number '1-877-CTLILLY' is kept: the contact rule reads digits only)")
            continue
        key = (_fold(m[0]), _fold(m[1]), _fold(m[4]))
        siblings = [e for e in expected if e != m and (_fold(e[0]), _fold(e[1]), _fold(e[4])) == key]
        differing = sorted({name for e in siblings for name, a, b in zip(_PARTS, m, e, strict=True)
                            if a != b and name not in ("lat", "lon")}, key=_PARTS.index)
        if "state" in differing:
            causes.add("site key ignores state: same facility+city+country in different states merged into one "
                       "site node")
        elif differing:
            spelled = [p + " spelling" if p in ("facility", "city", "country") else p for p in differing]
            causes.add("distinct locations with the same facility+city+country (differing "
                       + "/".join(spelled) + ") merged into one site node")
    return causes


def _csv_locations(d: Disagreement, counts: Counter) -> set[str]:
    causes = set()
    for m in d.missing:
        parts = m[0].split(", ")
        if " | " in m[0]:
            causes.add("CSV: a ' | ' inside a value (facility 'E2S | P.PORTO - ...') read as the list separator: "
                       "the part before it dropped")
        elif counts[m] > 1:
            causes.add("identical location listed twice in the record stated once (one site node)")
        elif any(e != m and e[0].split(", ")[0] == parts[0] and e[0].split(", ")[-1] == parts[-1] for e in counts):
            causes.add("CSV: distinct locations with the same facility and country (different zip, state or city "
                       "spelling) merged into one site node")
    return causes


def _interventions(d: Disagreement, expected: list) -> set[str]:
    causes = set()
    names = Counter()
    for value in expected:
        if isinstance(value, tuple):
            name = value[1] if d.field == "arm_interventions" else value[0]
            names[(name or "").casefold()] += 1
    if d.field == "arm_interventions":
        if any(m[1] is None for m in d.missing):
            causes.add("intervention without a name dropped (and its arm links)")
        if d.extra:
            causes.add("arm links follow an intervention merged with another of the same name (other case)")
        return causes or {"arm_interventions: link differs (unclassified)"}
    if _has_joined(d.extra) or any(m[0] and names[m[0].casefold()] > 1 for m in d.missing):
        causes.add("interventions with the same name (case-insensitive) merged into one node (descriptions/types "
                   "joined on it)")
    if any(m[0] is None for m in d.missing):
        causes.add("intervention without a name dropped (and its arm links)")
    return causes
