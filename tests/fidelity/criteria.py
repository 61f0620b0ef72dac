"""Eligibility criteria: nothing invented, nothing dropped, each in its own section.

The checker does not split the block itself (that would be a second splitter to trust).
It works on the block's words instead: each criterion the graph states must occur as a run
of words of the source block, after the previous criterion (source order); the run must lie
in the inclusion part (under an inclusion heading, or before any exclusion heading) for an
inclusion criterion and in the exclusion part for an exclusion criterion; and together the
criteria must cover the block's words, headings and bullet markers aside.

A criterion's scope (tkg:criterionScope: the sub-heading or lead-in that governs it, nested ones
joined with " › ") must occur in the block too, each part before the criterion; its words count
as covered, so a lead-in line kept as the scope of the criteria under it is not dropped text.
The same text under two scopes is two nodes in the graph, each with its own position.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from tests.fidelity.sources import unescape

# A heading: "Inclusion Criteria:", "**Key Exclusion Criteria**", "EXCLUSION:", "Pre-operative exclusion criteria".
# It may be followed by text on the same line ("Key Exclusion Criteria: Participants are excluded if ...").
_HEADING = re.compile(r"^(?:(?!not |no |meet|any |all )[\w/-]+ ){0,3}?(inclusion|exclusion)(?: (?:criteria|criterion))?"
                      r"(?: for [^:]{0,60}| \([^)]{0,60}\))?\s*(?::|$)", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+•·●○▪◦o]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])(?=\s)")
_MARKUP = re.compile(r"[*_#]+")
_WORD = re.compile(r"\w+")
PLACEHOLDERS = {"", "none", "n/a", "not applicable", "-", "na", "nil"}
_ESCAPE_KEPT = re.compile(r"\\[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]")
MERGED = "repeated criterion (same normalised text) merged into one node with several texts/positions"
GLUED = "criterion runs on into the next line of the same or a lower level (two items glued into one)"
DROPPED_TEXT = "source text in no criterion"
DROPPED_LEAD_IN = "lead-in or sub-heading line (ending in ':') in no criterion"
SCOPE_MISSING = "criterion scope not in source block"
SCOPE_AFTER = "criterion scope only after its criterion"
SCOPE_HEADING = "inclusion/exclusion heading stated as a criterion scope"
_BARE_HEADING = {"inclusion", "exclusion", "criteria", "criterion", "key", "main"}
SCOPE_SEPARATOR = " \u203a "  # between nested scopes, outer first (see tkg:criterionScope in ontology/trialkg.ttl)


@dataclass
class CriteriaResult:
    """Per record: problems found (class -> example texts) and the word coverage."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    words: int = 0
    covered: int = 0
    criteria: int = 0

    def add(self, kind: str, text: str) -> None:
        self.problems.setdefault(kind, []).append(" ".join(text.split())[:90])

    @property
    def coverage(self) -> float:
        return self.covered / self.words if self.words else 1.0


def _bare(line: str) -> str:
    """A line without markdown emphasis and its leading bullet or enumerator."""
    return " ".join(_BULLET.sub(" ", _MARKUP.sub(" ", line)).split())


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


@dataclass
class _Block:
    """The block's words (headings, bullets removed) and, per word: section, whether its line is a
    lead-in (ends with ':'), and the indentation of its line if the word starts that line."""

    words: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    lead_in: list[bool] = field(default_factory=list)
    line_start: list[int | None] = field(default_factory=list)
    indent: list[int] = field(default_factory=list)
    headed: bool = False
    headings: set[tuple[str, ...]] = field(default_factory=set)  # the words of each heading line


def _block_words(block: str) -> _Block:
    b = _Block()
    section = "INCLUSION"
    for line in unescape(block).splitlines():
        indent = len(line) - len(line.lstrip())
        bare = _bare(line)
        heading = _HEADING.match(bare)
        if heading:
            section, b.headed = heading.group(1).upper(), True
            b.headings.add(tuple(_words(bare[:heading.end()])))
            bare = bare[heading.end():]
        line_words = _words(bare)
        b.words += line_words
        b.sections += [section] * len(line_words)
        b.lead_in += [bare.rstrip().endswith(":")] * len(line_words)
        b.line_start += [indent] + [None] * (len(line_words) - 1) if line_words else []
        b.indent += [indent] * len(line_words)
    return b


