"""Split a free-text eligibility block into atomic inclusion and exclusion criteria.

Registries store eligibility as one text block, and "which trials share an exclusion criterion"
needs each criterion as its own node. The block comes in many shapes: markdown bullets in API v2
JSON (``* BMI \\>35 kg/m\\^2.``), dash bullets hard-wrapped at 80 columns in legacy XML, numbered
lists (``1.``, ``1)``, ``(1)``, ``a.``, ``i.``), nested sub-lists, paragraphs without any bullet,
sub-headings ("For female participants:"), placeholders ("None", "N/A", "-") and blocks with no
"Inclusion Criteria" heading at all. The algorithm (docs/eligibility-splitting.md) works line by
line in one pass, then assembles items:

1. A line is a heading (sets the kind), an inline heading ("Inclusion Criteria: age > 18"), a
   bullet (its marker is removed), a plain line, or blank.
2. A bullet indented deeper than the open top-level item is a sub-item and is joined into it
   (with "; " unless the text before already ends with punctuation): "Any of the following:"
   means nothing without its list.
3. A plain line directly under an item continues it (legacy XML wraps lines); after a blank line
   it starts a new item unless it is indented under the item (a markdown continuation paragraph).
4. Context is no criterion: headings, plain lines ending with a colon, lead-ins such as "Patients
   must meet all of the following criteria:", short group labels ("Healthy volunteers:"),
   boilerplate ("Other protocol-defined inclusion/exclusion criteria may apply") and placeholders.
   The sub-items of a lead-in become criteria of their own.
5. Scope: a sub-heading or lead-in is kept as the ``scope`` of the criteria it governs, as written
   (whitespace collapsed, markdown escapes and surrounding emphasis removed). A context item scopes
   its own sub-items; a stand-alone sub-heading (a context item without sub-items) scopes the
   following items of its section until the next stand-alone sub-heading or section heading (a
   stand-alone lead-in and a stand-alone label nest: "Participants ... following criteria apply:"
   over "Age", then over "Medical Conditions"). Scopes nest, outer first, joined with " › ":
   "Cohort 1:" over "Patients must meet the following:" over "Age >= 18" gives the scope
   "Cohort 1: › Patients must meet the following:". Inclusion/Exclusion headings, placeholders,
   notes and connectors ("OR") are no scope; a group title right above a heading ("Part A1 Only")
   scopes that heading's section.
6. Without any heading the kind is ``UNSPECIFIED``; with only an exclusion heading, what precedes
   it includes ("Eligibility criteria: ... Exclusion criteria: ...").

Every regular expression is compiled once at import, anchored at the start of a line and bounded
(no unbounded repetition inside a repetition), and headings are only tried on lines that contain
"clusion" or "eligib", so each line costs time linear in its length: the splitter runs on every
registry record (~560,000 studies).

Example:
    >>> [c.kind[0] + ":" + c.text for c in split_criteria(
    ...     "Key Inclusion Criteria:\\n1. Age 18\\n   or older\\n2. Any of:\\n   a. HIV\\n   b. HBV\\n"
    ...     "Exclusion Criteria:\\n* BMI \\\\>35\\n* N/A")]
    ['I:Age 18 or older', 'I:Any of: HIV; HBV', 'E:BMI >35']
    >>> for c in split_criteria("Cohort 1:\\n* Age >= 18\\n\\nCohort 2:\\n* Age >= 18\\n"
    ...                         "* Patients must meet the following criteria:\\n  * ECOG 0-1"):
    ...     print(c.scope, "|", c.text)
    Cohort 1: | Age >= 18
    Cohort 2: | Age >= 18
    Cohort 2: › Patients must meet the following criteria: | ECOG 0-1
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from kg.model import Criterion
from kg.rules.eligibility_headings import EMPHASIS as _EMPHASIS
from kg.rules.eligibility_headings import EXCLUSION, INCLUSION, UNSPECIFIED, heading_kind, heading_scope
from kg.rules.eligibility_headings import NOTE as _NOTE

# CommonMark: a backslash before any ASCII punctuation character is an escape (API v2 writes \& and \>).
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")

# One list marker at the start of a (stripped) line: symbol bullets, "1." "1)" "(1)", "a." "(a)",
# roman "iv." and the "o" that word processors export. "-Text" and "•Text" count, "1.5 mg" does not.
_MARKER = re.compile(
    r"(?:[*+.\u25cb\u25a0\u25a1\u27a2\u25ba\u2713\u2013\u2014](?=\s)"
    r"|[-\u2022\u00b7\u25aa\u25cf\u25e6](?=\s|[^\W\d_])"
    r"|\(?\d{1,3}[.)](?!\d)|\d{1,3}\s?\([A-Za-z0-9]{1,3}\)[.)]"
    r"|\(?(?:i{1,3}|iv|vi{0,3}|ix|x)[.)](?=\s)"
    r"|\(?[A-Za-z][.)](?=\s)"
    r"|o(?=\s))\s*"
)
# "Inclusion Criteria: age > 18", "Exclusion criteria (healthy subjects): none".
_INLINE = re.compile(
    r"(?:key\s+|main\s+)?(inclusion|exclusion)(?:\s+crit[a-z]*)?(\s+(?:for|in|of)\s[^:]{1,60})?"
    r"\s*(?:\([^()]{0,60}\))?\s*:\s*(\S.*)",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"(?:none|none known|nil|n/?a|not applicable|not specified|see disease characteristics|"
    r"no (?:inclusion|exclusion) criteria|[-.\u2013\u2014]+)[.:]?",
    re.IGNORECASE,
)
# A lead-in that only announces the list below it.
_LEAD_IN = re.compile(
    r"(?:(?:all\s+|the\s+|a\s+)?(?:patients?|participants?|subjects?|individuals?|persons?|person|people|women|"
    r"men|children|candidates|volunteers|those|who)\b.{0,100}?\b(?:(?:following|these|below)\b.{0,40}?\b"
    r"(?:criteri(?:a|on)|apply|are met)|(?:excluded|eligible|ineligible|included|enrolled)\b.{0,60}?\bfollowing)\b"
    r"|(?:must|should)\s+(?:meet|fulfil+|satisfy)\b.{0,40}?\bfollowing\b)",
    re.IGNORECASE,
)
# "Group 1: Peanut allergic individuals (n=20)", "All Parts (A1, A2, B)", "Part A1 Only": labels of a sub-list.
_GROUP_TITLE = re.compile(
    r"(?:all\s+|for\s+)?(?:groups?|cohorts?|parts?|arms?|stages?|phases?|modules?)\s*[\w.-]{0,4}\b[^.]{0,60}",
    re.IGNORECASE,
)
_MEASURE = re.compile(r"[<>=\u2264\u2265%]|\d\s*(?:kg|mg|g|ml|years?|months?|weeks?|days?)\b", re.IGNORECASE)
_NOTE_ITEM = re.compile(r"(?:note|n\.b)\b", re.IGNORECASE)
_DASHES = re.compile(r"[-.\u2013\u2014_]+")
_MARKUP_ONLY = re.compile(r"(?:<!--.*?-->\s*)+")  # "<!-- -->": an HTML comment markdown editors leave
_GROUP_LABEL = re.compile(
    r"(?:[\w()&/,-]+\s+){0,3}(?:group|cohort|patients|participants|subjects?(?:\(s\))?|volunteers|controls?)"
    r"(?:\W|$)[^.;]{0,30}",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(r"(?:or|and|and/or)", re.IGNORECASE)
_WORD = re.compile(r"\w")
_TERMINAL = (".", ";", ",", "!", "?")
_KEYWORDS = "clusion"  # in "inclusion" and "exclusion": lines without it cannot be inline headings
_LONGEST = 3500  # characters of an item joined with its sub-items; more is a mis-indented list
SCOPE_SEPARATOR = " \u203a "  # " › " between nested scopes: "Cohort 1: › Patients must meet the following:"


def unescape_markdown(text: str) -> str:
    """Remove markdown backslash escapes: ``\\>35`` -> ``>35``, ``m\\^2`` -> ``m^2``."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text) if "\\" in text else text


