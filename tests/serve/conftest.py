"""Fixtures for kg serve's tests: one store built once per session from the repository's data, a server on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import build_store

from kg.serve import ServeConfig, running_server


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store directory built from examples/ and tests/data (read-only use: copy it to write)."""
    return build_store(tmp_path_factory.mktemp("served") / "store")


@pytest.fixture(scope="session")
def server(store_dir: Path) -> Iterator[str]:
    """kg serve (in a thread) on the shared store, read-only; yields the base URL."""
    with running_server(ServeConfig(store=store_dir, port=0, workers=2, access_log=False)) as url:
        yield url


