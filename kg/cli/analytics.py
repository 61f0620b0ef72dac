"""``kg analyze`` and ``kg plot``: network analyses of the store on the command line.

Thin wrappers over :mod:`kg.analyze`: the library projects, measures and draws; these
commands open the store, pick options, write the CSV table, the write-back graph and the
PNG files, and report in one line on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from kg.cli.common import open_existing, store_option
from kg.store.base import Store

# The library's defaults (kg.analyze.projections), repeated so that `kg --help` does not import
# networkx; a test keeps them equal.
MAX_SHARED = 50
MAX_EDGES = 200_000


def register(cli: click.Group) -> None:
    """Add the analytics commands to the ``kg`` group."""
    cli.add_command(analyze_command)
    cli.add_command(plot_command)


def _open(store_path: Path | None, *, read_only: bool = False) -> Store:
    return open_existing(store_path, read_only=read_only)


def _projection_names() -> list[str]:
    from kg.analyze import PROJECTIONS

    return sorted(PROJECTIONS)


def _projection_options(function):  # type: ignore[no-untyped-def]
    """Options shared by the commands that build a projection."""
    options = [
        store_option,
        click.option("--max-shared", type=click.IntRange(min=0), default=MAX_SHARED, show_default=True,
                     help="Things (sites, criteria...) shared by more nodes make no edges; 0: no cap."),
        click.option("--min-weight", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Leave out edges lighter than this."),
        click.option("--max-edges", type=click.IntRange(min=0), default=MAX_EDGES, show_default=True,
                     help="Keep the heaviest edges within this budget (raises the weight threshold); 0: all."),
        click.option("--seed", type=int, default=42, show_default=True, help="Seed of the sampled algorithms."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("analyze")
@click.argument("name", required=False)
@_projection_options
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="CSV table of nodes with attributes and metrics (default: stdout).")
@click.option("--write/--no-write", default=True, show_default=True,
              help="Write the metrics into the store (graph https://w3id.org/trialkg/graph/analysis/NAME).")
@click.option("--list", "list_projections", is_flag=True, help="List the projections and exit.")
def analyze_command(name: str | None, store_path: Path | None, max_shared: int, min_weight: int, max_edges: int,
                    seed: int, output: IO[str], write: bool, list_projections: bool) -> None:
    """Project the store onto a network, compute node metrics, write a CSV table and the store.

    Metrics: degree, weighted degree, betweenness (sampled on large graphs), PageRank,
    connected components, Louvain communities (seeded). Written back with PROV-O: which
    projection, algorithms, parameters, software versions and times.

    \b
    Example:
        kg analyze --list
        kg analyze trial-trial -o trial-trial.csv
        kg analyze investigators --max-shared 100 --no-write
        kg query my-question.rq   # SPARQL over tkg:NodeMeasurement (tkg:pageRank, tkg:community...)
    """
    from kg.analyze import PROJECTIONS, MetricSettings, analyze
    from kg.analyze.writeback import write_metrics

    if list_projections:
        for projection in PROJECTIONS.values():
            click.echo(f"{projection.name}\n    {projection.description}")
        return
    if not name:
        raise click.UsageError(f"give a projection NAME ({', '.join(_projection_names())}) or --list")
    with _open(store_path, read_only=not write) as store:
        graph, table = analyze(store, name, max_shared=max_shared or None, min_weight=min_weight,
                               max_edges=max_edges or None, settings=MetricSettings(seed=seed))
        table.to_csv(output)
        target = write_metrics(store, graph, table) if write else None
    communities = len({row["community"] for row in table.records()})
    components = len({row["component"] for row in table.records()})
    seconds = sum(table.provenance.seconds.values()) if table.provenance else 0.0
    threshold = graph.graph.get("min_weight", 1)
    click.echo(f"{name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges "
               f"(weight >= {threshold}), {components} components, {communities} communities, {seconds:.1f} s"
               + (f"; metrics written to <{target}>" if target else ""), err=True)


@click.command("plot")
@click.argument("name")
@_projection_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="PNG file to write.")
@click.option("--degree-distribution", is_flag=True, help="Plot the degree distribution instead of the network.")
@click.option("--color", "color_by", type=click.Choice(["community", "type"]), default=None,
              help="Colour nodes by Louvain community or node type (default: type for two-mode projections).")
@click.option("--max-nodes", type=click.IntRange(min=2), default=250, show_default=True,
              help="Draw only the nodes of the heaviest edges, up to this many.")
@click.option("--labels", type=click.IntRange(min=0), default=12, show_default=True,
              help="Label this many top nodes by PageRank (overlapping labels are dropped).")
def plot_command(name: str, store_path: Path | None, max_shared: int, min_weight: int, max_edges: int, seed: int,
                 output: Path, degree_distribution: bool, color_by: str | None, max_nodes: int, labels: int) -> None:
    """Draw a projection (or its degree distribution) as a PNG.

    \b
    Example:
        kg plot trial-trial -o trial-trial.png
        kg plot sponsor-site -o sponsor-site.png --max-nodes 400
        kg plot investigators --degree-distribution -o investigators-degrees.png
    """
    from kg.analyze import MetricSettings, analyze
    from kg.analyze.plot import draw_degree_distribution, draw_projection, save_figure

    with _open(store_path, read_only=True) as store:
        graph, _table = analyze(store, name, max_shared=max_shared or None, min_weight=min_weight,
                                max_edges=max_edges or None, settings=MetricSettings(seed=seed))
    if degree_distribution:
        figure = draw_degree_distribution(graph)
    else:
        figure = draw_projection(graph, color_by=color_by, max_nodes=max_nodes, labels=labels, seed=seed)
    save_figure(figure, output)
    click.echo(f"{name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges -> {output}",
               err=True)

