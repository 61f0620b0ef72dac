"""Near-duplicate criteria (kg.resolve.criteria_match)."""

from __future__ import annotations

import pytest

from kg.resolve.criteria_match import criterion_form, match_criteria


@pytest.mark.parametrize(("a", "b"), [
    ("Baseline Hemoglobin below the lower limits of normal at the local laboratory; lymphopenia (<1,000/L)",
     "Baseline Hgb below the lower limits of normal at the local laboratory; lymphopenia (<1,000/L)"),
    ("C-reactive protein (hs-CRP) >3.00ng/ml", "C-reactive protein (hs-CRP) >3.00"),
    ("Uncontrolled blood Pressure: SBP >160 mmHg or DBP >100 mmHg at the time of enrollment.",
     "Uncontrolled blood Pressure: SBP >160 mmHg or DBP >100 mmHg at the time of randomization."),
    ("Any medical condition that, in the opinion of the investigator, will interfere with the safe completion of "
     "the trial.", "Any medical condition that, in the opinion of the investigator, will interfere with thesafe "
     "completion of the trial."),
    ("ECOG performance status 0 or 1", "Eastern Cooperative Oncology Group (ECOG) performance status <= 1"),
    ("Pregnant or breastfeeding women.", "Women who are pregnant or breast feeding."),
    ("Absolute neutrophil count >= 1500/mm3", "Absolute neutrophil count (ANC) >= 1.5 x 10^9/L"),
])
def test_same_requirement_in_other_words(a: str, b: str) -> None:
    assert match_criteria(criterion_form(a), criterion_form(b)) > 0


@pytest.mark.parametrize(("a", "b"), [
    ("Clinical history compatible with type 1 diabetes (T1DM)", "Clinical history compatible with type 2 diabetes "
                                                                 "(T2DM)"),
    ("Age > 18 years", "Age >= 18 years"),
    ("Patient is able to read and speak English", "Patient is unable to read and speak English"),
    ("Clinically stable", "Clinically unstable"),
    ("Neurological deficit", "No neurological deficit"),
    ("ALT (SGPT) <= 2.5 x institutional upper limit of normal", "AST (SGOT) <= 2.5 x institutional upper limit of "
                                                                  "normal"),
    ("Men age >= 45 years", "Women age >= 45 years"),
    ("Informed consent", "Written informed consent"),
])
def test_different_requirements_do_not_match(a: str, b: str) -> None:
    assert match_criteria(criterion_form(a), criterion_form(b)) == 0
