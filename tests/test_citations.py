"""Citation strings -> authors, title, journal, date, ids; and what the seed trials' citations give the graph.

Expected values come from the seed page's own text (split by plain string operations here),
never from the parser under test.
"""

from __future__ import annotations

import re

import pytest

from kg.model import Author
from kg.rules.citations import parse_citation
from kg.store.base import Store
from tests.conftest import MODERN_SEED

TKG = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _seed_citations() -> dict[str, str]:
    """PMID -> citation, read from the modern seed page: a citation line is followed by its type and PMID."""
    lines = [line.strip() for line in MODERN_SEED.read_text(encoding="utf-8").splitlines()]
    found = {}
    for index, line in enumerate(lines):
        match = re.match(r"PMID: (\d+)", line)
        if match:
            found[match.group(1)] = next(text for text in reversed(lines[: index - 1]) if text and
                                         not text.startswith("Reference Type"))
    return found


def test_the_seed_citations_parse_completely() -> None:
    citations = _seed_citations()
    assert set(citations) == {"35086778", "26628416"}
    for citation in citations.values():
        parsed = parse_citation(citation)
        author_part, _, rest = citation.partition(". ")
        expected_authors = author_part.split(", ")
        assert [a.display_name for a in parsed.authors] == expected_authors
        assert [(a.family, a.initials) for a in parsed.authors] == [tuple(n.split(" ")) for n in expected_authors]
        title, journal, source = rest.split(". doi:")[0].rsplit(". ", 2)
        assert parsed.title == title
        assert parsed.journal == journal
        year, month = source.split(";")[0].split(" ")
        assert parsed.published == f"{year}-{MONTHS.index(month) + 1:02d}"
        volume_issue, pages = source.split(";")[1].split(":")
        assert (parsed.volume, parsed.issue, parsed.pages) == (volume_issue.split("(")[0],
                                                               volume_issue.split("(")[1].rstrip(")"),
                                                               pages.rstrip("."))
        assert parsed.doi == citation.split("doi: ")[1].split(". Epub")[0]
        assert not parsed.authors_truncated


def test_seed_trial_publications_carry_parsed_citations(seed_store: Store) -> None:
    """NCT01374854's two publications: 10 and 13 ordered authors, journal, year and DOI in the graph."""
    rows = seed_store.select(TKG + """
        SELECT ?pmid (COUNT(DISTINCT ?a) AS ?authors) (SAMPLE(?journal) AS ?j) (SAMPLE(YEAR(?date)) AS ?year)
               (SAMPLE(?doi) AS ?d) (MAX(?pos) AS ?last)
        WHERE { <https://clinicaltrials.gov/study/NCT01374854> tkg:derivedReference ?p .
                ?p tkg:pmid ?pmid ; tkg:hasAuthorship ?a ; tkg:journal/tkg:medlineAbbreviation ?journal ;
                   tkg:publicationDate ?date ; tkg:doi ?doi .
                ?a tkg:position ?pos }
        GROUP BY ?pmid ORDER BY ?pmid""").values()
    assert rows == [
        ("26628416", "13", "Diabetes Care", "2016", "10.2337/dc15-0171", "13"),
        ("35086778", "10", "Cytotherapy", "2022", "10.1016/j.jcyt.2021.09.015", "10"),
    ]
    order = seed_store.select(TKG + """
        SELECT DISTINCT ?pos ?name WHERE { <https://pubmed.ncbi.nlm.nih.gov/35086778> tkg:hasAuthorship ?a .
                             ?a tkg:position ?pos ; tkg:authorName ?name } ORDER BY ?pos""").values()
    assert [name for (_pos, name) in order] == _seed_citations()["35086778"].split(". ")[0].split(", ")


