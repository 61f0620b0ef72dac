"""Input formats, keyed by name, with sniffing: the user passes files, we recognise them.

Each format module defines its :class:`~kg.sources.base.SourceFormat` (a sniffer and a
read/parse pair); ``FORMATS`` below lists them, in sniffing order (most specific first),
so adding a format is one new module plus one row there. :func:`parse_record` is the one
way a raw record becomes a finished one: the format's parser, then the rules that finish
every record alike (:mod:`kg.rules.finish`).

Example:
    >>> sorted(f.name for f in formats())[:2]
    ['ctgov-csv', 'ctgov-json']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from kg.errors import RecordError, SourceError
from kg.rules.finish import finish
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.ctgov_csv import CSV_FORMAT
from kg.sources.ctgov_json import JSON_FORMAT, JSON_ZIP_FORMAT
from kg.sources.ctgov_xml import XML_FORMAT, XML_ZIP_FORMAT
from kg.sources.page_classic import CLASSIC_PAGE_FORMAT
from kg.sources.page_modern import MODERN_PAGE_FORMAT
from kg.sources.pubmed import PUBMED_FORMAT

__all__ = [
    "Parsed",
    "RawRecord",
    "SourceFormat",
    "formats",
    "get_format",
    "iter_input_files",
    "parse_record",
    "read_records",
    "sniff",
]

FORMATS: tuple[SourceFormat, ...] = (
    MODERN_PAGE_FORMAT,
    CLASSIC_PAGE_FORMAT,
    JSON_FORMAT,
    JSON_ZIP_FORMAT,
    XML_FORMAT,
    XML_ZIP_FORMAT,
    CSV_FORMAT,
    PUBMED_FORMAT,
)
_BY_NAME = {source_format.name: source_format for source_format in FORMATS}

SNIFF_BYTES = 65536


def formats() -> list[SourceFormat]:
    """Every format, in sniffing order."""
    return list(FORMATS)


def get_format(name: str) -> SourceFormat:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise SourceError(f"unknown format {name!r} (known: {known})") from None


def sniff(path: Path) -> SourceFormat:
    """The format of a file, from its first bytes, or a SourceError saying why not."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None
    if not head.strip():
        raise SourceError("empty file", source=str(path))
    for source_format in formats():
        if source_format.sniff(path, head):
            return source_format
    if b"\x00" in head[:8192] and not head.startswith(b"PK"):
        raise SourceError("binary file, not a trial record", source=str(path))
    known = ", ".join(f.name for f in formats())
    raise SourceError(f"unrecognised format (known formats: {known})", source=str(path))


_NOTES = ("readme", "license", "licence", "changelog")


def _is_note(path: Path) -> bool:
    """Documentation that download folders carry (README.md, LICENSE): not records."""
    return path.name.lower().startswith(_NOTES) or path.suffix.lower() in {".md", ".rst"}


def iter_input_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the files below named folders in sorted order.

    Inside folders, hidden files and notes (README, LICENSE, ``*.md``) are skipped; a file
    named explicitly is always read.
    """
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in relative) and not _is_note(child):
                    yield child
        elif path.exists():
            yield path
        else:
            raise SourceError("no such file or folder", source=str(path))


def read_records(path: Path, format_name: str | None = None) -> Iterator[RawRecord | RecordError]:
    """Stream the raw records of one file, sniffing its format unless one is named."""
    source_format = get_format(format_name) if format_name else sniff(path)
    yield from source_format.read(path)


def parse_record(raw: RawRecord) -> Parsed:
    """The finished record a raw one states: its format's parser, then :func:`kg.rules.finish.finish`.

    Raises :class:`~kg.errors.RecordError` for a record that cannot be parsed.
    """
    parsed = get_format(raw.format).parse(raw)
    return Parsed(finish(parsed.record), parsed.warnings)
