"""Structured constraints in criterion text: variable, comparator, value, unit.

"BMI >35 kg/m^2", "HbA1c ≥ 7.5 and ≤ 9.5%", "age 18 to 65 years", "serum creatinine > 1.5
mg/dl", "thrombocytopenia (platelets <100,000/L)" each state a bound on a measurable variable.
As data, the bounds answer questions text cannot ("trials that exclude BMI above 30"), let a
build check the text against the structured fields (a criterion says 65 years, the age field
says 40), and let near-duplicate criteria compare by meaning ("ECOG 0 or 1" = "ECOG <= 1").

The parser reads the normalised text (:func:`kg.rules.criteria.normalize_criterion`), finds
variable mentions from a small lexicon, and reads the comparison that follows each one: a
comparator and a number, a range ("18 to 65", "0.3-2.0"), "N or more", or a list of scores
("0, 1 or 2"). Values are converted to the variable's canonical unit where the stated unit
allows it (mmol/mol HbA1c to %, µmol/L creatinine to mg/dL, months of age to years).

Example:
    >>> [(c.variable, c.comparator, c.value, c.unit) for c in parse_constraints("BMI >35 kg/m^2.")]
    [('bmi', '>', 35.0, 'kg/m2')]
    >>> [(c.comparator, c.value) for c in parse_constraints("Male and female patients age 18 to 65 years of age.")]
    [('>=', 18.0), ('<=', 65.0)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.model import Constraint
from kg.rules.criteria import normalize_criterion


@dataclass(frozen=True, slots=True)
class Variable:
    code: str
    label: str
    unit: str | None  # canonical unit
    conversions: tuple[tuple[str, float], ...] = ()  # stated unit -> factor to the canonical unit
    default_unit: str | None = None  # assumed when the text states none
    score: bool = False  # ordinal scale: "0 or 1" means <= 1
    strict: bool = False  # only when a comparison follows at once ("pt > 15", not "pt must be...")
    unitless: bool = False  # a ratio or a score: the value is its own normal form


_CELLS = (("/ul", 1.0), ("/mm3", 1.0), ("/mcl", 1.0), ("cells/ul", 1.0), ("cells/mm3", 1.0), ("cells/mcl", 1.0),
          ("10^9/l", 1000.0), ("10^3/ul", 1000.0), ("10^3/mm3", 1000.0))
VARIABLES: dict[str, Variable] = {v.code: v for v in (
    Variable("bmi", "body mass index", "kg/m2", (("kg/m2", 1.0),), "kg/m2"),
    Variable("hba1c", "glycated haemoglobin (HbA1c)", "%", (("%", 1.0),), "%"),
    Variable("age", "age", "years", (("years", 1.0), ("months", 1 / 12), ("weeks", 1 / 52.1775),
                                     ("days", 1 / 365.25)), "years"),
    Variable("onset-age", "age at disease onset", "years", (("years", 1.0),), "years"),
    Variable("duration", "disease or symptom duration", None),
    Variable("life-expectancy", "life expectancy", "years",
             (("years", 1.0), ("months", 1 / 12), ("weeks", 1 / 52.1775))),
    Variable("creatinine", "serum creatinine", "mg/dl", (("mg/dl", 1.0), ("umol/l", 1 / 88.42))),
    Variable("creatinine-clearance", "creatinine clearance or eGFR", "ml/min",
             (("ml/min", 1.0), ("ml/min/1.73m2", 1.0))),
    Variable("platelets", "platelet count", "/ul", _CELLS),
    Variable("neutrophils", "absolute neutrophil count", "/ul", _CELLS),
    Variable("lymphocytes", "lymphocyte count", "/ul", _CELLS),
    Variable("leukocytes", "white blood cell count", "/ul", _CELLS),
    Variable("hemoglobin", "haemoglobin", "g/dl", (("g/dl", 1.0), ("g/l", 0.1), ("mmol/l", 1.611))),
    Variable("inr", "international normalised ratio", None, unitless=True),
    Variable("ptt", "partial thromboplastin time", "s", (("s", 1.0),), "s"),
    Variable("pt", "prothrombin time", "s", (("s", 1.0),), "s", strict=True),
    Variable("sbp", "systolic blood pressure", "mmhg", (("mmhg", 1.0),), "mmhg"),
    Variable("dbp", "diastolic blood pressure", "mmhg", (("mmhg", 1.0),), "mmhg"),
    Variable("ldl", "LDL cholesterol", "mg/dl", (("mg/dl", 1.0), ("mmol/l", 38.67))),
    Variable("triglycerides", "triglycerides", "mg/dl", (("mg/dl", 1.0), ("mmol/l", 88.57))),
    Variable("cholesterol", "total cholesterol", "mg/dl", (("mg/dl", 1.0), ("mmol/l", 38.67))),
    Variable("glucose", "blood glucose", "mg/dl", (("mg/dl", 1.0), ("mmol/l", 18.016))),
    Variable("crp", "C-reactive protein", "mg/l", (("mg/l", 1.0), ("mg/dl", 10.0), ("ng/ml", 0.001))),
    Variable("insulin-requirement", "daily insulin requirement", "u/day", (("u/day", 1.0),), "u/day"),
    Variable("insulin-dose-per-kg", "daily insulin dose per kg", "u/kg/day", (("u/kg/day", 1.0),)),
    Variable("proteinuria", "proteinuria", "mg/day", (("mg/day", 1.0), ("g/day", 1000.0))),
    Variable("c-peptide", "C-peptide", "ng/ml", (("ng/ml", 1.0), ("nmol/l", 3.02))),
    Variable("ecog", "ECOG performance status", None, score=True, unitless=True),
    Variable("karnofsky", "Karnofsky performance status", "%", (("%", 1.0),), "%"),
    Variable("alt", "alanine aminotransferase (ALT)", None),
    Variable("ast", "aspartate aminotransferase (AST)", None),
    Variable("bilirubin", "total bilirubin", None),
    Variable("liver-function", "liver function tests", None),
    Variable("weight", "body weight", "kg", (("kg", 1.0), ("lb", 0.45359237))),
    Variable("qtc", "corrected QT interval", "ms", (("ms", 1.0),), "ms"),
    Variable("lvef", "left ventricular ejection fraction", "%", (("%", 1.0),), "%"),
    Variable("cd4", "CD4 count", "/ul", _CELLS),
)}

# Variable names, longest alternatives first so "hemoglobin a1c" is HbA1c, not haemoglobin.
_LEXICON = (
    ("hba1c", r"hba1c|hb a1c|hgba1c|a1c|glycated (?:hemoglobin|haemoglobin)|glycosylated (?:hemoglobin|haemoglobin)|"
              r"(?:hemoglobin|haemoglobin) a1c"),
    ("bmi", r"bmi|body mass index"),
    ("onset-age", r"onset"),
    ("age", r"age[ds]?"),
    ("duration", r"duration|lasting"),
    ("life-expectancy", r"life expectancy"),
    ("creatinine-clearance", r"creatinine clearance|crcl|egfr|gfr|glomerular filtration rate"),
    ("creatinine", r"serum creatinine|creatinine|creat"),
    ("platelets", r"platelet count|platelets?|plt|thrombocytopenia"),
    ("neutrophils", r"absolute neutrophil count|neutrophil count|neutrophils|anc|neutropenia"),
    ("lymphocytes", r"absolute lymphocyte count|lymphocyte count|lymphocytes|lymphopenia"),
    ("leukocytes", r"white blood cell count|white blood cells|wbc|leukocytes|leucocytes|leukopenia"),
    ("hemoglobin", r"hemoglobin|haemoglobin|hgb|hb"),
    ("inr", r"international normali[sz]ed ratio|inr"),
    ("ptt", r"aptt|ptt|partial thromboplastin time"),
    ("pt", r"prothrombin time|pt"),
    ("sbp", r"systolic blood pressure|systolic bp|systolic|sbp"),
    ("dbp", r"diastolic blood pressure|diastolic bp|diastolic|dbp"),
    ("ldl", r"ldl cholesterol|ldl-c|ldl"),
    ("triglycerides", r"triglycerides?|tg"),
    ("cholesterol", r"total cholesterol|cholesterol"),
    ("glucose", r"fasting plasma glucose|fasting glucose|plasma glucose|blood glucose|glucose|fpg"),
    ("crp", r"c-reactive protein|hs-crp|hscrp|crp"),
    ("insulin-dose-per-kg", r"total insulin daily dose|insulin daily dose|daily insulin dose|tdd"),
    ("insulin-requirement", r"insulin requirements?"),
    ("proteinuria", r"proteinuria|urine protein"),
    ("c-peptide", r"c-peptide|c peptide"),
    ("karnofsky", r"karnofsky performance status|karnofsky|kps"),
    ("ecog", r"eastern cooperative oncology group|ecog|performance status"),
    ("alt", r"alanine aminotransferase|alanine transaminase|alt|sgpt"),
    ("ast", r"aspartate aminotransferase|aspartate transaminase|ast|sgot"),
    ("bilirubin", r"total bilirubin|serum bilirubin|bilirubin"),
    ("liver-function", r"liver function tests?|liver function"),
    ("weight", r"body weight|weight"),
    ("qtc", r"qtcf|qtcb|qtc"),
    ("lvef", r"left ventricular ejection fraction|lvef|ejection fraction"),
    ("cd4", r"cd4 count|cd4\+? cell count|cd4"),
)
_LEXICON_WORDS = {code: frozenset(re.findall(r"[a-z][a-z0-9-]*", pattern.replace("(?:", " ")))
                  for code, pattern in _LEXICON}
_LEXICON_WORD = {code: re.compile(f"(?:{pattern})") for code, pattern in _LEXICON}
_CODES = {f"v{i}": code for i, (code, _) in enumerate(_LEXICON)}
# The same alternation split by first letter, tried only where a word starts: scanning every
# character position with forty alternatives dominated the cost of a build.


def _first_letters(pattern: str) -> set[str]:
    """The letters a lexicon pattern's alternatives can start with (they all start with one)."""
    return {alternative.replace("(?:", "")[:1] for alternative in pattern.split("|")}


