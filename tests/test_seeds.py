"""Every fact the two seed pages state, pinned by hand from the page text.

The expected values below were read off the pages in examples/ by a person, not
produced by the code under test.
"""

from __future__ import annotations

import pytest

from kg.model import AgeLimit, Enrollment, StudyDate
from kg.sources import sniff
from kg.store.base import Store
from tests.conftest import CLASSIC_SEED, MODERN_SEED


def parse(path):  # type: ignore[no-untyped-def]
    source_format = sniff(path)
    raw = next(iter(source_format.read(path)))
    return source_format.parse(raw)


def test_layouts_are_recognised() -> None:
    assert sniff(MODERN_SEED).name == "page-modern"
    assert sniff(CLASSIC_SEED).name == "page-classic"


def test_modern_seed_facts() -> None:
    parsed = parse(MODERN_SEED)
    t = parsed.trial
    assert t.nct_id == "NCT01374854"
    assert t.org_study_id == "UCMSC-T1DM"
    assert t.brief_title == (
        "Umbilical Mesenchymal Stem Cells and Mononuclear Cells Infusion in Type 1 Diabetes Mellitus")
    assert t.overall_status == "UNKNOWN"
    assert t.phases == ("PHASE1", "PHASE2")
    assert t.study_type == "INTERVENTIONAL"
    assert t.enrollment == Enrollment(44)
    assert t.start_date == StudyDate("2009-01-31")
    assert t.completion_date == StudyDate("2014-12-31")
    assert t.last_update_posted == StudyDate("2012-11-20")
    assert (t.allocation, t.intervention_model, t.primary_purpose, t.masking) == (
        "RANDOMIZED", "PARALLEL", "TREATMENT", "NONE")
    assert t.conditions == ("Type 1 Diabetes Mellitus",)
    assert t.keywords == ("type 1 diabetes mellitus umbilical mesenchymal stem cell mononuclear cell",)
    assert t.brief_summary is not None and t.brief_summary.startswith("Umbilical mesenchymal stem cells (UC-MSCs)")
    assert [(a.label, a.type) for a in t.arms] == [
        ("Stem Cell Infusion", "EXPERIMENTAL"), ("traditional therapy control", "ACTIVE_COMPARATOR")]
    assert [a.intervention_names for a in t.arms] == [
        ("Umbilical mesenchymal stem cell (UC-MSCs) infusion",), ("traditional therapy",)]
    assert [(i.name, i.type) for i in t.interventions] == [
        ("Umbilical mesenchymal stem cell (UC-MSCs) infusion", "BIOLOGICAL"), ("traditional therapy", "DRUG")]
    assert t.interventions[0].description == (
        "1×10^6/kg UC-MSCs is infused through pancreatic artery along with mononuclear cells by interventional "
        "therapy and another same dose of UC-MSCs is administered one week post-intervention.")
    assert t.interventions[1].description == "exogenous insulin injection daily"
    e = t.eligibility
    inclusion = [c.text for c in e.criteria if c.kind == "INCLUSION"]
    exclusion = [c.text for c in e.criteria if c.kind == "EXCLUSION"]
    assert len(inclusion) == 8 and len(exclusion) == 31
    assert inclusion[0] == "Male and female patients age 18 to 65 years of age."
    assert inclusion[-1] == "HbA1c ≥ 7.5 at time of enrollment."
    assert exclusion[0] == "BMI >35 kg/m^2."  # markdown escapes removed
    assert exclusion[-1] == ("Any medical condition that, in the opinion of the investigator, will interfere with "
                             "the safe completion of the trial.")
    assert (e.minimum_age, e.maximum_age, e.sex, e.healthy_volunteers) == (
        AgeLimit(18, "Years"), AgeLimit(40, "Years"), "ALL", False)
    assert t.lead_sponsor is not None and (t.lead_sponsor.name, t.lead_sponsor.org_class) == (
        "Fuzhou General Hospital", "OTHER")
    assert t.collaborators == ()
    assert t.responsible_party is not None and t.responsible_party.type == "SPONSOR"
    assert [(o.name, o.role, o.affiliation) for o in t.officials] == [
        ("Jianming Tan, professor", "PRINCIPAL_INVESTIGATOR", "Fuzhou General Hospital")]
    assert [(s.facility, s.city, s.state, s.country) for s in t.sites] == [
        ("Fuzhou General Hospital", "Fuzhou", "Fujian", "China")]
    assert [(r.pmid, r.type, r.doi) for r in t.references] == [
        ("35086778", "DERIVED", "10.1016/j.jcyt.2021.09.015"), ("26628416", "DERIVED", "10.2337/dc15-0171")]
    assert t.references[1].citation is not None and t.references[1].citation.startswith("Cai J, Wu Z, Xu X, Liao L")
    assert t.has_results is False
    assert parsed.warnings == ()