def check_criteria(block: str | None, criteria: list[tuple[int, str | None, str, bool, str]]) -> CriteriaResult:
    """Compare the graph's criteria (position, kind, text, merged, scope) with the source block."""
    result = CriteriaResult(criteria=len(criteria))
    b = _block_words(block or "")
    words, sections, lead_in, headed = b.words, b.sections, b.lead_in, b.headed
    result.words = len(words)
    # Words joined with single spaces; a criterion's words are found as a substring at word bounds.
    text = " " + " ".join(words) + " "
    starts = [0]
    for word in words:
        starts.append(starts[-1] + len(word) + 1)
    covered = [False] * len(words)
    cursor = 0
    for _, kind, criterion, merged, scope in sorted(criteria):
        plain = " ".join(criterion.split())
        if plain.lower().strip(" .;:") in PLACEHOLDERS:
            result.add("placeholder criterion", plain)
            continue
        if _ESCAPE_KEPT.search(criterion):
            result.add("markdown escape kept in criterion", plain)
        if _HEADING.fullmatch(_bare(unescape(criterion)).rstrip(": ")):
            result.add("heading stated as a criterion", plain)
            continue
        if kind is None:
            result.add("criterion without inclusion/exclusion kind" if headed else
                       "criterion without kind in a block without headings (inclusion by convention)", plain)
        needle_words = _words(_bare(unescape(criterion)))
        if not needle_words:
            result.add("criterion without words (markup only)", plain)
            continue
        if merged:
            result.add(MERGED, plain)
        needle = " " + " ".join(needle_words) + " "
        at = text.find(needle, starts[cursor] if cursor < len(starts) else len(text))
        in_order = at >= 0
        if at < 0:
            at = text.find(needle)
            if at < 0:
                result.add("criterion text not in source block", plain)
                continue
            if not merged:  # a merged node has lost its later positions: order is moot
                result.add("criterion out of source order", plain)
        first = bisect.bisect_left(starts, at)
        last = first + len(needle_words)
        cursor = max(cursor, last)
        for i in range(first, min(last, len(words))):
            covered[i] = True
        for part in scope.split(SCOPE_SEPARATOR) if scope else ():
            _cover_scope(part, b, text, starts, first if in_order else len(words), covered, result)
        if any(b.line_start[k] is not None and b.line_start[k] <= b.indent[first] for k in range(first + 1, last)):
            result.add(GLUED, plain)
        spanned = set(sections[first:last])
        if len(spanned) > 1:
            result.add("criterion spans an inclusion/exclusion heading", plain)
        elif kind is not None and spanned != {kind}:
            result.add(f"{kind.lower()} criterion taken from the {spanned.pop().lower()} section", plain)
    result.covered = sum(covered)
    if words and result.covered < len(words):
        i = 0
        while i < len(words):
            if covered[i]:
                i += 1
                continue
            j = i
            while j < len(words) and not covered[j]:
                j += 1
            result.add(DROPPED_LEAD_IN if all(lead_in[i:j]) else DROPPED_TEXT, " ".join(words[i:j]))
            i = j
    return result


def _cover_scope(scope: str, b: _Block, text: str, starts: list[int], before: int, covered: list[bool],
                 result: CriteriaResult) -> None:
    """Find one part of a criterion's scope in the block, nearest before the criterion (word ``before``; the
    block's end when the criterion itself was out of order), and cover its words."""
    if _ESCAPE_KEPT.search(scope):
        result.add("markdown escape kept in criterion", scope)
    scope_words = _words(_bare(unescape(scope)))
    if tuple(scope_words) in b.headings:
        if set(scope_words) <= _BARE_HEADING:
            result.add(SCOPE_HEADING, scope)  # "Inclusion Criteria:" governs every criterion of its kind: no scope
        return  # a group's heading line ("Healthy subjects inclusion criteria"): its words are no block words
    needle = " " + " ".join(scope_words) + " "
    if not scope_words:
        result.add(SCOPE_MISSING, scope)
        return
    at = text.rfind(needle, 0, starts[before] + 1)
    if at < 0:
        at = text.find(needle)
        result.add(SCOPE_MISSING if at < 0 else SCOPE_AFTER, scope)
        if at < 0:
            return
    first = bisect.bisect_left(starts, at)
    for i in range(first, min(first + len(scope_words), len(covered))):
        covered[i] = True
