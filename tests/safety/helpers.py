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


def _read_array_with_resync(handle, source, prefix, pointer):  # type: ignore[no-untyped-def]
    """ctgov_json's ``_read_array`` on :mod:`kg.sources.json_array` (the wiring docs/reliability.md gives)."""
    from kg.errors import RecordError
    from kg.sources import ctgov_json as module
    from kg.sources.base import RawRecord
    from kg.sources.json_array import CTGOV_ANCHOR, read_json_array

    key = "studies" if prefix.startswith("studies") else None
    for item in read_json_array(handle, source, pointer=pointer, key=key, anchor=CTGOV_ANCHOR):
        if isinstance(item, RecordError):
            yield item
            continue
        where = pointer.format(item.position)
        problem = module._not_a_study(item.value)
        if problem:
            yield RecordError(problem, source=source, record=where)
        else:
            yield RawRecord(module.FORMAT, source, module._nct_id(item.value) or where, item.data)


def wired_array_reader() -> tuple[object, str, object]:
    """``(module, name, replacement)`` for monkeypatch.setattr: the resynchronising reader in the
    JSON reader until it is wired there (then the module's own function is kept)."""
    from kg.sources import ctgov_json

    if "read_json_array" in vars(ctgov_json):
        return ctgov_json, "_read_array", ctgov_json._read_array
    return ctgov_json, "_read_array", _read_array_with_resync
