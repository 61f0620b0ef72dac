"""Shared fixtures: paths to the real data copied into the repository, and built stores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kg import build, open_store
from kg.store.base import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"
MODERN_SEED = EXAMPLES / "000_df29306579c496cc.txt"
CLASSIC_SEED = EXAMPLES / "001_ca6197c953f8c59c.txt"


@pytest.fixture(scope="session")
def seed_store() -> Store:
    """The two seed pages built into an in-memory Oxigraph store (read-only use!)."""
    store = open_store(None)
    report = build([EXAMPLES], store)
    assert report.records_failed == 0
    return store


def run_kg(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real ``kg`` command line (as ``python -m kg``) and capture its output."""
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)
