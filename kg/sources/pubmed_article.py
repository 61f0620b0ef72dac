"""One ``<PubmedArticle>`` (or ``<PubmedBookArticle>``) element to a :class:`~kg.model.Publication`.

Why a module of its own: :mod:`kg.sources.pubmed` is about files (sniffing, streaming,
safety); this one is about what the PubMed DTD means, element by element, so each can
be read without the other.

Decisions worth knowing:

* Text with inline markup (``<i>``, ``<sub>``, MathML) is flattened to its characters,
  whitespace collapsed. Structured abstracts keep their labels ("RESULTS: ...").
* Authors marked ``ValidYN="N"`` are PubMed's record of a wrong name and are left out;
  group authors (``CollectiveName``) are authors with a collective name.
* The DOI comes from the record's own ``PubmedData/ArticleIdList`` (never from the
  ``ReferenceList``, whose ArticleIds belong to cited works), else ``ELocationID``.
* Trials the article names: ClinicalTrials.gov accession numbers in ``DataBankList``
  (``DATABANK``) and NCT numbers written in the abstract (``ABSTRACT``), each kept with
  its source even when both give the same trial.
* A record without authors or without a publication date is valid PubMed (editorials,
  "[No authors listed]"); it loads, with a warning naming what is missing.

Example:
    >>> from lxml import etree
    >>> pub, warnings = parse_article(etree.fromstring(
    ...     b"<PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>T</ArticleTitle>"
    ...     b"<Journal><JournalIssue><PubDate><Year>2001</Year><Month>Nov</Month></PubDate></JournalIssue>"
    ...     b"</Journal></Article></MedlineCitation></PubmedArticle>"))
    >>> pub.pmid, pub.published, warnings
    ('1', '2001-11', ('no authors: the record has no AuthorList',))
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from kg.errors import RecordError
from kg.model import (
    Accession,
    Author,
    Grant,
    Journal,
    MeshHeading,
    MeshQualifier,
    Publication,
    PublicationType,
    TrialLink,
)
from kg.rules.authors import initials_of

_NCT = re.compile(r"\bNCT\s?(\d{8})\b")
_ORCID = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")
_YEAR = re.compile(r"\b(\d{4})\b")
_MONTHS = {name: number for number, name in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_CTGOV = "clinicaltrials.gov"


def parse_article(element: etree._Element) -> tuple[Publication, tuple[str, ...]]:
    """A PubmedArticle or PubmedBookArticle element as a Publication, plus warnings."""
    if element.tag == "PubmedBookArticle":
        return _book(element)
    if element.tag != "PubmedArticle":
        raise RecordError(f"<{element.tag}> is not a PubMed article")
    citation = element.find("MedlineCitation")
    pmid = _text(citation.find("PMID")) if citation is not None else None
    if citation is None or not pmid:
        raise RecordError("no MedlineCitation/PMID")
    article = citation.find("Article")
    if article is None:
        raise RecordError("no MedlineCitation/Article")
    journal_node = article.find("Journal")
    issue = journal_node.find("JournalIssue") if journal_node is not None else None
    published, published_text = _date(issue.find("PubDate") if issue is not None else None)
    data = element.find("PubmedData")
    ids = _article_ids(data)
    abstract = _abstract(article.find("Abstract"))
    authors, complete = _authors(article)
    accessions = tuple(
        Accession(_text(bank.find("DataBankName")) or "", number)
        for bank in article.iterfind("DataBankList/DataBank")
        for number in _texts(bank.iterfind("AccessionNumberList/AccessionNumber"))
    )
    publication = Publication(
        pmid=pmid,
        title=_flat(article.find("ArticleTitle")) or _flat(article.find("VernacularTitle")),
        abstract=abstract,
        journal=_journal(journal_node, citation.find("MedlineJournalInfo")),
        volume=_text(issue.find("Volume")) if issue is not None else None,
        issue=_text(issue.find("Issue")) if issue is not None else None,
        pages=_pages(article.find("Pagination")),
        published=published,
        published_text=published_text,
        epublished=_date(article.find("ArticleDate[@DateType='Electronic']"))[0],
        doi=ids.get("doi") or _text(article.find("ELocationID[@EIdType='doi']")),
        pmcid=ids.get("pmc"),
        languages=_texts(article.iterfind("Language")),
        authors=authors,
        authors_complete=complete,
        publication_types=tuple(
            PublicationType(name, node.get("UI"))
            for node in article.iterfind("PublicationTypeList/PublicationType") if (name := _flat(node))
        ),
        mesh=_mesh(citation.find("MeshHeadingList")),
        keywords=_texts(citation.iterfind("KeywordList/Keyword"), flat=True),
        grants=tuple(
            Grant(_text(g.find("GrantID")), _text(g.find("Agency")), _text(g.find("Acronym")), _text(g.find("Country")))
            for g in article.iterfind("GrantList/Grant")
        ),
        accessions=accessions,
        trial_links=_trial_links(accessions, abstract),
        cites=_cited_pmids(data),
        revised=_date(citation.find("DateRevised"))[0],
    )
    return publication, _warnings(publication)


def _book(element: etree._Element) -> tuple[Publication, tuple[str, ...]]:
    """An NCBI Bookshelf record: title, authors, abstract and date (no journal)."""
    document = element.find("BookDocument")
    pmid = _text(document.find("PMID")) if document is not None else None
    if document is None or not pmid:
        raise RecordError("no BookDocument/PMID")
    book = document.find("Book")
    published, published_text = _date(book.find("PubDate") if book is not None else None)
    abstract = _abstract(document.find("Abstract"))
    authors, complete = _authors(document)
    if not authors and book is not None:
        authors, complete = _authors(book)
    title = _flat(document.find("ArticleTitle")) or (_flat(book.find("BookTitle")) if book is not None else None)
    publication = Publication(
        pmid=pmid, title=title, abstract=abstract, published=published, published_text=published_text,
        authors=authors, authors_complete=complete, languages=_texts(document.iterfind("Language")),
        publication_types=tuple(PublicationType(name, node.get("UI"))
                                for node in document.iterfind("PublicationType") if (name := _flat(node))),
        trial_links=_trial_links((), abstract), revised=_date(document.find("DateRevised"))[0],
    )
    return publication, _warnings(publication)


def _warnings(publication: Publication) -> tuple[str, ...]:
    found = []
    if not publication.authors:
        found.append("no authors: the record has no AuthorList")
    if not publication.published and not publication.published_text:
        found.append("no publication date: the record has no usable PubDate")
    return tuple(found)


# ---------------------------------------------------------------- text


def _text(node: etree._Element | None) -> str | None:
    """An element's own text, stripped; None for absent or blank."""
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _flat(node: etree._Element | None) -> str | None:
    """All text inside an element (inline markup flattened), whitespace collapsed."""
    if node is None:
        return None
    text = node.text if len(node) == 0 else "".join(map(str, node.itertext()))
    return " ".join(text.split()) or None if text else None


