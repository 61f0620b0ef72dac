"""``kg fetch-pubmed``, ``kg link-authors`` and ``kg pubmed-deletions``: the publication commands.

Thin wrappers: :func:`kg.fetch.pubmed.fetch_pubmed`,
:func:`kg.resolve.authorship.link_investigators_to_authors` and
:func:`kg.sources.pubmed.read_deleted_pmids` do the work; these format what they return.
This module does not import :mod:`kg.cli` (which registers it), so there is no import cycle.

Example:
    kg build trials.jsonl                       # registrations (their references name PMIDs)
    kg fetch-pubmed --from-store -o pubmed/     # the PubMed records of every referenced PMID
    kg build pubmed/                            # into the same store
    kg link-authors                             # investigators <-> authors, with confidence
    kg query investigator-authors
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from kg.cli.common import open_existing, store_option, wait_option
from kg.store.base import Store


def _store(store_path: Path | None) -> Store:
    return open_existing(store_path, read_only=False)


def _bar(progress: bool | None, unit: str) -> Any:
    if not (sys.stderr.isatty() if progress is None else progress):
        return None
    from tqdm import tqdm

    return tqdm(unit=unit, file=sys.stderr)


def _advance(bar: Any) -> Callable[[int], None] | None:
    return None if bar is None else bar.update


@click.command("fetch-pubmed")
@click.argument("pmids", nargs=-1)
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write PubMed XML into (one file per batch); PMIDs already there are skipped.")
@click.option("--ids-file", type=click.File("r", encoding="utf-8"), default=None, help="PMIDs, one per line.")
@click.option("--from-store", is_flag=True, help="Every PMID the trials in the store reference.")
@store_option
@click.option("--api-key", envvar="NCBI_API_KEY", default=None,
              help="NCBI API key (env NCBI_API_KEY): allows 10 requests/s instead of 3.")
@click.option("--email", envvar="NCBI_EMAIL", default=None, help="Contact e-mail NCBI asks for (env NCBI_EMAIL).")
@click.option("--rate", type=float, default=None, help="Requests per second (default: 3, or 10 with an API key).")
@click.option("--batch-size", type=int, default=200, show_default=True, help="PMIDs per request (at most 200).")
@click.option("--base-url", envvar="TRIALKG_EUTILS", default=None,
              help="E-utilities base URL (default: NCBI's; env TRIALKG_EUTILS).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def fetch_pubmed_command(pmids: tuple[str, ...], out: Path, ids_file: IO[str] | None, from_store: bool,
                         store_path: Path | None, api_key: str | None, email: str | None, rate: float | None,
                         batch_size: int, base_url: str | None, progress: bool | None) -> None:
    """Download PubMed records (efetch) into a folder of XML files that `kg build` reads.

    By PMIDs (arguments, --ids-file) or every PMID the store's trials reference
    (--from-store). Batched, rate-limited, retried, and resumable: re-running skips the
    PMIDs the folder already holds.

    \b
    Example:
        kg fetch-pubmed 26628416 35086778 -o pubmed/
        kg fetch-pubmed --from-store --store kg-store -o pubmed/
        kg build pubmed/ --store kg-store
    """
    from kg.fetch.http import FetchError
    from kg.fetch.pubmed import DEFAULT_EUTILS, fetch_pubmed, pmids_in_store

    wanted = list(pmids) + ([line.strip() for line in ids_file if line.strip()] if ids_file else [])
    if from_store:
        with _store(store_path) as store:
            wanted += pmids_in_store(store)
    if not wanted:
        raise click.UsageError("give PMIDs, --ids-file or --from-store")
    bar = _bar(progress, " articles")
    try:
        report = fetch_pubmed(
            out, wanted, api_key=api_key, email=email, base_url=base_url or DEFAULT_EUTILS,
            batch_size=batch_size, rate_limit=rate, progress=_advance(bar),
            on_total=(lambda total: setattr(bar, "total", total)) if bar is not None else None,
        )
    except FetchError as error:
        partial = getattr(error, "report", None)
        if partial is not None:
            click.echo(f"kg: wrote {partial.written} articles to {out} before the error; re-run to resume", err=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    for where, reason in report.failed[:20]:
        click.echo(f"error: PMID {where}: {reason}", err=True)
    if len(report.failed) > 20:
        click.echo(f"error: ... and {len(report.failed) - 20} more", err=True)
    click.echo(f"fetched into {out}: {report.written} written, {report.skipped_existing} already there, "
               f"{len(report.failed)} failed, {report.batches} requests, {report.retries} retries", err=True)


@click.command("link-authors")
@store_option
@wait_option
@click.option("--min-confidence", type=float, default=None,
              help="Drop links below this confidence (default: kg.resolve.authorship.MIN_CONFIDENCE).")
def link_authors_command(store_path: Path | None, min_confidence: float | None) -> None:
    """Link trial investigators to the authors of the trial's publications, with confidence.

    Reads the store (registrations, their citations, PubMed records), writes the links
    with their evidence into the graph .../graph/links/investigator-author (replacing the
    previous run's), and prints a summary. Query them with `kg query investigator-authors`.

    \b
    Example:
        kg link-authors --store kg-store
        kg query investigator-authors --param min_confidence=0.6
    """
    from kg.resolve.authorship import MIN_CONFIDENCE, link_investigators_to_authors
    from kg.store.void import write_void

    with _store(store_path) as store:
        report = link_investigators_to_authors(
            store, MIN_CONFIDENCE if min_confidence is None else min_confidence)
        write_void(store)  # kg stats counts the new links graph
    click.echo(f"linked {report.links} investigator-author pairs ({report.trials} trials with publications, "
               f"{report.publications} publications, {report.investigators} investigators, "
               f"{report.authorships} authors, {report.comparisons} name-blocked comparisons) "
               f"into {report.graph} in {report.seconds:.1f} s", err=True)


@click.command("pubmed-deletions")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@store_option
def pubmed_deletions_command(paths: tuple[Path, ...], store_path: Path | None) -> None:
    """Remove the PubMed records that update files withdraw (<DeleteCitation>) from the store.

    \b
    Example:
        kg build pubmed26n1335.xml.gz && kg pubmed-deletions pubmed26n1335.xml.gz
    """
    from kg.rdf.emit_publication import publication_graph
    from kg.sources import iter_input_files
    from kg.sources.pubmed import read_deleted_pmids

    deleted: list[str] = []
    for path in iter_input_files(paths):
        deleted += read_deleted_pmids(path)
    with _store(store_path) as store:
        graphs = [publication_graph(pmid) for pmid in deleted]
        present = [graph for graph in graphs if store.has_graph(graph)]
        store.remove_graphs(present)
        store.flush()
    click.echo(f"{len(deleted)} PMIDs withdrawn, {len(present)} of them were in the store and are removed", err=True)


def register(cli: click.Group) -> None:
    """Add the publication commands to the ``kg`` group."""
    for command in (fetch_pubmed_command, link_authors_command, pubmed_deletions_command):
        cli.add_command(command)