@dataclass(slots=True)
class _Item:
    """One top-level list item: its kind, pieces (the item, then each sub-item), layout facts."""

    kind: str
    indent: int  # column of the marker (of the text for a plain line)
    bulleted: bool
    section: int
    pieces: list[list[str]] = field(default_factory=list)
    # (marker column, text column) of each piece: " 10." right-aligned under "  9." is no sub-item
    columns: list[tuple[int, int]] = field(default_factory=list)
    context: bool = False  # a sub-heading by its form: a connector ("OR") or a group label
    title: bool = False  # short, unpunctuated, unbulleted: a sub-heading if a bulleted list follows


def split_criteria(text: str | None) -> tuple[Criterion, ...]:
    """Atomic criteria of an eligibility block, in order, headings and placeholders removed.

    Drop-in replacement for ``kg.sources.criteria_text.split_criteria``; the labelled set in
    tests/data/eligibility/ measures both.
    """
    if not text or not text.strip():
        return ()
    kind = UNSPECIFIED
    saw_inclusion = saw_exclusion = False
    items: list[_Item] = []
    top: _Item | None = None  # the open top-level item sub-items and continuations attach to
    previous_blank = True
    section = 0
    group: str | None = None  # the group label of a block organised by groups ("Cohort 1" above its headings)
    bases: dict[int, str | None] = {}  # per section: the scope its heading gives ("Phase 1 Key Inclusion Criteria")
    for raw in text.splitlines():
        literal = raw.lstrip().startswith("\\+")  # "\\+ Doravirine": markdown escaped it, not a bullet
        line = unescape_markdown(raw).expandtabs(4).rstrip()
        stripped = line.strip()
        if not stripped:
            previous_blank = True
            continue
        if _DASHES.fullmatch(stripped) or _MARKUP_ONLY.fullmatch(stripped):
            continue  # an empty bullet: "-", "\\-"
        indent = len(line) - len(line.lstrip())
        body, first = (stripped, 0) if literal else _strip_markers(stripped)
        bulleted = first > 0
        columns = (indent, indent + first)
        wrapped = not previous_blank and not bulleted and top is not None and indent > top.indent
        heading = None if wrapped else heading_kind(body)  # "     exclusion criterion." ends a wrapped line
        if heading is not None:
            section += 1
            last = items[-1] if items else None
            scopes = [heading_scope(body)]
            label = last is not None and len(last.pieces) == 1 and not last.bulleted and last.title
            if label and (group is not None or (section == 1 and len(items) == 1)) and last is not None:
                # "Cohort 1" above the block's first heading: the block is a list of groups, each label above a
                # heading names the group of every section until the next label (NCT01515527)
                group = _scope_text(_clean(items.pop().pieces[0]))
            elif label and last is not None and _GROUP_TITLE.fullmatch(_clean(last.pieces[0])):
                # "Part A1 Only" above "Inclusion criteria 1-4 for all parts plus:" scopes that heading's section
                scopes.insert(0, _scope_text(_clean(items.pop().pieces[0])))
            bases[section] = SCOPE_SEPARATOR.join(label for label in [group, *scopes] if label) or None
            if heading != "":
                kind = heading
                saw_inclusion |= heading == INCLUSION
                saw_exclusion |= heading == EXCLUSION
            top, previous_blank = None, True
            continue
        inline = _INLINE.fullmatch(body.strip(_EMPHASIS)) if not wrapped and _KEYWORDS in body.lower() else None
        if inline and inline.group(2) is not None and not _LEAD_IN.match(inline.group(3)):
            inline = None  # "Inclusion criterion for the dose-escalation: Individuals with ..." is a criterion
        if inline:
            kind = INCLUSION if inline.group(1).lower() == "inclusion" else EXCLUSION
            saw_inclusion |= kind == INCLUSION
            saw_exclusion |= kind == EXCLUSION
            section += 1
            rest = _strip_markers(inline.group(3).strip())[0]
            top = _Item(kind, indent, True, section, [[rest]], [columns])
            top.context = _is_group_label(rest) or bool(_LEAD_IN.match(rest))
            items.append(top)
            previous_blank = False
            continue
        if top is not None and not top.context and _continues(top, columns, bulleted, previous_blank):
            if bulleted:
                top.pieces.append([body])
                top.columns.append(columns)
            else:
                top.pieces[-1].append(stripped)
        else:
            top = _Item(kind, indent, bulleted, section, [[body]], [columns])
            top.context = bool(_CONNECTOR.fullmatch(body.rstrip(" :")))
            top.title = not bulleted and (_is_title(body, stripped) or bool(_GROUP_TITLE.fullmatch(body)))
            items.append(top)
        previous_blank = False
    for item, following in itertools.pairwise(items):
        opens_list = following.bulleted or _clean(following.pieces[0]).endswith(":")
        if item.title and opens_list and item.section == following.section and len(item.pieces) == 1:
            item.context = True
    if saw_exclusion and not saw_inclusion:
        # "Eligibility criteria:" ... "Exclusion criteria:": what precedes the exclusions includes.
        for item in items:
            if item.kind == UNSPECIFIED:
                item.kind = INCLUSION
    criteria: list[Criterion] = []
    levels: list[tuple[bool, str]] = []  # the stand-alone lead-ins and sub-headings in force, outer first
    section = -1
    fresh = False  # the last item opened a scope and no criterion followed yet
    for item in items:
        if item.section != section:
            levels, section, fresh = [], item.section, False  # a heading ends every stand-alone scope
        base = bases.get(section)
        labels = [base] if base else []
        found, opened = _criteria(item, SCOPE_SEPARATOR.join(labels + [label for _, label in levels]) or None)
        criteria += found
        if opened is not None:
            # A sub-heading right under another ("Medications", then "Patient took the following ...:") nests.
            levels = [*levels, (bool(_LEAD_IN.match(opened)), opened)] if fresh else _open_scope(levels, opened)
        fresh = opened is not None or (fresh and not found)
    return tuple(criteria)


