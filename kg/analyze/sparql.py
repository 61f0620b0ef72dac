"""The SPARQL behind the graph projections: the store groups and counts, Python pairs up.

Why this split: a trial-trial projection is an aggregation over millions of (trial, shared
thing, trial) rows. The store groups each shared thing with the nodes that share it (GROUP BY
with COUNT and GROUP_CONCAT, capped by HAVING), one row per thing; Python turns each member
list into pairs with a Counter. Measured on a 20,000-study synthetic store, Oxigraph needs
8-20 s to GROUP BY the 163,000 pairs sharing a site, where the member lists take 0.2-1.3 s and
the Counter well under a second. (The tests count the pairs in plain SPARQL, GROUP BY ?a ?b,
as an independent check.)

Two rules keep the queries fast on a union of record graphs:
- A shared entity (site, organisation, person, criterion concept) is described again in every
  record graph that mentions it, and the union graph keeps those copies. A join through two of
  its triples multiplies the copies (a site in 200 trials: 200 × 200 rows), so patterns here
  touch a shared entity through one triple, and its attributes are looked up for the nodes at
  hand (:func:`describe_query`) and joined in Python.
- No OPTIONAL chains for attributes: one small query per attribute, folded in Python.

Handing rows over costs more than finding them (Oxigraph decodes every term from its string
table), so queries return as few rows as they can, and :func:`rows` streams them as strings.

Hubs: a thing shared by very many nodes (the exclusion criterion "pregnancy", a sponsor of
thousands of trials, a trial with a thousand site investigators) would add a clique of n²/2
edges that says nothing about the pairs in it. ``max_shared`` keeps only things linked to at
most that many nodes; ``None`` keeps all (exact on small stores, quadratic on large ones).

Example:
    >>> "HAVING (COUNT(DISTINCT ?n) >= 2 && COUNT(DISTINCT ?n) <= 50)" in members_query(LINKS["site"], 50)
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kg.rdf.namespaces import ONTOLOGY
from kg.rdf.terms import iri
from kg.store.base import Store

PREFIX = f"PREFIX tkg: <{ONTOLOGY}>\n"
RESOLUTION_GRAPH = "https://w3id.org/trialkg/graph/resolution"  # written by `kg resolve`


@dataclass(frozen=True, slots=True)
class Link:
    """How a node ``?{n}`` is linked to a thing ``?{x}`` it may share with other nodes.

    ``pattern`` is a group graph pattern with the placeholders ``{n}`` (the node) and ``{x}``
    (the shared thing); ``resolved`` is the same link through the canonical entities of the
    resolution graph (``kg resolve``), used when that graph exists, as the canned queries do.
    ``column`` names the edge attribute that holds the count.

    ``canonical`` is the other way to reach canonical entities: a predicate of the resolution
    graph from a surface thing to its canonical entity, applied in Python to the member lists
    of the surface things (:func:`kg.analyze.pairs.member_lists`). Criterion concepts go this
    way: on a 100,000-study store the join through ``tkg:resolvedAs`` costs Oxigraph a minute
    (720,000 index look-ups), where the surface scan and the few merged concepts take seconds.
    """

    kind: str
    column: str
    pattern: str
    resolved: str = ""
    canonical: str = ""

    def bind(self, node: str, thing: str, resolved: bool = False) -> str:
        text = self.resolved if resolved and self.resolved else self.pattern
        return text.replace("{n}", node).replace("{x}", thing)


_PI = "VALUES ?roleType { tkg:PrincipalInvestigator tkg:ResponsiblePartyInvestigator } "
_FUNDER = "VALUES ?relation { tkg:leadSponsor tkg:collaborator } "

# Trial-trial links. A principal investigator is an overall official with the Principal
# Investigator role or an investigator who is the responsible party, as in the canned query
# shared-principal-investigator; interventions are per-trial nodes, shared by normalised name.
LINKS = {
    link.kind: link
    for link in (
        Link("principal_investigator", "shared_pi",
             _PI + "?{n} tkg:hasRole ?role . ?role tkg:roleType ?roleType ; tkg:agent ?{x} .",
             _PI + "?{n} tkg:hasRole ?role . ?role tkg:roleType ?roleType ; tkg:resolvedAgent ?{x} ."),
        Link("site", "shared_site", "?{n} tkg:hasSite ?{x} .", "?{n} tkg:resolvedSite ?{x} ."),
        Link("sponsor", "shared_sponsor", _FUNDER + "?{n} ?relation ?{x} .",
             _FUNDER + "?{n} ?relation ?organization . ?organization tkg:resolvedAs ?{x} ."),
        Link("exclusion_criteria", "shared_exclusion", "?{n} tkg:exclusionConcept ?{x} .",
             canonical="tkg:resolvedAs"),
        Link("intervention", "shared_intervention",
             "?{n} tkg:hasIntervention ?intervention . ?intervention tkg:normalizedName ?{x} ."),
    )
}

# Co-authorship: `kg link-authors` links investigators (people) to the authorships of their
# trials' publications (tkg:InvestigatorAuthorLink); two people linked to the same publication
# are co-authors. Without publications or links nothing matches (and nothing is queried).
HAS_AUTHOR_LINKS = PREFIX + "SELECT ?link WHERE { ?link a tkg:InvestigatorAuthorLink } LIMIT 1"

# Person-person links: people with roles in the same trial (any role), and co-authors.
PERSON_LINKS = {
    link.kind: link
    for link in (
        Link("trial", "shared_trials", "?{x} tkg:hasRole ?role . ?role tkg:agent ?{n} .",
             "?{x} tkg:hasRole ?role . ?role tkg:resolvedAgent ?{n} ."),
        Link("publication", "shared_publications",
             "?link a tkg:InvestigatorAuthorLink ; tkg:linkedInvestigator ?{n} ; tkg:linkedPublication ?{x} ."),
    )
}


def members_query(link: Link, max_shared: int | None, resolved: bool = False, min_members: int = 2) -> str:
    """Each thing linked to min_members..max_shared nodes, with its nodes (space-separated IRIs)."""
    having = [f"COUNT(DISTINCT ?n) >= {int(min_members)}"] if min_members > 1 else []
    if max_shared is not None:
        having.append(f"COUNT(DISTINCT ?n) <= {int(max_shared)}")
    return (PREFIX + 'SELECT ?x (GROUP_CONCAT(DISTINCT STR(?n); SEPARATOR=" ") AS ?members)\n'
            f"WHERE {{ {link.bind('n', 'x', resolved)} }}\nGROUP BY ?x"
            + (f" HAVING ({' && '.join(having)})" if having else ""))


def canonical_query(predicate: str) -> str:
    """Surface things that resolution merged into another (``?x``): the rest are their own."""
    return PREFIX + (f"SELECT ?thing ?x WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?thing {predicate} ?x "
                     "FILTER (?thing != ?x) } }")


def values_query(pattern: str) -> str:
    """Distinct ``?n ?v`` rows of a pattern (one attribute, folded per node in Python)."""
    return PREFIX + f"SELECT DISTINCT ?n ?v WHERE {{ {pattern} }}"


def rows(store: Store, query: str) -> Iterator[tuple[str | None, ...]]:
    """Result rows as plain strings, streamed from the embedded store when it can.

    Decoding terms is most of a projection's cost (on a 20,000-study store, Oxigraph counts
    63,000 trial-site rows in 0.05 s and hands them over in 1.1 s); result-table Term
    objects would triple that. A store with its own ``iter_select`` is used as is.
    """
    yield from store.iter_select(query)


# Node attributes: (attribute, pattern binding ?n and ?v). Trials are described in their own
# record graph only, so joins through trial triples are safe.
TRIAL_ID = values_query("?n a tkg:Trial ; tkg:nctId ?v .")
TRIAL_VALUES = {
    "title": values_query("?n tkg:briefTitle ?v ."),
    "status": values_query("?n tkg:overallStatus ?v ."),
    "phase": values_query("?n tkg:phase ?v ."),
    "enrollment": values_query("?n tkg:enrollment ?v ."),
    "study_type": values_query("?n tkg:studyType ?v ."),
}
# Links through entities that resolution may merge: (as stated, through canonical entities).
TRIAL_SPONSOR = (values_query("?n tkg:leadSponsor ?v ."),
                 values_query("?n tkg:leadSponsor ?organization . ?organization tkg:resolvedAs ?v ."))
TRIAL_SITES = (values_query(LINKS["site"].bind("n", "v")), values_query(LINKS["site"].bind("n", "v", True)))
TRIAL_FUNDERS = (values_query(LINKS["sponsor"].bind("n", "v")), values_query(LINKS["sponsor"].bind("n", "v", True)))
ROLE_AGENTS = (values_query(PERSON_LINKS["trial"].bind("n", "v")),
               values_query(PERSON_LINKS["trial"].bind("n", "v", True)))
PI_AGENTS = (values_query(LINKS["principal_investigator"].bind("v", "n")),
             values_query(LINKS["principal_investigator"].bind("v", "n", True)))
TRIAL_CONDITIONS = values_query("?n a tkg:Trial ; tkg:condition ?v .")
AUTHORED = values_query(PERSON_LINKS["publication"].bind("n", "v"))

# Shared entities are described by a few properties each, looked up for the nodes at hand
# (see describe_query) rather than scanned for every entity of the store.
TKG = ONTOLOGY
NAME = TKG + "name"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
AGENCY_CLASS = TKG + "agencyClass"
FACILITY = TKG + "facilityName"
CITY = TKG + "city"
COUNTRY = TKG + "country"
COUNTRIES = values_query("?n tkg:country ?v .")
DESCRIBE_BATCH = 2000


def describe_query(nodes: list[str], predicates: list[str]) -> str:
    """``?n ?p ?v`` for the given node and predicate IRIs (one batch: VALUES, then index lookups).

    Example:
        >>> "VALUES ?n { <urn:a> }" in describe_query(["urn:a"], [NAME])
        True
    """
    values = " ".join(iri(node) for node in nodes)
    # One UNION branch per predicate: Oxigraph plans a variable predicate as a scan.
    branches = " UNION ".join(f"{{ ?n {iri(p)} ?v BIND ({iri(p)} AS ?p) }}" for p in predicates)
    return PREFIX + f"SELECT DISTINCT ?n ?p ?v WHERE {{ VALUES ?n {{ {values} }} {branches} }}"
