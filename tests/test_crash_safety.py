"""kill -9 during a build leaves the previous store; readers see the old or the new graph."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from kg.store import open_store
from tests.conftest import DATA, EXAMPLES, run_kg

TRIALS = "PREFIX tkg: <https://w3id.org/trialkg/ontology#> SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a tkg:Trial }"


def _trial_count(store_dir: Path) -> int:
    store = open_store(store_dir, read_only=True)
    try:
        return int(store.select(TRIALS).values()[0][0] or 0)
    finally:
        store.close()


def _big_input(path: Path, copies: int) -> None:
    """Many real studies (the shared JSON array, NCT ids rewritten) as JSON Lines."""
    studies = json.loads((DATA / "ctgov-json" / "herniated-disc.ctg-studies.json").read_text(encoding="utf-8"))
    with path.open("wb") as out:
        for i in range(copies):
            study = studies[i % len(studies)]
            study["protocolSection"]["identificationModule"]["nctId"] = f"NCT9{i:07d}"
            out.write(orjson.dumps(study) + b"\n")


def test_kill_9_during_a_build_keeps_the_previous_store(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    first = run_kg("build", str(EXAMPLES), "--store", str(store_dir))
    assert first.returncode == 0, first.stderr
    before = run_kg("export", "--store", str(store_dir), "--format", "nquads").stdout
    assert _trial_count(store_dir) == 2
    big = tmp_path / "big.jsonl"
    _big_input(big, 3000)
    process = subprocess.Popen([sys.executable, "-m", "kg", "build", str(big), "--store", str(store_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        # Wait until the build is writing its staging generation, then read concurrently.
        while time.monotonic() < deadline and len(list(store_dir.glob("gen-*"))) < 2:
            time.sleep(0.05)
        time.sleep(1.5)
        assert process.poll() is None, "the build finished before it could be interrupted"
        assert _trial_count(store_dir) == 2  # a reader during the build sees the old graph
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    after = run_kg("export", "--store", str(store_dir), "--format", "nquads")
    assert after.returncode == 0, after.stderr
    assert after.stdout == before
    # The next build cleans up the abandoned generation and completes.
    again = run_kg("build", str(EXAMPLES), "--store", str(store_dir))
    assert again.returncode == 0, again.stderr
    assert len(list(store_dir.glob("gen-*"))) <= 2


def test_a_completed_build_is_seen_by_new_readers(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    assert run_kg("build", str(EXAMPLES / "000_df29306579c496cc.txt"), "--store", str(store_dir)).returncode == 0
    reader = open_store(store_dir, read_only=True)
    assert run_kg("build", str(EXAMPLES / "001_ca6197c953f8c59c.txt"), "--store", str(store_dir)).returncode == 0
    try:
        assert int(reader.select(TRIALS).values()[0][0] or 0) == 1  # opened before: the old graph, whole
    finally:
        reader.close()
    assert _trial_count(store_dir) == 2


def test_permission_error_is_one_clear_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() == 0:
            # root ignores directory permissions: use a path below a regular file instead.
            target = tmp_path / "afile"
            target.write_text("x")
            result = run_kg("build", str(EXAMPLES), "--store", str(target / "store"))
        else:
            result = run_kg("build", str(EXAMPLES), "--store", str(locked / "store"))
    finally:
        locked.chmod(0o700)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "cannot write the store" in result.stderr or "permission" in result.stderr
