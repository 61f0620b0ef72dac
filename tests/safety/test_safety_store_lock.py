"""One writer per store: a second writer waits or fails at once; cleanup never removes what is in use.

Each test fails when its safety is removed (see docs/reliability.md, mutation checks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.build import build
from kg.errors import StoreError
from kg.store.generations import ACTIVE, StoreDirectory
from kg.store.lock import StoreLock
from tests.conftest import CLASSIC_SEED, DATA, EXAMPLES, MODERN_SEED, ROOT
from tests.safety.helpers import kg_env, kill_9, run_kg_env, start_kg, trial_count, wait_for

ARRAY = DATA / "ctgov-json" / "herniated-disc.ctg-studies.json"


def _build_into(root: Path, *paths: Path) -> None:
    with StoreDirectory(root).staging() as store:
        report = build(list(paths), store)
        assert report.records_loaded


def test_second_build_fails_at_once_naming_the_holder_and_the_store_stays_valid(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _build_into(store, MODERN_SEED)
    ready = tmp_path / "ready"
    first = start_kg("build", str(ARRAY), "--store", str(store), "--no-resolve",
                     TRIALKG_FAULT="loaded:pause", TRIALKG_FAULT_READY=str(ready))
    try:
        wait_for(ready, first)
        started = time.monotonic()
        second = run_kg_env("build", str(CLASSIC_SEED), "--store", str(store), "--no-resolve")
        assert time.monotonic() - started < 15  # at once, not after the first build
        assert second.returncode != 0
        assert "Traceback" not in second.stderr
        assert f"being written by pid {first.pid}" in second.stderr and "build" in second.stderr, second.stderr
        assert str(store) in second.stderr
        assert trial_count(store) == 1  # readers still see the last complete build
    finally:
        kill_9(first)
    assert trial_count(store) == 1
    again = run_kg_env("build", str(CLASSIC_SEED), "--store", str(store), "--no-resolve")
    assert again.returncode == 0, again.stderr
    assert trial_count(store) == 2


def test_two_concurrent_writers_one_waits_and_the_store_holds_both_complete_builds(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ready = tmp_path / "ready"
    # The first writer pauses after loading (holding the lock); the second, with --wait, must queue.
    first = start_kg("build", str(ARRAY), "--store", str(store), "--no-resolve",
                     TRIALKG_FAULT="flushed:pause", TRIALKG_FAULT_READY=str(ready))
    second = None
    try:
        wait_for(ready, first)
        second = start_kg("build", str(CLASSIC_SEED), "--store", str(store), "--no-resolve", "--wait")
        line = second.stderr.readline() if second.stderr else ""
        assert line.startswith(f"waiting: the store is being written by pid {first.pid} (kg build"), line
        time.sleep(0.5)
        assert second.poll() is None  # still waiting: it has not written
        assert not (store / ACTIVE).exists()  # nobody switched yet
    finally:
        kill_9(first)
    assert second is not None
    _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert trial_count(store) == 1  # the killed build left nothing; the waiting one is whole
    generations = sorted(p.name for p in store.glob("gen-*"))
    assert len(generations) == 1, generations


_WAITING_WRITER = """
import sys, time
from pathlib import Path
from kg.build import build
from kg.store.generations import StoreDirectory
root = StoreDirectory(sys.argv[1], wait=True, on_wait=lambda holder: print("waiting for", holder, flush=True))
with root.staging() as store:
    build([Path(sys.argv[2])], store, resolve=False)
