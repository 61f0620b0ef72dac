"""Resolution's mentions from the tables the load writes equal the mentions read back from the store.

The old way (:class:`kg.resolve.mentions.StoreMentions`, SPARQL scans) and the new
(:class:`kg.resolve.mention_source.TableMentions`, DuckDB tables filled during the
pipeline) must give the same records, so resolution gives the same clusters and the same
resolution graph; a sync keeps the tables in step with the store (replaced and removed
records), so its resolution equals a full one over the same records. The VoID description
the build writes gives ``kg stats`` the class counts the full query gives. The ranked pairs
resolution counts from them (the sharing graph) are the full pair queries' top pairs, and a
sync keeps them current.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kg import build
from kg.queries import get_query
from kg.rdf.emit_links import INVESTIGATOR_AUTHOR_GRAPH
from kg.rdf.mention_rows import AUTHOR_TABLES, RESOLUTION_TABLES
from kg.rdf.namespaces import RESOLUTION_GRAPH, SHARING_GRAPH
from kg.resolve.authorship import link_investigators_to_authors
from kg.resolve.authorship_rows import StoreAuthorRows, TableAuthorRows, author_rows
from kg.resolve.mention_source import TableMentions, mention_source
from kg.resolve.mentions import StoreMentions
from kg.resolve.stage import resolve
from kg.store import StoreDirectory, open_store
from kg.store.base import Store
from kg.store.mention_tables import MentionTables, mention_tables
from kg.store.void import read_void
from kg.sync import sync

ROOT = Path(__file__).resolve().parents[2]
DATA = [ROOT / "examples", ROOT / "tests/data/ctgov-json", ROOT / "tests/data/ctgov-xml", ROOT / "tests/data/pubmed"]


def _mentions(source: StoreMentions | TableMentions) -> dict[str, object]:
    ncts = source.ncts()
    return {"ncts": ncts, "organizations": source.organizations(), "affiliations": source.affiliations(),
            "concepts": list(source.concepts()), "sponsors": dict(source.sponsors(ncts)), "roles": source.roles(ncts),
            "site places": source.site_places(), "site pairs": list(source.site_pairs(ncts, source.site_places())),
            "exclusions": sorted(source.exclusions(ncts))}


def _author_rows(source: StoreAuthorRows | TableAuthorRows) -> dict[str, list[tuple[object, ...]]]:
    """Every row of each kind, as a sorted list (duplicates kept: the multisets must be equal)."""
    return {kind: sorted((tuple(row) for row in getattr(source, kind)()), key=repr)
            for kind in ("links", "authors", "investigators")}


def _graph(store: Store, graph: str) -> list[str]:
    return sorted(map(str, store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").values()))


def _resolution(store: Store) -> list[str]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }}")
    return sorted(map(str, rows.values()))


def _sharing(store: Store) -> list[str]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{SHARING_GRAPH}> {{ ?s ?p ?o }} }}")
    return sorted(map(str, rows.values()))


@pytest.fixture(scope="module")
def built() -> Store:
    store = open_store(None)
    build(DATA, store, resolve=False)
    return store


@pytest.fixture(scope="module")
def resolved() -> Store:
    store = open_store(None)
    build(DATA, store)
    return store


def test_tables_give_the_mentions_the_store_gives(built: Store) -> None:
    tables = TableMentions.of(built)
    assert isinstance(mention_source(built), TableMentions)
    found = _mentions(tables)
    assert found["roles"] and found["site pairs"] and found["concepts"] and found["exclusions"]
    assert found == _mentions(StoreMentions(built))


def test_tables_give_the_author_rows_the_store_gives(built: Store) -> None:
    """Trial-publication links, author places and investigators: the same rows, value for value."""
    tables = author_rows(built)
    assert isinstance(tables, TableAuthorRows)
    found = _author_rows(tables)
    assert all(found.values()), "the shared data has links, authors and investigators"
    assert any(row[5] for row in found["investigators"]), "affiliations are compared"
    assert any(row[6] for row in found["authors"]), "author affiliations are compared"
    assert found == _author_rows(StoreAuthorRows(built))


def test_author_rows_with_site_investigators_and_several_affiliations(tmp_path: Path) -> None:
    """What the shared data lacks, made from real records: a trial cites a PubMed record whose author has
    two affiliations, and lists one site twice in two spellings, so the site node its investigators
    hold has a facility name other than their affiliation text (both parsers set it to the facility)."""
    from lxml import etree

    trial = (ROOT / "tests/data/ctgov-xml/aact-fixtures/NCT00482794.xml").read_text(encoding="utf-8")
    pubmed = ROOT / "tests/data/pubmed/pubmr-search-result.xml"
    articles = etree.parse(str(pubmed), etree.XMLParser(resolve_entities=False, no_network=True))
    pmid = next(article.findtext(".//PMID") for article in articles.iter("PubmedArticle")
                if any(len(author.findall("AffiliationInfo")) > 1 for author in article.iter("Author")))
    cited = f"<reference><citation>Cited.</citation><PMID>{pmid}</PMID></reference>\n  <reference>"
    trial = trial.replace("<reference>", cited, 1)
    location = trial[trial.index("<location>"):trial.index("</location>") + len("</location>")]
    facility = etree.fromstring(location.encode("utf-8")).findtext("facility/name")
    shouted = re.sub(r"\s*<investigator>.*?</investigator>", "", location, flags=re.DOTALL)  # nobody's affiliation
    shouted = shouted.replace(f"<name>{facility}</name>", f"<name>{facility.upper()}</name>")
    trial = trial.replace(location, f"{location}\n  {shouted}", 1)
    (tmp_path / "NCT00482794.xml").write_text(trial, encoding="utf-8")
    shutil.copy(pubmed, tmp_path / pubmed.name)
    store = open_store(None)
    build([tmp_path], store, resolve=False)
    found = _author_rows(author_rows(store))
    places = [row[1] for row in found["authors"] if row[0].endswith(pmid) and row[6]]
    assert len(places) > len(set(places)), "an author place with several affiliations"
    affiliations = {(row[2], row[5]) for row in found["investigators"]}
    assert {facility, facility.upper()} <= {value for _, value in affiliations}
    assert len(affiliations) > len({role for role, _ in affiliations}), "a role with its site's other spelling"
    assert found == _author_rows(StoreAuthorRows(store))


def test_same_author_links_from_tables_and_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry's citations (industry and leukaemia studies) and PubMed records, linked both ways."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = [*DATA, ROOT / "tests/data/more/ctgov-json"]
    old, new = open_store(None), open_store(None)
    build(data, old, resolve=False)
    build(data, new, resolve=False)
    assert _author_rows(author_rows(new)) == _author_rows(StoreAuthorRows(new))
    from_store = link_investigators_to_authors(old, rows=StoreAuthorRows(old))
    from_tables = link_investigators_to_authors(new)
    assert (from_store.source, from_tables.source) == ("store", "tables")
    assert from_tables.links == from_store.links > 10
    assert _graph(new, INVESTIGATOR_AUTHOR_GRAPH) == _graph(old, INVESTIGATOR_AUTHOR_GRAPH)


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
    assert _author_rows(TableAuthorRows(mention_tables(synced))) == _author_rows(StoreAuthorRows(synced))
    fresh = open_store(None)
    build([first, rest], fresh)
    assert _resolution(synced) == _resolution(fresh)
    assert _sharing(synced) == _sharing(fresh)  # the ranked pairs of every kind are current
    (first / files[0].name).unlink()
    sync([first, rest], synced, full=True)
    assert _mentions(TableMentions.of(synced)) == _mentions(StoreMentions(synced))
    assert _author_rows(TableAuthorRows(mention_tables(synced))) == _author_rows(StoreAuthorRows(synced))
    remaining = open_store(None)
    build([first, rest], remaining)
    assert _sharing(synced) == _sharing(remaining)
    synced.close()


def test_void_counts_are_the_class_counts(built: Store) -> None:
    from kg.store.void import write_void

    write_void(built)
    void = read_void(built)
    assert void is not None and void.classes
    scan = "SELECT ?class (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a ?class } GROUP BY ?class"  # this test's own count
    counted = {cls: int(n) for cls, n in built.select(scan).values() if cls}
    assert counted.pop("http://rdfs.org/ns/void#Dataset") == 1  # the description describes the store without itself
    assert void.classes == counted
    # the canned query reads the description: the same counts, without the scan
    assert {cls: int(n) for cls, n in built.select(get_query("class-counts").sparql).values()} == counted
    assert void.record_graphs > 0 and void.triples > 0


def test_tables_written_before_a_table_was_added_are_incomplete(tmp_path: Path) -> None:
    """An older mention file lacks the exclusions table: it no longer covers the store."""
    tables = MentionTables(tmp_path)
    tables.add("g:1", {"trials": [("t:1", "NCT1")]})
    tables.flush()
    tables.set_complete(True)
    tables.con.execute("DROP TABLE exclusions")
    tables.close()
    reopened = MentionTables(tmp_path)
    assert not reopened.complete
    assert reopened.query("SELECT count(*) FROM exclusions") == [(0,)]
    reopened.close()


def test_tables_from_before_the_author_tables_keep_serving_resolution(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A store built before the author tables existed: resolution (and a sync) still read its tables,
    author linking reads the store, and gives what the tables give once a rebuild writes them."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    store = open_store(tmp_path / "store")
    build([ROOT / "examples", ROOT / "tests/data/pubmed"], store, resolve=False)
    tables = mention_tables(store)
    for name in AUTHOR_TABLES:
        if name not in RESOLUTION_TABLES:
            tables.con.execute(f"DROP TABLE {name}")  # as an older version wrote the file
    tables.close()
    reopened = mention_tables(store)
    assert not reopened.complete and reopened.covers(RESOLUTION_TABLES) and not reopened.covers(AUTHOR_TABLES)
    assert resolve(store).source == "tables"
    older = link_investigators_to_authors(store)
    assert older.source == "store" and older.links > 0
    older_graph = _graph(store, INVESTIGATOR_AUTHOR_GRAPH)
    sync([ROOT / "examples"], store)  # a sync keeps the older tables current
    assert mention_tables(store).covers(RESOLUTION_TABLES) and resolve(store).source == "tables"
    store.close()
    rebuilt = open_store(tmp_path / "rebuilt")
    build([ROOT / "examples", ROOT / "tests/data/pubmed"], rebuilt, resolve=False)
    assert mention_tables(rebuilt).complete
    newer = link_investigators_to_authors(rebuilt)
    assert newer.source == "tables" and newer.links == older.links
    assert _graph(rebuilt, INVESTIGATOR_AUTHOR_GRAPH) == older_graph
    rebuilt.close()


KINDS = ["site", "sponsor", "principal-investigator", "exclusion-criteria"]


def _full_pairs(store: Store, kind: str) -> dict[tuple[str, str], int]:
    """Pair -> distinct shared entities, from the full (registry-wide) pair query."""
    from collections import Counter

    rows = store.select(get_query(f"shared-{kind}").bind()).values()
    if kind == "exclusion-criteria":  # counted by the query itself
        return {(t1, t2): int(n) for t1, t2, n in rows}
    return dict(Counter((t1, t2) for t1, t2, *_ in rows))


@pytest.mark.parametrize("kind", KINDS)
def test_ranked_pairs_agree_with_the_full_pair_query(resolved: Store, kind: str) -> None:
    """The ranked form's counts are the full query's distinct shared entities per pair, in rank order.

    Every pair (the shared data has fewer than the 10,000 kept), most shared first, ties by NCT
    ids; a limit gives the first ones.
    """
    full = _full_pairs(resolved, kind)
    assert full, "the shared data has pairs"
    expected = [(rank, t1, t2, -n) for rank, (n, t1, t2) in
                enumerate(sorted((-n, t1, t2) for (t1, t2), n in full.items()), start=1)]
    query = get_query(f"shared-{kind}-ranked")
    ranked = resolved.select(query.bind({"limit": "10000"})).values()
    assert [(int(rank), t1, t2, int(n)) for rank, t1, t2, n in ranked] == expected
    first = resolved.select(query.bind({"limit": "3"})).values()
    assert [(int(rank), t1, t2, int(n)) for rank, t1, t2, n in first] == expected[:3]


def _ranked(store: Store, kind: str) -> list[tuple[str, ...]]:
    return [tuple(map(str, row)) for row in store.select(get_query(f"shared-{kind}-ranked").bind()).values()]


def test_sync_keeps_the_ranked_investigator_and_exclusion_pairs_current(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The seeds share a principal investigator and their exclusion criteria: pairs that exist only
    once a sync has added the second seed, and are gone once a full sync has removed it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    first, second = sorted((ROOT / "examples").glob("*.txt"))
    shutil.copy(first, seeds / first.name)
    synced = open_store(tmp_path / "store")
    build([seeds], synced)
    assert all(_ranked(synced, kind) == [] for kind in ("principal-investigator", "exclusion-criteria"))
    shutil.copy(second, seeds / second.name)
    assert sync([seeds], synced).added == 1
    fresh = open_store(None)
    build([seeds], fresh)
    assert _sharing(synced) == _sharing(fresh)
    assert _ranked(synced, "principal-investigator") == [("1", "NCT01374854", "NCT01719640", "1")]
    shared = int(fresh.select(get_query("shared-exclusion-criteria").bind()).values()[0][2])
    assert _ranked(synced, "exclusion-criteria") == [("1", "NCT01374854", "NCT01719640", str(shared))]
    (seeds / first.name).unlink()
    sync([seeds], synced, full=True)
    assert all(_ranked(synced, kind) == [] for kind in ("principal-investigator", "exclusion-criteria"))
    synced.close()


def test_control_characters_in_a_value_reach_the_tables_whole(tmp_path: Path) -> None:
    """Found by the 1,000-example fuzz run: an agency named "0\\r0" stopped the build (DuckDB's CSV
    reader took the carriage return for a line break). Every value the store holds, control
    characters and empty strings included, reaches the tables as the store gives it back."""
    import json

    study = json.loads((ROOT / "tests/data/ctgov-json/single/NCT02210780.json").read_text(encoding="utf-8"))
    sponsors = study["protocolSection"]["sponsorCollaboratorsModule"]
    names = ["0\r0", "Line\nbreak Hospital", 'Quote " Clinic', "Tab\tand,comma"]
    sponsors["leadSponsor"]["name"] = names[0]
    sponsors["collaborators"] = [{"name": name, "class": "OTHER"} for name in names[1:]]
    path = tmp_path / "study.json"
    path.write_text(json.dumps(study), encoding="utf-8")
    store = open_store(tmp_path / "store")
    report = build([path], store)
    assert report.records_loaded == 1 and report.records_failed == 0
    assert _mentions(TableMentions.of(store)) == _mentions(StoreMentions(store))
    tables = MentionTables(tmp_path / "store" / "active")
    stored = {name for (name,) in tables.query("SELECT name FROM organizations")}
    assert set(names) <= stored


def test_every_new_generation_carries_the_mention_tables(tmp_path: Path) -> None:
    """A sync or re-build works on a copy of the active generation; the copy keeps the tables, so
    its resolution still reads them instead of falling back to scanning the store."""
    directory = StoreDirectory(tmp_path / "store")
    with directory.staging() as store:
        build([ROOT / "examples"], store)
    with directory.staging() as store:
        assert mention_tables(store).complete
        assert resolve(store).source == "tables"
