"""Stores the analytics tests share: the shared sample records built once per session."""

from __future__ import annotations

import pytest

from kg import build, open_store
from kg.store.base import Store
from tests.conftest import DATA


@pytest.fixture(scope="session")
def sample_store() -> Store:
    """tests/data/ctgov-json and tests/data/ctgov-xml in an in-memory store (read-only use!).

    Unresolved on purpose: these tests compare projections with SPARQL counts of the links as
    the records state them; with resolution, merged entities would join trials the counts
    do not (resolved projections are tested in tests/resolve and test_analytics_cli).
    """
    store = open_store(None)
    report = build([DATA / "ctgov-json", DATA / "ctgov-xml"], store, resolve=False)
    assert report.records_loaded > 200
    return store
