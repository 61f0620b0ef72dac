"""Investigator-author links to N-Quads, in their own named graph, with PROV-O saying how.

Why a graph of their own: the links are derived from the whole store (a trial's
registration plus its publications' author lists), not from one source record, so they
cannot live in a record graph that a rebuild replaces. A run of the linker replaces
this graph as a whole; the graph says which :class:`tkg:Linking` activity generated it,
when, with which software and method.

Example:
    >>> link = AuthorLink("https://clinicaltrials.gov/study/NCT01374854",
    ...     "https://w3id.org/trialkg/resource/person/jianming-tan", ("https://w3id.org/trialkg/resource/role/x",),
    ...     "https://w3id.org/trialkg/resource/authorship/26628416/13", "https://pubmed.ncbi.nlm.nih.gov/26628416",
    ...     0.85, ("family name Tan equal",))
    >>> lines = link_lines([link], "https://w3id.org/trialkg/resource/linking/x", "2024-01-01T00:00:00Z", "how")
    >>> sum("#confidence>" in line for line in lines)
    1
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kg.rdf import iris
from kg.rdf.namespaces import (
    GRAPH,
    LABEL,
    PROV,
    PROV_ACTIVITY,
    PROV_ASSOCIATED,
    PROV_ENTITY,
    PROV_GENERATED_BY,
    PROV_STARTED,
    RDFS,
    TKG,
    A,
)
from kg.rdf.provenance import SOFTWARE
from kg.rdf.terms import XSD_DATETIME, decimal, integer, iri, literal, typed

INVESTIGATOR_AUTHOR_GRAPH = GRAPH + "links/investigator-author"
_COMMENT = f"<{RDFS}comment>"
_ENDED = f"<{PROV}endedAtTime>"


@dataclass(frozen=True, slots=True)
class AuthorLink:
    """One investigator of one trial matched to one place in a publication's author list (plain IRIs)."""

    trial: str
    person: str
    roles: tuple[str, ...]
    authorship: str
    publication: str
    confidence: float
    evidence: tuple[str, ...]
    # Restated in the links graph so that queries read one graph: shared nodes are restated in
    # every record graph that mentions them, and joining them over the union multiplies rows.
    person_name: str | None = None
    role_types: tuple[str, ...] = ()  # the type of each of ``roles`` (local names: PrincipalInvestigator, ...)
    author_name: str | None = None
    position: int | None = None
    pmid: str | None = None

    @property
    def iri(self) -> str:
        """Stable: the same trial, person and author position always give the same link IRI."""
        nct = self.trial.rsplit("/", 1)[-1]
        person = self.person.rsplit("/", 1)[-1]
        publication, position = self.authorship.rsplit("/", 2)[-2:]
        return iris.resource("investigator-author", nct, person, publication, position)


def link_lines(links: Iterable[AuthorLink], activity: str, started: str, method: str,
               ended: str | None = None) -> list[str]:
    """The links graph: the activity, the graph as its product, and one node per link."""
    g = iri(INVESTIGATOR_AUTHOR_GRAPH)
    a = iri(activity)
    lines = [
        f"{a} {A} {PROV_ACTIVITY} {g} .\n",
        f"{a} {A} {TKG.Linking} {g} .\n",
        f"{a} {LABEL} {literal('investigator-author linking')} {g} .\n",
        f"{a} {_COMMENT} {literal(method)} {g} .\n",
        f"{a} {PROV_STARTED} {typed(started, XSD_DATETIME)} {g} .\n",
        f"{a} {PROV_ASSOCIATED} {iri(SOFTWARE)} {g} .\n",
        f"{g} {A} {PROV_ENTITY} {g} .\n",
        f"{g} {PROV_GENERATED_BY} {a} {g} .\n",
    ]
    if ended:
        lines.append(f"{a} {_ENDED} {typed(ended, XSD_DATETIME)} {g} .\n")
    for link in links:
        node = iri(link.iri)
        lines += [
            f"{node} {A} {TKG.InvestigatorAuthorLink} {g} .\n",
            f"{node} {A} {PROV_ENTITY} {g} .\n",
            f"{node} {TKG.linkedTrial} {iri(link.trial)} {g} .\n",
            f"{node} {TKG.linkedInvestigator} {iri(link.person)} {g} .\n",
            f"{node} {TKG.linkedAuthorship} {iri(link.authorship)} {g} .\n",
            f"{node} {TKG.linkedPublication} {iri(link.publication)} {g} .\n",
            f"{node} {TKG.confidence} {decimal(link.confidence)} {g} .\n",
            f"{node} {PROV_GENERATED_BY} {a} {g} .\n",
        ]
        lines += [f"{node} {TKG.linkedRole} {iri(role)} {g} .\n" for role in link.roles]
        lines += [f"{node} {TKG.evidence} {literal(text)} {g} .\n" for text in link.evidence]
        # The facts the investigator-authors query shows, restated from the record graphs.
        if link.person_name:
            lines.append(f"{iri(link.person)} {TKG.name} {literal(link.person_name)} {g} .\n")
        for role, kind in zip(link.roles, link.role_types, strict=False):
            if kind in TKG.terms:
                lines.append(f"{iri(role)} {TKG.roleType} {getattr(TKG, kind)} {g} .\n")
        authorship = iri(link.authorship)
        if link.author_name:
            lines.append(f"{authorship} {TKG.authorName} {literal(link.author_name)} {g} .\n")
        if link.position:
            lines.append(f"{authorship} {TKG.position} {integer(link.position)} {g} .\n")
        if link.pmid:
            lines.append(f"{iri(link.publication)} {TKG.pmid} {literal(link.pmid)} {g} .\n")
    return lines
