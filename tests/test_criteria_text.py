"""Splitting eligibility text into atomic criteria, on the shapes registries write."""

from __future__ import annotations

from kg.rules.criteria import normalize_criterion
from kg.rules.eligibility import split_criteria


def kinds_and_texts(text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in split_criteria(text)]


def test_markdown_bullets_escapes_and_headings() -> None:
    text = "Inclusion Criteria:\n\n* Age \\>= 18\n* HbA1c \\< 7 %\n\nExclusion Criteria:\n\n* BMI \\>35 kg/m\\^2."
    assert kinds_and_texts(text) == [
        ("INCLUSION", "Age >= 18"), ("INCLUSION", "HbA1c < 7 %"), ("EXCLUSION", "BMI >35 kg/m^2.")]


def test_continuation_lines_join_the_bullet_above() -> None:
    text = "Inclusion Criteria:\n- HbA1c 7.5 to 12% before therapy.\nDoses stable for 3 months.\n- Consent"
    assert kinds_and_texts(text) == [
        ("INCLUSION", "HbA1c 7.5 to 12% before therapy. Doses stable for 3 months."), ("INCLUSION", "Consent")]


def test_sub_headings_are_context_not_criteria() -> None:
    text = ("Eligibility criteria:\n\nFor adolescents:\n\n* Grades 9-12\n\nFor parents:\n\n* Caregiver\n\n"
            "Exclusion criteria:\n\n* Urgent care needed")
    assert kinds_and_texts(text) == [
        ("INCLUSION", "Grades 9-12"), ("INCLUSION", "Caregiver"), ("EXCLUSION", "Urgent care needed")]


def test_numbered_items_and_inline_heading() -> None:
    text = "Inclusion criteria: adults\nExclusion criteria:\n1. Pregnancy\n2) Dialysis"
    assert kinds_and_texts(text) == [("INCLUSION", "adults"), ("EXCLUSION", "Pregnancy"), ("EXCLUSION", "Dialysis")]


def test_text_without_headings_is_unspecified() -> None:
    assert kinds_and_texts("- adults\n- consent") == [("UNSPECIFIED", "adults"), ("UNSPECIFIED", "consent")]


def test_normalisation_equates_spelling_variants_only() -> None:
    same = [
        ("BMI \\>35 kg/m\\^2.", "BMI >35 kg/m2."),
        ("PTT \\>40, PT \\>15.", "PTT>40, PT >15."),
        ("contraceptive measures for the duration of the study. For male participants",
         "contraceptive measures for the duration of the study.For male participants"),
        ("lymphopenia (\\<1,000/L)", "lymphopenia (<1000/L)"),
        ("HbA1c ≥ 7.5", "hba1c >= 7.5"),
    ]
    for left, right in same:
        assert normalize_criterion(left) == normalize_criterion(right), (left, right)
    different = [("BMI > 35", "BMI > 30"), ("HbA1c > 9.5%", "HbA1c < 9.5%"), ("SBP > 160", "DBP > 160")]
    for left, right in different:
        assert normalize_criterion(left) != normalize_criterion(right), (left, right)
