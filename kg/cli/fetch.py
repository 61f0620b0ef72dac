"""``kg fetch``: studies from the ClinicalTrials.gov API v2 into JSON Lines that ``kg build`` reads.

Example:
    >>> [c.name for c in COMMANDS]
    ['fetch']
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click

from kg.cli.common import progress_callback


@click.command("fetch")
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
            progress=progress_callback(bar),
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


COMMANDS = (fetch_command,)
