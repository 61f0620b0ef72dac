"""A sync's incremental resolution equals a full resolution of the same store.

A sync re-runs resolution and author linking, forms only the criterion texts it has not
formed before (the rest are kept beside the store), and writes each derived graph
(resolution, sharing, author links, MeSH links) as its difference from what the store holds
(:mod:`kg.store.derived_graphs`). The oracle here is the full path: the same store, synced the
same way without resolving, then resolved with the kept lines and forms forgotten, so every
text is formed again and every derived graph is dropped and written whole. Both stores must
then hold the same quads, every graph compared, after each of several syncs of real records
(new studies, renamed investigators and sites, a changed exclusion criterion, studies removed).
"""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kg import build
from kg.rdf.namespaces import RESOLUTION_GRAPH, SHARING_GRAPH
from kg.resolve import post_load
from kg.store import open_store
from kg.store.derived_graphs import write_derived
from kg.store.mention_tables import FORMS_MEMO, mention_tables
from kg.store.oxigraph import OxigraphStore
from kg.store.void import write_void
from kg.sync import sync

DATA = Path(__file__).resolve().parents[1] / "data" / "more" / "ctgov-json"
Study = dict[str, Any]


def _studies(name: str) -> list[Study]:
    studies: list[Study] = json.loads((DATA / name).read_text("utf-8"))
    return studies


def _write(path: Path, studies: list[Study]) -> Path:
    path.write_text(json.dumps(studies), "utf-8")
    return path


def _bumped(study: Study, change: Callable[[dict[str, Any]], bool]) -> Study | None:
    """A newer version of ``study`` with ``change`` applied (None when it has nothing to change)."""
    changed = copy.deepcopy(study)
    protocol = changed["protocolSection"]
    if not change(protocol):
        return None
    status = protocol["statusModule"]
    status["lastUpdatePostDateStruct"] = {"date": "2030-01-01", "type": "ACTUAL"}
    status["lastUpdateSubmitDate"] = "2030-01-01"
    return changed


def _rename_official(protocol: dict[str, Any]) -> bool:
    officials = protocol.get("contactsLocationsModule", {}).get("overallOfficials", [])
    if not officials or not officials[0].get("name"):
        return False
    officials[0]["name"] = "Wenbo Li, MD"  # the same name in every changed study: a new person shared by all
    return True


def _rename_site(protocol: dict[str, Any]) -> bool:
    locations = protocol.get("contactsLocationsModule", {}).get("locations", [])
    if not locations or not locations[0].get("facility"):
        return False
    locations[0]["facility"] = locations[0]["facility"] + " Cancer Center"
    return True


def _change_exclusion(protocol: dict[str, Any]) -> bool:
    eligibility = protocol.get("eligibilityModule", {})
    text = eligibility.get("eligibilityCriteria", "")
    if "Exclusion Criteria" not in text:
        return False
    eligibility["eligibilityCriteria"] = text.replace(
        "Exclusion Criteria:",
        "Exclusion Criteria:\n\n* Pregnant or breastfeeding women\n* Active hepatitis B infection",
        1,
    )
    return True


def _changed(studies: list[Study], start: int, count: int) -> list[Study]:
    out = []
    for study in studies[start:]:
        for change in (_rename_official, _rename_site, _change_exclusion):
            if (bumped := _bumped(study, change)) is not None:
                study = bumped
        if study["protocolSection"]["statusModule"].get("lastUpdateSubmitDate") == "2030-01-01":
            out.append(study)
        if len(out) == count:
            break
    return out


def _quads(store_path: Path) -> list[str]:
    store = open_store(store_path, read_only=True)
    buffer = io.BytesIO()
    store.dump(buffer, "nquads")
    store.close()
    return sorted(line for line in buffer.getvalue().decode("utf-8").split("\n") if line)


def _sync_then_resolve_whole(paths: list[Path], store_path: Path, *, full: bool) -> None:
    """The oracle: the same sync without resolving, then a resolution that rewrites every derived graph whole."""
    store = open_store(store_path)
    sync(paths, store, full=full, resolve=False)
    tables = mention_tables(store)
    tables.con.execute("DELETE FROM meta WHERE key LIKE 'derived %'")  # forget the kept lines: written whole
    (tables.path.parent / FORMS_MEMO).unlink()  # and the kept criterion forms: every text formed again
    post_load(store)
    write_void(store)
    store.close()


def _sync(paths: list[Path], store_path: Path, *, full: bool) -> dict[str, str]:
    store = open_store(store_path)
    report = sync(paths, store, full=full)
    store.close()
    return report.stage_summaries


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two copies of one built store: ``incremental`` for the sync under test, ``whole`` for the oracle."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the activities' times and IRIs compare equal
    leukemia = _studies("leukemia.ctg-studies.json")
    first = _write(tmp_path / "first.json", leukemia[:70])
    incremental = tmp_path / "incremental"
    store = open_store(incremental)
    build([first, DATA / "industry.ctg-studies.json"], store)
    store.close()
    shutil.copytree(incremental, tmp_path / "whole")
    return incremental, tmp_path / "whole"


