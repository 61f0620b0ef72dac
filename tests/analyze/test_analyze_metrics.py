"""Metrics agree with networkx run directly, are seeded, and the table and Jaccard add up."""

from __future__ import annotations

import csv
import io

import networkx as nx
import pytest

from kg.analyze import MetricSettings, analyze, compute_metrics, criteria_jaccard
from kg.analyze.metrics import betweenness_sources
from kg.queries import get_query
from kg.store.base import Store

PREFIX = "PREFIX tkg: <https://w3id.org/trialkg/ontology#>\n"


def test_metrics_match_networkx_on_a_known_graph() -> None:
    graph = nx.karate_club_graph()
    metrics = compute_metrics(graph)
    exact = nx.betweenness_centrality(graph)
    for node in graph:
        values = metrics.values[node]
        assert values["degree"] == graph.degree(node)
        assert values["weighted_degree"] == graph.degree(node, weight="weight")
        assert values["betweenness"] == pytest.approx(exact[node])
    assert sum(values["pagerank"] for values in metrics.values.values()) == pytest.approx(1.0)
    assert {values["component"] for values in metrics.values.values()} == {0}
    communities = {}
    for node, values in metrics.values.items():
        communities.setdefault(values["community"], set()).add(node)
    sizes = [len(communities[number]) for number in sorted(communities)]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == graph.number_of_nodes()
    assert nx.community.is_partition(graph, list(communities.values()))
    assert [run.name for run in metrics.runs] == ["degree", "betweenness", "pagerank", "connected_components",
                                                  "louvain_communities"]


def test_seeded_algorithms_repeat_and_sampling_is_recorded() -> None:
    graph = nx.connected_caveman_graph(30, 6)
    settings = MetricSettings(seed=7, betweenness_k=20)
    first, second = compute_metrics(graph, settings), compute_metrics(graph, settings)
    assert first.values == second.values
    betweenness = next(run for run in first.runs if run.name == "betweenness")
    assert betweenness.parameters["k"] == 20 and betweenness.parameters["seed"] == 7
    big = nx.gnm_random_graph(5000, 20000, seed=1)
    assert betweenness_sources(big, MetricSettings()) is not None  # sampled above the exact limit
    assert betweenness_sources(graph, MetricSettings()) is None  # exact on small graphs


def test_components_are_numbered_by_size() -> None:
    graph = nx.Graph([("a", "b"), ("c", "d"), ("d", "e")])
    graph.add_node("z")
    values = compute_metrics(graph).values
    assert [values[node]["component"] for node in "cdeabz"] == [0, 0, 0, 1, 1, 2]
    assert values["z"]["component_size"] == 1 and values["c"]["community_size"] == 3


def test_analysis_table_has_a_row_per_node_and_parses_as_csv(sample_store: Store) -> None:
    graph, table = analyze(sample_store, "trial-trial")
    assert len(table.rows) == graph.number_of_nodes()
    assert table.columns[:3] == ("node", "label", "type")
    for column in ("status", "phase", "country", "degree", "weighted_degree", "betweenness", "pagerank",
                   "component", "community"):
        assert column in table.columns
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert len(rows) == graph.number_of_nodes()
    strengths = [float(row["weighted_degree"]) for row in rows]
    assert strengths == sorted(strengths, reverse=True)  # heaviest first
    top = rows[0]
    assert float(top["pagerank"]) == pytest.approx(graph.nodes[top["node"]]["pagerank"], rel=1e-5)
    assert table.provenance is not None and table.provenance.projection == "trial-trial"
    assert {run.name for run in table.provenance.runs} >= {"pagerank", "louvain_communities"}
    frame = table.to_pandas()
    assert len(frame) == graph.number_of_nodes()


def test_jaccard_of_the_seed_pair_from_independent_counts(seed_store: Store) -> None:
    rows = criteria_jaccard(seed_store, "exclusion")
    assert [(row["trial1"], row["trial2"]) for row in rows] == [("NCT01374854", "NCT01719640")]
    shared = int(seed_store.select(get_query("shared-exclusion-criteria").bind()).records()[0]["shared"] or 0)
    sizes = dict(seed_store.select(PREFIX + """SELECT ?id (COUNT(DISTINCT ?k) AS ?n) WHERE {
        ?t tkg:nctId ?id ; tkg:hasCriterion ?c . ?c a tkg:ExclusionCriterion ; tkg:criterionConcept ?k }
        GROUP BY ?id""").values())
    size1, size2 = int(sizes["NCT01374854"] or 0), int(sizes["NCT01719640"] or 0)
    assert (rows[0]["shared"], rows[0]["size1"], rows[0]["size2"]) == (shared, size1, size2)
    assert rows[0]["jaccard"] == pytest.approx(shared / (size1 + size2 - shared), abs=1e-6)
    every = criteria_jaccard(seed_store, "all")
    assert every[0]["shared"] >= shared  # inclusion criteria add to what the pair shares
    with pytest.raises(Exception, match="no criteria kind"):
        criteria_jaccard(seed_store, "bogus")
