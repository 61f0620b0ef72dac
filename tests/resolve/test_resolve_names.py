"""Person names: parsing, placeholders, compatibility, blocking (kg.rules.person_names, kg.rules.persons)."""

from __future__ import annotations

import pytest

from kg.rules.person_names import blocking_keys, name_similarity, parse_person_name
from kg.rules.persons import is_junk_name, person_key


@pytest.mark.parametrize(("text", "given", "family", "degrees"), [
    ("Jianming Tan, professor", ("jianming",), "tan", ("professor",)),
    ("Jianming Tan, Professor, Fuzhou General Hospital", ("jianming",), "tan", ("Professor",)),
    ("R. Jeffrey Chang, M.D.", ("r", "jeffrey"), "chang", ("M.D.",)),
    ("Prof. Dr. Gerold Ebenbichler", ("gerold",), "ebenbichler", ("Prof", "Dr")),
    ("Tuğba KURU ÇOLAK", ("tugba",), "kuru colak", ()),
    ("H van Santbrink, MD, PhD", ("h",), "van santbrink", ("MD", "PhD")),
    ("Fan Rong Fan Rong, master", ("fan",), "rong", ("master",)),
    ("Humbert (Drew) G Sullivan, MD", ("humbert", "g"), "sullivan", ("MD",)),
    ("DP Suresh, MD", ("d", "p"), "suresh", ("MD",)),
    ("n khazragy lecturer, phD", ("n",), "khazragy", ("phD",)),
    ("KIMMINYOUNG", (), "kimminyoung", ()),
])
def test_names_parse_into_given_family_and_degrees(text: str, given: tuple[str, ...], family: str,
                                                   degrees: tuple[str, ...]) -> None:
    name = parse_person_name(text)
    assert name is not None
    assert (name.given, name.family, name.degrees) == (given, family, degrees)


@pytest.mark.parametrize("text", ["Medical Director", "Study Director", "Clinical Trials", "Call Center",
                                  "GSK Clinical Trials", "Bristol-Myers Squibb", "UCB Cares", "Teva Medical Expert",
                                  "4968 Clinical Trial Leader", "Global Respiratory Clinical Research, M.D."])
def test_desks_roles_and_companies_are_not_people(text: str) -> None:
    assert is_junk_name(text)
    assert parse_person_name(text) is None
    assert person_key(text) is None


def test_a_person_with_a_clinical_job_title_is_a_person() -> None:
    assert parse_person_name("Michael Ward, Worldwide Director, Clinical Research") is not None
    assert person_key("Robert Knight, MD / Vice President, Clinical Research - Hematology") == "robert knight"


@pytest.mark.parametrize(("a", "b"), [
    ("Jianming Tan, professor", "Jianming Tan"),
    ("R. Jeffrey Chang, M.D.", "Jeffrey Chang, MD"),
    ("Chung H Kau, BDS, PhD", "Chung How Kau"),
    ("Stina B Andersen, MHS", "Stina Lykke Brogård Andersen"),
    ("Jon Ebbet, MD", "Jon Ebbert"),
    ("Sevinc Tastan, Prof. Dr.", "Sevinç Taştan"),
    ("Pablo Herrero", "Dr. Pablo Herrero Gallego"),
    ("KIMMINYOUNG", "Min-young Kim, KMD"),
    ("lashmikumar venkatraghavan, MD", "Lashmi Venkatraghavan"),
])
def test_compatible_spellings_score_and_meet_in_a_block(a: str, b: str) -> None:
    left, right = parse_person_name(a), parse_person_name(b)
    assert left is not None and right is not None
    assert name_similarity(left, right) > 0
    assert name_similarity(left, right) == name_similarity(right, left)
    assert blocking_keys(left) & blocking_keys(right)


@pytest.mark.parametrize(("a", "b"), [
    ("Julie Chang, MD", "R. Jeffrey Chang, M.D."),
    ("Ding Wang", "Dong-Xin Wang"),
    ("Minsig Choi", "Young M. Choi"),
    ("Daniel H Cortes", "Daniel K Cortes"),
    ("Ronald Go, MD", "Ronald Goldberg, MD"),
    ("Christopher Sweeney", "Michael O. Sweeney"),
    ("Jianming Tan", "Benjamin R. Tan"),
])
def test_incompatible_names_score_zero(a: str, b: str) -> None:
    left, right = parse_person_name(a), parse_person_name(b)
    assert left is not None and right is not None
    assert name_similarity(left, right) == 0
