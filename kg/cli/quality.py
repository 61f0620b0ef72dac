"""Quality gates on the command line: ``kg validate`` checks a store against the SHACL shapes.

Why a command: a build reports the records it could not read, but only validation
says whether what it did load is a correct graph (an NCT id on every trial, integer
enrollments, a role type on every role...). The exit code makes it a CI gate.

Example:
    kg build examples/ --store kg-store
    kg validate --store kg-store              # every record graph
    kg validate --store registry --sample 1000 --jobs 2
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.cli.common import existing_store_dir, store_option
from kg.cli.progress import progress_option, ticking, wanted
from kg.store import open_store
from kg.validate import ValidationReport, validate

# Above this many record graphs, `kg validate` without --sample checks a sample.
AUTO_SAMPLE_ABOVE = 5000
AUTO_SAMPLE = 1000


def register(cli: click.Group) -> None:
    """Add the quality commands to the ``kg`` group."""
    cli.add_command(validate_command)


@click.command("validate")
@store_option
@click.option("--sample", type=int, default=None, metavar="N",
              help=f"Check N record graphs (chosen deterministically) and the nodes they reference; "
                   f"0 checks all. Default: all, or {AUTO_SAMPLE} when the store has more than "
                   f"{AUTO_SAMPLE_ABOVE}.")
@click.option("--jobs", "-j", type=int, default=1, show_default=True, help="Worker processes running pySHACL.")
@click.option("--limit", type=int, default=50, show_default=True, help="Print at most this many results.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Write every result as JSON here.")
@progress_option
def validate_command(store_path: Path | None, sample: int | None, jobs: int, limit: int,
                     report_path: Path | None, progress: bool | None) -> None:
    """Validate the store against the trialkg SHACL shapes (ontology/shapes.ttl).

    Prints each result (focus node, property, message, shape), then the count per
    shape. Exits non-zero when there is any violation.

    \b
    Example:
        kg validate --store kg-store
        kg validate --sample 500 --jobs 2 --report validation.json
    """
    path = existing_store_dir(store_path)
    if sample is not None and sample < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--sample")
    with open_store(path, read_only=True) as store:
        if sample is None:
            records = sum(1 for graph in store.graphs() if not graph.endswith("/meta"))
            sample = AUTO_SAMPLE if records > AUTO_SAMPLE_ABOVE else 0
        with ticking(wanted(progress), "validating (pySHACL)"):
            report = validate(store, sample=sample or None, jobs=max(1, jobs))
    if report_path is not None:
        report_path.write_bytes(report.to_json())
    _print_report(report, path, limit)
    if not report.conforms:
        sys.exit(1)


def _print_report(report: ValidationReport, path: Path, limit: int) -> None:
    for result in report.results[:limit]:
        click.echo(str(result))
    if len(report.results) > limit:
        click.echo(f"... and {len(report.results) - limit} more (see --report)")
    if report.results:
        click.echo("by shape:")
        for shape, severity, count in report.by_shape():
            click.echo(f"  {count:>6}  {severity.lower():<9}  {shape}")
    scope = (f"{report.graphs_checked} of {report.graphs_total} record graphs (sample)" if report.sampled
             else f"all {report.graphs_total} record graphs and the metadata graph")
    violations = len(report.violations)
    others = len(report.results) - violations
    verdict = "conforms" if report.conforms else f"{violations} violation{'s' if violations != 1 else ''}"
    click.echo(f"validated {path}: {scope}, {report.triples_checked} triples, {report.seconds:.1f} s: {verdict}"
               + (f" ({others} warnings/infos)" if others else ""), err=True)

