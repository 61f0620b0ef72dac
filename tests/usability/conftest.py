"""A store built by the real command line from the seed pages, shared by the usability tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, run_kg


@pytest.fixture(scope="session")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("usability") / "kg-store"
    result = run_kg("build", str(EXAMPLES), "--store", str(store), "--no-progress")
    assert result.returncode == 0, result.stderr
    return store
