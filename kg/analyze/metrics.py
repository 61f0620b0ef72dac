"""Node metrics of a projection: degree, centralities, components and communities.

Why these: weighted degree says how much a node shares, betweenness which nodes bridge
otherwise separate groups, PageRank which are central by the company they keep, components
which groups are disconnected, and Louvain communities which groups are dense inside. Each
algorithm is seeded and its parameters are returned with the values, so a run can be
repeated and described (the PROV-O write-back states them).

Betweenness is exact on graphs up to :data:`EXACT_BETWEENNESS_NODES` nodes; above, it is
estimated from ``k`` seeded source nodes, ``k`` chosen so the work stays near
:data:`BETWEENNESS_BUDGET` edge visits (networkx visits every edge once per source).

Example:
    >>> import networkx as nx
    >>> metrics = compute_metrics(nx.path_graph(3))
    >>> metrics.values[1]["degree"], metrics.values[1]["betweenness"], metrics.values[0]["community"]
    (2, 1.0, 0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import networkx as nx

EXACT_BETWEENNESS_NODES = 2000
BETWEENNESS_BUDGET = 1_500_000
MIN_BETWEENNESS_SOURCES = 8

METRIC_COLUMNS = ("degree", "weighted_degree", "betweenness", "pagerank", "component", "component_size",
                  "community", "community_size")


@dataclass(frozen=True, slots=True)
class MetricSettings:
    """Algorithm parameters; ``betweenness_k`` None picks exact or sampled by graph size."""

    seed: int = 42
    betweenness_k: int | None = None
    pagerank_alpha: float = 0.85
    louvain_resolution: float = 1.0


@dataclass(frozen=True, slots=True)
class AlgorithmRun:
    """One algorithm as run: a name, the function that ran it, its parameters, its time."""

    name: str
    implementation: str
    parameters: dict[str, object]
    seconds: float


@dataclass
class NodeMetrics:
    values: dict[str, dict[str, float | int]]
    runs: list[AlgorithmRun] = field(default_factory=list)


def betweenness_sources(graph: nx.Graph, settings: MetricSettings) -> int | None:
    """How many source nodes betweenness samples (None: all, exact)."""
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    if settings.betweenness_k is not None:
        return settings.betweenness_k if settings.betweenness_k < n else None
    if n <= EXACT_BETWEENNESS_NODES:
        return None
    k = max(MIN_BETWEENNESS_SOURCES, BETWEENNESS_BUDGET // max(1, n + m))
    return k if k < n else None


def _ranked_groups(groups: list[set[str]]) -> list[set[str]]:
    """Largest first, ties by smallest member: numbering that does not depend on set order."""
    return sorted(groups, key=lambda group: (-len(group), min(group)))


def compute_metrics(graph: nx.Graph, settings: MetricSettings | None = None) -> NodeMetrics:
    """Every metric of :data:`METRIC_COLUMNS` for every node, and the runs that computed them."""
    settings = settings or MetricSettings()
    values: dict[str, dict[str, float | int]] = {node: {} for node in graph}
    runs: list[AlgorithmRun] = []

    started = time.perf_counter()
    for node, degree in graph.degree():
        values[node]["degree"] = degree
    for node, strength in graph.degree(weight="weight"):
        values[node]["weighted_degree"] = strength
    runs.append(AlgorithmRun("degree", "networkx.Graph.degree", {"weight": "weight"},
                             time.perf_counter() - started))

    started = time.perf_counter()
    k = betweenness_sources(graph, settings)
    # Hops, not weights: networkx reads a weight as a distance, and a heavier edge here is closer.
    betweenness = nx.betweenness_centrality(graph, k=k, normalized=True, weight=None, seed=settings.seed)
    for node, value in betweenness.items():
        values[node]["betweenness"] = value
    runs.append(AlgorithmRun("betweenness", "networkx.betweenness_centrality",
                             {"k": k if k is not None else "all", "normalized": True, "weight": "none (hops)",
                              "seed": settings.seed}, time.perf_counter() - started))

    started = time.perf_counter()
    pagerank = nx.pagerank(graph, alpha=settings.pagerank_alpha, weight="weight") if len(graph) else {}
    for node, value in pagerank.items():
        values[node]["pagerank"] = value
    runs.append(AlgorithmRun("pagerank", "networkx.pagerank",
                             {"alpha": settings.pagerank_alpha, "weight": "weight", "tol": 1e-06},
                             time.perf_counter() - started))

    started = time.perf_counter()
    for number, component in enumerate(_ranked_groups(list(nx.connected_components(graph)))):
        for node in component:
            values[node]["component"] = number
            values[node]["component_size"] = len(component)
    runs.append(AlgorithmRun("connected_components", "networkx.connected_components", {},
                             time.perf_counter() - started))

    started = time.perf_counter()
    communities = nx.community.louvain_communities(graph, weight="weight", resolution=settings.louvain_resolution,
                                                   seed=settings.seed)
    for number, community in enumerate(_ranked_groups(communities)):
        for node in community:
            values[node]["community"] = number
            values[node]["community_size"] = len(community)
    runs.append(AlgorithmRun("louvain_communities", "networkx.community.louvain_communities",
                             {"weight": "weight", "resolution": settings.louvain_resolution, "seed": settings.seed},
                             time.perf_counter() - started))
    return NodeMetrics(values, runs)
