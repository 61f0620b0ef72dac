"""Publications to N-Quads: PubMed records (one named graph each) and citations inside trial records.

Why both here: a publication is described from two sides. A trial's registration cites it
(a citation string, parsed at parse time by :mod:`kg.rules.citations`, stated in the *trial's* graph);
its PubMed record describes it fully (in its own graph,
``https://w3id.org/trialkg/graph/pubmed/PMID``). Both sides mint the same IRIs for the same
things, so the union of graphs merges them without a resolution step:

* the publication is ``https://pubmed.ncbi.nlm.nih.gov/PMID`` (a citation without PMID gets
  the trial emitter's text-hash IRI);
* an author is an ordered :class:`tkg:Authorship` node keyed by publication and position
  (``.../resource/authorship/26628416/13``): "Tan J" in the citation and Tan Jianming in
  the PubMed record are the same node;
* a journal is keyed by its MEDLINE abbreviation, the form NLM citations print, so
  "Diabetes Care." in a citation and ``<MedlineTA>Diabetes Care</MedlineTA>`` meet;
* titles lose the trailing period both sides print differently.

Like :mod:`kg.rdf.emit`, everything is written as N-Quads strings, no term objects.

Example:
    >>> cited = Citation("Tan J. A title. Lancet. 2010;1:2.", authors=(Author("Tan", initials="J", key="tan j"),))
    >>> lines = citation_lines("<g>", "<https://pubmed.ncbi.nlm.nih.gov/1>", cited)
    >>> sum(" <https://w3id.org/trialkg/ontology#hasAuthorship> " in line for line in lines)
    1
"""

from __future__ import annotations

import functools
import re

from kg.model import Author, Citation, Journal, MeshHeading, Publication
from kg.rdf import iris
from kg.rdf.emitted import Emitted
from kg.rdf.namespaces import LABEL, PUBMED, RESOURCE, SAME_AS, TKG, A
from kg.rdf.terms import boolean, date_literal, integer, iri, literal

_AUTHORSHIP = RESOURCE + "authorship/"
_PLAIN_KEY = re.compile(r"[a-z0-9]+")

__all__ = ["authorship_iri", "citation_lines", "emit_publication", "emitted_publication", "journal_iri",
           "publication_graph"]


class _Lines:
    """N-Quads lines for one graph (terms already encoded); with graph "" plain triples, to cache."""

    __slots__ = ("end", "lines")

    def __init__(self, graph: str) -> None:
        self.end = f" {graph} .\n" if graph else ""
        self.lines: list[str] = []

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self.lines.append(f"{subject} {predicate} {obj}{self.end}")

    def text(self, subject: str, predicate: str, value: str | None) -> None:
        if value:
            self.lines.append(f"{subject} {predicate} {literal(value)}{self.end}")

    def date(self, subject: str, predicate: str, value: str | None) -> None:
        if value:
            self.lines.append(f"{subject} {predicate} {date_literal(value)}{self.end}")


def publication_graph(pmid: str) -> str:
    """The named graph of one PubMed record (a newer revision replaces it)."""
    return iris.record_graph("pubmed", pmid)


def _publication_key(publication: str) -> str:
    """The key of a publication IRI (encoded or plain): its PMID, or the minted hash."""
    plain = publication[1:-1] if publication.startswith("<") else publication
    return plain[len(PUBMED):] if plain.startswith(PUBMED) else plain.rsplit("/", 1)[-1]


def authorship_iri(publication: str, position: int) -> str:
    """The IRI of the ``position``-th author (1-based) of a publication."""
    key = _publication_key(publication)
    if _PLAIN_KEY.fullmatch(key):  # PMIDs and text hashes: their slug is themselves
        return f"{_AUTHORSHIP}{key}/{position}"
    return iris.resource("authorship", key, str(position))


def journal_iri(key: str | None) -> str | None:
    """A journal's IRI from its key (the folded MEDLINE abbreviation NLM citations print)."""
    return iris.resource("journal", key) if key else None


def _title(text: str | None) -> str | None:
    """A title without the trailing period citations and PubMed print differently."""
    return text.strip().rstrip(".").strip() or None if text else None


