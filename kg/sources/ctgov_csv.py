"""The ClinicalTrials.gov website's "Download CSV" of a search: one row per study.

Why support it: it is what most users have at hand (a search saved from the website),
and it holds the facts that connect trials: sponsors, sites, interventions, outcomes.
It is lossy: multi-valued cells are ``|``-joined, and a few cells join sub-fields with
``", "``, which the fields themselves may contain. Those cells are split by documented
heuristics (:func:`split_outcome`, :func:`split_location`); the raw row survives in the
payload for audit. The CSV has no arms, criteria, officials, MeSH or references.

Rows are streamed with :mod:`csv` (quoted cells may hold newlines). Bytes that are not
UTF-8 are reported per row, naming the line, and the other rows go on.

Example:
    >>> site = split_location("Mayo Clinic, Rochester, Minnesota, 55905, United States")
    >>> site.facility, site.city, site.state, site.zip, site.country
    ('Mayo Clinic', 'Rochester', 'Minnesota', '55905', 'United States')
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from kg.errors import KGError, RecordError, SourceError
from kg.model import (
    AgeLimit,
    Document,
    Eligibility,
    Enrollment,
    Identifier,
    Intervention,
    Organization,
    Outcome,
    Site,
    StudyDate,
    Trial,
)
from kg.rules.codes import age_limit, code, iso_date, phases, quoted, web_address
from kg.rules.countries import pop_country
from kg.rules.markdown import unescape_record
from kg.sources.base import Parsed, RawRecord, SourceFormat

__all__ = ["parse_ctgov_csv", "read_ctgov_csv", "sniff_ctgov_csv", "split_location", "split_outcome"]

FORMAT = "ctgov-csv"
# A sites cell of a large trial passes the csv module's default 128 KiB field limit.
_FIELD_LIMIT = 64 * 1024 * 1024
_NCT_ID = re.compile(r"^NCT\d{8}$")
# Undecodable bytes, kept as lone surrogates by errors="surrogateescape".
_UNDECODED = re.compile("[\udc80-\udcff]")
_INTERVENTION = re.compile(r"^([A-Za-z_ ]+):\s*(.+)$", re.DOTALL)
_INTERVENTION_TYPES = frozenset(
    {
        "BEHAVIORAL",
        "BIOLOGICAL",
        "COMBINATION_PRODUCT",
        "DEVICE",
        "DIAGNOSTIC_TEST",
        "DIETARY_SUPPLEMENT",
        "DRUG",
        "GENETIC",
        "OTHER",
        "PROCEDURE",
        "RADIATION",
    }
)
_POSTAL_CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9 \-]{1,11}$")
# Words that mark a comma-separated piece as part of an institution's name, not a city.
_INSTITUTION = re.compile(
    r"\b(universit\w*|hospital\w*|facult\w*|clinic\w*|cent(?:er|re)|institut\w*|medical|school|college|"
    r"department|foundation|health\w*|group|research|S\.?L\.?U?|GmbH|Inc|Ltd)\b",
    re.IGNORECASE,
)
# A short piece of a time frame list: "1", "and 12 months", "year 1", "Baseline".
_TIME_PIECE = re.compile(
    r"\d|\b(baseline|screening|day|week|month|year|hour|minute|visit|discharge|follow[- ]?up)s?\b", re.IGNORECASE
)
# Where a list goes on: "and 33 weeks", "21", "third and sixth month".
_LIST_CONTINUATION = re.compile(
    r"^(?:(?:and|or)\b|\d+$|(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)\b)", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.?!], ")
_AGE_OLDER = re.compile(r"^(.+?)\s+and older$", re.IGNORECASE)
_AGE_RANGE = re.compile(r"^(.+?)\s+to\s+(.+)$", re.IGNORECASE)
_AGE_UP_TO = re.compile(r"^up to\s+(.+)$", re.IGNORECASE)
_AGE_GROUPS = re.compile(r"\(([^)]*)\)\s*$")
_STD_AGES = frozenset({"CHILD", "ADULT", "OLDER_ADULT"})
_DOCUMENT_KIND = re.compile(r"/((?:Prot|SAP|ICF)(?:_(?:SAP|ICF))*)_\d+\.pdf$", re.IGNORECASE)
_MAX_TIME_FRAME = 255  # the registry's limit on a time frame
# Countries whose registry locations always name a state.
_STATE_ALWAYS = frozenset({"United States"})
# Today's column names -> those of the classic website's CSV (before 2023).
_CLASSIC_NAMES = {
    "Study Title": "Title",
    "Study Status": "Status",
    "Sex": "Gender",
    "Funder Type": "Funded Bys",
    "Study Design": "Study Designs",
}
_CLASSIC_SPONSORS = "Sponsor/Collaborators"  # lead sponsor first, then collaborators


def sniff_ctgov_csv(path: Path, head: bytes) -> bool:
    """The header row of the website's download: ``NCT Number`` and a title or URL column."""
    first_line = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return b"NCT Number" in first_line and (b"Title" in first_line or b"URL" in first_line)


