"""Facility names and anonymised sites (kg.rules.places)."""

from __future__ import annotations

import pytest

from kg.rules.places import city_key, facility_score, facility_tokens, is_anonymous_facility, place_words

BALTIMORE = place_words("Baltimore", "Maryland", "United States")


@pytest.mark.parametrize(("a", "b", "places"), [
    ("Fuzhou General Hospital", "Fuzhou General Hospital, Xiamen Univ", place_words("Fuzhou", "Fujian", "China")),
    ("University of Maryland Medical Center", "University of Maryland Medical Center Greenbaum Cancer Ctr", BALTIMORE),
    ("1211 - CHU d'Angers", "CHU d'Angers", place_words("Angers", None, "France")),
    ("Hadassah Medical Organisation", "Hadassah Medical Organization", place_words("Jerusalem", None, "Israel")),
    ("Tel Aviv Souraski Medical Center", "Tel Aviv Sourasky Medical Center", place_words("Tel Aviv", None, "Israel")),
    ("A.O.U. di Bologna Policlinico S.Orsola-Malpighi", "Policlinico S.Orsola Malpighi, AOU di Bologna",
     place_words("Bologna", None, "Italy")),
    ("Mayo Clinic", "Mayo Clinic in Arizona", place_words("Scottsdale", "Arizona", "United States")),
])
def test_same_facility(a: str, b: str, places: frozenset[str]) -> None:
    assert facility_score(facility_tokens(a), facility_tokens(b), places) > 0


@pytest.mark.parametrize(("a", "b", "places"), [
    ("Cleveland Clinic", "Cleveland Clinic Cancer Center at Fairview Hospital",
     place_words("Cleveland", "Ohio", "United States")),
    ("Thompson Cancer Survival Center", "Thompson Cancer Survival Center - West",
     place_words("Knoxville", "Tennessee", "United States")),
    ("Emory University Hospital", "Emory University Hospital Midtown", place_words("Atlanta", "Georgia", None)),
    ("The Fifth Affiliated Hospital of Guangzhou Medical University",
     "The Third Affiliated Hospital of Guangzhou Medical University", place_words("Guangzhou", None, "China")),
    ("Swedish Medical Center-Cherry Hill", "Swedish Medical Center-First Hill", place_words("Seattle", None, None)),
    ("Memorial Hospital", "Aurora Memorial Hospital", BALTIMORE),
])
def test_other_facility(a: str, b: str, places: frozenset[str]) -> None:
    assert facility_score(facility_tokens(a), facility_tokens(b), places) == 0


@pytest.mark.parametrize("name", ["Local Institution", "Research Site", "Investigational Site",
                                  "Investigational Site Number 840042", "Novartis Investigative Site",
                                  "Site Reference ID/Investigator# 58201", "Influence Study Site",
                                  "For additional information regarding investigative sites for this trial, contact "
                                  "1-877-CTLILLY"])
def test_anonymised_facilities_are_recognised(name: str) -> None:
    assert is_anonymous_facility(name)


def test_named_facilities_are_not_anonymous() -> None:
    assert not any(is_anonymous_facility(n) for n in ("Mayo Clinic", "Dayton Clinical Research", "Research Medical "
                                                      "Center", "Site 97 - Dayton Clinical Research"))


def test_city_spellings_fold() -> None:
    assert city_key("St. Louis") == city_key("Saint Louis")
    assert city_key("La Crosse") == city_key("LaCrosse")
    assert city_key("Seongnam-si") == city_key("SeongNam")