_BY_LETTER = {
    letter: re.compile("|".join(f"(?P<v{i}>(?:{pattern})\\b)" for i, (_, pattern) in enumerate(_LEXICON)
                                if letter in _first_letters(pattern)))
    for letter in {c for _, pattern in _LEXICON for c in _first_letters(pattern)}
}
_WORD_START = re.compile(r"(?<![a-z0-9-])[a-z]")

_UNITS = (
    (r"kg\s*/\s*m2", "kg/m2"), (r"mg\s*/\s*dl", "mg/dl"), (r"mg\s*/\s*l", "mg/l"), (r"g\s*/\s*dl", "g/dl"),
    (r"mmol\s*/\s*mol", "mmol/mol"), (r"mmol\s*/\s*l", "mmol/l"), (r"(?:umol|micromol)\s*/\s*l", "umol/l"),
    (r"nmol\s*/\s*l", "nmol/l"), (r"ng\s*/\s*ml", "ng/ml"), (r"g\s*/\s*l", "g/l"),
    (r"(?:u|units|iu)\s*/\s*day\s*/\s*kg|(?:u|units|iu)\s*/\s*kg\s*/\s*day", "u/kg/day"),
    (r"(?:u|units|iu)\s*/\s*day", "u/day"), (r"mg\s*/\s*(?:day|24\s*h(?:ours?)?)", "mg/day"),
    (r"g\s*/\s*(?:day|24\s*h(?:ours?)?)", "g/day"), (r"mm\s*hg", "mmhg"),
    (r"ml\s*/\s*min\s*/\s*1\.73\s*m2", "ml/min/1.73m2"), (r"ml\s*/\s*min", "ml/min"),
    (r"x\s*10\s*\^?\s*9\s*(?:cells\s*)?/\s*l", "10^9/l"), (r"x\s*10\s*\^?\s*3\s*/\s*(?:ul|mcl|mm3)", "10^3/ul"),
    (r"(?:cells\s*)?/\s*(?:ul|µl)", "/ul"), (r"(?:cells\s*)?/\s*mm3", "/mm3"), (r"(?:cells\s*)?/\s*mcl", "/mcl"),
    (r"/\s*l", "/l"), (r"%", "%"),
    (r"x\s*(?:the\s*)?(?:institutional\s*)?(?:uln|upper limits? of normal(?:\s*uln)?)", "x uln"),
    (r"years?|yrs?|y/?o", "years"), (r"months?", "months"), (r"weeks?|wks?", "weeks"), (r"days?", "days"),
    (r"kgs?|kilograms?", "kg"), (r"lbs?|pounds?", "lb"), (r"msec|ms", "ms"), (r"seconds?|secs?|s", "s"),
)
_UNIT = "(?:" + "|".join(f"(?:{pattern})" for pattern, _ in _UNITS) + ")(?![a-z0-9])"
_UNIT_NAMES = [(re.compile(f"^(?:{pattern})$"), name) for pattern, name in _UNITS]
_CMP_WORDS = (
    ("<=", r"<=|< or =(?: to)?|less than or equal to|equal to or less than|at most|no more than|not more than|"
           r"(?:should |must )?not exceed|up to|maximum(?: of)?"),
    (">=", r">=|> or =(?: to)?|greater than or equal to|equal to or greater than|at least|minimum(?: of)?"),
    ("<", r"<|less than|lower than|below|under|younger than|fewer than"),
    (">", r">|greater than|more than|higher than|above|over|older than|exceeding|exceeds|in excess of"),
    ("=", r"="),
)
# Whole words only: "under" is a comparator, "undergo" is not.
_CMP = re.compile("(?<![a-z])(?:" + "|".join(f"(?P<c{i}>{pattern})" for i, (_, pattern) in enumerate(_CMP_WORDS))
                  + ")(?![a-z])")
