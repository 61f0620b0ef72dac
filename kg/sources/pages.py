"""Shared helpers for text captures of registry web pages (one trial per file).

Both page layouts are read whole (a page is a few kilobytes) and must be UTF-8: a
capture in another encoding gives a clear error rather than mojibake in the graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kg.errors import RecordError, SourceError
from kg.sources.base import RawRecord

NCT_PATTERN = re.compile(r"\bNCT\d{8}\b")


def read_page(path: Path, format_name: str) -> Iterator[RawRecord | RecordError]:
    """Yield the one record of a page capture, named by the first NCT id it mentions."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(f"not UTF-8 text (byte {error.start})", source=str(path)) from None
    match = NCT_PATTERN.search(text)
    yield RawRecord(format=format_name, source=str(path), record=match.group(0) if match else path.name, payload=text)


def head_text(head: bytes) -> str:
    """The sniffable start of a file as text (undecodable bytes replaced)."""
    return head.decode("utf-8", errors="replace")
