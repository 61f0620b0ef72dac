"""Input formats, keyed by name, with sniffing: the user passes files, we recognise them.

Each format module registers a :class:`~kg.sources.base.SourceFormat` on import. The
registry tries the sniffers in registration order (most specific first) on the first
bytes of a file, so adding a format is one new module plus one line in ``_BUILTIN``.

Example:
    >>> sorted(f.name for f in formats())[:2]
    ['ctgov-csv', 'ctgov-json']
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from kg.errors import RecordError, SourceError
from kg.sources.base import Parsed, RawRecord, SourceFormat

__all__ = [
    "Parsed",
    "RawRecord",
    "SourceFormat",
    "formats",
    "get_format",
    "iter_input_files",
    "read_records",
    "register",
    "sniff",
]

_BUILTIN = (
    "kg.sources.page_modern",
    "kg.sources.page_classic",
    "kg.sources.ctgov_json",
    "kg.sources.ctgov_xml",
    "kg.sources.ctgov_csv",
    "kg.sources.pubmed",
)
_REGISTRY: dict[str, SourceFormat] = {}
_loaded = False

SNIFF_BYTES = 65536


def register(source_format: SourceFormat) -> SourceFormat:
    """Add a format to the registry (later registrations of a name replace earlier ones)."""
    _REGISTRY[source_format.name] = source_format
    return source_format


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:  # a format not yet written in this checkout
            if error.name != module:
                raise


def formats() -> list[SourceFormat]:
    """Every registered format, in sniffing order."""
    _load_builtins()
    return list(_REGISTRY.values())


def get_format(name: str) -> SourceFormat:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
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