_CMP_NAMES = {f"c{i}": name for i, (name, _) in enumerate(_CMP_WORDS)}
_CMP_ANY = "(?<![a-z])(?:" + "|".join(pattern for _, pattern in _CMP_WORDS) + ")(?![a-z])"
_NUM = r"\d+(?:\.\d+)?"
_SKIP = r"(?:\s*(?!(?:and|or|to)\b)[a-z][a-z0-9'/-]*){0,6}?"
_FIRST = re.compile(rf"^{_SKIP}\s*(?:(?P<cmp>{_CMP_ANY})\s*)?(?P<v1>{_NUM})\s*(?P<u1>{_UNIT})?")
_SECOND = re.compile(rf"^\s*(?:and|to|-|or|through)\s*(?P<cmp2>{_CMP_ANY})?\s*(?P<v2>{_NUM})\s*(?P<u2>{_UNIT})?")
_LIST = re.compile(rf"^{_SKIP}(?:\s*(?:or\s+)?{_NUM}){{1,5}}\s+or\s+{_NUM}")
_OR_MORE = re.compile(r"^\s*(?:or|and)\s+(?:more|greater|higher|above|older|over|beyond)")
_OR_LESS = re.compile(r"^\s*(?:or|and)\s+(?:less|lower|below|younger|under|fewer)")
_PLUS = re.compile(r"^\s*\+")
_AGE_PHRASE = re.compile(rf"(?P<lead>{_CMP_ANY})?\s*(?P<v1>{_NUM})\s*(?:(?:-|to)\s*(?P<v2>{_NUM})\s*)?"
                         rf"(?P<u>years?|months?)\s*(?:of age|old)")