def _open_scope(levels: list[tuple[bool, str]], label: str) -> list[tuple[bool, str]]:
    """The stand-alone scopes after one more: a sub-heading replaces the sub-heading in force (and what
    nests under it), a lead-in the lead-in under the last sub-heading; each nests under the other kind.

    "Participants are eligible ... if all the following criteria apply:", "Age", ..., "Type of
    Participant": "Age" and then "Type of Participant" each nest under the lead-in.
    """
    lead_in = bool(_LEAD_IN.match(label))
    headings = [i for i, (is_lead_in, _) in enumerate(levels) if not is_lead_in]
    if not headings:
        return [*(levels if not lead_in else []), (lead_in, label)]
    keep = headings[-1] + 1 if lead_in else headings[0]
    return [*levels[:keep], (lead_in, label)]


def _strip_markers(text: str) -> tuple[str, int]:
    """The text without its list markers ("* 1) Age" -> "Age") and the width of the first (0: none)."""
    first = 0
    for _ in range(3):
        marker = _MARKER.match(text)
        if marker is None or marker.end() == 0 or marker.end() == len(text):
            break
        first = first or marker.end()
        text = text[marker.end():]
    return text, first


def _continues(top: _Item, columns: tuple[int, int], bulleted: bool, previous_blank: bool) -> bool:
    """Whether a line belongs to the open item: a deeper bullet, a wrapped or indented line."""
    indent = columns[0]
    if bulleted:
        return _deeper(columns, top.columns[0])
    if not previous_blank:
        return True  # legacy XML wraps every line at 80 columns
    # A paragraph indented to the text of the (sub-)item above continues it, as in markdown.
    return indent > top.indent and indent >= max(2, top.columns[-1][1])


