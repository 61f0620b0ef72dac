"""Same input, same graph: deterministic IRIs, no duplicates on re-build."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kg import build, open_store
from kg.export.rdf import export_rdf
from tests.conftest import EXAMPLES


def _nquads(store) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    export_rdf(store, out, "nquads")
    return out.getvalue()


def test_two_builds_give_byte_identical_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = open_store(tmp_path / "a")
    second = open_store(tmp_path / "b")
    build([EXAMPLES], first)
    build([EXAMPLES], second, jobs=2)
    assert _nquads(first) == _nquads(second)


def test_rebuilding_into_the_same_store_adds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    store = open_store(tmp_path / "store")
    build([EXAMPLES], store)
    before = _nquads(store)
    report = build([EXAMPLES], store)
    assert report.records_loaded == 2
    assert _nquads(store) == before


def test_without_a_fixed_time_only_the_build_times_differ(tmp_path: Path) -> None:
    first, second = open_store(None), open_store(None)
    build([EXAMPLES], first)
    build([EXAMPLES], second)
    def content(store) -> set[bytes]:  # type: ignore[no-untyped-def]
        return {line for line in _nquads(store).splitlines()
                if b"build/" not in line and b"generatedAtTime" not in line and b"/resource/resolution/" not in line
                and b"/linking/" not in line and b"startedAtTime" not in line}  # post-load activities are timed too
    assert content(first) == content(second)


def test_same_trial_twice_keeps_one_graph(tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_bytes((EXAMPLES / "000_df29306579c496cc.txt").read_bytes())
    store = open_store(None)
    report = build([EXAMPLES, copy], store)
    assert report.records_read == 3 and report.records_loaded == 2
    assert len(report.superseded) == 1
    graphs = [g for g in store.graphs() if g.endswith("NCT01374854")]
    assert len(graphs) == 1
    rows = store.select("PREFIX tkg: <https://w3id.org/trialkg/ontology#> "
                        "SELECT (COUNT(?c) AS ?n) WHERE { ?t tkg:nctId 'NCT01374854' ; tkg:hasCriterion ?c }")
    assert rows.values() == [("39",)]


@pytest.mark.slow
def test_parallel_build_equals_serial_build_on_the_shared_data(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every real record (JSON, XML, CSV, PubMed): two worker processes give the serial graph, byte for byte."""
    from tests.conftest import DATA

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    serial, parallel = open_store(tmp_path / "serial"), open_store(tmp_path / "parallel")
    serial_report = build([DATA], serial, jobs=1)
    parallel_report = build([DATA], parallel, jobs=2)
    assert serial_report.records_loaded > 100
    assert parallel_report.records_loaded == serial_report.records_loaded
    assert [str(f) for f in parallel_report.failures] == [str(f) for f in serial_report.failures]
    assert _nquads(parallel) == _nquads(serial)