_AGE_AFTER = re.compile(rf"(?P<lead>{_CMP_ANY})\s*(?:the\s+)?age\s*(?:of\s*)?(?P<v1>{_NUM})")
# A criterion that is nothing but an age bound: "≥ 18 years", "18 years or older", "18 ≥ years old".
_BARE_AGE = re.compile(rf"^(?:(?P<lead>{_CMP_ANY})\s*)?(?P<v1>{_NUM})\s*(?P<late>{_CMP_ANY})?\s*(?:(?:-|to)\s*"
                       rf"(?P<v2>{_NUM})\s*)?(?P<u>years?|months?)(?:\s*(?:old|of age))?(?P<tail>\s*(?:or|and)\s+"
                       rf"(?:more|greater|higher|above|older|over|beyond))?$")
_AGE_HINT = re.compile(r"year|month|old|age")
_AGE_GUARD = re.compile(r"onset|duration|diagnos|relative|family|death|history|gestation")
_WINDOW = 80
_DIGIT = re.compile(r"\d")


def comparator_symbols(text: str) -> list[str]:
    """The comparisons a text states outside any constraint ("life expectancy less than 2 years")."""
    return ["cmp:" + _CMP_NAMES[m.lastgroup or ""] for m in _CMP.finditer(text)]


def lexicon(code: str) -> frozenset[str]:
    """The words of a variable's names."""
    return _LEXICON_WORDS.get(code, frozenset())