def _deeper(columns: tuple[int, int], parent: tuple[int, int]) -> bool:
    """Whether a bullet is nested under another: both its marker and its text start further right."""
    return columns[0] > parent[0] and columns[1] > parent[1]


def _is_title(body: str, stripped: str) -> bool:
    """Whether an unbulleted line reads as a label ("Index Participants", "[Part 3 only]")."""
    if stripped.startswith("[") and stripped.endswith("]"):
        return True
    text = body.rstrip(" -")
    if _MEASURE.search(text):
        return False  # "Body weight \u226515 kg" states a condition
    return len(text.split()) <= 5 and not text.endswith(_TERMINAL)


def _is_group_label(text: str) -> bool:
    """Whether an inline heading's text names a group ("Test Group") rather than a criterion."""
    return bool(_GROUP_LABEL.fullmatch(text.strip())) and len(text.split()) <= 4


def _clean(lines: list[str]) -> str:
    """The lines of a piece as one text, whitespace collapsed."""
    return " ".join(" ".join(lines).split())


def _criteria(item: _Item, scope: str | None) -> tuple[list[Criterion], str | None]:
    """The criteria of one item under ``scope``, and the scope it opens for the items after it.

    None for context; under a lead-in, its sub-items (with theirs), scoped by it; a stand-alone
    sub-heading (context without sub-items) opens a scope and states no criterion.
    """
    head = _clean(item.pieces[0])
    if not item.bulleted and len(item.pieces) == 1 and _NOTE_ITEM.match(head):
        return [], None  # "Note: where slides are accepted, ..."
    nested = list(zip(item.columns[1:], item.pieces[1:], strict=True))
    children = [(columns, piece) for columns, piece in nested if not _is_dropped(_clean(piece))]
    if head.endswith(":") and nested and not children:
        return [], None  # "Hormone receptor status:" over "Not specified"
    group_title = item.bulleted and bool(children) and bool(_GROUP_TITLE.fullmatch(head))
    if item.context or group_title or _is_dropped(head) or _is_context(head, item.bulleted, bool(children)):
        label = _scope_text(head)
        if label is None:  # a placeholder, a note or a connector scopes nothing
            return [Criterion(text, item.kind, scope) for text in _sub_items(nested)], None
        if not nested:
            return [], label  # a stand-alone sub-heading: the items after it
        inner = label if scope is None else scope + SCOPE_SEPARATOR + label
        return [Criterion(text, item.kind, inner) for text in _sub_items(nested)], None
    joined = head
    for _, piece in children:
        joined = _join(joined, _clean(piece))
    if len(joined) > _LONGEST and children:
        # Thousands of characters under one bullet are a list indented by mistake, not one criterion.
        texts = [text for text in [head, *_sub_items(nested)] if not _is_dropped(text)]
        return [Criterion(text, item.kind, scope) for text in texts], None
    return ([Criterion(joined, item.kind, scope)] if joined else []), None


