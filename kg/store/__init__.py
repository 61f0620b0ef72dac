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
from kg.store.oxigraph import OxigraphStore
from kg.store.results import ResultTable, Term

__all__ = ["DEFAULT_STORE", "OxigraphStore", "ResultTable", "Store", "Term", "default_store_path", "open_store"]

DEFAULT_STORE = "kg-store"


def default_store_path() -> Path:
    """``$TRIALKG_STORE`` if set, else ``./kg-store`` (next to the user's data, like a .git)."""
    return Path(os.environ.get("TRIALKG_STORE", DEFAULT_STORE))


def open_store(location: Path | str | None, *, read_only: bool = False) -> Store:
    """An Oxigraph store at a directory (``None`` for an in-memory one)."""
    return OxigraphStore(location, read_only=read_only)
