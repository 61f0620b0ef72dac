"""``kg resolve`` and ``kg evaluate-resolution``: entity resolution on the command line.

Thin wrappers: :func:`kg.resolve.post_load` re-runs resolution and the links over a built
store (``kg build`` runs it at the end; re-run it after ``kg sync --no-resolve``, after
loading more data in another way, or after upgrading trialkg), and :func:`kg.resolve.evaluate.evaluate` scores it
against the hand-labelled pairs in ``tests/data/resolution``. This module does not import
:mod:`kg.cli` (which registers it), so there is no import cycle.

Example:
    kg build examples/ --store kg-store
    kg resolve --store kg-store
    kg evaluate-resolution --min-precision 0.95 --min-recall 0.90
"""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.common import existing_store_dir, store_option, wait_option
from kg.cli.progress import progress_option, ticking, wanted
from kg.errors import KGError
from kg.store import open_store

DEFAULT_LABELS = Path("tests") / "data" / "resolution"


def register(cli: click.Group) -> None:
    """Add the resolution commands to the ``kg`` group."""
    cli.add_command(resolve_command)
    cli.add_command(evaluate_command)


@click.command("resolve")
@store_option
@wait_option
@progress_option
def resolve_command(store_path: Path | None, progress: bool | None) -> None:
    """Re-run the post-load stages: entity resolution, investigator-author links, MeSH links.

    Mentions of one investigator, one institution, one facility or one eligibility
    requirement across records are linked to one entity (tkg:resolvedAgent,
    tkg:resolvedSite, tkg:resolvedAs, owl:sameAs), with confidence and evidence, in the
    graph https://w3id.org/trialkg/graph/resolution. The shared-* queries join through it.
    Run it after `kg sync --no-resolve` (the store says its resolution is stale until then).

    \b
    Example:
        kg resolve --store kg-store
        kg query shared-site --store kg-store
    """
    from kg.resolve import post_load
    from kg.store.void import write_void

    path = existing_store_dir(store_path)
    with open_store(path) as store, ticking(wanted(progress), "resolving entities, linking authors"):
        stages = post_load(store)
        write_void(store)  # kg stats counts the new graphs
    for stage, summary in stages.summaries.items():
        click.echo(f"{stage}: {summary}", err=True)
    times = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in stages.seconds.items() if "." not in stage)
    click.echo(f"resolved {path}: {times}", err=True)


@click.command("evaluate-resolution")
@click.option("--labels", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_LABELS,
              show_default=True, help="Folder with persons.tsv, sites.tsv, criteria.tsv and sources.txt.")
@click.option("--min-precision", type=float, default=None, help="Exit non-zero if any kind scores below this.")
@click.option("--min-recall", type=float, default=None, help="Exit non-zero if any kind scores below this.")
@click.option("--errors", "show_errors", is_flag=True, help="List the pairs resolution gets wrong.")
def evaluate_command(labels: Path, min_precision: float | None, min_recall: float | None, show_errors: bool) -> None:
    """Score resolution against hand-labelled pairs: precision and recall per kind.

    Builds the records the labels refer to into a temporary in-memory store, resolves
    it, and compares each labelled pair (same / not same) with what resolution decided.

    \b
    Example:
        kg evaluate-resolution
        kg evaluate-resolution --errors --min-precision 0.95 --min-recall 0.90
    """
    from kg.build import build_labelled_store
    from kg.resolve.evaluate import evaluate

    if not (labels / "sources.txt").is_file():
        raise KGError(f"no labelled pairs in {labels} (expected sources.txt and persons/sites/criteria.tsv)")
    scores = evaluate(build_labelled_store(labels), labels)
    failed = []
    click.echo("kind      pairs  precision  recall  (tp fp fn tn, undecided)")
    for kind, score in scores.items():
        click.echo(f"{kind:<9} {score.scored:>5}  {score.precision:>9.3f}  {score.recall:>6.3f}  "
                   f"({score.true_positive} {score.false_positive} {score.false_negative} "
                   f"{score.true_negative}, {score.undecided + len(score.indistinguishable)})")
        if show_errors:
            for pair_id, label, predicted in score.errors:
                click.echo(f"    {pair_id}: labelled {label}, resolved {'same' if predicted else 'apart'}")
        if (min_precision is not None and score.precision < min_precision) or (
                min_recall is not None and score.recall < min_recall):
            failed.append(kind)
    if failed:
        raise KGError(f"below the required precision/recall: {', '.join(failed)}")