def _scope_text(head: str) -> str | None:
    """A context item's text as a scope ("**Cohort 1:**" -> "Cohort 1:"); None if it is no scope."""
    label = head.strip(_EMPHASIS)
    if _WORD.search(label) is None or _NOTE_ITEM.match(label) or _CONNECTOR.fullmatch(label.rstrip(" :")):
        return None
    return None if _is_dropped(label) else label


def _sub_items(children: list[tuple[tuple[int, int], list[str]]]) -> list[str]:
    """Sub-items as criteria of their own, each with the sub-sub-items nested under it."""
    groups: list[list[str]] = []
    start = (0, 0)
    for columns, piece in children:
        if groups and _deeper(columns, start):
            groups[-1].append(_clean(piece))
        else:
            groups.append([_clean(piece)])
            start = columns
    texts: list[str] = []
    for head, *subs in groups:
        live = [text for text in subs if not _is_dropped(text)]
        if subs and not live and head.endswith(":"):
            continue  # "Hormone receptor status:" over "Not specified"
        joined = head
        for text in live:
            joined = _join(joined, text)
        texts.extend([head, *live] if len(joined) > _LONGEST else [joined])
    return [text for text in texts if text and not _is_dropped(text)]


def _join(text: str, sub_item: str) -> str:
    """An item with one of its sub-items: "Any of:" + "HIV" -> "Any of: HIV", then "; HBV"."""
    if not sub_item or _is_dropped(sub_item):
        return text
    if not text:
        return sub_item
    return text + (" " if text.endswith((".", ",", ";", ":")) else "; ") + sub_item


def _is_dropped(text: str) -> bool:
    """Placeholders and boilerplate: never a criterion."""
    return bool(_PLACEHOLDER.fullmatch(text) or _NOTE.match(text))


def _is_context(text: str, bulleted: bool, has_children: bool) -> bool:
    """Sub-headings and lead-ins that introduce the items after them."""
    if not text.endswith(":"):
        return bool(_LEAD_IN.match(text)) and has_children
    if not bulleted:
        return True  # "For female participants:", "Hematopoietic:"
    if _LEAD_IN.match(text):
        return True
    return not has_children and len(text.split()) <= 4  # "* Healthy volunteers:" above a flat list
