"""``kg build``, ``kg merge`` and ``kg formats``: files in, a store out.

Example:
    >>> sorted(c.name for c in COMMANDS)
    ['build', 'formats', 'merge']
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from kg.build import BuildReport, build, parse_shard
from kg.cli.common import progress_callback, store_dir, store_option, wait_option
from kg.cli.progress import bar as progress_bar
from kg.cli.progress import known_record_count, progress_option, ticking, wanted
from kg.errors import KGError
from kg.resolve import PostLoad
from kg.sources import formats
from kg.store import Store, StoreDirectory
from kg.store.nquads_file import NQuadsFileStore
from kg.store.void import write_void


@click.command("build")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@wait_option
@click.option("--jobs", "-j", type=int, default=1, show_default=True,
              help="Worker processes for parsing (use the number of cores for large inputs).")
@click.option("--strict", is_flag=True, help="Stop at the first record that fails.")
@click.option("--format", "format_name", default=None, help="Input format name (default: sniffed per file).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Write the machine-readable build report (JSON) here.")
@progress_option
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
    target_dir = nquads_out if nquads_out is not None else store_dir(store_path)
    shard_part = parse_shard(shard) if shard else None
    show_progress = wanted(progress)
    # A zip's central directory says how many studies it holds: a total, so an ETA.
    expected = known_record_count(paths) if show_progress and shard_part is None else None
    bar = progress_bar(show_progress, "reading", " records", expected)
    target = NQuadsFileStore(nquads_out) if nquads_out is not None else StoreDirectory(target_dir).staging()
    with target as store:
        try:
            # The post-load stages run here rather than inside build() so they get a progress line.
            report = build(paths, store, jobs=jobs, strict=strict, format_name=format_name,
                           progress=progress_callback(bar), shard=shard_part, resolve=False, describe=False)
        finally:
            if bar is not None:
                bar.close()
        if report.records_loaded and store.readable:
            stages = _post_load(store, run_resolution, show_progress)
            report.stage_seconds.update(stages.seconds)
            report.stage_summaries.update(stages.summaries)
            report.stage_peak_rss.update(stages.peak_rss)
            report.seconds += sum(seconds for stage, seconds in stages.seconds.items() if "." not in stage)
        total = len(store)
    if report_path is not None:
        report_path.write_bytes(report.to_json())
    _print_report(report, target_dir, total)
    if report.records_loaded == 0:
        raise KGError("nothing could be loaded from the given paths")


def _post_load(store: Store, run_resolution: bool, show_progress: bool) -> PostLoad:
    """The post-load stages with a progress line, then the VoID count of the finished store.

    Why here and not inside build(): the stages get a progress line, and the VoID
    description is counted last, once, so `kg stats` states what the store holds.
    """
    stages = PostLoad()
    if run_resolution:
        from kg.resolve import post_load

        with ticking(show_progress, "resolving entities, linking authors"):
            stages = post_load(store)
    clock = time.perf_counter()
    write_void(store)
    stages.seconds["void"] = time.perf_counter() - clock
    return stages


def _print_report(report: BuildReport, target: Path, total: int, limit: int = 20) -> None:
    for stage, summary in report.stage_summaries.items():
        click.echo(f"{stage}: {summary}", err=True)
    if report.skipped:
        click.echo(f"note: {report.skipped} in the folders given", err=True)
    for kind, issues in (("warning", report.warnings), ("error", report.failures)):
        for issue in issues[:limit]:
            click.echo(f"{kind}: {issue}", err=True)
        if len(issues) > limit:
            click.echo(f"{kind}: ... and {len(issues) - limit} more (see --report)", err=True)
    click.echo(
        f"built {target}: {report.files} files, {report.records_read} records read, "
        f"{report.records_loaded} loaded, {report.records_failed} failed, {len(report.superseded)} superseded, "
        f"{report.quads} quads emitted ({total} in store)",
        err=True,
    )
    click.echo(f"time: {_timings(report)}", err=True)


def _timings(report: BuildReport) -> str:
    """Every stage of the build with its seconds, adding up to the total.

    Why: the summary used to show the reading time alone, so a build that spent most of its
    time resolving looked fast; each stage named lets a person see where the time goes.
    """
    post_load = {stage: seconds for stage, seconds in report.stage_seconds.items() if "." not in stage}
    reading = max(0.0, report.seconds - report.load_seconds - sum(post_load.values()))
    rate = report.records_read / reading if reading else 0.0
    parts = [f"read and parse {reading:.1f} s ({rate:.0f} records/s)", f"load {report.load_seconds:.1f} s"]
    parts += [f"{stage} {seconds:.1f} s" for stage, seconds in post_load.items()]
    return f"{report.seconds:.1f} s in all: " + ", ".join(parts)


@click.command("formats")
def formats_command() -> None:
    """List the input formats `kg build` recognises.

    \b
    Example:
        kg formats
    """
    for source_format in formats():
        click.echo(f"{source_format.name}: {source_format.description}")


@click.command("merge")
@click.argument("parts", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@wait_option
@progress_option
@click.option("--resolve/--no-resolve", "run_resolution", default=True, show_default=True,
              help="After loading, resolve entities over all the parts' mentions and link investigators to authors.")
def merge_command(parts: tuple[Path, ...], store_path: Path | None, progress: bool | None,
                  run_resolution: bool) -> None:
    """Merge the N-Quads parts of a sharded build into a new store, resolved once over all of them.

    Each part needs the mentions file `kg build --nquads-out` writes beside it
    (part-1.nq.gz -> part-1.mentions.jsonl.gz); parts must be disjoint (--shard I/N).

    \b
    Example:
        kg build ctg-studies.json.zip --jobs 2 --shard 1/2 --nquads-out part-1.nq.gz   # machine 1
        kg build ctg-studies.json.zip --jobs 2 --shard 2/2 --nquads-out part-2.nq.gz   # machine 2
        kg merge part-1.nq.gz part-2.nq.gz --store kg-store
    """
    from kg.merge import merge

    target_dir = store_dir(store_path)
    show_progress = wanted(progress)
    with StoreDirectory(target_dir).staging() as store:
        bar = progress_bar(show_progress, "loading parts", " records", None)
        try:
            report = merge(parts, store, resolve=False, describe=False, progress=progress_callback(bar))
        finally:
            if bar is not None:
                bar.close()
        stages = _post_load(store, run_resolution and report.records_loaded > 0, show_progress)
        report.stage_seconds.update(stages.seconds)
        report.stage_summaries.update(stages.summaries)
        total = len(store)
    for stage, summary in report.stage_summaries.items():
        click.echo(f"{stage}: {summary}", err=True)
    times = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in report.stage_seconds.items() if "." not in stage)
    click.echo(f"merged {report.parts} parts into {target_dir}: {report.records_loaded} records, "
               f"{report.quads} quads read ({total} in store); load {report.load_seconds:.1f} s, {times}", err=True)


COMMANDS = (build_command, formats_command, merge_command)
