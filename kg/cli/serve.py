"""``kg serve``, ``kg push`` and ``kg sync``: share the graph and keep it current.

Why together: they are the three ways the graph leaves one person's laptop: served over
HTTP, uploaded to a shared SPARQL server, and kept up to date with the registry without
rebuilding. :mod:`kg.cli` registers them with ``register(cli)``.

Example:
    >>> import click
    >>> group = click.Group(); register(group); sorted(group.commands)
    ['push', 'serve', 'sync']
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from kg.cli.common import STALE_RESOLUTION, existing_store_dir, store_option, wait_option
from kg.errors import KGError
from kg.store import default_store_path, open_store
from kg.store.base import Store
from kg.store.generations import ACTIVE, StoreDirectory
from kg.store.oxigraph import OxigraphStore

TOKEN_ENV = "TRIALKG_UPDATE_TOKEN"
MIN_TOKEN_LENGTH = 16




def _endpoint_options(function: Any) -> Any:
    options = [
        click.option("--endpoint", default=None, metavar="URL",
                     help="SPARQL query endpoint of a remote store (kg serve: http://HOST:PORT/sparql)."),
        click.option("--update-endpoint", default=None, metavar="URL",
                     help="SPARQL Update endpoint (default: --endpoint; Oxigraph server: /update)."),
        click.option("--gsp-endpoint", default=None, metavar="URL",
                     help="Graph Store HTTP Protocol endpoint, used for uploads when given (Oxigraph server: /store)."),
        click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help=f"File holding the bearer token for writes (default: ${TOKEN_ENV})."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _read_token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            token = token_file.read_text("utf-8").strip()
        except OSError as error:
            raise KGError(f"cannot read the token file: {error.strerror or error}", source=str(token_file)) from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None


def _remote(endpoint: str, update_endpoint: str | None, gsp_endpoint: str | None, token_file: Path | None) -> Store:
    from kg.store.remote import open_remote_store

    return open_remote_store(endpoint, update_endpoint or endpoint, gsp_endpoint, token=_read_token(token_file))


@contextmanager
def _writable_store(path: Path) -> Iterator[Store]:
    """A store directory's staging generation (all-or-nothing), or a plain Oxigraph directory as is."""
    if (path / "CURRENT").is_file() and not (path / ACTIVE).exists():
        with OxigraphStore(path) as store:
            yield store
        return
    with StoreDirectory(path).staging() as store:
        yield store


@click.command("serve")
@store_option
@wait_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback exposes the store to the network.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port (0 picks a free one).")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds a query may run; it is then stopped (its worker process killed).")
@click.option("--memory-limit", "memory_mb", type=int, default=2048, show_default=True,
              help="MiB of address space per query worker; a query needing more is stopped.")
@click.option("--max-result-mb", type=int, default=64, show_default=True, help="MiB a serialised result may have.")
@click.option("--workers", type=int, default=2, show_default=True, help="Queries evaluated at once (one process each).")
@click.option("--queue", "queue_size", type=int, default=16, show_default=True,
              help="Queries that may wait for a worker; more are answered 503 with Retry-After.")
@click.option("--update-token-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=f"Allow SPARQL Update with this bearer token (or set ${TOKEN_ENV}); read-only without.")
@click.option("--allow-service", is_flag=True, help="Allow SERVICE (federated queries) and LOAD: the server "
              "then fetches URLs on a client's behalf.")
@click.option("--cors", is_flag=True, help="Send Access-Control-Allow-Origin: * (browser SPARQL editors elsewhere).")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="One line per request on stderr.")
def serve_command(store_path: Path | None, host: str, port: int, timeout: float, memory_mb: int, max_result_mb: int,
                  workers: int, queue_size: int, update_token_file: Path | None, allow_service: bool, cors: bool,
                  access_log: bool) -> None:
    """Serve the store: a SPARQL 1.1 endpoint, linked-data pages and a YASGUI query page.

    \b
    /sparql                 SPARQL 1.1 Protocol (GET, POST): any form, every standard syntax,
                            by Accept or format=/output=/results=; service description
    /study/NCT01374854      https://clinicaltrials.gov/study/NCT01374854
    /resource/KIND/KEY      https://w3id.org/trialkg/resource/KIND/KEY
    /graph/ctgov/NCT...     a record's named graph     /describe?iri=IRI   any other IRI
    Each as Turtle, JSON-LD, N-Triples or RDF/XML by Accept, or a page in a browser.

    Every query runs in a worker process, stopped at --timeout and capped at --memory-limit.
    Read-only (and following `kg build`/`kg sync` into the same store) unless an update
    token is set; updates then need `Authorization: Bearer TOKEN`, and each is applied as a
    new store generation before it is acknowledged, so a later `kg build` keeps it.

    \b
    Example:
        kg serve --store kg-store --port 8000
        curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * { ?s ?p ?o } LIMIT 5' localhost:8000/sparql
    """
    from kg.serve import QueryLimits, ServeConfig, serve_forever
    from kg.serve.app import is_loopback

    token = _read_token(update_token_file)
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise KGError(f"the update token must have at least {MIN_TOKEN_LENGTH} characters")
    path = existing_store_dir(store_path)
    limits = QueryLimits(timeout=timeout, memory_mb=memory_mb, max_result_bytes=max_result_mb << 20,
                         allow_service=allow_service)
    config = ServeConfig(store=path, host=host, port=port, limits=limits, workers=max(1, workers),
                         queue=max(0, queue_size), update_token=token, cors=cors, access_log=access_log)
    if not is_loopback(host):
        click.echo(f"kg serve: warning: listening on {host}, reachable from the network", err=True)
    mode = "updates allowed with the token" if token else "read-only"

    def ready(url: str) -> None:
        click.echo(f"kg serve: {url}/ (SPARQL endpoint {url}/sparql, {mode}) store {path}", err=True)
        sys.stderr.flush()

    try:
        serve_forever(config, on_ready=ready)
    except OSError as error:
        raise KGError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@click.command("push")