def test_classic_seed_facts() -> None:
    parsed = parse(CLASSIC_SEED)
    t = parsed.trial
    assert t.nct_id == "NCT01719640"
    assert t.org_study_id == "MSC-BMMNC-DM"
    assert t.brief_title == "MSC and BMMNC in Type 2 Diabetes Mellitus"
    assert t.official_title == ("Autologous Bone Marrow Mesenchymal Stem Cell and Bone Marrow Mononuclear Cell "
                                "Infusion in Type 2 Diabetes Mellitus")
    assert t.overall_status == "COMPLETED"
    assert t.phases == ("PHASE1", "PHASE2")
    assert t.study_type == "INTERVENTIONAL"
    assert t.enrollment == Enrollment(22, "ACTUAL")
    assert (t.allocation, t.intervention_model, t.masking, t.primary_purpose) == (
        "RANDOMIZED", "PARALLEL", "NONE", "TREATMENT")
    assert t.start_date == StudyDate("2011-01", "ACTUAL")
    assert t.primary_completion_date == StudyDate("2014-01", "ACTUAL")
    assert t.completion_date == StudyDate("2015-01", "ACTUAL")
    assert t.first_posted == StudyDate("2012-11-01")
    assert t.last_update_posted == StudyDate("2018-04-25")
    assert t.last_verified == "2018-04"
    assert t.conditions == ("Diabetes Mellitus, Type 2",)
    assert [(a.type, a.label, a.description) for a in t.arms] == [
        ("EXPERIMENTAL", "BMMSC+BMMNC", "infusion of BMMSC+BMMNC and insulin injection"),
        ("ACTIVE_COMPARATOR", "BMMNC", "infusion of BMMNC and insulin injection"),
        ("ACTIVE_COMPARATOR", "Insulin", "insulin injection"),
    ]
    assert [a.intervention_names for a in t.arms] == [
        ("infusion of BMMSCs", "infusion BMMNCs", "insulin"), ("infusion BMMNCs", "insulin"), ("insulin",)]
    assert [(i.name, i.type, i.description) for i in t.interventions] == [
        ("infusion of BMMSCs", "DRUG", "infusion of BMMSCs"),
        ("infusion BMMNCs", "DRUG", "infusion of BMMNCs"),
        ("insulin", "DRUG", "intensive insulin care"),
    ]
    assert [(o.measure, o.kind, o.time_frame) for o in t.outcomes] == [
        ("HbA1c", "PRIMARY", "1y"),
        ("exogenous insulin requirements", "PRIMARY", "1y"),
        ("fasting hemoglucose", "PRIMARY", "1y"),
        ("fasting c-peptide", "PRIMARY", "1y"),
        ("The incidence and severity of adverse events related to the stem cell infusion procedure", "PRIMARY", "1y"),
    ]
    e = t.eligibility
    inclusion = [c.text for c in e.criteria if c.kind == "INCLUSION"]
    exclusion = [c.text for c in e.criteria if c.kind == "EXCLUSION"]
    assert len(inclusion) == 9 and len(exclusion) == 33
    # The continuation line belongs to the bullet above it.
    assert inclusion[6].endswith("prior to randomization. Insulin dose and metformin doses should be stable over "
                                 "the 3 months prior to randomization.")
    assert exclusion[0] == "BMI >35 kg/m2."
    assert (e.minimum_age, e.maximum_age, e.sex, e.healthy_volunteers, e.std_ages) == (
        AgeLimit(40, "Years"), AgeLimit(65, "Years"), "ALL", False, ("ADULT", "OLDER_ADULT"))
    party = t.responsible_party
    assert party is not None and (party.name, party.title, party.affiliation) == (
        "Jianming Tan", "Professor", "Fuzhou General Hospital")
    assert [(s.facility, s.city, s.state, s.zip, s.country) for s in t.sites] == [
        ("Fuzhou General Hospital, Xiamen Univ", "Fuzhou", "Fujian", "350025", "China")]
    assert t.keywords == ("mesenchymal stem cells bone marrow mononeclear cells type 2 diabetes mellitus",)
    assert t.mesh_text == (
        "Diabetes Mellitus Diabetes Mellitus, Type 2 Glucose Metabolism Disorders Metabolic Diseases",
        "Endocrine System Diseases Insulin Hypoglycemic Agents Physiological Effects of Drugs",
    )
    assert t.has_results is False
    assert t.lead_sponsor is None
    assert any("Sponsor" in w for w in parsed.warnings)


