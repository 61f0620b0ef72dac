"""Shared helpers for the safety tests: run ``kg`` with fault points, read a store's state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kg.store import open_store
from tests.conftest import ROOT

TRIALS = "PREFIX tkg: <https://w3id.org/trialkg/ontology#> SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a tkg:Trial }"


def kg_env(**extra: str) -> dict[str, str]:
    """The environment for a ``kg`` subprocess: this tree's ``kg`` first, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def start_kg(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kg", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=kg_env(**env), cwd=ROOT)


def run_kg_env(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, env=kg_env(**env),
                          cwd=ROOT, timeout=timeout)


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 60) -> str:
    """Wait until a paused fault point touched ``path``; fail if the process ended first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8").strip():
            return path.read_text(encoding="utf-8").strip()
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"the process ended ({process.returncode}) before its fault point: {err[-2000:]}")
        time.sleep(0.02)
    raise AssertionError("the fault point was not reached in time")


def kill_9(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def trial_count(store_dir: Path) -> int:
    store = open_store(store_dir, read_only=True)
    try:
        return int(store.select(TRIALS).values()[0][0] or 0)
    finally:
        store.close()


def quad_count(store_dir: Path) -> int:
    store = open_store(store_dir, read_only=True)
    try:
        return len(store)
    finally:
        store.close()

