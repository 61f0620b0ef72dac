"""Pictures of a projection: a network drawing and its degree distribution (matplotlib, Agg).

Why these choices: a drawing is for seeing structure at a glance, so it must stay legible at
any size. Large graphs are drawn as their most connected nodes only (``max_nodes``, by
weighted degree; isolated nodes left out); node size follows degree; colour follows the
Louvain community (one-mode projections) or the node type (two-mode ones); only the top
nodes by PageRank are labelled, and a label that would overlap one already placed is
dropped. Figures are built without pyplot (no global state, no display needed) and returned;
:func:`save_figure` writes them.

Example:
    >>> import networkx as nx
    >>> figure = draw_projection(nx.karate_club_graph(), title="karate club")
    >>> len(figure.axes)
    1
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from pathlib import Path
from typing import IO

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

COMMUNITY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                     "#bcbd22")
OTHER_COLOUR = "#c7c7c7"
SMALL_GRAPH = 12  # up to this many nodes (edges): bigger nodes, titles in labels, edge summaries
TYPE_COLOURS = {"trial": "#1f77b4", "person": "#9467bd", "sponsor": "#ff7f0e", "site": "#2ca02c",
                "condition": "#d62728"}


def _ranked(graph: nx.Graph, key: str, fallback: dict[str, float]) -> list[str]:
    """Nodes by an attribute (or a fallback score), largest first, ties by node."""
    return sorted(graph, key=lambda node: (-float(graph.nodes[node].get(key, fallback.get(node, 0.0))), str(node)))


def _subgraph(graph: nx.Graph, max_nodes: int) -> nx.Graph:
    """The nodes of the heaviest edges (ties: the busier end first) until ``max_nodes``, so
    every drawn node has an edge; the subgraph they induce."""
    if graph.number_of_nodes() <= max_nodes:
        chosen = {node for node in graph if graph.degree(node) > 0}
        return graph.subgraph(chosen).copy()
    strength = dict(graph.degree(weight="weight"))

    def order(edge: tuple[str, str, dict[str, object]]) -> tuple[float, float, str, str]:
        u, v, data = edge
        return (-float(str(data.get("weight", 1))), -max(strength[u], strength[v]), str(min(u, v, key=str)),
                str(max(u, v, key=str)))

    chosen = set()
    for u, v, _ in sorted(graph.edges(data=True), key=order):
        if len(chosen | {u, v}) > max_nodes:
            if len(chosen) >= max_nodes - 1:
                break
            continue
        chosen.update((u, v))
    return graph.subgraph(chosen).copy()


def packed_layout(graph: nx.Graph, seed: int = 42) -> dict[str, tuple[float, float]]:
    """A spring layout per connected component, components packed in rows, largest first.

    One spring layout of a disconnected graph pushes small components to the rim and squeezes
    the large one into the middle; laying out each component in a box sized by its node count
    and shelving the boxes keeps every component legible.
    """
    components = sorted((sorted(c, key=str) for c in nx.connected_components(graph)),
                        key=lambda c: (-len(c), str(c[0])))
    boxes = []
    for component in components:
        part = graph.subgraph(component)
        side = math.sqrt(len(component)) * (0.6 if len(component) <= 3 else 1.0)  # pairs need little room
        if len(component) == 1:
            local = {component[0]: (0.0, 0.0)}
        else:
            local = nx.spring_layout(part, k=1.8 / side, iterations=200, weight="layout_weight", seed=seed,
                                     center=(0.0, 0.0), scale=1.0)
        boxes.append((side, {node: (float(x) * side / 2, float(y) * side / 2) for node, (x, y) in local.items()}))
    width = max(boxes[0][0], 1.3 * math.sqrt(sum(side * side for side, _ in boxes))) if boxes else 0.0
    position: dict[str, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for side, local in boxes:
        cell = side + 0.6  # room around each component for labels
        if x > 0 and x + cell > width:
            x, y, row_height = 0.0, y - row_height, 0.0
        for node, (px, py) in local.items():
            position[node] = (x + cell / 2 + px, y - cell / 2 + py)
        x += cell
        row_height = max(row_height, cell)
    return position


def _communities(graph: nx.Graph, seed: int) -> dict[str, int]:
    if all("community" in data for _, data in graph.nodes(data=True)):
        return {node: int(graph.nodes[node]["community"]) for node in graph}
    groups = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    ranked = sorted(groups, key=lambda group: (-len(group), min(map(str, group))))
    return {node: number for number, group in enumerate(ranked) for node in group}


def draw_projection(graph: nx.Graph, *, color_by: str | None = None, max_nodes: int = 250, labels: int = 12,
                    seed: int = 42, title: str | None = None) -> Figure:
    """A drawing of the graph (its ``max_nodes`` most connected nodes), coloured by
    ``community`` or ``type`` (default: type when there are several node types)."""
    sub = _subgraph(graph, max_nodes)
    types = Counter(str(data.get("type", "node")) for _, data in sub.nodes(data=True))
    color_by = color_by or ("type" if len(types) > 1 else "community")
    small = sub.number_of_nodes() <= SMALL_GRAPH
    figure = Figure(figsize=(8, 5.5) if small else (11, 9), layout="constrained")
    axes = figure.add_subplot()
    axes.set_axis_off()
    name = title or str(graph.graph.get("projection", "graph"))
    shown = (f"the {sub.number_of_nodes()} most connected nodes and their {sub.number_of_edges()} edges"
             if sub.number_of_nodes() < graph.number_of_nodes() else "all nodes")
    axes.set_title(f"{name}: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges\n"
                   f"showing {shown}; size = degree, colour = {color_by}", fontsize=11)
    if sub.number_of_nodes() == 0:
        axes.text(0.5, 0.5, "no edges to draw", ha="center", va="center", transform=axes.transAxes)
        return figure

    for u, v, data in sub.edges(data=True):  # heavy edges pull, but only logarithmically
        sub.edges[u, v]["layout_weight"] = 1.0 + math.log1p(float(data.get("weight", 1)))
    position = packed_layout(sub, seed)

    weights = [float(data.get("weight", 1)) for _, _, data in sub.edges(data=True)]
    heaviest = math.log1p(max(weights, default=1.0)) or 1.0
    segments = [(position[u], position[v]) for u, v in sub.edges()]
    axes.add_collection(LineCollection(segments, colors="#555555", alpha=0.25, zorder=1,
                                       linewidths=[0.3 + 1.7 * math.log1p(w) / heaviest for w in weights]))

    nodes = sorted(sub, key=str)
    degrees = dict(sub.degree())
    most = max(degrees.values()) or 1
    sizes = [(200 if small else 20) + 280 * math.sqrt(degrees[node] / most) for node in nodes]
    colours, legend = _colours(sub, nodes, color_by, seed)
    axes.scatter([position[n][0] for n in nodes], [position[n][1] for n in nodes], s=sizes, c=colours,
                 edgecolors="white", linewidths=0.6, zorder=2)
    figure.legend(handles=legend, loc="outside right upper", fontsize=8, frameon=False, title=color_by,
                  title_fontsize=9)
    if sub.number_of_edges() <= SMALL_GRAPH:  # few edges: say on each what its ends share
        for u, v, data in sub.edges(data=True):
            (x1, y1), (x2, y2) = position[u], position[v]
            axes.text((x1 + x2) / 2, (y1 + y2) / 2, edge_summary(data), fontsize=8, ha="center", va="center",
                      color="#333333", zorder=2,
                      bbox={"boxstyle": "round,pad=0.25", "facecolor": "#f4f4f4", "edgecolor": "#cccccc"})
    axes.set_aspect("equal")
    axes.autoscale_view()
    axes.margins(0.12 if small else 0.03)
    _labels(figure, axes, sub, position, labels, detailed=small)
    return figure


def edge_summary(data: dict[str, object]) -> str:
    """What an edge stands for, in a few words: its non-zero shared counts, else its weight.

    Example:
        >>> edge_summary({"shared_pi": 1, "shared_site": 0, "shared_exclusion": 27, "weight": 28})
        'principal investigator: 1\\nexclusion criteria: 27'
    """
    names = {"shared_pi": "principal investigator", "shared_exclusion": "exclusion criteria",
             "shared_criteria": "criteria"}
    parts = [f"{names.get(key, key.removeprefix('shared_').replace('_', ' '))}: {value}"
             for key, value in data.items() if key.startswith("shared_") and value]
    if "jaccard" in data:
        parts.append(f"Jaccard {float(str(data['jaccard'])):.2f}")
    return "\n".join(parts) or f"weight {data.get('weight', 1)}"


def _colours(sub: nx.Graph, nodes: list[str], color_by: str, seed: int) -> tuple[list[str], list[Line2D]]:
    def handle(colour: str, text: str) -> Line2D:
        return Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor=colour,
                      markeredgecolor="white", label=text)

    if color_by == "type":
        kinds = [str(sub.nodes[node].get("type", "node")) for node in nodes]
        by_kind = {kind: TYPE_COLOURS.get(kind, COMMUNITY_COLOURS[i % len(COMMUNITY_COLOURS)])
                   for i, kind in enumerate(sorted(set(kinds)))}
        per_kind = Counter(kinds)
        return ([by_kind[kind] for kind in kinds],
                [handle(by_kind[k], f"{k} ({per_kind[k]})") for k in sorted(by_kind)])
    community = _communities(sub, seed)
    # Colour the communities that are largest among the drawn nodes; the rest are grey.
    drawn = Counter(community[node] for node in nodes)
    top = [number for number, _ in sorted(drawn.items(), key=lambda item: (-item[1], item[0]))]
    palette = {number: COMMUNITY_COLOURS[i] for i, number in enumerate(top[:len(COMMUNITY_COLOURS)])}
    legend = [handle(palette[number], f"community {number} ({drawn[number]} shown)") for number in palette]
    if len(top) > len(palette):
        legend.append(handle(OTHER_COLOUR, f"{len(top) - len(palette)} smaller communities"))
    return [palette.get(community[node], OTHER_COLOUR) for node in nodes], legend


# Where a label may sit around its node (offset in points, alignment), tried in this order.
_PLACES = (((5, 5), "left", "bottom"), ((-5, 5), "right", "bottom"), ((5, -5), "left", "top"),
           ((-5, -5), "right", "top"))


def _labels(figure: Figure, axes: Axes, sub: nx.Graph, position: dict[str, tuple[float, float]], count: int,
            detailed: bool = False) -> None:
    """Labels for the top nodes by PageRank, each at the first place around its node that stays
    inside the drawing and overlaps no label placed before; a label with no such place is left
    out (``detailed``: with the node's title, for small graphs)."""
    if count <= 0:
        return
    # Settle the layout first and freeze it: label boxes are measured in pixels, and a layout
    # pass after placing them would rescale the axes under them.
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    figure.set_layout_engine("none")
    renderer = canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    known = all("pagerank" in data for _, data in sub.nodes(data=True))
    pagerank = {} if known else nx.pagerank(sub, weight="weight")
    placed: list[Bbox] = []
    for node in _ranked(sub, "pagerank", pagerank)[: count * 3]:
        if len(placed) >= count:
            break
        text = str(sub.nodes[node].get("label", node))
        text = text if len(text) <= 32 else text[:31] + "…"
        if detailed and sub.nodes[node].get("title"):
            title = textwrap.shorten(str(sub.nodes[node]["title"]), 90, placeholder="…")
            text = "\n".join([text, *textwrap.wrap(title, 34)])
        for offset, horizontal, vertical in _PLACES:
            label = axes.annotate(
                text, position[node], xytext=offset, textcoords="offset points", fontsize=8, zorder=3,
                ha=horizontal, va=vertical,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
            box = label.get_window_extent(renderer).padded(3)  # the white box around the text, and a gap
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()


def draw_degree_distribution(graph: nx.Graph, *, title: str | None = None) -> Figure:
    """Degree histogram (log-binned when degrees span decades) and the complementary CDF on
    log-log axes, one series per node type."""
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    histogram, ccdf = figure.subplots(1, 2)
    name = title or str(graph.graph.get("projection", "graph"))
    figure.suptitle(f"{name}: degree distribution ({graph.number_of_nodes():,} nodes)", fontsize=11)
    by_type: dict[str, list[int]] = {}
    for node, degree in graph.degree():
        by_type.setdefault(str(graph.nodes[node].get("type", "node")), []).append(degree)
    highest = max((max(values) for values in by_type.values()), default=0)
    bins: list[float] | int = (list(sorted({0.5, *[10 ** (i / 4) for i in range(0, 4 * math.ceil(
        math.log10(highest + 1)) + 1)]})) if highest > 50 else max(1, highest + 1))
    for index, (kind, degrees) in enumerate(sorted(by_type.items())):
        colour = TYPE_COLOURS.get(kind, COMMUNITY_COLOURS[index % len(COMMUNITY_COLOURS)])
        histogram.hist(degrees, bins=bins, histtype="step", linewidth=1.5, color=colour,
                       label=f"{kind} ({len(degrees)})")
        counts = Counter(d for d in degrees if d > 0)
        if counts:
            ks = sorted(counts)
            at_least, share = sum(counts.values()), []
            for k in ks:  # share of nodes (with degree >= 1) whose degree is at least k
                share.append(at_least / sum(counts.values()))
                at_least -= counts[k]
            ccdf.plot(ks, share, marker="o", markersize=3, linewidth=1.2, color=colour, label=kind)
    if highest > 50:
        histogram.set_xscale("log")
    histogram.set_yscale("log")
    histogram.set_xlabel("degree")
    histogram.set_ylabel("nodes")
    histogram.set_title("histogram", fontsize=10)
    histogram.legend(fontsize=8, frameon=False)
    ccdf.set_xscale("log")
    ccdf.set_yscale("log")
    ccdf.set_xlabel("degree k (nodes with k ≥ 1)")
    ccdf.set_ylabel("share of nodes with degree ≥ k")
    ccdf.set_title("complementary cumulative distribution", fontsize=10)
    return figure


def save_figure(figure: Figure, out: str | Path | IO[bytes], dpi: int = 150) -> None:
    """Write a figure as PNG (Agg; no display needed)."""
    FigureCanvasAgg(figure)
    figure.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