@_endpoint_options
@store_option
def push_command(endpoint: str | None, update_endpoint: str | None, gsp_endpoint: str | None,
                 token_file: Path | None, store_path: Path | None) -> None:
    """Upload the local store to a SPARQL server, replacing each named graph there.

    Uses the Graph Store HTTP Protocol (one PUT per graph) with --gsp-endpoint, else SPARQL
    Update (DROP SILENT GRAPH + INSERT DATA). Graphs only the server has are left alone.

    \b
    Example:
        kg push --endpoint http://127.0.0.1:7878/query --update-endpoint http://127.0.0.1:7878/update \\
                --gsp-endpoint http://127.0.0.1:7878/store
        kg push --endpoint http://127.0.0.1:8000/sparql --token-file token.txt
    """
    from kg.store.push import push
    from kg.store.remote import RemoteStore

    if not endpoint:
        raise click.UsageError("give the server's --endpoint URL")
    path = existing_store_dir(store_path)
    target = _remote(endpoint, update_endpoint, gsp_endpoint, token_file)
    assert isinstance(target, RemoteStore)
    with open_store(path, read_only=True) as source:
        report = push(source, target)
    click.echo(f"pushed {path} to {endpoint}: {report.graphs} graphs, {report.quads} quads, "
               f"{report.requests} upload requests, {report.seconds:.1f} s", err=True)


@click.command("sync")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@wait_option
@_endpoint_options
@click.option("--full", is_flag=True, help="PATHS are the whole source: remove records they no longer hold.")
@click.option("--force", is_flag=True, help="Replace every record read, even when its last-update date is unchanged.")
@click.option("--jobs", "-j", type=int, default=1, show_default=True, help="Worker processes for parsing.")
@click.option("--format", "format_name", default=None, help="Input format name (default: sniffed per file).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Write the machine-readable sync report (JSON) here.")
@click.option("--resolve/--no-resolve", "run_resolution", default=True, show_default=True,
              help="After changing records, re-run resolution and author links over the whole store "
                   "(--no-resolve: minutes instead of the resolution's time at registry scale; the store "
                   "then says its resolution is stale until kg resolve).")
def sync_command(paths: tuple[Path, ...], store_path: Path | None, endpoint: str | None,
                 update_endpoint: str | None, gsp_endpoint: str | None, token_file: Path | None, full: bool,
                 force: bool, jobs: int, format_name: str | None, report_path: Path | None,
                 run_resolution: bool) -> None:
    """Update the store from PATHS, replacing only records that are new or changed.

    A record is changed when its last-update date differs from the tkg:lastChanged of its
    record graph in the store; unchanged records are skipped and counted. Works on the
    local store (all-or-nothing, like `kg build`) or on a remote one (--endpoint).

    \b
    Example:
        kg sync daily-download.zip --store kg-store
        kg sync registry/ --full --store kg-store
        kg sync daily-download.zip --no-resolve && kg resolve     # resolve later
        kg sync changes.jsonl --endpoint http://127.0.0.1:8000/sparql --token-file token.txt
    """
    from kg.sync import SyncReport, sync

    report: SyncReport
    if endpoint:
        where = endpoint
        report = sync(paths, _remote(endpoint, update_endpoint, gsp_endpoint, token_file), full=full, force=force,
                      jobs=jobs, format_name=format_name, resolve=run_resolution)
    else:
        path = store_path if store_path is not None else default_store_path()
        where = str(path)
        with _writable_store(path) as store:
            report = sync(paths, store, full=full, force=force, jobs=jobs, format_name=format_name,
                          resolve=run_resolution)
    if report_path is not None:
        report_path.write_bytes(report.to_json())
    for kind, issues in (("warning", report.warnings), ("error", report.failures)):
        for issue in issues[:20]:
            click.echo(f"{kind}: {issue}", err=True)
        if len(issues) > 20:
            click.echo(f"{kind}: ... and {len(issues) - 20} more (see --report)", err=True)
    if report.removal_skipped:
        click.echo(f"warning: {report.removal_skipped}", err=True)
    click.echo(f"synced {where}: {report.files} files, {report.records_read} records read, {report.added} added, "
               f"{report.updated} updated, {report.unchanged} unchanged, {report.stale} older than the store's, "
               f"{report.removed} removed, {report.records_failed} failed, {report.quads} quads written, "
               f"{report.seconds:.1f} s", err=True)
    for stage, summary in report.stage_summaries.items():
        click.echo(f"{stage}: {summary}", err=True)
    if report.resolution_stale:
        click.echo(f"warning: {STALE_RESOLUTION}", err=True)
    if report.records_failed and not (report.added + report.updated + report.unchanged + report.stale):
        raise KGError("no record could be read from the given paths")


def register(cli: click.Group) -> None:
    """Add serve, push and sync to the ``kg`` command group."""
    for command in (serve_command, push_command, sync_command):
        cli.add_command(command)

