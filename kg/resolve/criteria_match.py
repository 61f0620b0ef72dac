"""Near-duplicate criteria: two wordings of one eligibility requirement.

Exact normalisation (:mod:`kg.rules.criteria`) joins "BMI \\>35 kg/m\\^2." and "BMI >35
kg/m2."; it cannot join "Baseline Hemoglobin below..." with "Baseline Hgb below...", "hs-CRP
>3.00ng/ml" with "hs-CRP >3.00", "ECOG performance status 0 or 1" with "ECOG PS <= 1", or
"...will interfere with the safe completion" with "...thesafe completion". Clustering on
fuzzy similarity alone would also join "type 1" with "type 2", "able" with "unable" and
"> 18" with ">= 18". So a match here is decided by rules that keep meaning:

* the structured constraints must agree (same variables, comparators and values; a unit
  may be missing on one side): ``0 or 1`` and ``<= 1`` agree, ``> 18`` and ``>= 18`` do not;
* other numbers must be the same;
* the remaining words, after abbreviation expansion (Hgb, ECOG, NYHA...), spelling folding
  (haemoglobin, randomisation), plurals and filler words (subject, patients who, any), may
  differ only by typos, words written together or apart, and acronyms of words present.

:func:`criterion_form` precomputes what the comparison needs, once per distinct text;
:func:`match_criteria` compares two forms; :func:`blocking_tokens` says which forms are
worth comparing (they must share rare tokens), so clustering never compares all pairs.

Example:
    >>> a = criterion_form("Baseline Hemoglobin below the lower limits of normal")
    >>> b = criterion_form("Baseline Hgb below the lower limits of normal")
    >>> match_criteria(a, b) > 0, match_criteria(criterion_form("Age > 18"), criterion_form("Age >= 18"))
    (True, 0.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from kg.rules.constraints import (
    Constraint,
    comparator_symbols,
    lexicon,
    names_variable,
    parse_constraints,
)
from kg.rules.criteria import normalize_criterion

EXPANSIONS = {
    "hgb": "hemoglobin", "hb": "hemoglobin", "haemoglobin": "hemoglobin", "ecog": "eastern cooperative oncology group",
    "ps": "performance status", "bmi": "body mass index", "crp": "c-reactive protein",
    "hs-crp": "c-reactive protein", "nyha": "new york heart association", "inr": "international normalized ratio",
    "uln": "upper limit of normal", "anc": "absolute neutrophil count", "t1dm": "type 1 diabetes",
    "t2dm": "type 2 diabetes", "dm": "diabetes mellitus", "chf": "congestive heart failure",
    "mi": "myocardial infarction", "tb": "tuberculosis", "hiv": "human immunodeficiency virus",
    "copd": "chronic obstructive pulmonary disease", "cad": "coronary artery disease", "ldh": "lumbar disc herniation",
    "lbp": "low back pain", "mri": "magnetic resonance imaging", "ct": "computed tomography",
    "nsaid": "nonsteroidal anti-inflammatory drug", "nsaids": "nonsteroidal anti-inflammatory drug",
}
# One word for spellings and synonyms that never change which participants a criterion selects.
LEMMAS = {
    "haemoglobin": "hemoglobin", "oedema": "edema", "tumour": "tumor", "paediatric": "pediatric",
    "anaesthetic": "anesthetic", "anaesthetics": "anesthetic", "centre": "center", "randomisation": "enrollment",
    "randomization": "enrollment", "enrolment": "enrollment", "randomized": "enrolled", "lactating": "breastfeeding",
    "lactation": "breastfeeding", "nursing": "breastfeeding", "pregnancy": "pregnant", "pregnancies": "pregnant",
    "previous": "history", "prior": "history", "previously": "history", "ability": "able", "inability": "unable",
    "spine": "spinal", "vertebra": "vertebral", "vertebrae": "vertebral", "cardiac": "heart", "signed": "written",
    "sign": "written", "write": "written", "wrote": "written", "rheumatic": "rheumatological", "old": "age",
    "classification": "class", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "had": "history",
}
# With pregnancy or breastfeeding named, saying "women" or "females" adds nothing.
_IMPLIED_BY_PREGNANCY = frozenset("woman women female females mother mothers infant".split())
# Words that do not change which participants a criterion selects.
FILLER = frozenset((
    "a an the of to in on at by for from as with who whom which that this these those be been being is are was "
    "were has have had having must should will would can may shall patient patients subject subjects participant "
    "participants volunteer volunteers individual individuals person persons people study any other all time e g "
    "i ie eg etc also such informed form obtained obtain provide provided providing give given diagnosed "
    "currently current presence evidence score scale level value result personal trial get become during "
    "protocol undergo undergoing undergone"
).split())
_SEX_NEUTRAL = re.compile(
    r"\b(?:both )?(?:male|males|men|man) (?:and|or|and/or) (?:female|females|women|woman)s?\b|"
    r"\b(?:both )?(?:female|females|women|woman) (?:and|or|and/or) (?:male|males|men|man)\b"
)
_LIST_NUMBER = re.compile(r"^\s*\d{1,2}\s+(?=[a-z])")  # a list item's number at the start ("1 male or female")
_WORD = re.compile(r"[a-z][a-z0-9']*|\d+(?:\.\d+)?")
_ALTERNATIVES = re.compile(r"\b([a-z]+)/([a-z]+)\b")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_UNIT_WORDS = frozenset("kg/m2 mg/dl mg/l g/dl g/l mmol/l ng/ml u/day mg/day mmhg % years year months month weeks "
                        "week days day x uln kg".split())


@dataclass(frozen=True, slots=True)
class CriterionForm:
    """What the comparison of two criteria needs, computed once per distinct normalised text.

    A concept meets a few dozen candidates at registry scale, so everything a comparison
    derives from one side alone (its word sets, the pairs of its words that could be written
    as one, the names of its variables) is derived here once, not in every comparison.
    """

    text: str
    words: tuple[str, ...]  # the residual words in order (constraints removed, filler kept out)
    constraints: tuple[Constraint, ...]
    numbers: frozenset[str]  # numbers and comparators outside the constraints
    raw: tuple[str, ...] = ()  # the residual words with the filler, to see words written together
    word_set: frozenset[str] = field(init=False)
    raw_set: frozenset[str] = field(init=False)
    joined: frozenset[str] = field(init=False)  # adjacent raw words written as one ("the" "safe" -> "thesafe")
    variable_names: tuple[str, ...] = field(init=False)  # the words naming the constrained variables

    def __post_init__(self) -> None:
        object.__setattr__(self, "word_set", frozenset(self.words))
        object.__setattr__(self, "raw_set", frozenset(self.raw))
        object.__setattr__(self, "joined", frozenset(map(str.__add__, self.raw, self.raw[1:])))
        names = tuple(word for c in self.constraints for word in lexicon(c.variable))
        object.__setattr__(self, "variable_names", names)


def _plural(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=1 << 16)
def _lemma(word: str) -> str:
    word = LEMMAS.get(word, word)
    return LEMMAS.get(_plural(word), _plural(word))


def criterion_form(text: str, normalized: bool = False) -> CriterionForm:
    """The comparison form of a criterion (from its raw or already normalised text)."""
    normal = text if normalized else normalize_criterion(text)
    constraints = parse_constraints(normal, normalized=True)
    residual = normal.replace("and/or", "or")
    for constraint in constraints:
        residual = residual.replace(constraint.text, " ", 1)
    residual = _SEX_NEUTRAL.sub(" ", _LIST_NUMBER.sub("", residual))
    residual = _ALTERNATIVES.sub(r"\1 or \2", residual)
    numbers = set(comparator_symbols(residual))
    variables = {c.variable for c in constraints}
    raw_words: list[str] = []
    for token in _WORD.findall(" ".join(EXPANSIONS.get(w, w) for w in residual.split())):
        word = _lemma(token)
        if _NUMBER.match(word):
            numbers.add(str(float(word)))
        elif word not in _UNIT_WORDS and not any(names_variable(v, token) for v in variables):
            raw_words.append(word)
    words = [w for w in raw_words if w not in FILLER]
    if {"pregnant", "breastfeeding"} & set(words):
        words = [w for w in words if w not in _IMPLIED_BY_PREGNANCY]
    return CriterionForm(normal, tuple(words), tuple(constraints), frozenset(numbers), tuple(raw_words))


def blocking_tokens(form: CriterionForm) -> set[str]:
    """The tokens two matching criteria must share: words, constraint variables, numbers."""
    tokens = set(form.words)
    tokens.update("var:" + c.variable for c in form.constraints)
    tokens.update("num:" + n for n in form.numbers)
    return tokens or {"empty"}  # criteria that say nothing beyond filler meet each other


def _same_constraint(a: Constraint, b: Constraint) -> bool:
    if a.variable != b.variable or a.comparator != b.comparator:
        return False
    if a.normalized_value is not None and b.normalized_value is not None:
        return abs(a.normalized_value - b.normalized_value) < 1e-9
    if a.unit and b.unit and a.unit != b.unit:
        return False
    return a.value == b.value  # one side states no unit: the numbers must agree as written


def _constraints_agree(a: tuple[Constraint, ...], b: tuple[Constraint, ...]) -> bool:
    if len(a) != len(b):
        return False
    unmatched = list(b)
    for constraint in a:
        partner = next((c for c in unmatched if _same_constraint(constraint, c)), None)
        if partner is None:
            return False
        unmatched.remove(partner)
    return True


def _explained(word: str, others: tuple[str, ...]) -> bool:
    """A word the other text writes with a typo: one edit in five letters or more, two in ten or more.

    The inner loop of criteria matching (tens of millions of word pairs at 100,000 studies):
    lengths rule most pairs out before an edit distance is computed, and the distance stops
    at the limit.
    """
    n = len(word)
    if n < 5 or word.isdigit():
        return False
    for other in others:
        m = len(other)
        shortest = n if n < m else m
        if shortest < 5:
            continue
        limit = 2 if shortest >= 10 else 1
        if (-limit <= n - m <= limit and not other.isdigit()
                and Levenshtein.distance(word, other, score_cutoff=limit) <= limit):
            return True
    return False


def _join_splits(words: tuple[str, ...], other: frozenset[str]) -> set[str]:
    """The words of a text, with adjacent pairs the other text writes as one word joined."""
    out: set[str] = set()
    index = 0
    while index < len(words):
        if index + 1 < len(words) and words[index] + words[index + 1] in other:
            out.add(words[index] + words[index + 1])
            index += 2
        else:
            out.add(words[index])
            index += 1
    return out - FILLER


def _acronym(word: str, words: tuple[str, ...]) -> bool:
    """An acronym of adjacent words of the same text ("ps" beside "performance status")."""
    n = len(word)
    return 2 <= n <= 5 and any("".join(w[0] for w in words[i:i + n]) == word for i in range(len(words) - n + 1))


def match_criteria(a: CriterionForm, b: CriterionForm) -> float:
    """The confidence that two criteria state the same requirement; 0 when they do not."""
    if a.text == b.text:
        return 1.0
    if a.numbers != b.numbers or not _constraints_agree(a.constraints, b.constraints):
        return 0.0
    words_a = _compared_words(a, b)
    words_b = _compared_words(b, a)
    only_a, only_b = words_a - words_b, words_b - words_a
    # The other side's variable names count too: a misspelt "Easter Cooperative..." matches them.
    if only_a:
        others = (*words_b, *b.variable_names)
        if not all(_explained(word, others) or _acronym(word, a.words) for word in only_a):
            return 0.0
    if only_b:
        others = (*words_a, *a.variable_names)
        if not all(_explained(word, others) or _acronym(word, b.words) for word in only_b):
            return 0.0
    if not (words_a or a.constraints) and not (words_b or b.constraints) and not a.numbers:
        return 0.85  # both say nothing beyond filler ("Both male and female")
    if not (words_a or a.constraints) or not (words_b or b.constraints):
        return 0.0
    return round(0.8 + 0.2 * fuzz.token_sort_ratio(a.text, b.text) / 100, 4)


def _compared_words(form: CriterionForm, other: CriterionForm) -> frozenset[str] | set[str]:
    """The form's words, with the adjacent pairs ``other`` writes as one word joined.

    Most pairs write no two words together: then this is the form's own word set, with no
    work per comparison.
    """
    if form.joined.isdisjoint(other.raw_set):
        return form.word_set
    return _join_splits(form.raw, other.raw_set) - _dropped(form)


def _dropped(form: CriterionForm) -> set[str]:
    """Words a form leaves out of the comparison ("women" beside "pregnant")."""
    return set(form.raw) - set(form.words) - FILLER | (FILLER & set(form.raw))

