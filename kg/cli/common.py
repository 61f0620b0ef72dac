"""What every command shares: the store option, opening an existing store, progress callbacks.

Defined once so that every command names and opens the store the same way, and says the
same thing when there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kg.errors import KGError
from kg.store import default_store_path, open_store
from kg.store.base import Store

__all__ = ["STORE_HELP", "existing_store_dir", "open_existing", "progress_callback", "store_dir", "store_option",
           "wait_option"]

STORE_HELP = "Store directory (default: $TRIALKG_STORE or ./kg-store)."
F = TypeVar("F", bound=Callable[..., Any])


def store_option(function: F) -> F:
    """``--store DIR`` (parameter ``store_path``)."""
    return click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
                        help=STORE_HELP)(function)


def _wait_for_writer(context: click.Context, parameter: click.Parameter, wait: bool) -> None:
    if wait:
        from kg.store.lock import set_default_wait

        set_default_wait(True, lambda holder: click.echo(f"waiting: the store is being written by {holder}",
                                                          err=True))


def wait_option(function: F) -> F:
    """``--wait``: when another process writes the store, wait for it instead of failing at once."""
    return click.option("--wait", is_flag=True, expose_value=False, callback=_wait_for_writer,
                        help="If another kg process is writing the store, wait for it instead of failing.")(function)


def store_dir(store_path: Path | None) -> Path:
    """The store directory a command works on: ``--store``, else ``$TRIALKG_STORE``, else ``./kg-store``."""
    return store_path if store_path is not None else default_store_path()


def existing_store_dir(store_path: Path | None) -> Path:
    """The store directory, which must exist: the one "no store" message every command gives."""
    path = store_dir(store_path)
    if not path.is_dir():
        raise KGError(f"no store at {path}: run `kg build PATHS --store {path}` first")
    return path


def open_existing(store_path: Path | None, *, read_only: bool = True) -> Store:
    """An existing store (read-only by default, so it never blocks or is blocked by a build)."""
    return open_store(existing_store_dir(store_path), read_only=read_only)


def progress_callback(bar: Any) -> Callable[[int], None] | None:
    """A progress callback that advances a tqdm bar (None without a bar)."""
    if bar is None:
        return None

    def advance(count: int) -> None:
        bar.update(count)

    return advance


STALE_RESOLUTION = ("records changed since the last resolution (kg sync --no-resolve, or kg build --no-resolve): "
                    "the resolution, author-link and sharing graphs describe the store before that change, so "
                    "shared-* and investigator answers may be out of date; run kg resolve")


def warn_if_resolution_stale(store: Store) -> None:
    """One warning line on stderr when the store's resolution does not cover its records."""
    from kg.store.mention_tables import resolution_stale

    if resolution_stale(store):
        click.echo(f"warning: {STALE_RESOLUTION}", err=True)