print("done", flush=True)
"""


def test_the_library_waits_when_asked(tmp_path: Path) -> None:
    holder = StoreLock(tmp_path).acquire()
    waiter = subprocess.Popen([sys.executable, "-c", _WAITING_WRITER, str(tmp_path), str(CLASSIC_SEED)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kg_env(), cwd=ROOT)
    try:
        assert waiter.stdout is not None and waiter.stdout.readline().startswith(f"waiting for pid {os.getpid()}")
    finally:
        holder.release()
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0 and "done" in out, err
    assert trial_count(tmp_path) == 1


def test_racing_builds_never_both_write(tmp_path: Path) -> None:
    """Two builds started together: each succeeds whole or fails cleanly; the store is valid."""
    store = tmp_path / "store"
    one = start_kg("build", str(MODERN_SEED), "--store", str(store), "--no-resolve")
    two = start_kg("build", str(CLASSIC_SEED), "--store", str(store), "--no-resolve")
    results = [(*p.communicate(timeout=120), p.returncode) for p in (one, two)]
    succeeded = [code == 0 for _, _, code in results]
    for _, err, code in results:
        assert "Traceback" not in err
        if code != 0:
            assert "being written by" in err, err
    assert any(succeeded)
    assert trial_count(store) == sum(succeeded)
    assert (store / ACTIVE).resolve().is_dir()


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from kg.store.lock import StoreLock; "
         "StoreLock(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(600)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True, env=kg_env(), cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match=f"pid {holder.pid}"):
            StoreLock(tmp_path).acquire()
        with pytest.raises(StoreError, match="gave up waiting"):
            StoreLock(tmp_path, wait=True, timeout=0.3).acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with StoreLock(tmp_path):  # the kernel dropped it with the process
        pass


def test_a_forked_worker_does_not_keep_the_store_locked(tmp_path: Path) -> None:
    lock = StoreLock(tmp_path).acquire()
    started, ready = os.pipe()
    child = os.fork()
    if child == 0:  # a pool worker outliving its parent's lock (fork hooks have run by now)
        os.write(ready, b"x")
        time.sleep(3)
        os._exit(0)
    try:
        assert os.read(started, 1) == b"x"
        lock.release()
        with StoreLock(tmp_path):  # the child's copy of the descriptor does not hold it
            pass
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os.close(started)
        os.close(ready)


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    root = StoreDirectory(tmp_path / "store")
    root.open().close()  # an empty store
    with root.staging() as store:
        store.load_nquads(b'<urn:s> <urn:p> "o" <urn:g> .\n')
        writer = root.open()  # a writer inside a build: same process, same lock, no deadlock
        writer.close()
        with pytest.raises(StoreError, match="already building"), root.staging():
            pass  # but a staging inside a staging would remove the outer one: refused
    assert len(root.open(read_only=True)) == 1


def test_a_writable_open_holds_the_lock_until_closed(tmp_path: Path) -> None:
    root = StoreDirectory(tmp_path / "store")
    writer = root.open()
    code = ("import sys; from kg.store.generations import StoreDirectory\n"
            "try:\n    StoreDirectory(sys.argv[1]).staging().__enter__()\n"
            "except Exception as e:\n    print(e)\n    sys.exit(3)\n")
    blocked = subprocess.run([sys.executable, "-c", code, str(root.root)], capture_output=True, text=True,
                             env=kg_env(), cwd=ROOT)
    assert blocked.returncode == 3 and "being written by" in blocked.stdout, blocked
    writer.close()
    free = subprocess.run([sys.executable, "-c", code.replace("__enter__()", "__enter__(); print('ok')"),
                           str(root.root)], capture_output=True, text=True, env=kg_env(), cwd=ROOT)
    assert free.returncode == 0, free


def test_cleanup_never_removes_a_generation_a_reader_holds(tmp_path: Path) -> None:
    root = StoreDirectory(tmp_path / "store")
    _build_into(root.root, MODERN_SEED)
    reader = root.open(read_only=True)
    held = root.active()
    assert held is not None
    for seed in (CLASSIC_SEED, MODERN_SEED, CLASSIC_SEED):  # well past the two generations kept
        _build_into(root.root, seed)
    assert held.is_dir()
    assert reader.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").values()[0][0] != "0"
    reader.close()
    _build_into(root.root, MODERN_SEED)
    assert not held.is_dir()  # released: pruned by the next build
    assert len(list(root.root.glob("gen-*"))) == 2


def test_cleanup_never_removes_the_active_generation(tmp_path: Path) -> None:
    root = StoreDirectory(tmp_path / "store")
    _build_into(root.root, MODERN_SEED)
    _build_into(root.root, CLASSIC_SEED)
    active = root.active()
    assert active is not None
    # A newer-numbered generation left by a crash, and an older one: the active one survives any cleanup.
    (root.root / "gen-000009").mkdir()
    _build_into(root.root, MODERN_SEED)
    assert not (root.root / "gen-000009").exists()
    assert root.active() is not None and root.active().is_dir()  # type: ignore[union-attr]
    assert trial_count(root.root) == 2


def test_a_dangling_active_is_refused_and_nothing_is_deleted(tmp_path: Path) -> None:
    root = StoreDirectory(tmp_path / "store")
    _build_into(root.root, MODERN_SEED)
    _build_into(root.root, CLASSIC_SEED)
    before = sorted(p.name for p in root.root.glob("gen-*"))
    (root.root / ACTIVE).unlink()
    (root.root / ACTIVE).symlink_to("gen-000042")
    result = run_kg_env("build", str(EXAMPLES), "--store", str(root.root), "--no-resolve")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "damaged" in result.stderr and "gen-000042" in result.stderr, result.stderr
    assert sorted(p.name for p in root.root.glob("gen-*")) == before
