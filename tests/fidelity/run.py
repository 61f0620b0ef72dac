"""Build every real registry file in tests/data and compare each trial with its record.

Each input (a file, or a folder whose copies of one trial must be reconciled) is built alone
into an in-memory store, so the same trial in two files is checked against each file.
Where a folder holds two copies of a trial, the record to compare with is the copy with the
latest last-update date (then the latest download date, which legacy XML states); copies that
still tie are all compared and the closest one kept (nothing says which is newer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kg import build, open_store
from tests.fidelity.compare import Outcome, compare_record
from tests.fidelity.graph import GraphTrial, read_graph
from tests.fidelity.sources import SourceRecord, read_csv, read_json, read_xml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@dataclass(frozen=True)
class Input:
    """One build: what kg.build gets, how the checker reads the same records."""

    fmt: str
    path: Path

    def records(self) -> Iterator[SourceRecord]:
        if self.fmt == "ctgov-json":
            files = sorted(self.path.glob("*.json")) if self.path.is_dir() else [self.path]
            for file in files:
                yield from read_json(file, DATA)
        elif self.fmt == "ctgov-xml":
            for file in sorted(self.path.glob("*.xml")):
                yield read_xml(file, DATA)
        else:
            yield from read_csv(self.path, DATA)


def inputs() -> list[Input]:
    """Every real ClinicalTrials.gov file in tests/data (PubMed is not a trial source)."""
    found = [Input("ctgov-json", DATA / "ctgov-json" / "single")]
    found += [Input("ctgov-json", p) for p in sorted((DATA / "ctgov-json").glob("*.json"))]
    found += [Input("ctgov-json", p) for p in sorted((DATA / "more" / "ctgov-json").iterdir())]
    found += [Input("ctgov-xml", p) for p in sorted((DATA / "ctgov-xml").iterdir()) if p.is_dir()]
    found += [Input("ctgov-csv", p) for p in sorted((DATA / "ctgov-csv").glob("*.csv"))]
    found += [Input("ctgov-csv", p) for p in sorted((DATA / "more" / "ctgov-csv").glob("*.csv"))]
    return found


def build_input(item: Input):
    """The in-memory store holding one input's build."""
    store = open_store(None)
    build([item.path], store)
    return store


def check_store(item: Input, store, outcome: Outcome | None = None) -> Outcome:
    """Compare every record of ``item`` with the trials in ``store``."""
    outcome = outcome or Outcome()
    trials = read_graph(store)
    by_nct: dict[str, list[SourceRecord]] = {}
    for rec in item.records():
        by_nct.setdefault(rec.nct, []).append(rec)
    for nct in sorted(by_nct):
        copies = by_nct[nct]
        latest = max(c.changed for c in copies)
        candidates = [c for c in copies if c.changed == latest]
        _closest(candidates, trials.get(nct), outcome)
    return outcome


def _closest(candidates: list[SourceRecord], trial: GraphTrial | None, outcome: Outcome) -> None:
    if len(candidates) == 1:
        compare_record(candidates[0], trial, outcome)
        return
    trials = []
    for rec in candidates:
        trial_outcome = Outcome()
        compare_record(rec, trial, trial_outcome)
        trials.append((len(trial_outcome.disagreements), rec.source, trial_outcome))
    best = min(trials, key=lambda t: (t[0], t[1]))[2]
    _merge(outcome, best)


def _merge(into: Outcome, other: Outcome) -> None:
    for key, tally in other.tallies.items():
        target = into.tallies.setdefault(key, type(tally)())
        target.records += tally.records
        target.values += tally.values
        target.agree += tally.agree
    into.disagreements += other.disagreements
    for fmt, rows in other.coverage.items():
        into.coverage.setdefault(fmt, []).extend(rows)
    into.records.update(other.records)
    into.sources.update(other.sources)


def run_all(build_store: Callable[[Input], object] = build_input) -> Outcome:
    """The whole check over every input."""
    outcome = Outcome()
    for item in inputs():
        check_store(item, build_store(item), outcome)
    return outcome