def _texts(nodes: object, flat: bool = False) -> tuple[str, ...]:
    read = _flat if flat else _text
    return tuple(value for node in nodes if (value := read(node)))  # type: ignore[attr-defined]


def _abstract(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    parts = []
    for text_node in node.iterfind("AbstractText"):
        text = _flat(text_node)
        if text:
            label = text_node.get("Label")
            parts.append(f"{label}: {text}" if label and label.upper() != "UNLABELLED" else text)
    return "\n".join(parts) or None


# ---------------------------------------------------------------- parts


def _date(node: etree._Element | None) -> tuple[str | None, str | None]:
    """(ISO date of the stated precision, the text when it is no plain date: MedlineDate, seasons)."""
    if node is None:
        return None, None
    medline = _text(node.find("MedlineDate"))
    if medline:
        years = _YEAR.findall(medline)
        return (years[0] if years else None), medline
    year = _text(node.find("Year"))
    if not year or not year.isdigit() or len(year) != 4:
        return None, None
    season = _text(node.find("Season"))
    month = _month(_text(node.find("Month")))
    if month is None:
        return year, f"{year} {season}" if season else None
    day_text = _text(node.find("Day"))
    if day_text and day_text.isdigit():
        try:
            return date(int(year), month, int(day_text)).isoformat(), None
        except ValueError:
            pass
    return f"{year}-{month:02d}", None


def _month(text: str | None) -> int | None:
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(text[:3].lower())


def _journal(node: etree._Element | None, info: etree._Element | None) -> Journal | None:
    if node is None and info is None:
        return None
    issns: tuple[tuple[str, str | None], ...] = ()
    title = iso = None
    if node is not None:
        issns = tuple((value, issn.get("IssnType")) for issn in node.iterfind("ISSN") if (value := _text(issn)))
        title, iso = _flat(node.find("Title")), _text(node.find("ISOAbbreviation"))
    return Journal(
        title=title,
        iso_abbreviation=iso,
        medline_ta=_text(info.find("MedlineTA")) if info is not None else None,
        issn=issns,
        issn_linking=_text(info.find("ISSNLinking")) if info is not None else None,
        nlm_id=_text(info.find("NlmUniqueID")) if info is not None else None,
        country=_text(info.find("Country")) if info is not None else None,
    )


def _pages(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    medline = _text(node.find("MedlinePgn"))
    if medline:
        return medline
    start, end = _text(node.find("StartPage")), _text(node.find("EndPage"))
    return f"{start}-{end}" if start and end else start


def _authors(parent: etree._Element) -> tuple[tuple[Author, ...], bool]:
    """The author list in order, and whether PubMed says it is complete."""
    author_list = None
    for candidate in parent.iterfind("AuthorList"):
        if candidate.get("Type") in (None, "authors"):
            author_list = candidate
            break
    if author_list is None:
        return (), True
    found = []
    for node in author_list.iterfind("Author"):
        if node.get("ValidYN") == "N":
            continue
        collective = _flat(node.find("CollectiveName"))
        family = _text(node.find("LastName"))
        if not family and not collective:
            continue
        given = _text(node.find("ForeName"))
        orcid = None
        for identifier in node.iterfind("Identifier"):
            match = _ORCID.search(_text(identifier) or "") if identifier.get("Source") == "ORCID" else None
            if match:
                orcid = "-".join(match.groups()).upper()
                break
        found.append(Author(
            family=family,
            given=given,
            initials=_text(node.find("Initials")) or (initials_of(given) if family else None) or None,
            suffix=_text(node.find("Suffix")),
            collective=None if family else collective,
            affiliations=_texts(node.iterfind("AffiliationInfo/Affiliation"), flat=True),
            orcid=orcid,
        ))
    return tuple(found), author_list.get("CompleteYN") != "N"


def _mesh(node: etree._Element | None) -> tuple[MeshHeading, ...]:
    if node is None:
        return ()
    headings = []
    for heading in node.iterfind("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        name = _flat(descriptor)
        if descriptor is None or not name:
            continue
        qualifiers = tuple(
            MeshQualifier(qualifier_name, q.get("UI"), q.get("MajorTopicYN") == "Y")
            for q in heading.iterfind("QualifierName") if (qualifier_name := _flat(q))
        )
        headings.append(MeshHeading(name, descriptor.get("UI"), descriptor.get("MajorTopicYN") == "Y", qualifiers))
    return tuple(headings)


def _article_ids(data: etree._Element | None) -> dict[str, str]:
    """The record's own ids (doi, pmc, pii...), from PubmedData/ArticleIdList only."""
    ids: dict[str, str] = {}
    if data is not None:
        for node in data.iterfind("ArticleIdList/ArticleId"):
            kind, value = node.get("IdType"), _text(node)
            if kind and value and kind not in ids:
                ids[kind] = value
    return ids


def _cited_pmids(data: etree._Element | None) -> tuple[str, ...]:
    if data is None:
        return ()
    found: dict[str, None] = {}
    for reference_list in data.iterfind("ReferenceList"):
        for node in reference_list.iter("ArticleId"):
            if node.get("IdType") == "pubmed" and (value := _text(node)) and value.isdigit():
                found[value] = None
    return tuple(found)


def _trial_links(accessions: tuple[Accession, ...], abstract: str | None) -> tuple[TrialLink, ...]:
    links: dict[TrialLink, None] = {}
    for accession in accessions:
        if accession.databank.lower() == _CTGOV:
            match = _NCT.search(accession.number.upper())
            if match:
                links[TrialLink("NCT" + match.group(1), "DATABANK")] = None
    for match in _NCT.finditer(abstract or ""):
        links[TrialLink("NCT" + match.group(1), "ABSTRACT")] = None
    return tuple(links)
