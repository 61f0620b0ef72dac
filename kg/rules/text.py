"""Folding text to plain ASCII: the one fold every name rule uses.

Why one: two folds that disagree split one person in two ("Łukasz" folded to "lukasz" by
one rule and "ukasz" by another). Letters that Unicode does not decompose (ł, ø, ß, æ, đ,
œ, þ, dotless ı) are mapped first, then accents are dropped.

Example:
    >>> ascii_fold("Łukasz Taştan-Øberg")
    'lukasz tastan-oberg'
"""

from __future__ import annotations

import unicodedata

__all__ = ["ascii_fold"]

_SPECIAL_LETTERS = str.maketrans({"ı": "i", "İ": "I", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE",
                                  "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "œ": "oe", "þ": "th"})


def ascii_fold(text: str) -> str:
    """Lowercase ASCII: special letters mapped, accents dropped ("Taştan" -> "tastan")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode().lower()
