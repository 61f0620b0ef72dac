"""kill -9 at every named point of a build: the store holds the old build or the new one, whole.

Why named points (``TRIALKG_FAULT``, see :mod:`kg.store.faults`): a kill "after a while"
landed before the first chunk, so builds that switched ``active`` before loading, or loaded
in place, passed. Here the build dies mid-load (after the 1st of 3 chunks), after loading,
after the flush, between the temporary link and the rename, after the switch and in the
middle of pruning; the store must then equal the previous build byte for byte, or hold
the complete new one, and the next build must succeed.
"""

from __future__ import annotations

import io
import shutil
import signal
from pathlib import Path

import pytest

from kg.build import build
from kg.store import open_store
from kg.store.generations import ACTIVE, StoreDirectory
from tests.conftest import CLASSIC_SEED, DATA, MODERN_SEED
from tests.safety.helpers import kill_9, run_kg_env, start_kg, trial_count, wait_for

ARRAY = DATA / "ctgov-json" / "herniated-disc.ctg-studies.json"
OLD, NEW = "old", "new"
POINTS = [
    ("staged", OLD), ("load@1", OLD), ("load@2", OLD), ("loaded", OLD), ("flushed", OLD),
    ("before-rename", OLD), ("switched", NEW), ("prune", NEW),
]


def _dump(store_dir: Path) -> bytes:
    store = open_store(store_dir, read_only=True)
    try:
        out = io.BytesIO()
        store.dump(out, "nquads")
        return out.getvalue()
    finally:
        store.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, int]:
    """A store of two builds (two generations), its dump, and the trial count a full new build gives."""
    root = tmp_path_factory.mktemp("baseline") / "store"
    for seed in (MODERN_SEED, CLASSIC_SEED):
        with StoreDirectory(root).staging() as store:
            build([seed], store)
    reference = root.parent / "reference"
    shutil.copytree(root, reference, symlinks=True)
    with StoreDirectory(reference).staging() as store:
        build([ARRAY], store)
    return root, _dump(root), trial_count(reference)


@pytest.mark.parametrize(("point", "outcome"), POINTS, ids=[p for p, _ in POINTS])
def test_kill_9_at_each_point_leaves_a_whole_build(point: str, outcome: str, baseline: tuple[Path, bytes, int],
                                                   tmp_path: Path) -> None:
    source, before, new_trials = baseline
    store = tmp_path / "store"
    shutil.copytree(source, store, symlinks=True)
    result = run_kg_env("build", str(ARRAY), "--store", str(store), TRIALKG_FAULT=f"{point}:die")
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr[-2000:])
    if outcome == OLD:
        assert _dump(store) == before  # the previous build, byte for byte
    else:
        assert trial_count(store) == new_trials  # the new build, complete
    assert (store / ACTIVE).resolve().is_dir()
    again = run_kg_env("build", str(MODERN_SEED), "--store", str(store), "--no-resolve")
    assert again.returncode == 0, again.stderr
    assert len(list(store.glob("gen-*"))) <= 2 and not list(store.glob(f".{ACTIVE}.*"))


def test_a_reader_during_a_paused_load_sees_the_previous_build(baseline: tuple[Path, bytes, int],
                                                               tmp_path: Path) -> None:
    source, before, _ = baseline
    store = tmp_path / "store"
    shutil.copytree(source, store, symlinks=True)
    ready = tmp_path / "ready"
    process = start_kg("build", str(ARRAY), "--store", str(store),
                       TRIALKG_FAULT="load@1:pause", TRIALKG_FAULT_READY=str(ready))
    try:
        wait_for(ready, process)
        staged = sorted(store.glob("gen-*"))[-1]
        assert staged.name != (store / ACTIVE).resolve().name  # loading goes to a new generation
        assert _dump(store) == before
    finally:
        kill_9(process)
    assert _dump(store) == before
