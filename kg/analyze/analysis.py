"""One analysis: a projection, its node metrics, and a table of both, with how they were made.

Why a table beside the graph: the graph goes to Gephi and networkx, the table to pandas, CSV
and the store; both carry the same numbers. The table also keeps the analysis' provenance
(projection options, algorithms and parameters, software versions, times), which the
write-back (:mod:`kg.analyze.writeback`) states in PROV-O.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> graph, table = analyze(store, "trial-trial")
    >>> [row["label"] for row in table.records()], table.columns[:3]
    (['NCT01374854', 'NCT01719640'], ('node', 'label', 'type'))
"""

from __future__ import annotations

import csv
import io
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import IO, TYPE_CHECKING

import networkx as nx

from kg.analyze.metrics import METRIC_COLUMNS, AlgorithmRun, MetricSettings, compute_metrics
from kg.analyze.projections import DEFAULT_MAX_EDGES, DEFAULT_MAX_SHARED, project
from kg.rdf.provenance import extraction_time
from kg.store.base import Store
from kg.version import __version__

if TYPE_CHECKING:
    import pandas

# Attribute columns in reading order; any others follow alphabetically.
_ATTRIBUTE_ORDER = ("title", "status", "phase", "study_type", "enrollment", "sponsor", "agency_class", "city",
                    "country", "countries", "sites", "exclusion_criteria", "criteria", "trials", "pi_trials",
                    "publications")
_SOFTWARE = ("networkx", "scipy", "pyoxigraph")


@dataclass(frozen=True, slots=True)
class AnalysisProvenance:
    """How an analysis was made: enough to repeat it and to describe it in PROV-O."""

    projection: str
    options: dict[str, int]
    runs: list[AlgorithmRun]
    started: str
    ended: str
    seconds: dict[str, float]
    software: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeTable:
    """One row per node: ``node`` (IRI), ``label``, ``type``, attributes, then metrics."""

    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]
    provenance: AnalysisProvenance | None = None

    def records(self) -> list[dict[str, object]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_csv(self, out: IO[str] | None = None) -> str:
        """CSV with a header; floats with 6 significant digits, so reruns diff cleanly."""
        buffer = out if out is not None else io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if value is None else f"{value:.6g}" if isinstance(value, float) else value
                             for value in row])
        return buffer.getvalue() if isinstance(buffer, io.StringIO) and out is None else ""

    def to_pandas(self) -> pandas.DataFrame:
        """The table as a DataFrame indexed by node (needs pandas)."""
        import pandas

        return pandas.DataFrame.from_records(self.rows, columns=list(self.columns)).set_index("node")


def software_versions() -> dict[str, str]:
    versions = {"trialkg": __version__, "python": platform.python_version()}
    for name in _SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def node_table(graph: nx.Graph, provenance: AnalysisProvenance | None = None) -> NodeTable:
    """The graph's nodes as a table, heaviest first (weighted degree, degree, then IRI)."""
    present = {key for _, data in graph.nodes(data=True) for key in data}
    attributes = [name for name in _ATTRIBUTE_ORDER if name in present]
    attributes += sorted(present - set(attributes) - {"label", "type"} - set(METRIC_COLUMNS))
    metrics = [name for name in METRIC_COLUMNS if name in present]
    columns = ("node", "label", "type", *attributes, *metrics)

    def order(item: tuple[str, dict[str, object]]) -> tuple[float, float, str]:
        node, data = item
        return (-float(str(data.get("weighted_degree", 0))), -float(str(data.get("degree", 0))), node)

    rows = [(node, *(data.get(name) for name in columns[1:])) for node, data in sorted(graph.nodes(data=True),
                                                                                       key=order)]
    return NodeTable(columns, rows, provenance)


def analyze(store: Store, name: str, *, max_shared: int | None = DEFAULT_MAX_SHARED, min_weight: int = 1,
            max_edges: int | None = DEFAULT_MAX_EDGES, settings: MetricSettings | None = None
            ) -> tuple[nx.Graph, NodeTable]:
    """Project, compute every node metric, and return the annotated graph and its table.

    The graph's nodes carry the metrics as attributes (for exports); the table carries the
    provenance.
    """
    started = extraction_time()
    clock = time.perf_counter()
    graph = project(store, name, max_shared=max_shared, min_weight=min_weight, max_edges=max_edges)
    projected = time.perf_counter()
    metrics = compute_metrics(graph, settings)
    for node, values in metrics.values.items():
        graph.nodes[node].update(values)
    done = time.perf_counter()
    options = {key: int(graph.graph[key]) for key in ("max_shared", "max_edges", "min_weight")}
    provenance = AnalysisProvenance(
        projection=name, options=options, runs=metrics.runs, started=started, ended=extraction_time(),
        seconds={"projection": round(projected - clock, 3), "metrics": round(done - projected, 3)},
        software=software_versions())
    return graph, node_table(graph, provenance)
