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

__all__ = ["STORE_HELP", "existing_store_dir", "open_existing", "progress_callback", "store_dir", "store_option"]

STORE_HELP = "Store directory (default: $TRIALKG_STORE or ./kg-store)."
F = TypeVar("F", bound=Callable[..., Any])


def store_option(function: F) -> F:
    """``--store DIR`` (parameter ``store_path``)."""
    return click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
                        help=STORE_HELP)(function)


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
