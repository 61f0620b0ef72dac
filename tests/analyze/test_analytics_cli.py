"""`kg analyze` and `kg plot` (through their click commands), and the figures they draw."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
import networkx as nx
import pytest
from click.testing import CliRunner

from kg import build, open_store
from kg.analyze import DEFAULT_MAX_EDGES, DEFAULT_MAX_SHARED, analyze
from kg.analyze.plot import draw_degree_distribution, draw_projection, packed_layout, save_figure
from kg.cli import analytics
from kg.errors import KGError
from kg.store.base import Store
from tests.conftest import EXAMPLES

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def kg() -> click.Group:
    group = click.Group("kg")
    analytics.register(group)
    return group


@pytest.fixture()
def store_dir(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    with open_store(path) as store:
        build([EXAMPLES], store)
    return path


def test_cli_defaults_are_the_library_defaults() -> None:
    assert (analytics.MAX_SHARED, analytics.MAX_EDGES) == (DEFAULT_MAX_SHARED, DEFAULT_MAX_EDGES)


def test_analyze_writes_the_table_and_the_store(kg: click.Group, store_dir: Path, tmp_path: Path) -> None:
    table = tmp_path / "trial-trial.csv"
    result = CliRunner().invoke(kg, ["analyze", "trial-trial", "--store", str(store_dir), "-o", str(table)])
    assert result.exit_code == 0, result.output
    assert "2 nodes, 1 edges" in result.output and "graph/analysis/trial-trial" in result.output
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert sorted(row["label"] for row in rows) == ["NCT01374854", "NCT01719640"]
    with open_store(store_dir, read_only=True) as store:
        assert store.has_graph("https://w3id.org/trialkg/graph/analysis/trial-trial")
    listing = CliRunner().invoke(kg, ["analyze", "--list"])
    assert "sponsor-site" in listing.output and "trial-condition" in listing.output


def test_analyze_without_write_leaves_the_store_alone(kg: click.Group, store_dir: Path) -> None:
    result = CliRunner().invoke(kg, ["analyze", "investigators", "--store", str(store_dir), "--no-write"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("node,label,type")
    with open_store(store_dir, read_only=True) as store:
        assert not store.has_graph("https://w3id.org/trialkg/graph/analysis/investigators")


def test_analyze_errors(kg: click.Group, store_dir: Path, tmp_path: Path) -> None:
    unknown = CliRunner().invoke(kg, ["analyze", "nope", "--store", str(store_dir)])
    assert isinstance(unknown.exception, KGError) and "no projection 'nope'" in str(unknown.exception)
    missing = CliRunner().invoke(kg, ["analyze", "trial-trial", "--store", str(tmp_path / "none")])
    assert isinstance(missing.exception, KGError)
    assert CliRunner().invoke(kg, ["analyze"]).exit_code == 2


def test_plot_writes_pngs(kg: click.Group, store_dir: Path, tmp_path: Path) -> None:
    for extra, name in (([], "network.png"), (["--degree-distribution"], "degrees.png")):
        out = tmp_path / name
        result = CliRunner().invoke(kg, ["plot", "trial-condition", "--store", str(store_dir), "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(PNG) and out.stat().st_size > 10_000


def test_drawings_of_the_sample_data(sample_store: Store) -> None:
    graph, _ = analyze(sample_store, "trial-condition")
    figure = draw_projection(graph, max_nodes=120, labels=10)
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert 0 < len(texts) <= 10  # only the top nodes are labelled
    assert "showing the" in figure.axes[0].get_title()  # a subset is drawn and said so
    out = io.BytesIO()
    save_figure(figure, out)
    assert out.getvalue().startswith(PNG)
    save_figure(draw_degree_distribution(graph), out)


def test_labels_never_overlap() -> None:
    graph = nx.les_miserables_graph()
    nx.set_node_attributes(graph, {node: node for node in graph}, "label")
    figure = draw_projection(graph, labels=40)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [text.get_window_extent(renderer) for text in figure.axes[0].texts]
    assert len(boxes) >= 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_packed_layout_keeps_components_apart() -> None:
    graph = nx.disjoint_union_all([nx.complete_graph(5), nx.path_graph(3), nx.path_graph(2)])
    position = packed_layout(graph)
    boxes = []
    for component in nx.connected_components(graph):
        xs = [position[node][0] for node in component]
        ys = [position[node][1] for node in component]
        boxes.append((min(xs), max(xs), min(ys), max(ys)))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[1] < b[0] or b[1] < a[0] or a[3] < b[2] or b[3] < a[2]