PREFIX = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"


def count(store: Store, nct: str, pattern: str) -> int:
    query = PREFIX + f'SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?t tkg:nctId "{nct}" . {pattern} }}'
    value = store.select(query).values()[0][0]
    return int(value or 0)


@pytest.mark.parametrize(
    ("nct", "pattern", "expected"),
    [
        ("NCT01374854", "?t tkg:hasArm ?x", 2),
        ("NCT01374854", "?t tkg:hasIntervention ?x", 2),
        ("NCT01374854", "?t tkg:hasCriterion ?x . ?x a tkg:InclusionCriterion", 8),
        ("NCT01374854", "?t tkg:hasCriterion ?x . ?x a tkg:ExclusionCriterion", 31),
        ("NCT01374854", "?t tkg:enrollment ?x FILTER(?x = 44)", 1),
        ("NCT01374854", "?t tkg:hasReference|tkg:derivedReference ?p . ?p tkg:pmid ?x "
                        "FILTER(?x IN (\"35086778\", \"26628416\"))", 2),
        ("NCT01374854", "?t tkg:leadSponsor ?x . ?x tkg:name \"Fuzhou General Hospital\"", 1),
        ("NCT01719640", "?t tkg:hasArm ?x", 3),
        ("NCT01719640", "?t tkg:hasIntervention ?x", 3),
        ("NCT01719640", "?t tkg:hasOutcome ?x . ?x tkg:outcomeKind \"PRIMARY\"", 5),
        ("NCT01719640", "?t tkg:hasCriterion ?x . ?x a tkg:InclusionCriterion", 9),
        ("NCT01719640", "?t tkg:hasCriterion ?x . ?x a tkg:ExclusionCriterion", 33),
        ("NCT01719640", "?t tkg:enrollment ?x ; tkg:enrollmentType \"ACTUAL\" FILTER(?x = 22)", 1),
    ],
)
def test_seed_facts_in_the_graph(seed_store: Store, nct: str, pattern: str, expected: int) -> None:
    assert count(seed_store, nct, pattern) == expected


def test_both_roles_of_the_shared_investigator_are_modelled(seed_store: Store) -> None:
    rows = seed_store.select(PREFIX + """
        SELECT DISTINCT ?nct ?type WHERE {
          ?t tkg:nctId ?nct ; tkg:hasRole ?r . ?r tkg:roleType ?type ; tkg:agent ?p . ?p tkg:name "Jianming Tan" }
        ORDER BY ?nct""").values()
    assert rows == [
        ("NCT01374854", "https://w3id.org/trialkg/ontology#PrincipalInvestigator"),
        ("NCT01719640", "https://w3id.org/trialkg/ontology#ResponsiblePartyInvestigator"),
    ]
