"""Every fact the record states, and only those (issue 17), as a ratchet over all real data.

The checker (tests/fidelity) reads each real ClinicalTrials.gov file with its own minimal
readers and compares every trial's graph with the record field by field. The accepted gaps
are listed in known_gaps.json; this test fails on a disagreement not listed there (a new
infidelity) and on a listed one that no longer occurs (so the list stays true as fixes land:
regenerate it with ``scripts/fidelity --update-known-gaps`` and commit the shorter list).

The checker itself must be able to fail: the last tests alter a real graph (a site removed,
a title changed, a criterion invented) and assert the checker reports exactly that.
"""

from __future__ import annotations

import pytest

from kg import build, open_store
from tests.fidelity.compare import Outcome
from tests.fidelity.criteria import DROPPED_LEAD_IN, DROPPED_TEXT, SCOPE_HEADING, SCOPE_MISSING, check_criteria
from tests.fidelity.report import gaps, load_known_gaps
from tests.fidelity.run import DATA, Input, check_store, inputs, run_all

pytestmark = pytest.mark.slow
TKG = "https://w3id.org/trialkg/ontology#"


@pytest.fixture(scope="module")
def outcome() -> Outcome:
    """One build and one comparison of every input, shared by the tests below."""
    return run_all()


def _key(entry: dict[str, str]) -> tuple[str, ...]:
    return (entry["format"], entry["source"], entry["field"], entry["record"], entry["reason"])


def _show(entries: list[tuple[str, ...]]) -> str:
    return "\n".join("  " + " | ".join(e) for e in entries[:40]) + (f"\n  ... {len(entries)} in all"
                                                                    if len(entries) > 40 else "")


def test_every_real_record_is_compared(outcome: Outcome) -> None:
    """All inputs were read, and every format was compared on many records (a silent reader bug would not)."""
    assert len(inputs()) == 11
    assert outcome.records["ctgov-json"] >= 1440
    assert outcome.records["ctgov-xml"] >= 120
    assert outcome.records["ctgov-csv"] >= 1583
    for item in inputs():
        rel = item.path.relative_to(DATA).as_posix()
        assert any(s == rel or s.startswith(rel + "/") for s in outcome.sources), rel


def test_no_disagreement_beyond_the_known_gaps(outcome: Outcome) -> None:
    known = {_key(e) for e in load_known_gaps()}
    new = sorted({_key(e) for e in gaps(outcome)} - known)
    assert not new, "graph and record disagree beyond tests/fidelity/known_gaps.json:\n" + _show(new)


def test_every_known_gap_still_occurs(outcome: Outcome) -> None:
    """The ratchet: a fixed gap must leave the list (scripts/fidelity --update-known-gaps)."""
    current = {_key(e) for e in gaps(outcome)}
    fixed = sorted({_key(e) for e in load_known_gaps()} - current)
    assert not fixed, "fixed: remove from tests/fidelity/known_gaps.json:\n" + _show(fixed)


def test_known_gaps_have_a_reason_and_no_duplicates() -> None:
    entries = load_known_gaps()
    keys = [_key(e) for e in entries]
    assert len(keys) == len(set(keys))
    assert all(e["reason"].strip() and not e["reason"].endswith("(unclassified)") for e in entries)


# ------------------------------------------------------------------ the checker can fail


@pytest.fixture(scope="module")
def clean_single() -> tuple[Input, str]:
    """A real single-study JSON record whose graph the checker finds equal in titles, sites and criteria."""
    for path in sorted((DATA / "ctgov-json" / "single").glob("*.json")):
        item = Input("ctgov-json", path)
        record = next(item.records())
        store = open_store(None)
        build([path], store)
        found = check_store(item, store)
        bad_fields = {d.field for d in found.disagreements}
        if len(record.fields["locations"]) >= 2 and record.criteria_block and \
                not bad_fields & {"brief_title", "locations", "locations.count", "criteria"}:
            return item, record.nct
    pytest.fail("no clean single-study record to alter")


def _altered(item: Input, update: str) -> Outcome:
    store = open_store(None)
    build([item.path], store)
    store.update(update)
    return check_store(item, store)


def _fields(found: Outcome, nct: str) -> dict[str, object]:
    return {d.field: d for d in found.disagreements if d.nct == nct}


def test_a_dropped_site_is_reported(clean_single: tuple[Input, str]) -> None:
    item, nct = clean_single
    found = _altered(item, f"""DELETE {{ GRAPH ?g {{ ?t <{TKG}hasSite> ?s }} }} WHERE {{
        {{ SELECT ?g ?t ?s WHERE {{ GRAPH ?g {{ ?t <{TKG}nctId> "{nct}" ; <{TKG}hasSite> ?s }} }} ORDER BY ?s LIMIT 1 }}
    }}""")
    fields = _fields(found, nct)
    assert "locations.count" in fields and "locations" in fields
    assert len(fields["locations"].missing) == 1 and not fields["locations"].extra


