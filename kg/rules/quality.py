"""Data-quality checks on one trial record: what its fields say against each other.

A registration can contradict itself: NCT01374854's inclusion criteria say "age 18 to 65
years" while its structured maximum age is 40 years; a start date can follow the completion
date; a trial can be "completed" with zero participants. Each check here reads one record
(dates compared at the precision both state, ages in years) and returns findings, which the
build emits into the record's graph so that they are replaced with the record.

Example:
    >>> from kg.model import AgeLimit, Criterion, Eligibility, Trial
    >>> trial = Trial(nct_id="NCT1", eligibility=Eligibility(
    ...     criteria=(Criterion("Male and female patients age 18 to 65 years of age.", "INCLUSION"),),
    ...     minimum_age=AgeLimit(18, "Years"), maximum_age=AgeLimit(40, "Years")))
    >>> [(f.code, f.stated, f.structured) for f in find_issues(trial)]
    [('age-maximum-contradiction', '65 years', '40 Years')]
"""

from __future__ import annotations

import re

from kg.model import AgeLimit, Finding, StudyDate, Trial
from kg.rules.constraints import parse_constraints
from kg.rules.criteria import normalize_criterion

_AGE_HINT = re.compile(r"\b(?:age[ds]?|years?|old)\b", re.IGNORECASE)
# An age bound of the whole trial is stated early ("Male and female patients age 18 to 65");
# one stated late, under a condition or for one group is about a subgroup ("For children aged
# 18 months or over: ...", "... (if aged 18 to 55)", "women age >= 65 years").
_EARLY_AGE = re.compile(r"^(?:\S+\s+){0,6}?(?:age[ds]?\b|(?:<|>|<=|>=)?\s*\d+(?:\.\d+)?\s*(?:-|to)?\s*(?:\d+\s*)?"
                        r"(?:years?|yrs?|months?)\b)")
_SUBGROUP = re.compile(r"\b(?:if|for|when|unless|except|arm|cohort|group|part|stage|subjects in|patients in)\b|"
                       r"^(?:(?!\bmen\b|\bmale).)*\b(?:women|woman|females?)\b(?!.*\b(?:men|males?)\b)|"
                       r"^(?:(?!\bwomen\b|\bfemale).)*\b(?:men|man|males?)\b(?!.*\b(?:women|females?)\b)")


def _trial_age_bound(normalized: str) -> bool:
    """Whether a criterion states the age of every participant (not of a subgroup)."""
    return bool(_EARLY_AGE.search(normalized)) and not _SUBGROUP.search(normalized)


def _date(value: StudyDate | str | None) -> str | None:
    if value is None:
        return None
    return value.date if isinstance(value, StudyDate) else value


def _after(a: str, b: str) -> bool:
    """``a`` strictly later than ``b`` at the precision both state ("2011-01" vs "2010-12-31")."""
    n = min(len(a), len(b))
    return a[:n] > b[:n]


def _limit(limit: AgeLimit) -> str:
    return f"{limit.value:g} {limit.unit}"


def _age_findings(trial: Trial) -> list[Finding]:
    """Age limits the inclusion criteria state that the structured age fields contradict.

    Only inclusion criteria that bound every participant's age count (exclusions and
    subgroup conditions often bound a part of the population). "< 7 years" and a structured
    maximum of 6 years agree (the registry's maximum is inclusive), so a strict bound is
    allowed one year of difference.
    """
    eligibility = trial.eligibility
    lowest: tuple[float, bool, str] | None = None
    highest: tuple[float, bool, str] | None = None
    for criterion in eligibility.criteria:
        if criterion.kind != "INCLUSION" or not _AGE_HINT.search(criterion.text):
            continue
        # A finished criterion carries its normal form and bounds (kg.rules.finish).
        normalized = criterion.normalized or normalize_criterion(criterion.text)
        if not _trial_age_bound(normalized):
            continue
        stated = criterion.constraints if criterion.normalized else parse_constraints(normalized, normalized=True)
        for constraint in stated:
            if constraint.variable != "age" or constraint.normalized_value is None:
                continue
            bound = (constraint.normalized_value, constraint.comparator in ("<", ">"), criterion.text)
            if constraint.comparator in ("<", "<=") and (highest is None or bound[0] < highest[0]):
                highest = bound
            if constraint.comparator in (">", ">=") and (lowest is None or bound[0] > lowest[0]):
                lowest = bound
    out: list[Finding] = []
    for found, limit, code, word in ((highest, eligibility.maximum_age, "age-maximum-contradiction", "maximum"),
                                     (lowest, eligibility.minimum_age, "age-minimum-contradiction", "minimum")):
        if found is None or limit is None:
            continue
        value, strict, text = found
        difference = abs(value - limit.years)
        if difference < 1 or (strict and difference <= 1):
            continue
        out.append(Finding(code, "error", f"The criteria text gives a {word} age of {value:g} years "
                                          f"(\"{text}\") but the structured {word} age is {_limit(limit)}.",
                           f"{value:g} years", _limit(limit)))
    if eligibility.minimum_age and eligibility.maximum_age and (
            eligibility.minimum_age.years > eligibility.maximum_age.years):
        out.append(Finding("age-limits-inverted", "error",
                           f"The minimum age ({_limit(eligibility.minimum_age)}) is above the maximum age "
                           f"({_limit(eligibility.maximum_age)}).", None,
                           f"{_limit(eligibility.minimum_age)} - {_limit(eligibility.maximum_age)}"))
    return out


_ORDER = (
    ("start_date", "primary_completion_date", "start-after-primary-completion", "start date",
     "primary completion date"),
    ("start_date", "completion_date", "start-after-completion", "start date", "completion date"),
    ("primary_completion_date", "completion_date", "primary-completion-after-completion", "primary completion date",
     "completion date"),
    ("first_submitted", "first_posted", "submitted-after-first-posted", "first submission date", "first posted date"),
    ("first_posted", "last_update_posted", "first-posted-after-last-update", "first posted date",
     "last update posted date"),
)


def _date_findings(trial: Trial) -> list[Finding]:
    out: list[Finding] = []
    for earlier, later, code, earlier_name, later_name in _ORDER:
        a, b = _date(getattr(trial, earlier)), _date(getattr(trial, later))
        if a and b and _after(a, b):
            out.append(Finding(code, "error", f"The {earlier_name} ({a}) is after the {later_name} ({b}).",
                               None, f"{a} > {b}"))
    updated = _date(trial.last_update_submitted) or _date(trial.last_update_posted)
    for field_name, label in (("start_date", "start date"), ("primary_completion_date", "primary completion date"),
                              ("completion_date", "completion date")):
        value = getattr(trial, field_name)
        if updated and value is not None and value.type == "ACTUAL" and _after(value.date, updated):
            out.append(Finding(f"actual-{field_name.replace('_', '-')}-after-update", "warning",
                               f"The actual {label} ({value.date}) is after the record's last update ({updated}).",
                               None, f"{value.date} > {updated}"))
    return out


def find_issues(trial: Trial) -> list[Finding]:
    """Every data-quality finding about one trial record, in a fixed order."""
    out = _age_findings(trial) + _date_findings(trial)
    if trial.overall_status == "COMPLETED" and trial.enrollment is not None and trial.enrollment.count == 0:
        out.append(Finding("zero-enrollment-completed", "warning",
                           "The trial is completed but its enrollment is 0.", None, "0"))
    return out