@pytest.mark.parametrize(("citation", "authors", "truncated", "journal", "published", "pages"), [
    ("O'Byrne PM, FitzGerald JM, Bateman ED, et al. Inhaled Combined Budesonide-Formoterol as Needed in Mild "
     "Asthma. N Engl J Med. 2018 May 17;378(20):1865-1876. doi: 10.1056/NEJMoa1715274.",
     ["O'Byrne PM", "FitzGerald JM", "Bateman ED"], True, "N Engl J Med", "2018-05-17", "1865-1876"),
    ("Chou R, Qaseem A, Snow V, Casey D, Cross JT Jr, Shekelle P, Owens DK; Clinical Efficacy Assessment "
     "Subcommittee of the American College of Physicians; American College of Physicians. Diagnosis and treatment "
     "of low back pain. Ann Intern Med. 2007 Oct 2;147(7):478-91.",
     ["Chou R", "Qaseem A", "Snow V", "Casey D", "Cross JT Jr", "Shekelle P", "Owens DK",
      "Clinical Efficacy Assessment Subcommittee of the American College of Physicians",
      "American College of Physicians"], False, "Ann Intern Med", "2007-10-02", "478-91"),
    ("Roussouly P, Pinheiro-Franco JL. Biomechanical analysis of the spino-pelvic organization. Eur Spine J. "
     "2011 Sep;20 Suppl 5(Suppl 5):609-18. doi: 10.1007/s00586-011-1928-x.",
     ["Roussouly P", "Pinheiro-Franco JL"], False, "Eur Spine J", "2011-09", "609-18"),
    ("Mixter WJ, Barr JS. Rupture of the intervertebral disc. N Engl J Med 1934;211:210-215.",
     ["Mixter WJ", "Barr JS"], False, "N Engl J Med", "1934", "210-215"),
])
def test_registry_citation_styles(citation: str, authors: list[str], truncated: bool, journal: str,
                                  published: str, pages: str) -> None:
    """Citations as ClinicalTrials.gov registrations print them (tests/data/ctgov-*)."""
    parsed = parse_citation(citation)
    assert [a.display_name for a in parsed.authors] == authors
    assert parsed.authors_truncated is truncated
    assert (parsed.journal, parsed.published, parsed.pages) == (journal, published, pages)


def test_text_that_is_no_author_list_gives_no_authors() -> None:
    """A citation starting with its title never turns title words into people."""
    parsed = parse_citation("A randomized trial of aspirin in stroke, with long follow-up. Lancet. 2010;375:1-9.")
    assert parsed.authors == ()
    assert parsed.title == "A randomized trial of aspirin in stroke, with long follow-up"
    apa = parse_citation("Hammer, W. I. (2007). Functional soft-tissue examination and treatment by manual methods.")
    assert apa.authors == () and apa.published == "2007"


def test_ids_are_found_anywhere() -> None:
    parsed = parse_citation("Smith J. Title. J Clin Med. 2020;9(3):e1. doi: 10.3390/jcm9030001. PMID: 32100000; "
                            "PMCID: PMC7141234. Erratum in: J Clin Med. 2021;10(1):2.")
    assert (parsed.doi, parsed.pmid, parsed.pmcid) == ("10.3390/jcm9030001", "32100000", "PMC7141234")
    assert parsed.authors == (Author(family="Smith", initials="J"),)
    assert parsed.volume == "9" and parsed.published == "2020"


def test_real_registry_citations_mostly_parse(seed_store: Store) -> None:
    """Over every citation in the test registry records, NLM-style ones get authors and a journal."""
    from pathlib import Path

    from kg.sources import get_format, read_records
    from tests.conftest import DATA

    citations = []
    for path in sorted(Path(DATA / "ctgov-json").rglob("*.json")) + sorted(Path(DATA / "ctgov-xml").rglob("*.xml")):
        for raw in read_records(path):
            if hasattr(raw, "payload"):
                citations += [r.citation for r in get_format(raw.format).parse(raw).record.references if r.citation]
    nlm = [c for c in set(citations) if re.search(r"\. \d{4}(?: [A-Z][a-z]{2})?(?: \d{1,2})?;\d", c)]
    assert len(nlm) > 200
    parsed = [parse_citation(c) for c in nlm]
    with_authors = [p for p in parsed if p.authors and p.journal and p.published]
    assert len(with_authors) / len(nlm) > 0.97