_HAS_AUTHORSHIP, _AUTHORSHIP_CLASS, _POSITION = TKG.hasAuthorship, TKG.Authorship, TKG.position
_AUTHOR_TEXT = (LABEL, TKG.authorName, TKG.familyName, TKG.givenName, TKG.initials, TKG.nameSuffix,
                TKG.collectiveName, TKG.authorKey, TKG.orcid)
_AUTHOR_AFFILIATION = TKG.authorAffiliation


def _authorships(q: _Lines, publication: str, authors: tuple[Author, ...]) -> None:
    """Ordered authorship nodes (the hot path of citations: plain loops, constants hoisted)."""
    end, lines = q.end, q.lines
    for position, author in enumerate(authors, start=1):
        node = iri(authorship_iri(publication, position))
        name = author.display_name
        lines.append(f"{publication} {_HAS_AUTHORSHIP} {node}{end}")
        lines.append(f"{node} {A} {_AUTHORSHIP_CLASS}{end}")
        lines.append(f"{node} {_POSITION} {integer(position)}{end}")
        values = (name, name, author.family, author.given, author.initials, author.suffix, author.collective,
                  author.key, author.orcid)
        for predicate, value in zip(_AUTHOR_TEXT, values, strict=True):
            if value:
                lines.append(f"{node} {predicate} {literal(value)}{end}")
        for affiliation in author.affiliations:
            lines.append(f"{node} {_AUTHOR_AFFILIATION} {literal(affiliation)}{end}")


def _journal(q: _Lines, publication: str, journal: Journal) -> None:
    node_iri = journal_iri(journal.key)
    if node_iri is None:
        return
    node = iri(node_iri)
    q.add(publication, TKG.journal, node)
    q.add(node, A, TKG.Journal)
    q.text(node, LABEL, journal.title or journal.medline_ta)
    q.text(node, TKG.name, journal.title)
    q.text(node, TKG.isoAbbreviation, journal.iso_abbreviation)
    q.text(node, TKG.medlineAbbreviation, journal.medline_ta)
    for issn, _kind in journal.issn:
        q.text(node, TKG.issn, issn)
    q.text(node, TKG.issnLinking, journal.issn_linking)
    q.text(node, TKG.nlmId, journal.nlm_id)


def _doi(q: _Lines, publication: str, doi: str | None) -> None:
    if doi:
        q.text(publication, TKG.doi, doi)
        q.add(publication, SAME_AS, iri(iris.doi(doi)))


def citation_lines(graph: str, publication: str, citation: Citation | None, doi: str | None = None) -> list[str]:
    """What a trial's citation string states about the publication it cites, as N-Quads lines.

    ``graph`` and ``publication`` are encoded terms (``<...>``), as the trial emitter holds
    them. The DOI is stated only when the citation gives one the caller has not (``doi``).
    The triples of a citation are computed once per process (trials share background
    references) and only the graph differs between trials.
    """
    if not citation:
        return []
    end = f" {graph} .\n"
    return [triple + end for triple in _citation_triples(publication, citation, doi)]


@functools.lru_cache(maxsize=2048)
def _citation_triples(publication: str, parsed: Citation, doi: str | None) -> tuple[str, ...]:
    q = _Lines("")
    title = _title(parsed.title)
    q.text(publication, TKG.title, title)
    q.text(publication, LABEL, title)
    q.date(publication, TKG.publicationDate, parsed.published)
    q.date(publication, TKG.electronicPublicationDate, parsed.epublished)
    q.text(publication, TKG.volume, parsed.volume)
    q.text(publication, TKG.issue, parsed.issue)
    q.text(publication, TKG.pages, parsed.pages)
    q.text(publication, TKG.pmcid, parsed.pmcid)
    if parsed.doi and parsed.doi != doi:
        _doi(q, publication, parsed.doi)
    if parsed.journal:
        _journal(q, publication, Journal(medline_ta=parsed.journal, key=parsed.journal_key))
    _authorships(q, publication, parsed.authors)
    if parsed.authors_truncated:
        q.add(publication, TKG.authorListComplete, boolean(False))
    return tuple(q.lines)


