"""A criterion's scope in the graph: the same text under two sub-headings is two nodes of one concept.

The splitter keeps the sub-heading or lead-in that governs each criterion (``Criterion.scope``);
emission states it as ``tkg:criterionScope`` and keys the node by it (kg.rules.criteria
.criterion_node_key), so each occurrence keeps its own position, while the criterion concept
(what the shared-exclusion-criteria query joins on) stays one.
"""

from __future__ import annotations

from kg.model import Eligibility, Trial
from kg.rdf.emit import emit_trial
from kg.rdf.namespaces import TKG
from kg.rules.eligibility import split_criteria
from kg.rules.finish import finish_trial

BLOCK = ("Inclusion Criteria:\n\nCohort 1:\n\n* Age >= 18 years\n\nCohort 2:\n\n* Age >= 18 years\n\n"
         "Exclusion Criteria:\n\n* Pregnancy")


def _statements(lines: list[str], predicate: str) -> list[tuple[str, str]]:
    return [(line.split(" ", 1)[0], line.split(" ", 2)[2].rsplit(" ", 2)[0])
            for line in lines if line.split(" ", 2)[1] == predicate]


def test_same_text_under_two_scopes_is_two_nodes_of_one_concept() -> None:
    trial = finish_trial(Trial("NCT00000042", eligibility=Eligibility(split_criteria(BLOCK))))
    lines = emit_trial(trial)
    scopes = dict(_statements(lines, TKG.criterionScope))
    positions = _statements(lines, TKG.position)
    concepts = _statements(lines, TKG.criterionConcept)
    scoped = sorted(scopes)
    assert sorted(scopes.values()) == ['"Cohort 1:"', '"Cohort 2:"']
    assert len(scoped) == 2 and len({concept for node, concept in concepts if node in scoped}) == 1
    assert sorted(p for node, p in positions if node in scoped) == [
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer>', '"2"^^<http://www.w3.org/2001/XMLSchema#integer>']
    unscoped = [node for node, _ in concepts if node not in scopes]
    assert len(unscoped) == 1 and unscoped[0].count("/") == scoped[0].count("/") - 1  # no scope, no scope hash


def test_the_node_key_is_made_in_one_place() -> None:
    trial = finish_trial(Trial("NCT00000042", eligibility=Eligibility(split_criteria(BLOCK))))
    keys = [c.node_key for c in trial.eligibility.criteria]
    assert keys[0][:2] == keys[1][:2] and keys[0][2] != keys[1][2] and len(keys[2]) == 2
