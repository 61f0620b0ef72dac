"""Stable digests of texts: the one hash rule for keys of things identified by their wording.

Used by the rules (criterion concept keys) and by IRI minting alike, so it sits below both.

Example:
    >>> text_hash("bmi > 35 kg/m2")
    'e327c46ec9c5a16f'
"""

from __future__ import annotations

import hashlib


def text_hash(text: str, length: int = 16) -> str:
    """A short stable digest of a text (SHA-1, hex, truncated): equal texts, equal keys."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]
