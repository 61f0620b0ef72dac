"""Record against graph, field by field: multiset differences and per-field tallies.

Both sides are reduced to the same shape first (``project``): where a format states a
composite value as one text (CSV outcomes "measure, description, time frame", CSV locations
"facility, city, state, zip, country"), the graph's parts are joined back the same way, so
a value cut at a comma or shifted into the wrong part shows as a difference without this
checker having to guess how to split the text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.fidelity.criteria import DROPPED_LEAD_IN, DROPPED_TEXT, check_criteria
from tests.fidelity.graph import GraphTrial
from tests.fidelity.sources import CONTACT, SourceRecord, age, comma_spaced, decontact

FIELDS = ("nct_id", "other_ids", "brief_title", "official_title", "acronym", "overall_status", "phases", "study_type",
          "enrollment_count", "enrollment_type", "start_date", "primary_completion_date", "completion_date",
          "first_posted", "last_update_posted", "first_submitted", "last_update_submitted", "conditions",
          "condition_mesh", "condition_mesh_linked", "keywords",
          "interventions.count", "interventions", "arms", "arm_interventions", "outcomes", "minimum_age",
          "maximum_age", "sex", "healthy_volunteers", "criteria", "lead_sponsor", "collaborators", "officials",
          "locations.count", "locations", "references", "has_results")


@dataclass
class Disagreement:
    """One field of one record that differs: values only in the record, values only in the graph."""

    fmt: str
    source: str
    nct: str
    field: str
    missing: list = field(default_factory=list)  # stated by the record, not by the graph
    extra: list = field(default_factory=list)  # stated by the graph, not by the record
    notes: dict[str, list[str]] = field(default_factory=dict)  # criteria: problem class -> examples
    expected: list = field(default_factory=list)  # everything the record states in the field

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.fmt, self.source, self.field, self.nct)


@dataclass
class Tally:
    records: int = 0
    values: int = 0
    agree: int = 0


@dataclass
class Outcome:
    """All comparisons of a run."""

    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    coverage: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)  # fmt -> (source, nct, frac)
    records: Counter = field(default_factory=Counter)  # per format
    sources: Counter = field(default_factory=Counter)  # per file (records compared)

    def tally(self, fmt: str, name: str) -> Tally:
        return self.tallies.setdefault((fmt, name), Tally())


def _join(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)



def project(fmt: str, name: str, values: list) -> list:
    """The graph's values in the shape the format's reader gives."""
    if name == "interventions":
        if fmt == "ctgov-csv":
            return [(v["name"], v["type"]) for v in values]
        return [(v["name"], v["type"], v["description"]) for v in values]
    if name == "outcomes":
        if fmt == "ctgov-csv":
            return [(v["kind"], comma_spaced(_join(v["measure"], v["description"], v["time_frame"])))
                    for v in values]
        return [(v["kind"], v["measure"], v["time_frame"]) for v in values]
    if name == "locations":
        if fmt == "ctgov-csv":
            return [(comma_spaced(_join(v["facility"], v["city"], v["state"], v["zip"], v["country"])),)
                    for v in values]
        return [(decontact(v["facility"]), v["city"], v["state"], v["zip"], v["country"], v["lat"], v["lon"])
                for v in values]
    if name in ("minimum_age", "maximum_age"):
        return [age(v) for v in values]
    if name == "officials":  # contact data is left out on purpose: not compared
        return [v for v in values if not (v[0] and CONTACT.search(v[0]))]
    if name == "arm_interventions":
        return sorted(set(values), key=str)
    return list(values)


def compare_record(rec: SourceRecord, trial: GraphTrial | None, outcome: Outcome) -> None:
    """Add one record's tallies and disagreements to ``outcome``."""
    outcome.records[rec.fmt] += 1
    outcome.sources[rec.source] += 1
    graph_fields = trial.fields if trial else {}
    expected_fields = dict(rec.fields)
    if rec.fmt == "ctgov-xml":  # names given; each should also be linked to its descriptor
        expected_fields["condition_mesh_linked"] = list(rec.fields["condition_mesh"])
        graph_fields = dict(graph_fields)
        graph_fields["condition_mesh"] = graph_fields.get("condition_mesh_names", [])
    for name in FIELDS:
        if name not in expected_fields:
            continue
        expected = Counter(expected_fields[name])
        if name.endswith(".count"):
            base = graph_fields.get(name.removesuffix(".count"), [])
            actual = Counter([str(len(base))]) if trial else Counter()
        else:
            actual = Counter(project(rec.fmt, name, graph_fields.get(name, [])))
        if name == "other_ids":  # identifiers are a set on both sides
            expected, actual = Counter(set(expected)), Counter(set(actual))
        matched = expected & actual
        missing, extra = expected - matched, actual - matched
        tally = outcome.tally(rec.fmt, name)
        tally.records += 1
        tally.values += sum(matched.values()) + sum(missing.values()) + sum(extra.values())
        tally.agree += sum(matched.values())
        if missing or extra:
            outcome.disagreements.append(Disagreement(rec.fmt, rec.source, rec.nct, name,
                                                      sorted(missing.elements(), key=str),
                                                      sorted(extra.elements(), key=str),
                                                      expected=list(expected_fields[name])))
    if rec.fmt != "ctgov-csv":
        _criteria(rec, trial, outcome)


def _criteria(rec: SourceRecord, trial: GraphTrial | None, outcome: Outcome) -> None:
    result = check_criteria(rec.criteria_block, trial.criteria if trial else [])
    tally = outcome.tally(rec.fmt, "criteria")
    tally.records += 1
    # Values: each criterion the graph states, plus each source word (covered or not).
    bad = sum(len(v) for k, v in result.problems.items() if k not in (DROPPED_TEXT, DROPPED_LEAD_IN))
    tally.values += result.criteria + result.words
    tally.agree += max(result.criteria - bad, 0) + result.covered
    outcome.coverage.setdefault(rec.fmt, []).append((rec.source, rec.nct, result.coverage))
    if result.problems:
        outcome.disagreements.append(Disagreement(rec.fmt, rec.source, rec.nct, "criteria", notes=result.problems))
