"""Node metrics back into the store, in one named graph per analysis, described with PROV-O.

Why write back: once PageRank or a community is a triple, SPARQL can use it beside everything
else ("the most central investigators of completed phase 3 trials"), linked-data tools see it,
and exports carry it. Metrics depend on the projection (a trial's degree among trials is not
its degree among conditions), so they hang on a measurement node per (analysis, node), not on
the node itself:

    res:analysis/trial-trial/node/1f2e... a tkg:NodeMeasurement ;
        tkg:measuredNode <https://clinicaltrials.gov/study/NCT01374854> ;
        tkg:nodeDegree 1 ; tkg:pageRank 0.5e0 ; tkg:community 0 ;
        prov:wasGeneratedBy res:analysis/trial-trial .

The activity states the projection and its parameters, each algorithm (a prov:Plan) with its
implementation, parameters and duration, the software (with versions) and the times. The
graph is ``https://w3id.org/trialkg/graph/analysis/NAME``; re-running replaces it. With
``$SOURCE_DATE_EPOCH`` set, times are that moment and durations are left out, so two runs on
the same store write the same graph.

Example:
    >>> from kg import build, open_store
    >>> from kg.analyze.analysis import analyze
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> graph, table = analyze(store, "trial-trial")
    >>> write_metrics(store, graph, table)
    'https://w3id.org/trialkg/graph/analysis/trial-trial'
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import networkx as nx

from kg.analyze.analysis import AnalysisProvenance, NodeTable
from kg.errors import KGError
from kg.rdf import iris
from kg.rdf.namespaces import (
    GRAPH,
    LABEL,
    PROV,
    PROV_ACTIVITY,
    PROV_ASSOCIATED,
    PROV_ENTITY,
    PROV_GENERATED_AT,
    PROV_GENERATED_BY,
    PROV_STARTED,
    SCHEMA,
    TKG,
    A,
)
from kg.rdf.terms import XSD_DATETIME, XSD_DOUBLE, boolean, decimal, integer, iri, literal, typed
from kg.store.base import Store

PROV_ENDED = f"<{PROV}endedAtTime>"
PROV_PLAN = f"<{PROV}Plan>"
PROV_SOFTWARE_AGENT = f"<{PROV}SoftwareAgent>"
SOFTWARE_VERSION = f"<{SCHEMA}softwareVersion>"
SOFTWARE = "https://w3id.org/trialkg/software/"

# Metric column -> (property, literal encoder).
_METRICS = {
    "degree": ("nodeDegree", "integer"),
    "weighted_degree": ("weightedDegree", "decimal"),
    "betweenness": ("betweenness", "double"),
    "pagerank": ("pageRank", "double"),
    "component": ("component", "integer"),
    "component_size": ("componentSize", "integer"),
    "community": ("community", "integer"),
    "community_size": ("communitySize", "integer"),
}


def analysis_graph(name: str) -> str:
    """The named graph holding one analysis' results."""
    return GRAPH + "analysis/" + name


def _double(value: float) -> str:
    return typed(f"{value:.12g}".replace("inf", "INF").replace("nan", "NaN"), XSD_DOUBLE)


def _value(value: object) -> str:
    """A parameter value as a literal of the matching XSD type."""
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, float):
        return _double(value)
    return literal(str(value))


def _metric(value: object, kind: str) -> str:
    if kind == "integer":
        return integer(int(str(value)))
    if kind == "decimal":
        return decimal(float(str(value)))
    return _double(float(str(value)))