# Organ-system headings that lists of laboratory bounds put before a value ("Renal: creatinine ...").
_SYSTEMS = {
    "creatinine": {"renal", "kidney"}, "creatinine-clearance": {"renal", "kidney"},
    "bilirubin": {"hepatic", "liver"}, "alt": {"hepatic", "liver"}, "ast": {"hepatic", "liver"},
    "platelets": {"hematologic", "haematologic", "hematological", "haematological", "marrow"},
    "neutrophils": {"hematologic", "haematologic", "hematological", "haematological", "marrow"},
    "hemoglobin": {"hematologic", "haematologic", "hematological", "haematological", "marrow"},
}


def names_variable(code: str, word: str) -> bool:
    """Whether a word names a variable ("hgb", "aged") or its organ system, for criteria comparison."""
    pattern = _LEXICON_WORD.get(code)
    if word in _SYSTEMS.get(code, ()):
        return True
    return bool(pattern and (word in _LEXICON_WORDS[code] or pattern.fullmatch(word)))


def _unit_name(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    for pattern, name in _UNIT_NAMES:
        if pattern.match(text):
            return name
    return None


def _comparator(text: str | None) -> str | None:
    if not text:
        return None
    match = _CMP.fullmatch(text.strip())
    if match is None:
        return None
    return _CMP_NAMES[next(k for k, v in match.groupdict().items() if v is not None)]


def _normalize(variable: Variable, value: float, unit: str | None) -> tuple[float | None, str | None]:
    """The value in the variable's canonical unit, when the unit allows a conversion."""
    if variable.code == "hba1c" and unit == "mmol/mol":
        return round(value / 10.929 + 2.15, 2), "%"
    if variable.unit is None:
        return (value, None) if unit is None and variable.unitless else (None, None)
    for stated, factor in variable.conversions:
        if stated == (unit or variable.default_unit):
            return round(value * factor, 6), variable.unit
    return None, None


def _make(variable: Variable, comparator: str, value: float, unit: str | None, text: str) -> Constraint:
    normalized, normalized_unit = _normalize(variable, value, unit)
    return Constraint(variable.code, comparator, value, unit, normalized, normalized_unit, text.strip(), variable.label)


def _read(variable: Variable, window: str) -> list[Constraint]:
    """The comparison that follows a variable mention, if any."""
    if variable.score:
        listed = _LIST.match(window)
        if listed:
            numbers = re.findall(_NUM, listed.group(0))
            spoken = window[window.index(numbers[0], listed.start()):listed.end()]
            return [_make(variable, "<=", max(float(n) for n in numbers), None, spoken)]
    first = _FIRST.match(window)
    if first is None or (variable.strict and first.group(0).split()[0][0].isalpha() and not first.group("cmp")):
        return []
    value = float(first.group("v1"))
    unit = _unit_name(first.group("u1"))
    comparator = _comparator(first.group("cmp"))
    rest = window[first.end():]
    spoken = window[first.start("cmp") if first.group("cmp") else first.start("v1"):first.end()]
    second = _SECOND.match(rest)
    if comparator is None and second is None:
        tail = _OR_MORE.match(rest) or _PLUS.match(rest)
        comparator = ">=" if tail else None
        if tail is None:
            tail = _OR_LESS.match(rest)
            comparator = "<=" if tail else None
        if tail is None:
            return []
        return [_make(variable, comparator or "=", value, unit, spoken + tail.group(0))]
    if second is None:
        return [_make(variable, comparator or "=", value, unit, spoken)]
    upper = float(second.group("v2"))
    upper_unit = _unit_name(second.group("u2")) or unit
    upper_cmp = _comparator(second.group("cmp2")) or "<="
    lower_cmp = comparator or ">="
    if comparator in ("<", "<=") and upper_cmp in ("<", "<="):
        return [_make(variable, comparator, value, unit or upper_unit, spoken)]
    text = spoken + second.group(0)
    out = [] if variable.score and value == 0 else [_make(variable, lower_cmp, value, unit or upper_unit, text)]
    return [*out, _make(variable, upper_cmp, upper, upper_unit, text)]


def parse_constraints(text: str, normalized: bool = False) -> list[Constraint]:
    """The structured constraints a criterion states (empty when it states none)."""
    value = text if normalized else normalize_criterion(text)
    if not _DIGIT.search(value):
        return []  # every bound has a number
    mentions = []
    position = 0
    for start in _WORD_START.finditer(value):
        if start.start() < position:
            continue
        pattern = _BY_LETTER.get(start.group())
        match = pattern.match(value, start.start()) if pattern is not None else None
        if match is not None:
            mentions.append((match.start(), match.end(), _CODES[match.lastgroup or ""]))
            position = match.end()
    out: list[Constraint] = []
    for index, (_start, end, code) in enumerate(mentions):
        stop = mentions[index + 1][0] if index + 1 < len(mentions) else len(value)
        window = value[end:min(stop, end + _WINDOW)]
        for constraint in _read(VARIABLES[code], window):
            if code == "age" and constraint.unit not in (None, "years", "months", "weeks", "days"):
                continue
            if code == "ecog" and constraint.value > 5:  # a 0-100 scale: Karnofsky
                constraint = _make(VARIABLES["karnofsky"], constraint.comparator, constraint.value,
                                   constraint.unit, constraint.text)
            out.append(constraint)
    if (not any(c.variable in ("age", "onset-age") for c in out) and _AGE_HINT.search(value)
            and not _AGE_GUARD.search(value)):
        out.extend(_age_phrases(value))
    return _dedupe(out)


def _age_phrases(value: str) -> list[Constraint]:
    """Ages stated without the word "age" before them: ">= 18 years of age", "18-65 years old"."""
    age = VARIABLES["age"]
    bare = _BARE_AGE.match(value.strip())
    if bare:
        unit = _unit_name(bare.group("u"))
        low = float(bare.group("v1"))
        if bare.group("v2"):
            return [_make(age, ">=", low, unit, bare.group(0)), _make(age, "<=", float(bare.group("v2")), unit,
                                                                       bare.group(0))]
        comparator = _comparator(bare.group("lead") or bare.group("late")) or (">=" if bare.group("tail") else None)
        return [_make(age, comparator, low, unit, bare.group(0))] if comparator else []
    out: list[Constraint] = []
    for match in _AGE_AFTER.finditer(value):
        comparator = _comparator(match.group("lead"))
        if comparator:
            out.append(_make(age, comparator, float(match.group("v1")), "years", match.group(0)))
    for match in _AGE_PHRASE.finditer(value):
        unit = _unit_name(match.group("u"))
        low = float(match.group("v1"))
        if match.group("v2"):
            out += [_make(age, ">=", low, unit, match.group(0)), _make(age, "<=", float(match.group("v2")), unit,
                                                                       match.group(0))]
            continue
        lead = _comparator(match.group("lead"))
        rest = value[match.end():]
        tail = None if lead else (_OR_MORE.match(rest) or _OR_LESS.match(rest))
        comparator = lead or (None if tail is None else ">=" if _OR_MORE.match(rest) else "<=")
        if comparator:
            out.append(_make(age, comparator, low, unit, match.group(0) + (tail.group(0) if tail else "")))
    return out


def _dedupe(constraints: list[Constraint]) -> list[Constraint]:
    seen: set[tuple[str, str, float]] = set()
    out = []
    for constraint in constraints:
        if constraint.signature not in seen:
            seen.add(constraint.signature)
            out.append(constraint)
    return out

