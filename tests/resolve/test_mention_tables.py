"""Resolution's mentions from the tables the load writes equal the mentions read back from the store.

The old way (:class:`kg.resolve.mentions.StoreMentions`, SPARQL scans) and the new
(:class:`kg.resolve.mention_source.TableMentions`, DuckDB tables filled during the
pipeline) must give the same records, so resolution gives the same clusters and the same
resolution graph; a sync keeps the tables in step with the store (replaced and removed
records), so its resolution equals a full one over the same records. The VoID description
the build writes gives ``kg stats`` the class counts the full query gives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg import build
from kg.queries import get_query
from kg.rdf.namespaces import RESOLUTION_GRAPH
from kg.resolve.mention_source import TableMentions, mention_source
from kg.resolve.mentions import StoreMentions
from kg.resolve.stage import resolve
from kg.store import open_store
from kg.store.base import Store
from kg.store.void import read_void
from kg.sync import sync

ROOT = Path(__file__).resolve().parents[2]
DATA = [ROOT / "examples", ROOT / "tests/data/ctgov-json", ROOT / "tests/data/ctgov-xml", ROOT / "tests/data/pubmed"]


def _mentions(source: StoreMentions | TableMentions) -> dict[str, object]:
    ncts = source.ncts()
    return {"ncts": ncts, "organizations": source.organizations(), "affiliations": source.affiliations(),
            "concepts": source.concepts(), "sponsors": dict(source.sponsors(ncts)), "roles": source.roles(ncts),
            "sites": source.sites(ncts)}


def _resolution(store: Store) -> list[str]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }}")
    return sorted(map(str, rows.values()))


@pytest.fixture(scope="module")
def built() -> Store:
    store = open_store(None)
    build(DATA, store, resolve=False)
    return store


def test_tables_give_the_mentions_the_store_gives(built: Store) -> None:
    tables = TableMentions.of(built)
    assert isinstance(mention_source(built), TableMentions)
    found = _mentions(tables)
    assert found["roles"] and found["sites"] and found["concepts"]
    assert found == _mentions(StoreMentions(built))


def test_same_resolution_graph_from_tables_and_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    old, new = open_store(None), open_store(None)
    build(DATA, old, resolve=False)
    build(DATA, new, resolve=False)
    resolve(old, StoreMentions(old))
    report = resolve(new)
    assert report.source == "tables"
    assert _resolution(old) == _resolution(new)


def test_sync_keeps_the_tables_in_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Build part, sync the rest (and a full sync that removes a record): tables match the store."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, rest = tmp_path / "first", tmp_path / "rest"
    first.mkdir()
    rest.mkdir()
    files = sorted(p for p in (ROOT / "tests/data/ctgov-xml").rglob("*.xml"))[:12]
    for index, path in enumerate(files):
        shutil.copy(path, (first if index < 6 else rest) / path.name)
    synced = open_store(tmp_path / "store")
    build([first], synced)
    report = sync([first, rest], synced)
    assert report.added > 0
    assert _mentions(TableMentions.of(synced)) == _mentions(StoreMentions(synced))
    fresh = open_store(None)
    build([first, rest], fresh)
    assert _resolution(synced) == _resolution(fresh)
    (first / files[0].name).unlink()
    sync([first, rest], synced, full=True)
    assert _mentions(TableMentions.of(synced)) == _mentions(StoreMentions(synced))
    synced.close()


def test_void_counts_are_the_class_counts(built: Store) -> None:
    from kg.store.void import write_void

    write_void(built)
    void = read_void(built)
    assert void is not None and void.classes
    counted = {cls: int(n) for cls, n in built.select(get_query("class-counts").sparql).values() if cls}
    assert counted.pop("http://rdfs.org/ns/void#Dataset") == 1  # the description describes the store without itself
    assert void.classes == counted
    assert void.record_graphs > 0 and void.triples > 0


@pytest.mark.parametrize("kind", ["site", "sponsor"])
def test_ranked_pairs_agree_with_the_full_pair_query(kind: str) -> None:
    """The ranked form's counts are the full query's distinct shared entities per pair, in rank order."""
    from collections import Counter

    store = open_store(None)
    build(DATA, store)
    full = Counter((t1, t2) for t1, t2, *_ in store.select(get_query(f"shared-{kind}").bind()).values())
    assert full, "the shared data has pairs"
    expected = sorted(((-n, t1, t2) for (t1, t2), n in full.items()))[:25]
    ranked = store.select(get_query(f"shared-{kind}-ranked").bind({"limit": "25"})).values()
    assert [(int(rank), t1, t2, int(n)) for rank, t1, t2, n in ranked] == [
        (rank, t1, t2, -n) for rank, (n, t1, t2) in enumerate(expected, start=1)]
