"""The ``kg`` command: thin click commands over the library, one module per concept.

Every command calls library functions and formats their results; user errors
(:class:`~kg.errors.KGError`) become one line on stderr and a non-zero exit code. The
commands are listed here, explicitly, by concept:

- :mod:`~kg.cli.build`: build, formats
- :mod:`~kg.cli.query`: queries, query, stats
- :mod:`~kg.cli.export`: export
- :mod:`~kg.cli.fetch`: fetch
- :mod:`~kg.cli.serve`: serve, push, sync
- :mod:`~kg.cli.publications`: PubMed records and investigator-author links
- :mod:`~kg.cli.resolution`: resolve, evaluate-resolution
- :mod:`~kg.cli.quality`: validate
- :mod:`~kg.cli.analytics`: analyze, plot
"""

from __future__ import annotations

import sys

import click

from kg.cli import analytics, build, export, fetch, publications, quality, query, resolution, serve
from kg.errors import KGError
from kg.version import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trialkg")
def cli() -> None:
    """trialkg: clinical-trial registrations and PubMed records as an RDF knowledge graph.

    \b
    Example:
        kg build examples/          # the two seed pages into ./kg-store
        kg query --all              # every canned query
        kg query shared-principal-investigator --format csv
    """


for _module in (build, query, export, fetch):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
for _group in (serve, publications, resolution, quality, analytics):
    _group.register(cli)


def main() -> None:
    """Console entry point: user errors become one line on stderr, never a traceback."""
    try:
        cli.main(standalone_mode=False, prog_name="kg")
    except click.exceptions.Abort:
        click.echo("kg: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except KGError as error:
        click.echo(f"kg: error: {error}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
