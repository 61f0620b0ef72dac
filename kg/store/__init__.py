"""Stores: the interface and its backends. ``open_store`` picks one from a location.

Example:
    >>> store = open_store(None)  # in-memory Oxigraph
    >>> len(store)
    0
"""

from __future__ import annotations

import os
from pathlib import Path

from kg.store.base import Store
from kg.store.generations import ACTIVE, StoreDirectory
from kg.store.oxigraph import OxigraphStore
from kg.store.results import ResultTable, Term

__all__ = [
    "DEFAULT_STORE",
    "OxigraphStore",
    "ResultTable",
    "Store",
    "StoreDirectory",
    "Term",
    "default_store_path",
    "open_store",
]

DEFAULT_STORE = "kg-store"


def default_store_path() -> Path:
    """``$TRIALKG_STORE`` if set, else ``./kg-store`` (next to the user's data, like a .git)."""
    return Path(os.environ.get("TRIALKG_STORE", DEFAULT_STORE))


def open_store(location: Path | str | None, *, read_only: bool = False) -> Store:
    """The store at a directory (``None`` for an in-memory one).

    A trialkg store directory holds crash-safe generations (see
    :mod:`kg.store.generations`); a plain Oxigraph database directory opens directly.
    Writes through the returned store go to the active generation as they happen; use
    ``StoreDirectory(path).staging()`` (as ``kg build`` does) for all-or-nothing builds.
    """
    if location is None:
        return OxigraphStore(None)
    path = Path(location)
    if (path / "CURRENT").is_file() and not (path / ACTIVE).exists():
        return OxigraphStore(path, read_only=read_only)  # an Oxigraph database made elsewhere
    return StoreDirectory(path).open(read_only=read_only)
