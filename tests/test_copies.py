"""Copies of one trial in several inputs: the newest wins; at equal dates the richer format, in any listing order."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kg import build, open_store

DATA = Path(__file__).resolve().parent / "data"
NCT = "NCT05458258"  # in the leukemia JSON download and in the completed-studies CSV download


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The real JSON and CSV records of NCT05458258, the JSON's last update set to the CSV's."""
    folder = tmp_path_factory.mktemp("copies")
    with (DATA / "more" / "ctgov-csv" / "completed.ctg-studies.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        row = next(r for r in reader if r[header.index("NCT Number")] == NCT)
    csv_copy = folder / "b-copy.csv"
    with csv_copy.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, row])
    date = row[header.index("Last Update Posted")]
    studies = json.loads((DATA / "more" / "ctgov-json" / "leukemia.ctg-studies.json").read_text(encoding="utf-8"))
    study = next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == NCT)
    study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = date
    json_copy = folder / "z-copy.json"
    json_copy.write_text(json.dumps(study), encoding="utf-8")
    return json_copy, csv_copy


def _official_title(paths: list[Path]) -> tuple[list[str], int]:
    store = open_store(None)
    report = build(paths, store, resolve=False)
    rows = store.select(f"""PREFIX tkg: <https://w3id.org/trialkg/ontology#>
        SELECT ?title WHERE {{ ?t tkg:nctId "{NCT}" OPTIONAL {{ ?t tkg:officialTitle ?title }} }}""")
    return [str(r[0]) for r in rows.values() if r[0] is not None], len(report.superseded)


def test_same_date_copies_keep_the_richer_format_in_any_order(copies: tuple[Path, Path]) -> None:
    json_copy, csv_copy = copies
    for order in ([json_copy, csv_copy], [csv_copy, json_copy]):
        titles, superseded = _official_title(order)
        assert len(titles) == 1 and superseded == 1  # the JSON's official title: the CSV has none
