"""Eligibility criteria: nothing invented, nothing dropped, each in its own section.

The checker does not split the block itself (that would be a second splitter to trust).
It works on the block's words instead: each criterion the graph states must occur as a run
of words of the source block, after the previous criterion (source order); the run must lie
in the inclusion part (under an inclusion heading, or before any exclusion heading) for an
inclusion criterion and in the exclusion part for an exclusion criterion; and together the
criteria must cover the block's words, headings and bullet markers aside.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from tests.fidelity.sources import unescape

# A heading line: "Inclusion Criteria:", "**Key Exclusion Criteria**", "EXCLUSION:", "Exclusion criteria for ...".
_HEADING = re.compile(r"^(?:key |main |general |major |additional )?(inclusion|exclusion)"
                      r"(?: (?:criteria|criterion))?(?: for [^:]{0,80}| \([^)]{0,60}\))?:?$", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+•·●○▪◦o]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])(?=\s)")
_WORD = re.compile(r"\w+")
PLACEHOLDERS = {"", "none", "n/a", "not applicable", "-", "na", "nil"}
_ESCAPE_KEPT = re.compile(r"\\[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]")


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


def _block_words(block: str) -> tuple[list[str], list[str]]:
    """The block's words (headings and bullet markers removed) and each word's section."""
    words: list[str] = []
    sections: list[str] = []
    section = "INCLUSION"
    for line in unescape(block).splitlines():
        bare = re.sub(r"[*_#]+", " ", line)
        bare = _BULLET.sub(" ", bare).strip()
        heading = _HEADING.match(" ".join(bare.split()))
        if heading:
            section = heading.group(1).upper()
            continue
        for word in _WORD.findall(bare):
            words.append(word.lower())
            sections.append(section)
    return words, sections


def check_criteria(block: str | None, criteria: list[tuple[int, str | None, str]]) -> CriteriaResult:
    """Compare the graph's criteria (position, kind, text) with the source block."""
    result = CriteriaResult(criteria=len(criteria))
    words, sections = _block_words(block or "")
    result.words = len(words)
    # Words joined with single spaces; a criterion's words are found as a substring at word bounds.
    text = " " + " ".join(words) + " "
    starts = [0]
    for word in words:
        starts.append(starts[-1] + len(word) + 1)
    covered = [False] * len(words)
    cursor = 0
    for _, kind, criterion in sorted(criteria):
        plain = " ".join(criterion.split())
        if plain.lower().strip(" .;:") in PLACEHOLDERS:
            result.add("placeholder criterion", plain)
            continue
        if _ESCAPE_KEPT.search(criterion):
            result.add("markdown escape kept in criterion", plain)
        if kind is None:
            result.add("criterion without inclusion/exclusion kind", plain)
        needle_words = [w.lower() for w in _WORD.findall(unescape(criterion))]
        if not needle_words:
            result.add("criterion without words", plain)
            continue
        needle = " " + " ".join(needle_words) + " "
        at = text.find(needle, starts[cursor] if cursor < len(starts) else len(text))
        if at < 0:
            at = text.find(needle)
            if at < 0:
                result.add("criterion text not in source block", plain)
                continue
            result.add("criterion out of source order", plain)
        first = bisect.bisect_left(starts, at)
        last = first + len(needle_words)
        cursor = max(cursor, last)
        for i in range(first, min(last, len(words))):
            covered[i] = True
        spanned = set(sections[first:last])
        if len(spanned) > 1:
            result.add("criterion spans an inclusion/exclusion heading", plain)
        elif kind is not None and spanned != {kind}:
            result.add(f"{kind.lower()} criterion taken from the {spanned.pop().lower()} section", plain)
    result.covered = sum(covered)
    if words and result.covered < len(words):
        gaps = []
        i = 0
        while i < len(words):
            if not covered[i]:
                j = i
                while j < len(words) and not covered[j]:
                    j += 1
                gaps.append(" ".join(words[i:j]))
                i = j
            else:
                i += 1
        for gap in gaps:
            result.add("source words not in any criterion", gap)
    return result
