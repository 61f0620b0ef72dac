"""Citation strings as registries print them, parsed into authors, title, journal, date, ids.

Why: a registration's reference is one string, and its authors are what links a trial's
investigators to their papers even before (or without) the PubMed record.
ClinicalTrials.gov prints the citations of PubMed-linked references in NLM (Vancouver)
style, so that style is parsed exactly::

    Authors. Title. Journal. Date;Volume(Issue):Pages. doi: DOI. Epub Date.

Anything else yields what can be recognised without guessing (DOI, PMID, PMCID, a year
stated once) and no authors.

Decisions:

* The source segment ("2016 Jan;39(1):149-57") anchors the parse: the sentence before it is
  the journal, the sentences between the authors and the journal are the title. Later
  date-like segments ("Erratum in: Diabetes Care. 2016 Mar;39(3):476.") are ignored.
* The first sentence is taken as the author list only when every item is an NLM name
  ("Family II", "O'Byrne PM Jr") or a group ("SYGMA 1 Investigators"), so a title is never
  turned into people. "et al." sets ``authors_truncated``.
* Dates keep the stated precision ("2022 Apr" -> ``2022-04``); seasons and month ranges
  keep the year (and the first month of a range).

Example:
    >>> c = parse_citation("Wu Z, Tan J. Prevention of complications. Cytotherapy. "
    ...                    "2022 Apr;24(4):421-427. doi: 10.1016/j.jcyt.2021.09.015. Epub 2022 Jan 25.")
    >>> [a.display_name for a in c.authors], c.journal, c.published, c.pages, c.doi, c.epublished
    (['Wu Z', 'Tan J'], 'Cytotherapy', '2022-04', '421-427', '10.1016/j.jcyt.2021.09.015', '2022-01-25')
"""

from __future__ import annotations

import functools
import re
from datetime import date

from kg.model import Author, Citation

