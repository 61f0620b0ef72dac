"""Projections hold what independent SPARQL says: the seeds' shared things, and node and edge
counts of every projection on the shared sample data, counted by plain GROUP BY queries."""

from __future__ import annotations

import importlib.util

import pytest

from kg import build, open_store
from kg.analyze import project
from kg.queries import get_query
from kg.store.base import Store
from tests.conftest import EXAMPLES

T1 = "https://clinicaltrials.gov/study/NCT01374854"
T2 = "https://clinicaltrials.gov/study/NCT01719640"
PREFIX = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"
CAP = 50
HAS_RESOLUTION = importlib.util.find_spec("kg.resolve.stage") is not None


def _count(store: Store, sparql: str) -> int:
    return int(store.select(PREFIX + sparql).values()[0][0] or 0)


def _canned_shared(store: Store) -> tuple[int, int, int]:
    """Shared principal investigators, exclusion criteria and sites of the seed pair, by canned query."""
    pis = len(store.select(get_query("shared-principal-investigator").bind({"nct": "NCT01374854"})).rows)
    exclusion = store.select(get_query("shared-exclusion-criteria").bind({"nct": "NCT01374854"})).records()
    sites = len(store.select(get_query("shared-site").bind({"nct": "NCT01374854"})).rows)
    return pis, int(exclusion[0]["shared"] or 0) if exclusion else 0, sites


def test_seed_trials_are_joined_by_one_edge_with_shared_counts(seed_store: Store) -> None:
    graph = project(seed_store, "trial-trial")
    assert sorted(graph.nodes) == [T1, T2]
    assert graph.number_of_edges() == 1
    edge = graph.edges[T1, T2]
    pis, exclusion, _sites = _canned_shared(seed_store)
    assert pis >= 1 and exclusion >= 1  # the canned queries see what the projection must see
    assert edge["shared_pi"] == pis
    assert edge["shared_exclusion"] == exclusion
    kinds = edge["kinds"].split(";")
    assert "principal_investigator" in kinds and "exclusion_criteria" in kinds
    counts = ("shared_pi", "shared_site", "shared_sponsor", "shared_exclusion", "shared_intervention")
    assert edge["weight"] == sum(edge[name] for name in counts)
    assert graph.nodes[T1]["label"] == "NCT01374854" and graph.nodes[T1]["type"] == "trial"


@pytest.mark.xfail(not HAS_RESOLUTION, strict=True,
                   reason="the seeds name their one site differently (\"Fuzhou General Hospital\" vs \"Fuzhou "
                          "General Hospital, Xiamen Univ\"); they share it once entity resolution (kg resolve) "
                          "makes them one site")
def test_seed_trials_share_their_site_once_sites_resolve() -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    from kg.resolve.stage import resolve

    resolve(store)
    edge = project(store, "trial-trial").edges[T1, T2]
    pis, exclusion, sites = _canned_shared(store)
    assert (edge["shared_pi"], edge["shared_exclusion"]) == (pis, exclusion)
    assert sites == 1
    assert edge["shared_site"] == 1 and "site" in edge["kinds"].split(";")


# --- every projection against independent SPARQL counts on the shared sample data ----------------

_TRIAL_LINKS = {
    "pi": "VALUES ?rt_T { tkg:PrincipalInvestigator tkg:ResponsiblePartyInvestigator } "
          "?T tkg:hasRole ?r_T . ?r_T tkg:roleType ?rt_T ; tkg:agent ?X .",
    "site": "?T tkg:hasSite ?X .",
    "sponsor": "?T tkg:leadSponsor|tkg:collaborator ?X .",
    "exclusion": "?T tkg:hasCriterion ?c_T . ?c_T a tkg:ExclusionCriterion ; tkg:criterionConcept ?X .",
    "intervention": "?T tkg:hasIntervention ?i_T . ?i_T tkg:normalizedName ?X .",
}


def _pairs(pattern: str, cap: int) -> str:
    """Distinct node pairs (?a < ?b) sharing a thing that at most ``cap`` nodes share."""
    def bind(node: str) -> str:
        return pattern.replace("?T", "?" + node).replace("_T", "_" + node)

    return (f"{{ SELECT ?X WHERE {{ {bind('n')} }} GROUP BY ?X HAVING (COUNT(DISTINCT ?n) <= {cap}) }} "
            f"{bind('a')} {bind('b')} FILTER (STR(?a) < STR(?b))")


def test_trial_trial_counts_equal_sparql(sample_store: Store) -> None:
    graph = project(sample_store, "trial-trial", max_shared=CAP)
    assert graph.number_of_nodes() == _count(sample_store, "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a tkg:Trial }")
    union = " UNION ".join("{ " + _pairs(pattern, CAP) + " }" for pattern in _TRIAL_LINKS.values())
    edges = _count(sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?a ?b WHERE {{ {union} }} }}")
    assert graph.number_of_edges() == edges > 100
    # Each kind's counts summed over the edges: the (pair, shared thing) rows of that kind.
    for name, column in (("pi", "shared_pi"), ("site", "shared_site"), ("exclusion", "shared_exclusion"),
                         ("sponsor", "shared_sponsor"), ("intervention", "shared_intervention")):
        rows = _count(sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?a ?b ?X WHERE "
                                    f"{{ {_pairs(_TRIAL_LINKS[name], CAP)} }} }}")
        assert sum(data[column] for _, _, data in graph.edges(data=True)) == rows, name


