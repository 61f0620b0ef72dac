"""The resolution graph as N-Quads: canonical links, owl:sameAs, confidence and evidence.

Everything resolution concludes lives in one named graph
(``https://w3id.org/trialkg/graph/resolution``), apart from the record graphs, so that
re-running it replaces its conclusions in one step and the record graphs stay what the
sources said. Every surface node gets a canonical link (itself when nothing merged with
it), so queries join through ``tkg:resolvedAs`` / ``tkg:resolvedAgent`` /
``tkg:resolvedSite`` without computing anything.

Example:
    >>> writer = ResolutionWriter("2024-01-01T00:00:00Z")
    >>> writer.canonical("https://e.org/a", "https://e.org/b")
    >>> [line.split()[1].rsplit("#", 1)[-1] for line in writer.lines]
    ['resolvedAs>', 'sameAs>']
"""

from __future__ import annotations

from collections.abc import Callable

from kg.rdf import iris
from kg.rdf.namespaces import (
    FOAF,
    LABEL,
    PROV_ACTIVITY,
    PROV_ASSOCIATED,
    PROV_ENTITY,
    PROV_GENERATED_BY,
    PROV_STARTED,
    RESOLUTION_GRAPH,
    SAME_AS,
    TKG,
    A,
)
from kg.rdf.terms import XSD_DATETIME, boolean, decimal, iri, literal, typed
from kg.version import __version__

SOFTWARE = "https://w3id.org/trialkg/software/" + __version__
GIVEN_NAME = f"<{FOAF}givenName>"
FAMILY_NAME = f"<{FOAF}familyName>"


class ResolutionWriter:
    """Collects the resolution graph's N-Quads lines and hands them to ``sink`` in chunks of ``chunk_lines``.

    Why chunks: at registry scale the graph is tens of millions of lines. Held until a
    stage ends, one stage's lines (3 million for the 560k registry's sites) were joined,
    decoded and split at once, a transient of several GB. Without a sink the lines wait
    for :meth:`take`.
    """

    def __init__(self, time: str, sink: Callable[[bytes], None] | None = None, chunk_lines: int = 200_000) -> None:
        self.graph = iri(RESOLUTION_GRAPH)
        self.activity = iri(iris.resource("resolution", time))
        self.lines: list[str] = []
        self.quads = 0  # lines handed over so far
        self.sink, self.chunk_lines = sink, chunk_lines
        self._time = time

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self.lines.append(f"{subject} {predicate} {obj} {self.graph} .\n")
        if self.sink is not None and len(self.lines) >= self.chunk_lines:
            self.flush()

    def flush(self) -> None:
        """Hand the lines collected so far to the sink."""
        if self.sink is not None and self.lines:
            self.sink(self.take())

    def header(self) -> None:
        """The graph's own provenance: which resolution run generated it, and when."""
        self.add(self.graph, A, PROV_ENTITY)
        self.add(self.graph, PROV_GENERATED_BY, self.activity)
        self.add(self.activity, A, PROV_ACTIVITY)
        self.add(self.activity, A, TKG.Resolution)
        self.add(self.activity, LABEL, literal("entity resolution"))
        self.add(self.activity, PROV_STARTED, typed(self._time, XSD_DATETIME))
        self.add(self.activity, PROV_ASSOCIATED, iri(SOFTWARE))

    def canonical(self, surface: str, canonical: str) -> None:
        """A surface node's canonical link (and owl:sameAs when it is another node)."""
        s, c = iri(surface), iri(canonical)
        self.add(s, TKG.resolvedAs, c)
        if s != c:
            self.add(s, SAME_AS, c)

    def confidence(self, entity: str, value: float) -> None:
        self.add(iri(entity), TKG.resolutionConfidence, decimal(round(value, 4)))

    def person(self, person: str, label: str, given: str, family: str, confidence: float, roles: list[str]) -> None:
        p = iri(person)
        self.add(p, A, TKG.Person)
        self.add(p, LABEL, literal(label))
        self.add(p, TKG.name, literal(label))
        if given:
            self.add(p, GIVEN_NAME, literal(given))
        self.add(p, FAMILY_NAME, literal(family))
        self.add(p, TKG.resolutionConfidence, decimal(round(confidence, 4)))
        for role in roles:
            r = iri(role)
            self.add(r, TKG.resolvedAgent, p)
            self.add(p, TKG.hasMention, r)

    def same_as(self, surface: str, canonical: str) -> None:
        self.canonical(surface, canonical)

    def trial_site(self, trial: str, site: str) -> None:
        self.add(iri(trial), TKG.resolvedSite, iri(site))

    def site(self, site: str, members: list[str], confidence: float, facility: str, city: str | None,
             country: str | None) -> None:
        """A resolved site, described once here (record graphs describe it once per trial)."""
        s = iri(site)
        self.add(s, A, TKG.Site)
        self.add(s, TKG.facilityName, literal(facility))
        if city:
            self.add(s, TKG.city, literal(city))
        if country:
            self.add(s, TKG.country, literal(country))
        self.add(s, TKG.resolutionConfidence, decimal(round(confidence, 4)))
        for member in members:
            self.add(s, TKG.hasMention, iri(member))

    def organization(self, organization: str, name: str, confidence: float) -> None:
        """A resolved organisation, named once here (record graphs name it once per trial)."""
        o = iri(organization)
        self.add(o, A, TKG.Organization)
        self.add(o, TKG.name, literal(name))
        self.add(o, TKG.resolutionConfidence, decimal(round(confidence, 4)))

    def anonymous_site(self, site: str, surface: str, facility: str, city: str | None, country: str | None) -> None:
        """A site known only as "Local Institution" in one trial: its own node, never shared."""
        s = iri(site)
        self.add(s, A, TKG.Site)
        self.add(s, LABEL, literal(facility))
        self.add(s, TKG.facilityName, literal(facility))
        if city:
            self.add(s, TKG.city, literal(city))
        if country:
            self.add(s, TKG.country, literal(country))
        self.add(s, TKG.anonymizedFacility, boolean(True))
        self.add(s, TKG.hasMention, iri(surface))
        self.add(s, TKG.resolutionConfidence, decimal(1.0))

    def site_organization(self, site: str, organization: str) -> None:
        self.add(iri(site), TKG.siteOrganization, iri(organization))

    def evidence(self, kind: str, canonical: str, a: str, b: str, score: float, reasons: tuple[str, ...]) -> None:
        """Why two mentions were merged.

        Which resolution run found it is stated once, of the graph (``prov:wasGeneratedBy``),
        not of each node: a node then stays the same quads from run to run while its
        mentions do, so a re-run writes only what changed (:mod:`kg.store.derived_graphs`).
        """
        node = iri(iris.resource("match", kind, iris.text_hash(f"{a}\x1f{b}")))
        self.add(node, A, TKG.MatchEvidence)
        self.add(node, TKG.evidenceFor, iri(canonical))
        self.add(node, TKG.matchedMention, iri(a))
        self.add(node, TKG.matchedMention, iri(b))
        self.add(node, TKG.matchScore, decimal(round(score, 4)))
        for reason in reasons:
            self.add(node, TKG.matchReason, literal(reason))

    def retired(self, old: str, canonical: str) -> None:
        """An IRI an earlier resolution published that now names part of a larger entity."""
        self.add(iri(old), SAME_AS, iri(canonical))

    def take(self) -> bytes:
        self.quads += len(self.lines)
        data = "".join(self.lines).encode("utf-8")
        self.lines.clear()
        return data
