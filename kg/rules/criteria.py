"""Criterion text normalisation: the same criterion written twice gets one concept key.

Two registrations of one protocol write "BMI \\>35 kg/m\\^2." and "BMI >35 kg/m2.",
"PTT \\>40" and "PTT>40", "study.For male" and "study. For male". Normalisation removes
markdown escapes, folds case, unicode comparison signs, unit spellings, thousands
separators, spacing around operators and punctuation, so such pairs compare equal.
It does not guess synonyms: that is fuzzy resolution's job.

A criterion's node in its trial is keyed by its kind, its concept key and, when a sub-heading
or lead-in governs it, a short hash of that scope (:func:`criterion_node_key`): "Age >= 18"
under "Cohort 1:" and under "Cohort 2:" are two nodes of one concept. Emission and anything
else that names the node take the key from the finished criterion, never rebuild it.

Example:
    >>> normalize_criterion("BMI \\\\>35 kg/m\\\\^2.") == normalize_criterion("BMI >35 kg/m2.")
    True
    >>> criterion_node_key("INCLUSION", "e327c46ec9c5a16f", "Cohort 1:")
    ('inc', 'e327c46ec9c5a16f', '9e4f2d06')
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from kg.digest import text_hash
from kg.rules.eligibility import unescape_markdown

_SIGNS = str.maketrans({"≥": ">=", "≤": "<=", "＞": ">", "＜": "<", "–": "-", "—": "-", "−": "-", "×": "x",
                        "µ": "u", "μ": "u", "²": "2", "³": "3"})
_UNITS = (
    (re.compile(r"kg\s*/\s*m\s*\^?\s*2"), "kg/m2"),
    (re.compile(r"\bm\s*\^\s*2\b"), "m2"),
    (re.compile(r"(\d)\s*\^\s*(\d)"), r"\1^\2"),
    (re.compile(r"\bmg\s*/\s*dl\b"), "mg/dl"),
    (re.compile(r"\bng\s*/\s*ml\b"), "ng/ml"),
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_OPERATOR = re.compile(r"\s*(<=|>=|=<|=>|<|>|=)\s*")
_OPERATOR_CANON = {"=<": "<=", "=>": ">="}
_NUMBER_UNIT = re.compile(r"\b(\d+(?:\.\d+)?)([a-z%])")
_SENTENCE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_PUNCT = re.compile(r"[^\w\s<>=%./^+-]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1 << 17)
def normalize_criterion(text: str) -> str:
    """A canonical form of a criterion's wording for exact comparison (cached: criteria recur)."""
    value = unicodedata.normalize("NFKC", unescape_markdown(text)).translate(_SIGNS).lower()
    for pattern, replacement in _UNITS:
        value = pattern.sub(replacement, value)
    value = _THOUSANDS.sub("", value)
    value = _OPERATOR.sub(lambda m: " " + _OPERATOR_CANON.get(m.group(1), m.group(1)) + " ", value)
    value = _NUMBER_UNIT.sub(r"\1 \2", value)
    value = _SENTENCE_DOT.sub(" ", value)
    value = _PUNCT.sub(" ", value)
    return _SPACES.sub(" ", value).strip()


_KIND_KEYS = {"INCLUSION": "inc", "EXCLUSION": "exc"}
SCOPE_HASH_LENGTH = 8


def criterion_node_key(kind: str, concept_key: str, scope: str | None) -> tuple[str, ...]:
    """The key parts of a criterion's node in its trial, after the NCT id: the one place they are made."""
    kind_key = _KIND_KEYS.get(kind, "unspecified")
    return (kind_key, concept_key, text_hash(scope, SCOPE_HASH_LENGTH)) if scope else (kind_key, concept_key)


def criterion_key(text: str) -> str:
    """The concept key of a criterion: a digest of its normal form."""
    return text_hash(normalize_criterion(text))
