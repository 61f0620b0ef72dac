"""Data-quality findings (kg.rules.quality) and their emission."""

from __future__ import annotations

from kg.model import AgeLimit, Criterion, Eligibility, Enrollment, StudyDate, Trial
from kg.rules.quality import find_issues
from kg.sources import sniff
from tests.conftest import CLASSIC_SEED, MODERN_SEED


def _seed(path):  # type: ignore[no-untyped-def]
    source_format = sniff(path)
    return source_format.parse(next(iter(source_format.read(path)))).trial


def test_the_modern_seed_contradicts_its_maximum_age() -> None:
    findings = find_issues(_seed(MODERN_SEED))
    assert [(f.code, f.stated, f.structured) for f in findings] == [
        ("age-maximum-contradiction", "65 years", "40 Years")]
    assert "18 to 65 years" in findings[0].message


def test_the_classic_seed_is_consistent() -> None:
    assert find_issues(_seed(CLASSIC_SEED)) == []


def test_dates_are_compared_at_the_precision_both_state() -> None:
    same_month = Trial(nct_id="NCT1", start_date=StudyDate("2011-01-15"), completion_date=StudyDate("2011-01"))
    assert find_issues(same_month) == []
    reversed_dates = Trial(nct_id="NCT1", start_date=StudyDate("2011-02"), completion_date=StudyDate("2011-01-31"))
    assert [f.code for f in find_issues(reversed_dates)] == ["start-after-completion"]


def test_completed_with_zero_enrollment_and_inverted_age_limits() -> None:
    trial = Trial(nct_id="NCT1", overall_status="COMPLETED", enrollment=Enrollment(0, "ACTUAL"),
                  eligibility=Eligibility(minimum_age=AgeLimit(65, "Years"), maximum_age=AgeLimit(18, "Years")))
    assert {f.code for f in find_issues(trial)} == {"zero-enrollment-completed", "age-limits-inverted"}


def test_subgroups_exclusions_and_strict_bounds_are_not_contradictions() -> None:
    trial = Trial(nct_id="NCT1", eligibility=Eligibility(
        criteria=(Criterion("Age > 70 years", "EXCLUSION"),
                  Criterion("For adolescents under 18 years of age, able to provide informed assent", "INCLUSION"),
                  Criterion("Aged >= 4 and < 7 years at the time of study vaccination", "INCLUSION")),
        minimum_age=AgeLimit(4, "Years"), maximum_age=AgeLimit(6, "Years")))
    assert find_issues(trial) == []


def test_a_stated_range_against_other_structured_limits() -> None:
    trial = Trial(nct_id="NCT1", eligibility=Eligibility(
        criteria=(Criterion("Aged 18-50 years old", "INCLUSION"),), minimum_age=AgeLimit(18, "Months"),
        maximum_age=AgeLimit(50, "Years")))
    assert [(f.code, f.stated, f.structured) for f in find_issues(trial)] == [
        ("age-minimum-contradiction", "18 years", "18 Months")]
