"""Untrusted legacy XML, parsed safely: never entity-expanded, never fetching anything.

Why a module of its own: the refusal of DTD entity declarations (billion laughs, XXE) and
the one-line error messages are the same whatever the study holds, and are the part of the
XML parser a security review reads.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from kg.errors import RecordError
from kg.sources.base import RawRecord

__all__ = ["DTD_MESSAGE", "study_root"]

DTD_MESSAGE = "DTD/entity declarations are not allowed in untrusted XML"
_DOCTYPE = b"<!DOCTYPE"
_ENTITY = b"<!ENTITY"
_local = threading.local()


def _xml_parser() -> etree.XMLParser:
    """One safe parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
        )
        _local.parser = parser
    return parser


def study_root(raw: RawRecord) -> etree._Element:
    """The ``<clinical_study>`` root of a raw record, parsed safely; RecordError naming it otherwise."""
    data = raw.payload.encode("utf-8") if isinstance(raw.payload, str) else raw.payload
    if not isinstance(data, bytes):
        raise RecordError(f"payload is {type(data).__name__}, not XML bytes", source=raw.source, record=raw.record)
    # Refuse before parsing when the bytes show it; the DTD check after parsing catches
    # declarations the byte scan cannot see (UTF-16 documents).
    if _DOCTYPE in data and _ENTITY in data:
        raise RecordError(DTD_MESSAGE, source=raw.source, record=raw.record)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as error:
        raise RecordError(f"not well-formed XML: {_one_line(error)}", source=raw.source, record=raw.record) from None
    except (ValueError, LookupError) as error:  # unknown encoding declarations and the like
        raise RecordError(f"unreadable XML: {_one_line(error)}", source=raw.source, record=raw.record) from None
    if _declares_entities(root.getroottree().docinfo.internalDTD):
        raise RecordError(DTD_MESSAGE, source=raw.source, record=raw.record)
    if root.tag != "clinical_study":
        raise RecordError(f"root element is <{root.tag}>, not <clinical_study>", source=raw.source, record=raw.record)
    return root


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _one_line(error: Exception) -> str:
    """libxml2's message without the document excerpt it may quote: one line, no control characters."""
    text = str(error)
    where = re.search(r", line \d+, column \d+", text)
    head = text.split("\n", 1)[0].rstrip(", ")
    if where and where.group(0) not in head:
        head += where.group(0)
    head = _CONTROLS.sub(" ", head)
    return head if len(head) <= 200 else head[:200] + "..."


def _declares_entities(dtd: Any) -> bool:
    """Whether an internal DTD subset declares entities (typed Any: lxml-stubs lack DTD.iterentities)."""
    return dtd is not None and any(True for _ in dtd.iterentities())