def test_investigators_counts_equal_sparql(sample_store: Store) -> None:
    graph = project(sample_store, "investigators", max_shared=CAP)
    assert graph.number_of_nodes() == _count(
        sample_store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?t tkg:hasRole ?r . ?r tkg:agent ?p }")
    pairs = _pairs("?X tkg:hasRole ?r_T . ?r_T tkg:agent ?T .", CAP)
    assert graph.number_of_edges() == _count(
        sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?a ?b WHERE {{ {pairs} }} }}") > 100
    assert all(data["shared_publications"] == 0 for _, _, data in graph.edges(data=True))


def test_sponsor_site_counts_equal_sparql(sample_store: Store) -> None:
    graph = project(sample_store, "sponsor-site")
    link = "?t tkg:leadSponsor|tkg:collaborator ?o ; tkg:hasSite ?s ."
    sponsors = _count(sample_store, f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {link} }}")
    sites = _count(sample_store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {link} }}")
    edges = _count(sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?o ?s WHERE {{ {link} }} }}")
    types = [data["type"] for _, data in graph.nodes(data=True)]
    assert (types.count("sponsor"), types.count("site"), graph.number_of_edges()) == (sponsors, sites, edges)
    trials = _count(sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?t ?o ?s WHERE {{ {link} }} }}")
    assert sum(data["weight"] for _, _, data in graph.edges(data=True)) == trials


def test_trial_condition_counts_equal_sparql(sample_store: Store) -> None:
    graph = project(sample_store, "trial-condition")
    link = "?t a tkg:Trial ; tkg:condition ?c ."
    trials = _count(sample_store, f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ {link} }}")
    conditions = _count(sample_store, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ {link} }}")
    edges = _count(sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?t ?c WHERE {{ {link} }} }}")
    types = [data["type"] for _, data in graph.nodes(data=True)]
    assert (types.count("trial"), types.count("condition"), graph.number_of_edges()) == (trials, conditions, edges)


def test_criteria_similarity_counts_equal_sparql(sample_store: Store) -> None:
    graph = project(sample_store, "criteria-similarity", max_shared=CAP)
    union = " UNION ".join(
        "{ " + _pairs(f"?T tkg:hasCriterion ?c_T . ?c_T a tkg:{kind}Criterion ; tkg:criterionConcept ?X .", CAP)
        + " }" for kind in ("Inclusion", "Exclusion"))
    edges = _count(sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?a ?b WHERE {{ {union} }} }}")
    assert graph.number_of_edges() == edges > 50
    assert all(0 < data["jaccard"] <= 1 and data["weight"] == data["jaccard"] for _, _, data in graph.edges(data=True))


def test_hub_cap_and_edge_budget(sample_store: Store) -> None:
    capped = project(sample_store, "trial-trial", max_shared=3)
    pairs = " UNION ".join("{ " + _pairs(pattern, 3) + " }" for pattern in _TRIAL_LINKS.values())
    assert capped.number_of_edges() == _count(
        sample_store, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?a ?b WHERE {{ {pairs} }} }}")

    full = project(sample_store, "trial-trial", max_edges=None)
    budget = full.number_of_edges() // 4
    cut = project(sample_store, "trial-trial", max_edges=budget)
    threshold = cut.graph["min_weight"]
    assert threshold > 1 and cut.number_of_edges() <= budget
    heavy = {(u, v) for u, v, d in full.edges(data=True) if d["weight"] >= threshold}
    assert {tuple(sorted(e)) for e in cut.edges} == {tuple(sorted(e)) for e in heavy}
    assert cut.number_of_nodes() == full.number_of_nodes()  # nodes stay, light edges go


def test_coauthors_join_investigators_once_publications_are_linked() -> None:
    store = open_store(None)
    build([EXAMPLES], store)
    assert project(store, "investigators").number_of_edges() == 0  # no publications: no co-authors
    tkg = "https://w3id.org/trialkg/ontology#"
    person = "https://w3id.org/trialkg/resource/person/"
    lines = []
    for index, who in enumerate(("jianming-tan", "co-author")):
        link = f"<urn:test:link{index}>"
        lines += [f"{link} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{tkg}InvestigatorAuthorLink> <urn:g> .",
                  f"{link} <{tkg}linkedInvestigator> <{person}{who}> <urn:g> .",
                  f"{link} <{tkg}linkedPublication> <https://pubmed.ncbi.nlm.nih.gov/1> <urn:g> ."]
    store.load_nquads(("\n".join(lines) + "\n").encode())
    graph = project(store, "investigators")
    edge = graph.edges[person + "co-author", person + "jianming-tan"]
    assert (edge["shared_publications"], edge["shared_trials"], edge["kinds"]) == (1, 0, "publication")
    assert graph.nodes[person + "co-author"]["publications"] == 1
