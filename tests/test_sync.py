"""kg sync: a changed record replaces exactly its own named graph; unchanged records are not touched.

The graphs are compared statement by statement before and after, per named graph.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import build
from kg.store import open_store
from kg.store.base import Store
from kg.sync import stored_versions, sync

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MODERN = EXAMPLES / "000_df29306579c496cc.txt"
CLASSIC = EXAMPLES / "001_ca6197c953f8c59c.txt"
CHANGED_GRAPH = "https://w3id.org/trialkg/graph/ctgov/NCT01374854"
OTHER_GRAPH = "https://w3id.org/trialkg/graph/ctgov/NCT01719640"
META_GRAPH = "https://w3id.org/trialkg/graph/meta"
KG = [sys.executable, "-m", "kg"]  # `python -m kg` once kg.cli registers sync
PEOPLE = """PREFIX tkg: <https://w3id.org/trialkg/ontology#>
SELECT DISTINCT ?name WHERE { <https://clinicaltrials.gov/study/NCT01374854> tkg:hasRole/tkg:agent/tkg:name ?name }"""


def changed_seed(directory: Path, *, new_date: str | None = "2013-01-15") -> Path:
    """The modern seed page with its principal investigator renamed (and, by default, a newer update date)."""
    text = MODERN.read_text("utf-8")
    assert text.count("Jianming Tan, professor") == 1 and text.count("Last Updated: 2012-11-20") == 1
    changed = text.replace("Jianming Tan, professor", "Wenbo Li, professor")
    if new_date:
        changed = changed.replace("Last Updated: 2012-11-20", f"Last Updated: {new_date}")
    path = directory / MODERN.name
    path.write_text(changed, "utf-8")
    return path


def graphs(store: Store) -> dict[str, list[str]]:
    """Every named graph as its sorted N-Triples lines."""
    buffer = io.BytesIO()
    store.dump(buffer, "nquads")
    found: dict[str, list[str]] = {}
    for quad in ox.parse(buffer.getvalue(), ox.RdfFormat.N_QUADS):
        graph = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
        found.setdefault(graph, []).append(str(quad.triple))
    return {graph: sorted(lines) for graph, lines in found.items()}


def kg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KG, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_a_renamed_investigator_replaces_exactly_that_record(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    built = subprocess.run([sys.executable, "-m", "kg", "build", str(EXAMPLES), "--store", str(store_dir)],
                           capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert built.returncode == 0, built.stderr
    with open_store(store_dir, read_only=True) as store:
        before = graphs(store)
        assert {row[0] for row in store.select(PEOPLE).values()} == {"Jianming Tan"}

    synced = kg("sync", str(changed_seed(tmp_path)), "--store", str(store_dir))
    assert synced.returncode == 0, synced.stderr
    assert "1 updated" in synced.stderr and "0 added" in synced.stderr, synced.stderr

    with open_store(store_dir, read_only=True) as store:
        after = graphs(store)
        assert {row[0] for row in store.select(PEOPLE).values()} == {"Wenbo Li"}
    # The old name is gone from that trial's record (it stays where the other trial states it).
    assert not any("Jianming Tan" in line or "jianming-tan" in line for line in after[CHANGED_GRAPH])
    assert any("jianming-tan" in line for line in after[OTHER_GRAPH])
    # Nothing else changed: the other record graph is identical, statement for statement,
    # and the metadata graph only gained the sync's activity and source file.
    assert after[OTHER_GRAPH] == before[OTHER_GRAPH]
    assert set(after) == set(before)
    assert set(before[META_GRAPH]) < set(after[META_GRAPH])
    # Within the changed record, only the investigator, the dates and the provenance differ.
    removed = set(before[CHANGED_GRAPH]) - set(after[CHANGED_GRAPH])
    added = set(after[CHANGED_GRAPH]) - set(before[CHANGED_GRAPH])
    expected_edits = ("prov#", "#lastChanged", "#lastUpdate")
    assert removed and all("jianming-tan" in line or "Jianming Tan" in line or any(e in line for e in expected_edits)
                           for line in removed), removed
    assert added and all("wenbo-li" in line or "Wenbo Li" in line or any(e in line for e in expected_edits)
                         for line in added), added


def test_unchanged_records_are_skipped_and_left_untouched() -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    before = graphs(store)
    report = sync([EXAMPLES], store)
    assert (report.added, report.updated, report.unchanged, report.quads) == (0, 0, 2, 0)
    assert graphs(store) == before  # not even the provenance or the metadata graph moved


def test_an_edit_without_a_newer_date_needs_force(tmp_path: Path) -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    edited = changed_seed(tmp_path, new_date=None)
    assert sync([edited], store).unchanged == 1
    assert {row[0] for row in store.select(PEOPLE).values()} == {"Jianming Tan"}
    assert sync([edited], store, force=True).updated == 1
    assert {row[0] for row in store.select(PEOPLE).values()} == {"Wenbo Li"}


def test_an_older_copy_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    store = open_store(None)
    sync([changed_seed(tmp_path)], store)
    report = sync([MODERN], store)
    assert (report.stale, report.updated) == (1, 0)
    assert stored_versions(store) == {CHANGED_GRAPH: "2013-01-15"}


def test_two_copies_in_one_sync_keep_the_newest(tmp_path: Path) -> None:
    store = open_store(None)
    report = sync([changed_seed(tmp_path), MODERN], store)
    assert report.added == 1 and len(report.superseded) == 1
    assert {row[0] for row in store.select(PEOPLE).values()} == {"Wenbo Li"}


def test_a_first_sync_makes_the_graphs_a_build_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    built, synced = open_store(None), open_store(None)
    build([EXAMPLES], built)
    report = sync([EXAMPLES], synced)
    assert (report.added, report.records_failed) == (2, 0)
    assert graphs(synced) == graphs(built)


def test_full_sync_removes_records_the_source_no_longer_has(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    assert kg("sync", str(EXAMPLES), "--store", str(store_dir)).returncode == 0
    result = kg("sync", str(CLASSIC), "--full", "--store", str(store_dir))
    assert result.returncode == 0 and "1 removed" in result.stderr, result.stderr
    with open_store(store_dir, read_only=True) as store:
        assert not store.has_graph(CHANGED_GRAPH) and store.has_graph(OTHER_GRAPH) and store.has_graph(META_GRAPH)


def test_full_sync_removes_nothing_when_records_fail(tmp_path: Path) -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    broken = tmp_path / "broken.json"
    broken.write_text('{"protocolSection": {"identificationModule": {}}}', "utf-8")
    report = sync([CLASSIC, broken], store, full=True)
    assert report.records_failed >= 1 and report.removed == 0
    assert report.removal_skipped is not None and "failed" in report.removal_skipped
    assert store.has_graph(CHANGED_GRAPH)


def test_sync_report_is_written_as_json(tmp_path: Path) -> None:
    import orjson

    report_path = tmp_path / "report.json"
    result = kg("sync", str(EXAMPLES), "--store", str(tmp_path / "store"), "--report", str(report_path))
    assert result.returncode == 0, result.stderr
    document = orjson.loads(report_path.read_bytes())
    assert (document["added"], document["records_failed"], document["removed"]) == (2, 0, 0)


def _export(store: Path) -> list[str]:
    result = kg("export", "--format", "nquads", "--store", str(store))
    assert result.returncode == 0, result.stderr
    return sorted(line for line in result.stdout.splitlines() if "/graph/void>" not in line)


def test_a_sync_without_resolution_says_so_until_kg_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kg sync --no-resolve` is the fast daily path; every reader says the resolution is stale until
    `kg resolve`, which then gives the store a build of the same files gives."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the activities' times and IRIs compare equal
    store = tmp_path / "store"
    assert kg("build", str(EXAMPLES), "--store", str(store)).returncode == 0
    for command in (("stats",), ("query", "shared-site")):
        assert "stale" not in kg(*command, "--store", str(store)).stderr  # a build resolved what it loaded
    (tmp_path / "new").mkdir()
    changed = changed_seed(tmp_path / "new")
    synced = kg("sync", str(changed), "--store", str(store), "--no-resolve")
    assert synced.returncode == 0, synced.stderr
    assert "1 updated" in synced.stderr and "warning: records changed since the last resolution" in synced.stderr
    for command in (("stats",), ("query", "shared-site")):
        result = kg(*command, "--store", str(store))
        assert result.returncode == 0, result.stderr
        assert "warning: records changed since the last resolution" in result.stderr, command
    resolved = kg("resolve", "--store", str(store))
    assert resolved.returncode == 0, resolved.stderr
    assert "stale" not in kg("query", "shared-site", "--store", str(store)).stderr
    # the same store as a build of the changed files, resolution and links included
    rebuilt = tmp_path / "rebuilt"
    assert kg("build", str(changed), str(CLASSIC), "--store", str(rebuilt)).returncode == 0
    differing = set(_export(store)) ^ set(_export(rebuilt))
    assert not {line for line in differing if "/graph/resolution>" in line or "/graph/sharing>" in line
                or "/graph/links/" in line}


def test_a_sync_that_resolves_leaves_nothing_stale(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert kg("build", str(EXAMPLES), "--store", str(store)).returncode == 0
    (tmp_path / "new").mkdir()
    synced = kg("sync", str(changed_seed(tmp_path / "new")), "--store", str(store))
    assert synced.returncode == 0 and "1 updated" in synced.stderr, synced.stderr
    assert "stale" not in synced.stderr and "resolution:" in synced.stderr
    assert "stale" not in kg("stats", "--store", str(store)).stderr