def test_a_changed_title_is_reported(clean_single: tuple[Input, str]) -> None:
    item, nct = clean_single
    found = _altered(item, f"""DELETE {{ GRAPH ?g {{ ?t <{TKG}briefTitle> ?x }} }}
        INSERT {{ GRAPH ?g {{ ?t <{TKG}briefTitle> "A title no record states" }} }}
        WHERE {{ GRAPH ?g {{ ?t <{TKG}nctId> "{nct}" ; <{TKG}briefTitle> ?x }} }}""")
    title = _fields(found, nct)["brief_title"]
    assert title.extra == ["A title no record states"] and len(title.missing) == 1


def test_an_invented_criterion_is_reported(clean_single: tuple[Input, str]) -> None:
    item, nct = clean_single
    found = _altered(item, f"""DELETE {{ GRAPH ?g {{ ?c <{TKG}criterionText> ?x }} }}
        INSERT {{ GRAPH ?g {{ ?c <{TKG}criterionText> "Must own a unicorn" }} }}
        WHERE {{ {{ SELECT ?g ?c ?x WHERE {{ GRAPH ?g {{ ?t <{TKG}nctId> "{nct}" ; <{TKG}hasCriterion> ?c .
                   ?c <{TKG}criterionText> ?x }} }} ORDER BY ?c LIMIT 1 }} }}""")
    notes = _fields(found, nct)["criteria"].notes
    assert notes["criterion text not in source block"] == ["Must own a unicorn"]
    assert DROPPED_TEXT in notes  # the replaced criterion's words are now covered by none


# ------------------------------------------------------------------ the criteria rules on their own


BLOCK = """Inclusion Criteria:

* Age 18 years or older
* Signed informed consent

Exclusion Criteria:

* Pregnancy \\& lactation
"""


def test_criteria_in_order_and_section_cover_the_block() -> None:
    criteria = [(1, "INCLUSION", "Age 18 years or older", False, ""),
                (2, "INCLUSION", "Signed informed consent", False, ""),
                (3, "EXCLUSION", "Pregnancy & lactation", False, "")]
    result = check_criteria(BLOCK, criteria)
    assert result.problems == {} and result.coverage == 1.0


def test_criteria_problems_are_named() -> None:
    criteria = [(1, "INCLUSION", "Signed informed consent", False, ""),
                (2, "EXCLUSION", "Age 18 years or older", False, ""),
                (3, "EXCLUSION", "Pregnancy \\& lactation", False, ""),
                (4, "EXCLUSION", "N/A", False, ""), (5, "INCLUSION", "Inclusion Criteria:", False, "")]
    problems = check_criteria(BLOCK, criteria).problems
    assert problems["criterion out of source order"] == ["Age 18 years or older"]
    assert problems["exclusion criterion taken from the inclusion section"] == ["Age 18 years or older"]
    assert problems["markdown escape kept in criterion"] == ["Pregnancy \\& lactation"]
    assert problems["placeholder criterion"] == ["N/A"]
    assert problems["heading stated as a criterion"] == ["Inclusion Criteria:"]


SCOPED = """Inclusion Criteria:

Cohort 1:

* Age 18 years or older

Cohort 2:

* Age 18 years or older
* Patients must meet all of the following criteria:
  * ECOG 0-1
"""


def test_a_lead_in_kept_as_scope_is_covered() -> None:
    """A sub-heading is covered by the criteria it scopes; the same text under two scopes is no merge."""
    criteria = [(1, "INCLUSION", "Age 18 years or older", False, "Cohort 1:"),
                (2, "INCLUSION", "Age 18 years or older", False, "Cohort 2:"),
                (3, "INCLUSION", "ECOG 0-1", False,
                 "Cohort 2: \u203a Patients must meet all of the following criteria:")]
    result = check_criteria(SCOPED, criteria)
    assert result.problems == {} and result.coverage == 1.0


def test_a_lost_or_invented_scope_is_reported() -> None:
    criteria = [(1, "INCLUSION", "Age 18 years or older", False, "Inclusion Criteria:"),
                (2, "INCLUSION", "Age 18 years or older", False, "Cohort 3:"),
                (3, "INCLUSION", "ECOG 0-1", False, "Cohort 2:")]
    problems = check_criteria(SCOPED, criteria).problems
    assert problems[SCOPE_MISSING] == ["Cohort 3:"]
    assert problems[SCOPE_HEADING] == ["Inclusion Criteria:"]
    assert problems[DROPPED_LEAD_IN] == ["cohort 1", "patients must meet all of the following criteria"]
    assert DROPPED_TEXT not in problems
