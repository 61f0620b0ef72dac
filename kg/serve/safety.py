"""What a public endpoint refuses: federated SERVICE calls, LOAD, and writes without the token.

Why: a SPARQL endpoint that runs ``SERVICE <http://internal-host/...>`` or ``LOAD <url>`` for
anyone makes the server fetch arbitrary URLs on their behalf (server-side request forgery),
so ``kg serve`` refuses both unless started with ``--allow-service``. The check looks for the
keywords outside strings, IRIs and comments (``"customer service"`` or ``<http://x/service>``
are fine), in the text as written and after SPARQL's ``\\u`` + four-hex-digit codepoint escapes are
expanded, so an escape cannot hide the keyword from one reading and show it to another.

Example:
    >>> uses_keyword('SELECT * { SERVICE <http://10.0.0.1/sparql> { ?s ?p ?o } }', "SERVICE")
    True
    >>> uses_keyword('SELECT * { ?s ?p "customer service" } # SERVICE', "SERVICE")
    False
"""

from __future__ import annotations

import hmac
import re

# Strings (long forms first), IRIs and comments: text in which keywords mean nothing.
_OPAQUE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|#[^\n\r]*",
    re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CODEPOINT.sub(replace, text)


def _keyword(word: str) -> re.Pattern[str]:
    # Not part of a longer name, a variable (?service), or a prefixed name (ex:service, service:x).
    return re.compile(rf"(?<![\w:?$\-]){word}(?![\w:\-])", re.IGNORECASE)


_KEYWORDS = {word: _keyword(word) for word in ("SERVICE", "LOAD")}


def uses_keyword(sparql: str, word: str) -> bool:
    """Whether ``word`` (SERVICE or LOAD) is used as a keyword anywhere in the request."""
    pattern = _KEYWORDS[word]
    return any(pattern.search(_OPAQUE.sub(" ", text)) for text in (sparql, _unescape(sparql)))


def token_matches(header: str | None, token: str | None) -> bool:
    """An ``Authorization: Bearer TOKEN`` header against the configured token, in constant time."""
    if not token or not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