def test_each_sync_resolved_by_difference_equals_a_whole_resolution(tmp_path: Path, stores: tuple[Path, Path]) -> None:
    incremental, whole = stores
    leukemia = _studies("leukemia.ctg-studies.json")
    industry = _studies("industry.ctg-studies.json")
    rounds = [  # (files, full): new studies and changed ones; more changes; then a full sync that drops some
        ([_write(tmp_path / "second.json", leukemia[70:] + _changed(leukemia, 0, 12))], False),
        ([_write(tmp_path / "third.json", _changed(industry, 0, 8) + _changed(leukemia, 30, 5))], False),
        ([_write(tmp_path / "fourth.json", leukemia[:60] + leukemia[65:] + industry[5:])], True),
    ]
    for number, (paths, full) in enumerate(rounds, 1):
        summaries = _sync(paths, incremental, full=full)
        assert (
            "resolution graph" in summaries["resolution"] and "(written as its difference)" in summaries["resolution"]
        ), (number, summaries)  # the path under test was the one taken
        _sync_then_resolve_whole(paths, whole, full=full)
        expected, found = _quads(whole), _quads(incremental)
        assert len(found) > 10_000
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        assert not missing and not extra, (number, missing[:5], extra[:5])


def test_a_derived_graph_edited_outside_is_written_whole(stores: tuple[Path, Path], tmp_path: Path) -> None:
    """Kept lines that no longer describe the store (a quad removed by hand, an interrupted write)
    are not trusted: the graph is written whole, and the store still equals the oracle's."""
    incremental, whole = stores
    store = open_store(incremental)
    assert isinstance(store, OxigraphStore)
    kept = (
        mention_tables(store)
        .con.execute("SELECT min(line) FROM derived_lines WHERE graph = ?", [RESOLUTION_GRAPH])
        .fetchone()
    )
    assert kept is not None and kept[0]
    before = len(store)
    store.remove_nquads(kept[0].encode() + b"\n")  # a quad of the resolution graph removed by hand
    assert len(store) == before - 1
    # An interrupted write of the sharing graph: one quad swapped for another (the count still
    # agrees), the kept lines not yet updated; only the "writing" mark tells.
    kept = (
        mention_tables(store)
        .con.execute("SELECT min(line) FROM derived_lines WHERE graph = ?", [SHARING_GRAPH])
        .fetchone()
    )
    assert kept is not None and kept[0]
    store.remove_nquads(kept[0].encode() + b"\n")
    store.load_nquads(f'<urn:stray> <urn:p> "left by a crash" <{SHARING_GRAPH}> .\n'.encode())
    mention_tables(store).con.execute(f"INSERT OR REPLACE INTO meta VALUES ('derived {SHARING_GRAPH}', 'writing')")
    store.close()
    leukemia = _studies("leukemia.ctg-studies.json")
    paths = [_write(tmp_path / "second.json", leukemia[70:80] + _changed(leukemia, 0, 3))]
    summaries = _sync(paths, incremental, full=False)
    for graph in ("resolution", "sharing"):
        assert re.search(graph + r" graph \+\d+ -0 quads \(replaced whole\)", summaries["resolution"]), summaries
    _sync_then_resolve_whole(paths, whole, full=False)
    assert _quads(incremental) == _quads(whole)


LINES = [
    '<urn:a> <urn:p> "plain" <urn:g> .',
    '<urn:a> <urn:p> "line\\nbreak and \\"quotes\\" and \\\\" <urn:g> .',
    '<urn:a> <urn:p> "separator \u2028 inside, tab \t inside" <urn:g> .',
    '<urn:b> <urn:p> "0.90"^^<http://www.w3.org/2001/XMLSchema#decimal> <urn:g> .',
    '<urn:b> <urn:p> "ünïcödé"@de <urn:g> .',
    "<urn:b> <urn:q> <urn:c> <urn:g> .",
    "<urn:c> <urn:q> <urn:a> <urn:g> .",
]


@pytest.mark.parametrize("seed", range(6))
def test_a_derived_graph_becomes_exactly_the_lines_given(seed: int) -> None:
    """Random successive contents, odd literals included: after each write the graph is those quads,
    other graphs untouched, and only the first write (or a store edited outside) is whole."""
    import random

    rng = random.Random(seed)
    store = open_store(None)
    store.load_nquads(b'<urn:x> <urn:p> "other graph" <urn:other> .\n')
    for step in range(5):
        chosen = [line for line in LINES if rng.random() < 0.6]
        chunks = [("\n".join(chosen[:2]) + "\n").encode(), ("\n".join(chosen[2:]) + "\n").encode()] if chosen else []
        written = write_derived(store, "urn:g", chunks)
        assert written.whole == (step == 0)
        buffer = io.BytesIO()
        store.dump(buffer, "nquads")
        reference = open_store(None)
        reference.load_nquads(("\n".join(chosen) + "\n").encode() if chosen else b"")
        expected = io.BytesIO()
        reference.dump(expected, "nquads")
        lines = buffer.getvalue().decode().split("\n")
        assert sorted(line for line in lines if "<urn:g>" in line) == sorted(
            line for line in expected.getvalue().decode().split("\n") if line
        )
        assert [line for line in lines if "<urn:other>" in line] == ['<urn:x> <urn:p> "other graph" <urn:other> .']
