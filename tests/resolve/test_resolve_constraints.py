"""Structured constraints parsed from criterion text (kg.rules.constraints)."""

from __future__ import annotations

import pytest

from kg.rules.constraints import parse_constraints


def bounds(text: str) -> list[tuple[str, str, float, str | None]]:
    return [(c.variable, c.comparator, c.value, c.unit) for c in parse_constraints(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("BMI >35 kg/m^2.", [("bmi", ">", 35.0, "kg/m2")]),
    ("HbA1c ≥ 7.5 %", [("hba1c", ">=", 7.5, "%")]),
    ("Male and female patients age 18 to 65 years of age.", [("age", ">=", 18.0, "years"),
                                                              ("age", "<=", 65.0, "years")]),
    ("Evidence of renal dysfunction, serum creatinine > 1.5 mg/dl (males) and 1.4 mg/dl (females).",
     [("creatinine", ">", 1.5, "mg/dl")]),
    ("thrombocytopenia (platelets <100,000/L)", [("platelets", "<", 100000.0, "/l")]),
    ("HbA1c ≥ 7.5 and ≤ 9.5% at time of randomization.", [("hba1c", ">=", 7.5, "%"), ("hba1c", "<=", 9.5, "%")]),
    ("Basal C-peptide 0.3-2.0 ng/mL", [("c-peptide", ">=", 0.3, "ng/ml"), ("c-peptide", "<=", 2.0, "ng/ml")]),
    ("Uncontrolled blood Pressure: SBP >160 mmHg or DBP >100 mmHg", [("sbp", ">", 160.0, "mmhg"),
                                                                      ("dbp", ">", 100.0, "mmhg")]),
    ("ECOG performance status of 0 or 1", [("ecog", "<=", 1.0, None)]),
    ("Eastern Cooperative Oncology Group (ECOG) performance status 0-2", [("ecog", "<=", 2.0, None)]),
    ("Patient is under the age of 21", [("age", "<", 21.0, "years")]),
    ("18 years of age or older", [("age", ">=", 18.0, "years")]),
    ("Total insulin daily dose (TDD) at time of randomization should not exceed 1.0 units/day/kg",
     [("insulin-dose-per-kg", "<=", 1.0, "u/kg/day")]),
    ("Contraindications to undergo a MRI", []),
    ("Onset of T1DM disease at ≤ 35 years of age.", [("onset-age", "<=", 35.0, "years")]),
    ("family history of sudden death under 40 years of age", []),
])
def test_bounds_are_read_from_the_text(text: str, expected: list[tuple[str, str, float, str | None]]) -> None:
    assert bounds(text) == expected


def test_values_are_converted_to_the_canonical_unit() -> None:
    (hba1c,) = parse_constraints("HbA1c 53 mmol/mol or more")
    assert (hba1c.comparator, hba1c.normalized_value, hba1c.normalized_unit) == (">=", 7.0, "%")
    (anc,) = parse_constraints("Absolute neutrophil count (ANC) >= 1.5 x 10^9/L")
    assert (anc.normalized_value, anc.normalized_unit) == (1500.0, "/ul")
    (crp,) = parse_constraints("C-reactive protein (hs-CRP) >3.00")
    assert crp.normalized_value is None  # no unit stated, none assumed