# ---------------------------------------------------------------- reading


def read_ctgov_csv(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the rows of a search download as ``{column: text}`` payloads, keyed by NCT id.

    Example:
        >>> next(read_ctgov_csv(Path("tests/data/ctgov-csv/urology-search-sample.csv"))).record
        'NCT06600893'
    """
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    try:
        handle = path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None
    with handle:
        rows = csv.reader(handle)
        try:
            header = [name.strip() for name in next(rows, [])]
        except csv.Error as error:
            raise SourceError(f"not a CSV file: {error}", source=str(path)) from None
        _check_header(header, path)
        line = rows.line_num
        while True:
            start = line + 1
            try:
                row = next(rows, None)
            except csv.Error as error:
                raise SourceError(f"malformed CSV at line {start}: {error}", source=str(path)) from None
            if row is None:
                return
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            yield _row_record(header, row, path, start)


def _check_header(header: list[str], path: Path) -> None:
    if any(_UNDECODED.search(name) for name in header):
        raise SourceError("not UTF-8 text (save the CSV as UTF-8)", source=str(path))
    if "NCT Number" not in header:
        raise SourceError("no 'NCT Number' column: not a ClinicalTrials.gov CSV download", source=str(path))


def _row_record(header: list[str], row: list[str], path: Path, line: int) -> RawRecord | RecordError:
    where = f"line {line}"
    if len(row) != len(header):
        return RecordError(f"row has {len(row)} cells, the header {len(header)}", source=str(path), record=where)
    if any(_UNDECODED.search(cell) for cell in row):
        return RecordError("not UTF-8 text (save the CSV as UTF-8)", source=str(path), record=where)
    payload = dict(zip(header, row, strict=True))
    nct_id = payload["NCT Number"].strip()
    if not nct_id:
        return RecordError("row has no NCT Number", source=str(path), record=where)
    return RawRecord(FORMAT, str(path), nct_id, payload)


# ---------------------------------------------------------------- parsing


def parse_ctgov_csv(raw: RawRecord) -> Parsed:
    """Map one CSV row (``{column: text}``) to a :class:`~kg.model.Trial`."""
    row = raw.payload
    if not isinstance(row, dict):
        raise RecordError(f"payload is {type(row).__name__}, not a CSV row", source=raw.source, record=raw.record)
    try:
        return _parse_row(row)
    except KGError as error:
        raise RecordError(error.message, source=raw.source, record=raw.record) from None
    except (ValueError, TypeError, AttributeError) as error:
        raise RecordError(
            f"cannot map row: {type(error).__name__}: {error}", source=raw.source, record=raw.record
        ) from error


def _parse_row(row: dict[str, str]) -> Parsed:
    nct_id = _cell(row, "NCT Number")
    if not nct_id or not _NCT_ID.match(nct_id):
        raise RecordError(f"not an NCT id: {quoted(nct_id)}" if nct_id else "row has no NCT Number")
    warnings: list[str] = []
    design = _design(_cell(row, "Study Design"))
    ids = _items(_cell(row, "Other IDs"))
    sponsors = _items(_cell(row, _CLASSIC_SPONSORS))
    sponsor = _cell(row, "Sponsor") or (sponsors[0] if sponsors else None)
    collaborators = _items(_cell(row, "Collaborators")) or sponsors[1:]
    results = (_cell(row, "Study Results") or "").upper()
    trial = Trial(
        nct_id=nct_id,
        # The download lists the sponsor's own study id first, then the secondary ids.
        org_study_id=ids[0] if ids else None,
        secondary_ids=tuple(Identifier(value) for value in ids[1:]),
        brief_title=_cell(row, "Study Title"),
        acronym=_cell(row, "Acronym"),
        overall_status=code(_cell(row, "Study Status")),
        phases=phases(_cell(row, "Phases")),
        study_type=code(_cell(row, "Study Type")),
        start_date=_study_date(row, "Start Date", warnings),
        primary_completion_date=_study_date(row, "Primary Completion Date", warnings),
        completion_date=_study_date(row, "Completion Date", warnings),
        enrollment=_enrollment(_cell(row, "Enrollment"), warnings),
        allocation=design.get("ALLOCATION"),
        intervention_model=design.get("INTERVENTION_MODEL"),
        masking=design.get("MASKING"),
        primary_purpose=design.get("PRIMARY_PURPOSE"),
        conditions=_items(_cell(row, "Conditions")),
        interventions=tuple(_intervention(item) for item in _items(_cell(row, "Interventions"))),
        outcomes=_outcomes(row),
        eligibility=_eligibility(_cell(row, "Sex"), _cell(row, "Age")),
        lead_sponsor=Organization(sponsor, code(_first(_cell(row, "Funder Type")))) if sponsor else None,
        collaborators=tuple(Organization(name) for name in collaborators),
        sites=tuple(split_location(item) for item in _items(_cell(row, "Locations"))),
        documents=tuple(d for d in map(_document, _items(_cell(row, "Study Documents"))) if d),
        first_posted=_study_date(row, "First Posted", warnings),
        last_update_posted=_study_date(row, "Last Update Posted", warnings),
        results_first_posted=_study_date(row, "Results First Posted", warnings),
        has_results=True if results.startswith(("YES", "HAS RESULTS")) else False if results.startswith("NO") else None,
    )
    return Parsed(record=unescape_record(trial), warnings=tuple(warnings))


def _cell(row: dict[str, str], column: str) -> str | None:
    value = row.get(column)
    if value is None:
        value = row.get(_CLASSIC_NAMES.get(column, ""))
    if value is None:
        return None
    value = value.strip()
    return value or None


# The download joins a cell's values with a bare "|"; a "|" beside a space is inside a value
# (the facility "E2S | P.PORTO - Escola Superior de Saude ...").
_SEPARATOR = re.compile(r"(?<! )\|(?! )")


def _items(cell: str | None) -> tuple[str, ...]:
    """The ``|``-separated values of a multi-valued cell (``" | "`` with spaces belongs to a value)."""
    if not cell:
        return ()
    return tuple(value for part in _SEPARATOR.split(cell) if (value := part.strip()))


def _first(cell: str | None) -> str | None:
    items = _items(cell)
    return items[0] if items else None


def _study_date(row: dict[str, str], column: str, warnings: list[str]) -> StudyDate | None:
    text = _cell(row, column)
    if text is None:
        return None
    value = iso_date(text)
    if value is None:
        warnings.append(f"{column}: not a date: {quoted(text)}")
        return None
    return StudyDate(value)


def _enrollment(text: str | None, warnings: list[str]) -> Enrollment | None:
    if text is None:
        return None
    try:
        count = int(float(text))
    except (ValueError, OverflowError):  # "many", "1e400"
        warnings.append(f"Enrollment: not a number: {quoted(text)}")
        return None
    if count < 0:
        warnings.append(f"Enrollment: negative count {count} left out")
        return None
    return Enrollment(count)


def _design(cell: str | None) -> dict[str, str]:
    """``Allocation: RANDOMIZED|Masking: DOUBLE (PARTICIPANT)`` -> ``{"ALLOCATION": "RANDOMIZED", ...}``."""
    design: dict[str, str] = {}
    for item in _items(cell):
        key, _, label = item.partition(":")
        value = code(label)
        name = code(key)
        if value and name:
            design[name] = value
    return design


def _intervention(item: str) -> Intervention:
    """``DEVICE: Low intensity shockwave therapy (LiSWT)`` -> Intervention(name, type)."""
    match = _INTERVENTION.match(item)
    kind = code(match.group(1)) if match else None
    if match and kind in _INTERVENTION_TYPES:
        return Intervention(name=match.group(2).strip(), type=kind)
    return Intervention(name=item)  # no type prefix: a colon inside the name ("Arm A: ...")


def _outcomes(row: dict[str, str]) -> tuple[Outcome, ...]:
    found = []
    for column, kind in (
        ("Primary Outcome Measures", "PRIMARY"),
        ("Secondary Outcome Measures", "SECONDARY"),
        ("Other Outcome Measures", "OTHER"),
    ):
        for item in _items(_cell(row, column)):
            measure, description, time_frame = split_outcome(item)
            found.append(Outcome(measure, kind, time_frame, description))
    return tuple(found)


def split_outcome(item: str) -> tuple[str, str | None, str | None]:
    """Split ``measure, description, time frame`` (the download joins them with ", ").

    The fields may contain ", " themselves, so this is a heuristic:

    1. The measure is the text up to the first ", ".
    2. With one more piece, that piece is the time frame (the registry requires a time
       frame; the description is optional).
    3. Otherwise, when the rest holds ``"., "`` (or ``"?, "``, ``"!, "``: a description
       ending a sentence) and what follows is no longer than a time frame may be (255
       characters), split after the last one.
    4. Otherwise the time frame is the last ", " piece, extended to the left while it
       reads as the continuation of a list (starts with "and"/"or", an ordinal, or is a
       bare number: "first, third and sixth month at 13, 21, and 33 weeks") or the piece
       before it is a short time expression ("Baseline", "year 1", "at week 12").

    Example:
        >>> split_outcome("IIEF-5 score, Change in IIEF-5 score., Baseline, week 12")
        ('IIEF-5 score', 'Change in IIEF-5 score.', 'Baseline, week 12')
        >>> split_outcome("IIEF-5 score, 1, 3, 6, and 12 months")
        ('IIEF-5 score', None, '1, 3, 6, and 12 months')
    """
    measure, separator, rest = item.partition(", ")
    if not separator or not rest.strip():
        return item.strip(), None, None
    if ", " not in rest:
        return measure.strip(), None, rest.strip()
    stops = [match.end() for match in _SENTENCE_END.finditer(rest)]
    if stops and len(rest) - stops[-1] <= _MAX_TIME_FRAME:
        return measure.strip(), rest[: stops[-1] - 2].strip(), rest[stops[-1] :].strip() or None
    pieces = rest.split(", ")
    start = len(pieces) - 1
    while start > 0 and (_LIST_CONTINUATION.match(pieces[start]) or _time_piece(pieces[start - 1])):
        start -= 1
    description = ", ".join(pieces[:start]).strip() or None
    return measure.strip(), description, ", ".join(pieces[start:]).strip()


def _time_piece(piece: str) -> bool:
    """A short time expression: "Baseline", "year 1", "at week 12", "6"."""
    return len(piece.split()) <= 3 and bool(_TIME_PIECE.search(piece))


def split_location(item: str) -> Site:
    """Split ``Facility, City, State, Zip, Country`` (empty parts are left out).

    Parsed from the right, since facility names contain commas: the country is the last
    piece (the last two for a name such as "Korea, Republic of": kg.rules.countries); the
    piece before it is the postal code when it has a digit and is short;
    then the city and, when present, the state. A state is taken when the country always
    has one (United States) or when at least three pieces remain and the would-be city
    does not read as part of an institution's name ("Cairo University, Cairo, Egypt").
    What remains on the left is the facility.
    """
    pieces = [piece.strip() for piece in item.split(", ")]
    country = pop_country(pieces)
    postal = pieces.pop() if len(pieces) > 1 and _POSTAL_CODE.match(pieces[-1]) else None
    has_state = (country in _STATE_ALWAYS and len(pieces) >= 2) or (
        len(pieces) >= 3 and not _INSTITUTION.search(pieces[-2])
    )
    state = pieces.pop() if has_state else None
    city = pieces.pop() if pieces else None
    facility = ", ".join(pieces) or None
    return Site(facility=facility, city=city, state=state, zip=postal, country=country or None)


def _eligibility(sex: str | None, age: str | None) -> Eligibility:
    minimum, maximum, groups = _ages(age)
    return Eligibility(minimum_age=minimum, maximum_age=maximum, sex=code(sex), std_ages=groups)


def _ages(cell: str | None) -> tuple[AgeLimit | None, AgeLimit | None, tuple[str, ...]]:
    """``18 Years to 65 Years   (Adult)`` or ``ADULT, OLDER_ADULT`` -> (min, max, groups)."""
    if not cell:
        return None, None, ()
    groups_match = _AGE_GROUPS.search(cell)
    limits = cell[: groups_match.start()].strip() if groups_match else cell.strip()
    group_text = groups_match.group(1) if groups_match else ""
    minimum = maximum = None
    if match := _AGE_OLDER.match(limits):
        minimum = _age(match.group(1))
    elif match := _AGE_UP_TO.match(limits):
        maximum = _age(match.group(1))
    elif match := _AGE_RANGE.match(limits):
        minimum, maximum = _age(match.group(1)), _age(match.group(2))
    elif not group_text:
        group_text = limits  # today's download: the groups alone, "ADULT, OLDER_ADULT"
    groups = tuple(g for g in (code(part) for part in group_text.split(",")) if g in _STD_AGES)
    return minimum, maximum, groups


def _age(text: str) -> AgeLimit | None:
    limit = age_limit(text)
    return AgeLimit(*limit) if limit else None


def _document(item: str) -> Document | None:
    """``Study Protocol, https://cdn.clinicaltrials.gov/large-docs/94/NCT04374994/Prot_002.pdf``."""
    label, _, text = item.rpartition(", ")
    url = web_address(text)  # it becomes the document's IRI
    if url is None:
        return None
    kind = _DOCUMENT_KIND.search(url)
    return Document(url=url, label=label.strip() or None, type=kind.group(1) if kind else None)


CSV_FORMAT = SourceFormat(
    name=FORMAT,
    description="ClinicalTrials.gov website CSV download of a search (one study per row)",
    sniff=sniff_ctgov_csv,
    read=read_ctgov_csv,
    parse=parse_ctgov_csv,
)
