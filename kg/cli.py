"""The ``kg`` command: a thin layer of click commands over the library.

Every command calls library functions and formats their results; user errors
(:class:`~kg.errors.KGError`) become one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from kg.build import BuildReport, build, parse_shard
from kg.errors import KGError
from kg.queries import get_query, list_queries
from kg.sources import formats
from kg.store import StoreDirectory, default_store_path, open_store
from kg.store.base import Store
from kg.store.nquads_file import NQuadsFileStore
from kg.store.results import FORMATTERS
from kg.version import __version__

STORE_HELP = "Store directory (default: $TRIALKG_STORE or ./kg-store)."
EXPORT_FORMATS = ("turtle", "ntriples", "nquads", "trig", "jsonld", "gexf", "graphml")
GRAPH_FORMATS = {"gexf", "graphml"}


def _store_option(function):  # type: ignore[no-untyped-def]
    return click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
                        help=STORE_HELP)(function)


def _store_dir(store_path: Path | None) -> Path:
    return store_path if store_path is not None else default_store_path()


def _open_existing(store_path: Path | None):  # type: ignore[no-untyped-def]
    """The store for reading: read-only, so it never blocks (or is blocked by) a build."""
    path = _store_dir(store_path)
    if not path.is_dir():
        raise KGError(f"no store at {path}: run `kg build PATHS --store {path}` first")
    return open_store(path, read_only=True)


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


@cli.command("build")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_store_option
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Worker processes for parsing (use the number of cores for large inputs).")
@click.option("--strict", is_flag=True, help="Stop at the first record that fails.")
@click.option("--format", "format_name", default=None, help="Input format name (default: sniffed per file).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Write the machine-readable build report (JSON) here.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--shard", default=None, metavar="I/N", help="Build only part I of N (a stable hash of the record id).")
@click.option("--resolve/--no-resolve", "run_resolution", default=True, show_default=True,
              help="After loading, resolve people, organisations, sites and criteria and link investigators "
                   "to authors (into their own named graphs).")
@click.option("--nquads-out", type=click.Path(path_type=Path), default=None,
              help="Write N-Quads (.nq or .nq.gz) for any store's bulk loader instead of building a store.")
def build_command(paths: tuple[Path, ...], store_path: Path | None, jobs: int, strict: bool,
                  format_name: str | None, report_path: Path | None, progress: bool | None, shard: str | None,
                  run_resolution: bool, nquads_out: Path | None) -> None:
    """Build trial records from files and folders into the store.

    Formats are recognised per file (see `kg formats`). Re-building a record replaces
    its named graph. Bad records are reported and skipped; the exit code is non-zero
    only when nothing could be loaded (or on any failure with --strict). The build goes
    into a staging copy that replaces the store only when complete: an interrupted
    build leaves the previous store as it was.

    \b
    Example:
        kg build examples/ --store kg-store
        kg build ctg-studies.json.zip --jobs 2 --report build-report.json
        kg build ctg-studies.json.zip --jobs 2 --shard 1/4 --nquads-out part-1.nq.gz
    """
    store_dir = nquads_out if nquads_out is not None else _store_dir(store_path)
    shard_part = parse_shard(shard) if shard else None
    show_progress = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(unit=" records", file=sys.stderr, smoothing=0.1)
    target = NQuadsFileStore(nquads_out) if nquads_out is not None else StoreDirectory(store_dir).staging()
    with target as store:
        try:
            report = build(paths, store, jobs=jobs, strict=strict, format_name=format_name,
                           progress=_counter(bar), shard=shard_part)
        finally:
            if bar is not None:
                bar.close()
        if run_resolution and nquads_out is None and report.records_loaded:
            report.stage_seconds.update(_post_load_stages(store))
        total = len(store)
    if report_path is not None:
        report_path.write_bytes(report.to_json())
    _print_report(report, store_dir, total)
    if report.records_loaded == 0:
        raise KGError("nothing could be loaded from the given paths")


def _post_load_stages(store: Store) -> dict[str, float]:
    """Cross-record stages that need the whole graph: entity resolution, then authorship links.

    Returns the seconds each took, for the build report (resolution also per kind of entity:
    ``resolution.criteria`` ..., so a benchmark shows which kind grows faster than the registry).
    """
    from kg.resolve.authorship import link_investigators_to_authors
    from kg.resolve.stage import resolve

    started = time.perf_counter()
    resolution = resolve(store)
    resolved = time.perf_counter()
    links = link_investigators_to_authors(store)
    linked = time.perf_counter()
    click.echo(f"resolved: {resolution}", err=True)
    click.echo(f"investigator-author links: {links}", err=True)
    kinds = {f"resolution.{kind}": getattr(resolution, kind).seconds
             for kind in ("organizations", "sites", "persons", "criteria")}
    return {"resolution": resolved - started, **kinds, "authorship": linked - resolved}


def _print_report(report: BuildReport, store_dir: Path, total: int, limit: int = 20) -> None:
    for kind, issues in (("warning", report.warnings), ("error", report.failures)):
        for issue in issues[:limit]:
            click.echo(f"{kind}: {issue}", err=True)
        if len(issues) > limit:
            click.echo(f"{kind}: ... and {len(issues) - limit} more (see --report)", err=True)
    rate = report.records_read / report.seconds if report.seconds else 0.0
    click.echo(
        f"built {store_dir}: {report.files} files, {report.records_read} records read, "
        f"{report.records_loaded} loaded, {report.records_failed} failed, {len(report.superseded)} superseded, "
        f"{report.quads} quads emitted ({total} in store), {report.seconds:.1f} s ({rate:.0f} records/s)",
        err=True,
    )


@cli.command("queries")
def queries_command() -> None:
    """List the canned queries with their parameters.

    \b
    Example:
        kg queries
    """
    for query in list_queries():
        params = ", ".join(("[" + p.name + "]") if p.optional else p.name for p in query.parameters)
        click.echo(f"{query.name}{'  (' + params + ')' if params else ''}")
        click.echo(f"    {query.title}. {query.description}".rstrip())


@cli.command("query")
@click.argument("name", required=False)
@_store_option
@click.option("--format", "output_format", type=click.Choice(sorted(FORMATTERS)), default="table",
              show_default=True, help="table for people; json/csv/tsv are the SPARQL 1.1 result formats.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query parameter.")
@click.option("--all", "run_all", is_flag=True, help="Run every canned query (without parameters).")
@click.option("--endpoint", default=None, metavar="URL",
              help="Query a remote SPARQL 1.1 endpoint (its default graph must be the union) instead of the store.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Output file.")
def query_command(name: str | None, store_path: Path | None, output_format: str, params: tuple[str, ...],
                  run_all: bool, endpoint: str | None, output: IO[str]) -> None:
    """Run a canned query by name, or a .rq file, on the store.

    \b
    Example:
        kg query shared-principal-investigator
        kg query trial-summary --param nct=NCT01374854 --format json
        kg query my-question.rq --format csv -o answers.csv
        kg query shared-site --endpoint http://127.0.0.1:7878/query
    """
    if not run_all and not name:
        raise click.UsageError("give a query NAME (see `kg queries`), a .rq file, or --all")
    bindings: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        bindings[key.strip()] = value.strip()
    formatter = FORMATTERS[output_format]
    selected = list_queries() if run_all else [get_query(name or "")]
    if endpoint:
        from kg.store.remote import open_remote_store

        opened = open_remote_store(endpoint)
    else:
        opened = _open_existing(store_path)
    with opened as store:
        for query in selected:
            if run_all and output_format == "table":
                output.write(f"\n== {query.name}: {query.title}\n")
            output.write(formatter(store.select(query.bind(bindings if not run_all else None))))


@cli.command("export")
@_store_option
@click.option("--format", "export_format", type=click.Choice(EXPORT_FORMATS), default="turtle", show_default=True)
@click.option("--projection", default=None, help="For gexf/graphml: the network to export (see `kg analyze --help`).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Output file (default: stdout).")
def export_command(store_path: Path | None, export_format: str, projection: str | None, output: Path | None) -> None:
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
        else:
            export_rdf(store, handle, export_format)

    with _open_existing(store_path) as store:
        if output is None:
            write(store, sys.stdout.buffer)
        else:
            with output.open("wb") as handle:
                write(store, handle)


@cli.command("stats")
@_store_option
def stats_command(store_path: Path | None) -> None:
    """Counts: quads, record graphs, and instances per class.

    \b
    Example:
        kg stats --store kg-store
    """
    with _open_existing(store_path) as store:
        graphs = store.graphs()
        click.echo(f"store: {_store_dir(store_path)}")
        click.echo(f"quads: {len(store)}")
        click.echo(f"record graphs: {sum(1 for g in graphs if not g.endswith('/meta'))}")
        for cls, count in store.select(get_query("class-counts").sparql).values():
            local = (cls or "").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            click.echo(f"{local}: {count}")


@cli.command("fetch")
@click.argument("nct_ids", nargs=-1)
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
              help="JSON Lines file to append to; studies already in it are skipped (resumable).")
@click.option("--ids-file", type=click.File("r", encoding="utf-8"), default=None, help="NCT ids, one per line.")
@click.option("--condition", default=None, help="Search the conditions (query.cond).")
@click.option("--intervention", default=None, help="Search the interventions (query.intr).")
@click.option("--sponsor", default=None, help="Search the sponsors (query.spons).")
@click.option("--term", default=None, help="Search everything (query.term).")
@click.option("--rate", type=float, default=2.0, show_default=True, help="At most this many requests per second.")
@click.option("--page-size", type=int, default=100, show_default=True)
@click.option("--base-url", envvar="TRIALKG_CTGOV_API", default=None,
              help="API v2 base URL (default: the public ClinicalTrials.gov API; env TRIALKG_CTGOV_API).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def fetch_command(nct_ids: tuple[str, ...], out: Path, ids_file: IO[str] | None, condition: str | None,
                  intervention: str | None, sponsor: str | None, term: str | None, rate: float, page_size: int,
                  base_url: str | None, progress: bool | None) -> None:
    """Download studies from the ClinicalTrials.gov API v2 into JSON Lines that `kg build` reads.

    By NCT ids (arguments or --ids-file) or by a search. Retries with backoff on 429 and
    5xx, keeps a polite request rate, and resumes: re-running skips what OUT already has.

    \b
    Example:
        kg fetch NCT01374854 NCT01719640 -o studies.jsonl
        kg fetch --condition "type 1 diabetes" --intervention "stem cell" -o t1d.jsonl
        kg build t1d.jsonl
    """
    from kg.fetch import DEFAULT_BASE_URL, FetchError, fetch_studies

    ids = list(nct_ids) + ([line.strip() for line in ids_file if line.strip()] if ids_file else [])
    show_progress = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(unit=" studies", file=sys.stderr)
    try:
        report = fetch_studies(
            out, nct_ids=ids, condition=condition, intervention=intervention, sponsor=sponsor, term=term,
            base_url=base_url or DEFAULT_BASE_URL, page_size=page_size, rate_limit=rate,
            progress=_counter(bar),
            on_total=(lambda total: setattr(bar, "total", total)) if bar is not None else None,
        )
    except FetchError as error:
        partial = getattr(error, "report", None)
        if partial is not None:
            click.echo(f"kg: wrote {partial.written} studies to {out} before the error; re-run to resume", err=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    for where, reason in report.failed[:20]:
        click.echo(f"error: {where}: {reason}", err=True)
    click.echo(f"fetched into {out}: {report.written} written, {report.skipped_existing} already there, "
               f"{len(report.failed)} failed, {report.pages} pages, {report.retries} retries", err=True)


@cli.command("formats")
def formats_command() -> None:
    """List the input formats `kg build` recognises.

    \b
    Example:
        kg formats
    """
    for source_format in formats():
        click.echo(f"{source_format.name}: {source_format.description}")


def _counter(bar: Any) -> Callable[[int], None] | None:
    """A progress callback that advances a tqdm bar (None without a bar)."""
    if bar is None:
        return None

    def advance(count: int) -> None:
        bar.update(count)

    return advance


def _register_command_groups() -> None:
    """Feature command groups (see kg.commands): serving, publications, resolution, quality, analytics."""
    from kg.commands import analytics, publications, quality, resolution, serve

    for group in (serve, publications, resolution, quality, analytics):
        group.register(cli)


_register_command_groups()


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