_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_PMID = re.compile(r"\bPMID:?\s*(\d{1,9})\b")
_PMCID = re.compile(r"\bPMCID:?\s*(PMC\d+)\b")
_EPUB = re.compile(r"\bEpub\s+((?:1[89]|20)\d{2}(?:\s+[A-Z][a-z]{2,8}(?:\s+\d{1,2})?)?)")
_YEAR = re.compile(r"\b((?:1[89]|20)\d{2})\b")
_MONTHS = {name: number for number, name in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_MONTH_WORD = r"[A-Z][a-z]{2,8}\.?"
_WHEN = (
    r"(?P<year>(?:1[89]|20)\d{2})"
    rf"(?:\s+(?P<month>{_MONTH_WORD})(?:\s*[-/]\s*{_MONTH_WORD})?"
    r"(?:\s+(?P<day>\d{1,2})(?:\s*-\s*(?:[A-Z][a-z]{2}\s+)?\d{1,2})?)?)?"
)
_ISSUE_PAGES = (
    r"\s*(?P<volume>[^\s():;](?:[^():;]*?[^\s():;])?)?\s*(?:\((?P<issue>[^()]*)\))?(?:\s*:\s*(?P<pages>[^\s;,]+?))?"
    r"\s*\.?\s*(?:[;,].*)?$"
)
# "2016 Jan;39(1):149-57" (a sentence of its own, NLM style)
_SOURCE = re.compile(rf"^{_WHEN}(?:\s*;{_ISSUE_PAGES}|\s*\.?$)")
# "N Engl J Med 2008;358:2545-59" (journal and date in one sentence, other Vancouver styles)
_JOURNAL_SOURCE = re.compile(
    rf"^(?P<journal>[A-Z][^;:()]*?)\.?\s+(?P<year>(?:1[89]|20)\d{{2}})(?P<month>)(?P<day>)\s*;{_ISSUE_PAGES}"
)
# One author in NLM style: family name (any words), 1-4 capital initials ("C-R" in some), optional suffix.
_NLM_NAME = re.compile(
    r"^(?P<family>[^\W\d_][\w'’\-. ]*?)\s+(?P<initials>[A-Z\u00C0-\u00DE](?:-?[A-Z\u00C0-\u00DE]){0,3})"
    r"(?:\s+(?P<suffix>Jr|Sr|2nd|3rd|4th|II|III|IV))?$"
)
_GROUP_WORDS = re.compile(
    r"\b(group|groups|investigators?|consortium|collaborat\w*|committee|network|study|trial|team|society|"
    r"association|council|working|initiative|panel|task force|registry)\b",
    re.IGNORECASE,
)
_ET_AL = re.compile(r"[,\s]*(?:\bet\.?\s*al\b\.*|\.\.\.|…)$", re.IGNORECASE)
_AND = re.compile(r"^(?:and|&)\s+", re.IGNORECASE)
_ITEM_SPLIT = re.compile(r"\s*,\s*")
_NO_AUTHORS = re.compile(r"^\[?no authors listed\]?\.?\s*", re.IGNORECASE)
_DOI_TRAILING = ".,;:]"


@functools.lru_cache(maxsize=8192)
def parse_citation(text: str) -> Citation:
    """What a citation string states (cached: the same background references recur across trials)."""
    clean = _SPACES.sub(" ", text).strip()
    ids = {"doi": doi_in(clean), "pmid": _group(_PMID, clean), "pmcid": _group(_PMCID, clean),
           "epublished": _date_text(_group(_EPUB, clean))}
    clean = _NO_AUTHORS.sub("", clean)
    sentences = [s for s in _SENTENCE_END.split(clean) if s]
    found = _find_source(sentences)
    authors, truncated = _authors(sentences[0]) if sentences and (found is None or _journal_index(found) > 0) \
        else ((), False)
    if found is None:
        years = set(_YEAR.findall(clean))
        return Citation(text=text, authors=authors, authors_truncated=truncated,
                        published=years.pop() if len(years) == 1 else None, **ids)
    _index, match, journal = found
    journal_index = _journal_index(found)
    title_start = 1 if authors or truncated else 0
    title = " ".join(sentences[title_start:journal_index]).rstrip(".").strip() or None
    if journal is None:
        journal = sentences[journal_index].rstrip(".").strip()
    return Citation(
        text=text,
        authors=authors,
        authors_truncated=truncated,
        title=title,
        journal=journal or None,
        published=_iso(match.group("year"), match.group("month"), match.group("day")),
        volume=match.group("volume") or None,
        issue=match.group("issue") or None,
        pages=(match.group("pages") or "").rstrip(".") or None,
        **ids,
    )


def _find_source(sentences: list[str]) -> tuple[int, re.Match[str], str | None] | None:
    """The first sentence that is a source (date;volume(issue):pages), after at least a journal."""
    for index, sentence in enumerate(sentences):
        if index >= 1:
            match = _SOURCE.match(sentence)
            if match:
                return index, match, None
        match = _JOURNAL_SOURCE.match(sentence)
        if match and index >= 1:
            return index, match, match.group("journal").strip()
    return None


def _journal_index(found: tuple[int, re.Match[str], str | None]) -> int:
    """The sentence holding the journal: the source sentence itself, or the one before it."""
    index, _match, journal = found
    return index if journal is not None else index - 1


def _authors(sentence: str) -> tuple[tuple[Author, ...], bool]:
    """The author list of a first sentence, or () when it is no author list."""
    text = sentence.strip()
    truncated = bool(_ET_AL.search(text))
    text = _ET_AL.sub("", text).rstrip(".").strip()
    if not text:
        return (), truncated
    found: list[Author] = []
    # NLM separates personal names with commas and group names with semicolons:
    # "Chou R, Owens DK; American College of Physicians; American Pain Society".
    for position, part in enumerate(p.strip() for p in text.split(";")):
        names = _names(part)
        if names is not None:
            found.extend(names)
        elif position > 0 or _GROUP_WORDS.search(part):
            found.append(Author(collective=part))
        else:
            return (), False
    if not any(author.family for author in found) and not truncated:
        return (), False  # only "group" items: more likely a title than an author list
    return tuple(found), truncated


def _names(part: str) -> list[Author] | None:
    """Comma-separated NLM names (and group names among them), or None when an item is neither."""
    names = []
    for raw in _ITEM_SPLIT.split(part):
        item = _AND.sub("", raw.strip())
        if not item:
            continue
        match = _NLM_NAME.match(item)
        if not match or _GROUP_WORDS.search(match.group("family")):
            if _GROUP_WORDS.search(item):  # "ARROW Trial team, Kekitiinwa A, ..."
                names.append(Author(collective=item))
                continue
            return None
        names.append(Author(family=match.group("family"), initials=match.group("initials").replace("-", ""),
                            suffix=match.group("suffix")))
    return names or None


def doi_in(text: str | None) -> str | None:
    """The DOI a text states ("... doi: 10.1056/NEJMoa1214901. Erratum in ..."): the one DOI rule.

    Example:
        >>> doi_in("Lancet. 2020;1(2):3-4. doi: 10.1016/S0140-6736(20)30183-5.")
        '10.1016/S0140-6736(20)30183-5'
    """
    if not text or "10." not in text:
        return None
    match = _DOI.search(text)
    if not match:
        return None
    value = match.group(1).rstrip(_DOI_TRAILING)
    while value.endswith(")") and value.count("(") < value.count(")"):
        value = value[:-1].rstrip(_DOI_TRAILING)
    return value


def _group(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _date_text(text: str | None) -> str | None:
    """An ISO date from "2022 Jan 25" / "2022 Jan" / "2022"."""
    if not text:
        return None
    parts = text.split()
    return _iso(parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None)


def _iso(year: str, month: str | None, day: str | None) -> str:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as far as the parts are a real date."""
    number = _MONTHS.get((month or "")[:3].lower())
    if number is None:
        return year
    if day:
        try:
            return date(int(year), number, int(day)).isoformat()
        except ValueError:
            pass
    return f"{year}-{number:02d}"
