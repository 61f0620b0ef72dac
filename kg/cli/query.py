"""``kg queries``, ``kg query`` and ``kg stats``: questions to the graph.

Example:
    >>> sorted(c.name for c in COMMANDS)
    ['queries', 'query', 'stats']
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from kg.cli.common import open_existing, store_dir, store_option, warn_if_resolution_stale
from kg.cli.progress import bar as progress_bar
from kg.cli.progress import progress_option, wanted
from kg.queries import CannedQuery, get_query, list_queries
from kg.store.base import Store
from kg.store.results import FORMATTERS
from kg.store.void import count_classes, read_void


@click.command("queries")
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


@click.command("query")
@click.argument("name", required=False)
@store_option
@click.option("--format", "output_format", type=click.Choice(sorted(FORMATTERS)), default="table",
              show_default=True, help="table for people; json/csv/tsv are the SPARQL 1.1 result formats.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query parameter.")
@click.option("--all", "run_all", is_flag=True,
              help="Run every canned query (without parameters; a pair query as its ranked form).")
@click.option("--endpoint", default=None, metavar="URL",
              help="Query a remote SPARQL 1.1 endpoint (its default graph must be the union) instead of the store.")
@click.option("--limit", type=click.IntRange(min=0), default=None, metavar="N",
              help="At most N rows per query (the table says when there were more).")
@progress_option
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Output file.")
def query_command(name: str | None, store_path: Path | None, output_format: str, params: tuple[str, ...],
                  run_all: bool, endpoint: str | None, limit: int | None, progress: bool | None,
                  output: IO[str]) -> None:
    """Run a canned query by name, or a .rq file, on the store.

    \b
    Example:
        kg query shared-principal-investigator
        kg query trial-summary --param nct=NCT01374854 --format json
        kg query my-question.rq --format csv -o answers.csv
        kg query --all --limit 5
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
    selected = overview(list_queries()) if run_all else [get_query(name or "")]
    opened: Store
    if endpoint:
        from kg.store.remote import open_remote_store

        opened = open_remote_store(endpoint)
    else:
        opened = open_existing(store_path)
    bar = progress_bar(wanted(progress) and run_all, "queries", " queries", len(selected))
    with opened as store:
        warn_if_resolution_stale(store)
        for query in selected:
            if bar is not None:
                bar.set_postfix_str(query.name, refresh=True)
            # One row more than asked says whether the limit cut anything.
            table = store.select(query.bind(bindings if not run_all else None,
                                            limit=None if limit is None else limit + 1))
            shown = table.head(limit)
            text = formatter(shown)
            if output_format == "table":
                header = f"\n== {query.name}: {query.title}\n" if run_all else ""
                if run_all and query.name.endswith(RANKED):
                    header += f"(every pair: kg query {query.name.removesuffix(RANKED)})\n"
                more = f"(more rows not shown: --limit {limit})\n" if len(shown.rows) < len(table.rows) else ""
                text = header + text + more
            if bar is not None:
                with bar.external_write_mode():
                    output.write(text)
                    output.flush()
                bar.update(1)
            else:
                output.write(text)
    if bar is not None:
        bar.close()


RANKED = "-ranked"


def overview(queries: list[CannedQuery]) -> list[CannedQuery]:
    """The queries ``--all`` runs: a pair query with a ranked form runs as that form.

    Why: a registry-wide pair list grows with the square of hub sizes (3.4 million pairs
    sharing an exclusion criterion at 10,000 studies, ten minutes to list), so an overview
    of every question shows the top pairs; ``kg query NAME`` still lists every pair.
    """
    names = {query.name for query in queries}
    return [query for query in queries if f"{query.name}{RANKED}" not in names]


@click.command("stats")
@store_option
def stats_command(store_path: Path | None) -> None:
    """Counts: quads, record graphs, and instances per class.

    \b
    Example:
        kg stats --store kg-store
    """
    with open_existing(store_path) as store:
        click.echo(f"store: {store_dir(store_path)}")
        warn_if_resolution_stale(store)
        void = read_void(store)  # written by the build: instant at any size
        if void is not None:
            click.echo(f"quads: {void.triples}")
            click.echo(f"record graphs: {void.record_graphs}")
            counts: list[tuple[str | None, object]] = list(void.classes.items())
        else:  # a store built before the VoID description: count it
            click.echo(f"quads: {len(store)}")
            click.echo(f"record graphs: {sum(1 for g in store.graphs() if not g.endswith('/meta'))}")
            counts = sorted(count_classes(store).items())
        for cls, count in counts:
            local = (cls or "").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            click.echo(f"{local}: {count}")


COMMANDS = (queries_command, query_command, stats_command)
