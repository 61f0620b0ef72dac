"""``kg export``: the graph as RDF files, or a network projection for Gephi.

Example:
    >>> [c.name for c in COMMANDS]
    ['export']
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click

from kg.cli.common import open_existing, progress_callback, store_option
from kg.cli.progress import bar as progress_bar
from kg.cli.progress import progress_option, total_setter, wanted
from kg.store.base import Store

EXPORT_FORMATS = ("turtle", "ntriples", "nquads", "trig", "jsonld", "gexf", "graphml")
GRAPH_FORMATS = {"gexf", "graphml"}


@click.command("export")
@store_option
@click.option("--format", "export_format", type=click.Choice(EXPORT_FORMATS), default="turtle", show_default=True)
@click.option("--projection", default=None, help="For gexf/graphml: the network to export (see `kg analyze --help`).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Output file (default: stdout).")
@progress_option
def export_command(store_path: Path | None, export_format: str, projection: str | None, output: Path | None,
                   progress: bool | None) -> None:
    """Export the graph: nquads/trig keep the named graphs; turtle/ntriples/jsonld merge them;
    gexf/graphml write a network projection for Gephi.

    \b
    Example:
        kg export --format turtle -o trials.ttl
        kg export --format nquads -o trials.nq
        kg export --format gexf --projection trial-trial -o trials.gexf
    """
    from kg.export.rdf import export_rdf

    if export_format in GRAPH_FORMATS and not projection:
        raise click.UsageError(f"--format {export_format} needs --projection NAME")

    def write(store: Store, handle: IO[bytes]) -> None:
        if export_format in GRAPH_FORMATS:
            from kg.export.graphs import export_projection

            export_projection(store, handle, export_format, projection or "")
            return
        # The total is known once the store's triples are sorted; the bar starts counting then.
        unit = " quads" if export_format == "nquads" else " triples"
        bar = progress_bar(wanted(progress), "exporting", unit)
        try:
            export_rdf(store, handle, export_format, progress=progress_callback(bar), on_total=total_setter(bar))
        finally:
            if bar is not None:
                bar.close()

    with open_existing(store_path) as store:
        if output is None:
            write(store, sys.stdout.buffer)
        else:
            with output.open("wb") as handle:
                write(store, handle)


COMMANDS = (export_command,)
