"""The first bytes of a file as UTF-8, whatever Unicode encoding its byte-order mark names.

Why: a UTF-16 XML document with a BOM is legal XML (the XML spec requires parsers to take
it), but its ASCII letters come with NUL bytes between them, so the sniffers' byte
patterns missed it and the registry called it "binary file". Sniffers that look for text
call :func:`utf8_head` first; :func:`looks_binary` is the registry's binary test, which a
BOM rules out. The payload itself stays as it is: lxml reads the BOM and decodes it.

Example:
    >>> head = '<?xml version="1.0" encoding="UTF-16"?><clinical_study>'.encode("utf-16")
    >>> utf8_head(head)[:21], looks_binary(head), bom_encoding(head)
    (b'<?xml version="1.0" e', False, 'utf-16')
"""

from __future__ import annotations

import codecs

__all__ = ["bom_encoding", "looks_binary", "utf8_head"]

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    """``utf-16`` or ``utf-32`` when the bytes start with that byte-order mark, else None."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def utf8_head(head: bytes) -> bytes:
    """The head re-encoded as UTF-8 when a UTF-16/32 BOM names its encoding; else unchanged.

    A head cut inside a character loses that character only (``errors="ignore"``).
    """
    encoding = bom_encoding(head)
    if encoding is None:
        return head
    return head.decode(encoding, errors="ignore").encode("utf-8")


def looks_binary(head: bytes) -> bool:
    """NUL bytes in the first 8 KB of something that is neither a zip nor BOM-marked Unicode text."""
    return b"\x00" in head[:8192] and not head.startswith(b"PK") and bom_encoding(head) is None
