"""No placeholder ("None", "N/A", "-") is ever a criterion in the graph of the shared data (issue 17).

Every trial record of the shared data (its copy in tests/data, and the seeds in examples/) is
parsed, finished and emitted as the build does, and no tkg:criterionText is a placeholder: a
record whose block says "None" states no criterion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import KGError
from kg.model import Trial
from kg.rdf.emit import emit_trial
from kg.rdf.namespaces import TKG
from kg.rdf.terms import literal
from kg.sources import iter_input_files, parse_record, read_records

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
PLACEHOLDERS = {"", "none", "n/a", "not applicable", "-", "na", "nil"}  # as tests/fidelity/criteria.py


def test_no_placeholder_criterion_in_the_shared_data() -> None:
    placeholders = {literal(text) for text in PLACEHOLDERS} | {literal(t.upper()) for t in PLACEHOLDERS}
    trials = stated = 0
    found: list[tuple[str, str]] = []
    inputs = [DATA / "ctgov-json", DATA / "ctgov-xml", DATA / "ctgov-csv", DATA / "more", ROOT / "examples"]
    for path in iter_input_files(inputs):
        for raw in read_records(path):
            if isinstance(raw, KGError):
                continue
            try:
                trial = parse_record(raw).record
            except KGError:
                continue
            assert isinstance(trial, Trial)
            trials += 1
            for line in emit_trial(trial):
                _, predicate, rest = line.split(" ", 2)
                if predicate == TKG.criterionText:
                    stated += 1
                    text = rest.rsplit(" ", 2)[0]
                    bare = text[1:-1].lower().strip(" .;:") if text.startswith('"') else text
                    if text in placeholders or bare in PLACEHOLDERS:
                        found.append((trial.nct_id, text))
    assert trials >= 3000 and stated > 20_000
    assert not found, found[:20]
