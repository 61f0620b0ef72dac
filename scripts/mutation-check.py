#!/usr/bin/env python3
# ruff: noqa: E501
"""Mutation check for the safety tests: each safety, deliberately broken, must make its tests fail.

Why: a safety test that still passes when the safety is removed proves nothing (the old
kill -9 test passed a build that switched ``active`` before loading). For each mutant this
copies ``kg/`` and ``tests/`` to a scratch folder, applies one textual change, runs the
tests that guard it, and reports KILLED (they failed: good) or SURVIVED (they passed: the
tests are too weak). Exit status 1 when any mutant survives.

Usage:
    python scripts/mutation-check.py            # every mutant
    python scripts/mutation-check.py lock-removed resync-removed
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
S = "tests/safety/"

# name: (file, old text, new text, tests that must fail)
MUTANTS: dict[str, tuple[str, str, str, list[str]]] = {
    "lock-removed": (
        "kg/store/lock.py", "        if self._acquired:\n            return self\n", "        return self\n",
        [S + "test_safety_store_lock.py::test_second_build_fails_at_once_naming_the_holder_and_the_store_stays_valid",
         S + "test_safety_store_lock.py::test_two_concurrent_writers_one_waits_and_the_store_holds_both_complete_builds"]),
    "switch-before-load": (
        "kg/store/generations.py", '        fault("staged")\n        try:\n            yield store\n',
        '        fault("staged")\n        self._switch(target)\n        try:\n            yield store\n',
        [S + "test_safety_crash_points.py"]),
    "load-in-place": (
        "kg/store/generations.py", "                ox.Store.read_only(str(active)).backup(str(target))\n",
        "                target = active\n", [S + "test_safety_crash_points.py"]),
    "prune-ignores-readers": (
        "kg/store/generations.py", '            try_remove_generation(path)\n            fault("prune")\n',
        '            shutil.rmtree(path, ignore_errors=True)\n            fault("prune")\n',
        [S + "test_safety_store_lock.py::test_cleanup_never_removes_a_generation_a_reader_holds"]),
    "prune-removes-active": (
        "kg/store/generations.py", "        for _, path in self._generations()[:-_KEEP]:\n            if active is not None",
        "        for _, path in self._generations():\n            if False and active is not None",
        [S + "test_safety_store_lock.py::test_cleanup_never_removes_the_active_generation"]),
    "dangling-active-is-a-new-store": (
        "kg/store/generations.py", "        if active is None and (link.is_symlink() or link.exists()):",
        "        if False:", [S + "test_safety_store_lock.py::test_a_dangling_active_is_refused_and_nothing_is_deleted"]),
    "resync-removed": (
        "kg/sources/json_array.py", "            if match is not None:\n                self.pos = match.start()\n"
        "                return True\n", "            if match is not None:\n                return False\n",
        [S + "test_safety_json_array.py", S + "test_safety_array_fuzz.py"]),
    "cut-at-anchor-removed": (
        "kg/sources/json_array.py", '        yield self._error(message, self.nct or _nct(self.buf[max(self.start, 0) : at]))\n'
        "        self.pos = at\n        return False\n",
        '        yield self._error(message, self.nct or _nct(self.buf[max(self.start, 0) : at]))\n'
        "        self.pos = at\n        return None\n",
        [S + "test_safety_json_array.py", S + "test_safety_array_fuzz.py"]),
    "depth-limit-removed": (
        "kg/sources/json_array.py", "    depth: int = 64\n", "    depth: int = 10**9\n",
        [S + "test_safety_json_array.py::test_limits_hold_before_memory_is_spent"]),
    "element-limit-removed": (
        "kg/sources/json_array.py", "        if in_element and self.skip is None and len(self.buf) - self.start > self.limits.element:",
        "        if False:", [S + "test_safety_json_array.py::test_limits_hold_before_memory_is_spent"]),
    "ratio-limit-removed": (
        "kg/sources/bounded.py", "    max_ratio: float = 100.0\n", "    max_ratio: float = 1e12\n",
        [S + "test_safety_bombs.py"]),
    "symlink-loop-check-removed": (
        "kg/sources/walk.py", "                if identity in seen:\n", "                if False:\n",
        [S + "test_safety_paths.py::test_a_symlink_loop_is_reported_not_followed"]),
    "unreadable-folder-silent": (
        "kg/sources/walk.py", '            found.append((folder, SourceError(f"cannot read folder: {error.strerror or error}", '
        "source=str(folder))))\n", "            pass\n", [S + "test_safety_paths.py"]),
    "zip-member-dot-is-hidden": (
        "kg/sources/walk.py", '    return any(part.startswith(".") for part in parts)\n',
        '    return name.startswith(".") or any(part.startswith(".") for part in parts)\n',
        [S + "test_safety_paths.py::test_zip_member_names"]),
    "utf16-head-not-decoded": (
        "kg/sources/text_head.py", "    if encoding is None:\n        return head\n", "    return head\n",
        [S + "test_safety_paths.py"]),
}


def run(name: str) -> bool:
    path, old, new, tests = MUTANTS[name]
    with tempfile.TemporaryDirectory(prefix=f"kg-mutant-{name}-") as scratch:
        tree = Path(scratch)
        for part in ("kg", "tests", "examples", "ontology", "queries", "pyproject.toml"):
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, tree / part, symlinks=True)
            elif source.exists():
                shutil.copy(source, tree / part)
        target = tree / path
        text = target.read_text(encoding="utf-8")
        if text.count(old) != 1:
            print(f"{name:34s} NOT APPLIED (the text to change is not found once in {path})")
            return False
        target.write_text(text.replace(old, new), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(tree)}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                                cwd=tree, env=env, capture_output=True, text=True, timeout=900)
        killed = result.returncode != 0
        summary = (result.stdout.strip().splitlines() or ["?"])[-1]
        print(f"{name:34s} {'KILLED' if killed else 'SURVIVED'}  ({summary})", flush=True)
        return killed


def main() -> int:
    names = sys.argv[1:] or list(MUTANTS)
    results = [run(name) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
