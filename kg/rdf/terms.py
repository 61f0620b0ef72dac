"""N-Quads term encoding with plain strings, so the per-triple path makes no objects.

The emitter writes N-Quads text that Oxigraph bulk-loads and any RDF parser reads;
building rdflib or pyoxigraph term objects per triple would cost several times more.
Escaping follows the N-Triples grammar: in literals ``\\``, ``"``, LF and CR must be
escaped, and we also escape the other C0 controls and DEL, which are legal but invisible
and break tools; IRIs percent-encode what IRIREF forbids.

Example:
    >>> literal('say "hi"\\n'), iri("https://example.org/a b")
    ('"say \\\\"hi\\\\"\\\\n"', '<https://example.org/a%20b>')
"""

from __future__ import annotations

import re

XSD = "http://www.w3.org/2001/XMLSchema#"

_LITERAL_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_LITERAL_ESCAPES.update({c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if c not in _LITERAL_ESCAPES})
# Unpaired surrogates cannot be encoded as UTF-8 at all: replace them visibly.
_LITERAL_ESCAPES.update({c: "\ufffd" for c in range(0xD800, 0xE000)})

_NEEDS_LITERAL_ESCAPE = re.compile('[\x00-\x1f\x7f"\\\\\ud800-\udfff]')

_IRI_ESCAPES = {c: f"%{c:02X}" for c in [*range(0x21), *b'<>"{}|^`\\', 0x7F]}


_ESCAPE_BY_CHAR = {chr(code): replacement for code, replacement in _LITERAL_ESCAPES.items()}


def _escape_match(match: re.Match[str]) -> str:
    return _ESCAPE_BY_CHAR[match.group()]


def _escape(value: str) -> str:
    # A regex scan in C touching only the few special characters beats translate's
    # per-character dictionary lookups on long texts.
    return _NEEDS_LITERAL_ESCAPE.sub(_escape_match, value)


def literal(value: str) -> str:
    """A plain (xsd:string) literal."""
    return '"' + _escape(value) + '"'


def typed(value: str, datatype: str) -> str:
    """A literal with a datatype given as an already encoded IRI (``<...>``)."""
    return '"' + _escape(value) + '"^^' + datatype


_NEEDS_IRI_ESCAPE = re.compile('[\x00-\x20<>"{}|^`\\\\\x7f]')
_IRI_ESCAPE_BY_CHAR = {chr(code): replacement for code, replacement in _IRI_ESCAPES.items()}


def _escape_iri_match(match: re.Match[str]) -> str:
    return _IRI_ESCAPE_BY_CHAR[match.group()]


def iri(value: str) -> str:
    """An IRI term; characters IRIREF forbids are percent-encoded."""
    return "<" + _NEEDS_IRI_ESCAPE.sub(_escape_iri_match, value) + ">"


XSD_INTEGER = f"<{XSD}integer>"
XSD_DECIMAL = f"<{XSD}decimal>"
XSD_DOUBLE = f"<{XSD}double>"
XSD_BOOLEAN = f"<{XSD}boolean>"
XSD_DATE = f"<{XSD}date>"
XSD_GYEARMONTH = f"<{XSD}gYearMonth>"
XSD_GYEAR = f"<{XSD}gYear>"
XSD_DATETIME = f"<{XSD}dateTime>"

_DATE_TYPES = {10: XSD_DATE, 7: XSD_GYEARMONTH, 4: XSD_GYEAR}


def date_literal(value: str) -> str:
    """An ISO date of any stated precision as xsd:date, xsd:gYearMonth or xsd:gYear."""
    return typed(value, _DATE_TYPES.get(len(value), XSD_DATE))


def integer(value: int) -> str:
    return f'"{value}"^^{XSD_INTEGER}'


def decimal(value: float) -> str:
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:.10f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    return f'"{text}"^^{XSD_DECIMAL}'


def boolean(value: bool) -> str:
    return f'"{"true" if value else "false"}"^^{XSD_BOOLEAN}'