def _provenance_quads(name: str, graph: nx.Graph, provenance: AnalysisProvenance, g: str) -> Iterator[str]:
    activity = iri(iris.resource("analysis", name))
    yield f"{iri(analysis_graph(name))} {A} {PROV_ENTITY} {g} .\n"
    yield f"{iri(analysis_graph(name))} {PROV_GENERATED_BY} {activity} {g} .\n"
    yield f"{iri(analysis_graph(name))} {PROV_GENERATED_AT} {typed(provenance.ended, XSD_DATETIME)} {g} .\n"
    for line in (
        (A, PROV_ACTIVITY), (A, TKG.GraphAnalysis), (LABEL, literal(f"network analysis of the {name} projection")),
        (TKG.projectionName, literal(name)), (TKG.nodeCount, integer(graph.number_of_nodes())),
        (TKG.edgeCount, integer(graph.number_of_edges())), (PROV_STARTED, typed(provenance.started, XSD_DATETIME)),
        (PROV_ENDED, typed(provenance.ended, XSD_DATETIME)),
    ):
        yield f"{activity} {line[0]} {line[1]} {g} .\n"
    # Durations are measurements of this machine, not results: left out of reproducible runs.
    timed = not os.environ.get("SOURCE_DATE_EPOCH")
    if timed:
        yield f"{activity} {TKG.durationSeconds} {decimal(round(sum(provenance.seconds.values()), 3))} {g} .\n"
    yield from _parameters(activity, iris.resource("analysis", name, "parameter"), provenance.options, g)
    for software, version in sorted(provenance.software.items()):
        agent = iri(SOFTWARE + (version if software == "trialkg" else f"{software}/{version}"))
        yield f"{activity} {PROV_ASSOCIATED} {agent} {g} .\n"
        yield f"{agent} {A} {PROV_SOFTWARE_AGENT} {g} .\n"
        yield f"{agent} {LABEL} {literal(f'{software} {version}')} {g} .\n"
        yield f"{agent} {SOFTWARE_VERSION} {literal(version)} {g} .\n"
    for run in provenance.runs:
        algorithm = iri(iris.resource("analysis", name, "algorithm", run.name))
        yield f"{activity} {TKG.usedAlgorithm} {algorithm} {g} .\n"
        yield f"{algorithm} {A} {TKG.Algorithm} {g} .\n"
        yield f"{algorithm} {A} {PROV_PLAN} {g} .\n"
        yield f"{algorithm} {LABEL} {literal(run.name)} {g} .\n"
        yield f"{algorithm} {TKG.implementation} {literal(run.implementation)} {g} .\n"
        if timed:
            yield f"{algorithm} {TKG.durationSeconds} {decimal(round(run.seconds, 3))} {g} .\n"
        yield from _parameters(algorithm, iris.resource("analysis", name, "algorithm", run.name, "parameter"),
                               run.parameters, g)


def _parameters(owner: str, base: str, parameters: Mapping[str, object], g: str) -> Iterator[str]:
    for key, value in sorted(parameters.items()):
        node = iri(base + "/" + iris.slug(key))
        yield f"{owner} {TKG.hasParameter} {node} {g} .\n"
        yield f"{node} {A} {TKG.AlgorithmParameter} {g} .\n"
        yield f"{node} {TKG.parameterName} {literal(key)} {g} .\n"
        yield f"{node} {TKG.parameterValue} {_value(value)} {g} .\n"


def metrics_quads(graph: nx.Graph, table: NodeTable) -> Iterator[str]:
    """The analysis graph as N-Quads lines: provenance, then one measurement per node (sorted)."""
    if table.provenance is None:
        raise KGError("this table has no provenance: make it with kg.analyze.analyze()")
    name = table.provenance.projection
    g = iri(analysis_graph(name))
    activity = iri(iris.resource("analysis", name))
    yield from _provenance_quads(name, graph, table.provenance, g)
    for node in sorted(graph):
        data = graph.nodes[node]
        measurement = iri(iris.resource("analysis", name, "node", iris.text_hash(node)))
        yield f"{measurement} {A} {TKG.NodeMeasurement} {g} .\n"
        yield f"{measurement} {PROV_GENERATED_BY} {activity} {g} .\n"
        yield f"{measurement} {TKG.measuredNode} {iri(node)} {g} .\n"
        for column, (prop, kind) in _METRICS.items():
            if data.get(column) is not None:
                yield f"{measurement} {getattr(TKG, prop)} {_metric(data[column], kind)} {g} .\n"


def write_metrics(store: Store, graph: nx.Graph, table: NodeTable, chunk_lines: int = 200_000) -> str:
    """Replace the analysis graph of ``table``'s projection with its metrics; returns the graph IRI."""
    if table.provenance is None:
        raise KGError("this table has no provenance: make it with kg.analyze.analyze()")
    target = analysis_graph(table.provenance.projection)
    store.remove_graphs([target])
    chunk: list[str] = []
    for line in metrics_quads(graph, table):
        chunk.append(line)
        if len(chunk) >= chunk_lines:
            store.load_nquads("".join(chunk).encode("utf-8"))
            chunk.clear()
    store.load_nquads("".join(chunk).encode("utf-8"))
    store.flush()
    return target
