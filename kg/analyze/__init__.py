"""Network analyses of the knowledge graph: projections to networkx, metrics, write-back, plots.

Why a package of its own: the RDF graph answers "who shares what" by query; network questions
(clusters, bridges, central nodes) need a graph library. This package projects the store onto
networkx graphs by name (the store does the counting), computes seeded, described metrics,
and writes them back into the store as an analysis named graph with PROV-O provenance.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> sorted(PROJECTIONS)
    ['criteria-similarity', 'investigators', 'sponsor-site', 'trial-condition', 'trial-trial']
    >>> graph, table = analyze(store, "trial-trial")
    >>> graph.number_of_nodes(), graph.number_of_edges()
    (2, 1)
"""

from __future__ import annotations

from kg.analyze import similarity as _similarity  # noqa: F401 - registers criteria-similarity
from kg.analyze.analysis import AnalysisProvenance, NodeTable, analyze, node_table
from kg.analyze.metrics import MetricSettings, compute_metrics
from kg.analyze.projections import (
    DEFAULT_MAX_EDGES,
    DEFAULT_MAX_SHARED,
    PROJECTIONS,
    Projection,
    get_projection,
    project,
    register_projection,
)
from kg.analyze.similarity import criteria_jaccard

__all__ = [
    "DEFAULT_MAX_EDGES",
    "DEFAULT_MAX_SHARED",
    "PROJECTIONS",
    "AnalysisProvenance",
    "MetricSettings",
    "NodeTable",
    "Projection",
    "analyze",
    "compute_metrics",
    "criteria_jaccard",
    "get_projection",
    "node_table",
    "project",
    "register_projection",
]