def _mesh(q: _Lines, publication: str, pmid: str, heading: MeshHeading) -> None:
    descriptor = iri(iris.mesh(heading.id)) if heading.id else None
    node = iri(iris.resource("mesh-heading", pmid, heading.id or heading.descriptor))
    q.add(publication, TKG.meshHeading, node)
    q.add(node, A, TKG.MeshHeading)
    q.text(node, LABEL, heading.descriptor)
    q.add(node, TKG.majorTopic, boolean(heading.major))
    if descriptor:
        q.add(node, TKG.descriptor, descriptor)
        q.text(descriptor, LABEL, heading.descriptor)
        q.add(publication, TKG.meshDescriptor, descriptor)
        if heading.major or any(qualifier.major for qualifier in heading.qualifiers):
            q.add(publication, TKG.majorMeshDescriptor, descriptor)
    for qualifier in heading.qualifiers:
        if not qualifier.id:
            continue
        term = iri(iris.mesh(qualifier.id))
        q.add(node, TKG.qualifier, term)
        q.text(term, LABEL, qualifier.name)
        if qualifier.major:
            q.add(node, TKG.majorQualifier, term)


def _organization(q: _Lines, name: str | None, key: str | None) -> str | None:
    if key is None or name is None:
        return None
    node = iri(iris.resource("organization", key))
    q.add(node, A, TKG.Organization)
    q.text(node, LABEL, name)
    q.text(node, TKG.name, name)
    return node


def emit_publication(publication: Publication, graph: str | None = None) -> list[str]:
    """The N-Quads lines stating everything a PubMed record says, in its record graph."""
    pmid = publication.pmid
    q = _Lines(iri(graph or publication_graph(pmid)))
    p = iri(iris.pubmed(pmid))
    title = _title(publication.title)
    q.add(p, A, TKG.Publication)
    q.text(p, TKG.pmid, pmid)
    q.text(p, LABEL, title or f"PMID {pmid}")
    q.text(p, TKG.title, title)
    q.text(p, TKG.abstract, publication.abstract)
    if publication.journal is not None:
        _journal(q, p, publication.journal)
    q.text(p, TKG.volume, publication.volume)
    q.text(p, TKG.issue, publication.issue)
    q.text(p, TKG.pages, publication.pages)
    q.date(p, TKG.publicationDate, publication.published)
    q.text(p, TKG.publicationDateText, publication.published_text)
    q.date(p, TKG.electronicPublicationDate, publication.epublished)
    _doi(q, p, publication.doi)
    q.text(p, TKG.pmcid, publication.pmcid)
    for language in publication.languages:
        q.text(p, TKG.language, language)
    _authorships(q, p, publication.authors)
    if not publication.authors_complete:
        q.add(p, TKG.authorListComplete, boolean(False))
    for kind in publication.publication_types:
        if kind.id:
            node = iri(iris.mesh(kind.id))
            q.add(p, TKG.publicationType, node)
            q.text(node, LABEL, kind.name)
    for heading in publication.mesh:
        _mesh(q, p, pmid, heading)
    for keyword in publication.keywords:
        q.text(p, TKG.articleKeyword, keyword)
    for grant in publication.grants:
        agency_key = grant.agency_key or "_"
        node = iri(iris.resource("grant", agency_key, grant.id) if grant.id else
                   iris.resource("grant", pmid, agency_key))
        q.add(p, TKG.grant, node)
        q.add(node, A, TKG.Grant)
        q.text(node, LABEL, " ".join(part for part in (grant.id, f"({grant.agency})" if grant.agency else "") if part))
        q.text(node, TKG.grantId, grant.id)
        agency = _organization(q, grant.agency, grant.agency_key)
        if agency:
            q.add(node, TKG.fundingAgency, agency)
    for accession in publication.accessions:
        node = iri(iris.resource("accession", accession.databank or "_", accession.number))
        q.add(p, TKG.dataBankAccession, node)
        q.add(node, A, TKG.Identifier)
        q.text(node, TKG.identifierValue, accession.number)
        q.text(node, TKG.identifierDomain, accession.databank)
    for link in publication.trial_links:
        q.add(p, TKG.databankTrial if link.source == "DATABANK" else TKG.abstractTrial, iri(iris.trial(link.nct_id)))
    for cited in publication.cites:
        q.add(p, TKG.cites, iri(iris.pubmed(cited)))
    return q.lines


def emitted_publication(publication: Publication) -> Emitted:
    """A PubMed record as the build pipeline loads it (one graph per PMID; the newest revision wins)."""
    graph = publication_graph(publication.pmid)
    return Emitted(graph, iris.pubmed(publication.pmid), publication.pmid, publication.last_changed,
                   emit_publication(publication, graph))

