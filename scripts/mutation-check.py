#!/usr/bin/env python3
# ruff: noqa: E501
"""Mutation check for the safety tests: each safety, deliberately broken, must make its tests fail.

Why: a safety test that still passes when the safety is removed proves nothing (the old
kill -9 test passed a build that switched ``active`` before loading). For each mutant this
copies ``kg/`` and ``tests/`` to a scratch folder, applies its textual change (two, for the
mutants that remove two safeties where either alone hides the other's absence), runs the
tests that guard it, and reports KILLED (they failed: good) or SURVIVED (they passed: the
tests are too weak). Exit status 1 when any mutant survives. The results, with the
assertion each mutant broke, are the table at the end of docs/reliability.md.

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

# name: ([(file, old text, new text), ...], tests that must fail). Several changes break
# two safeties at once where one would hide the other's absence (the zip checks).
Change = tuple[str, str, str]
MUTANTS: dict[str, tuple[list[Change], list[str]]] = {
    # --- the store: lock, generations, cleanup -------------------------------------------
    "lock-removed": (
        [("kg/store/lock.py", "        if self._acquired:\n            return self\n", "        return self\n")],
        [S + "test_safety_store_lock.py::test_second_build_fails_at_once_naming_the_holder_and_the_store_stays_valid",
         S + "test_safety_store_lock.py::test_two_concurrent_writers_one_waits_and_the_store_holds_both_complete_builds"]),
    "forked-worker-keeps-lock": (
        [("kg/store/lock.py", "    os.register_at_fork(after_in_child=_after_fork_in_child)\n", "    pass\n")],
        [S + "test_safety_store_lock.py::test_a_forked_worker_does_not_keep_the_store_locked"]),
    "writable-open-unlocked": (
        [("kg/store/generations.py", "        lock = self.lock().acquire()\n", "        lock = self.lock()\n")],
        [S + "test_safety_store_lock.py::test_a_writable_open_holds_the_lock_until_closed"]),
    "staging-inside-staging-allowed": (
        [("kg/store/generations.py", "        if key in _staging:\n", "        if False:\n")],
        [S + "test_safety_store_lock.py::test_the_lock_is_reentrant_within_a_process"]),
    "switch-before-load": (
        [("kg/store/generations.py", '        fault("staged")\n        try:\n            yield store\n',
          '        fault("staged")\n        self._switch(target)\n        try:\n            yield store\n')],
        [S + "test_safety_crash_points.py"]),
    "load-in-place": (
        [("kg/store/generations.py", "                ox.Store.read_only(str(active)).backup(str(target))\n",
          "                target = active\n")],
        [S + "test_safety_crash_points.py"]),
    "prune-ignores-readers": (
        [("kg/store/generations.py", '            try_remove_generation(path)\n            fault("prune")\n',
          '            shutil.rmtree(path, ignore_errors=True)\n            fault("prune")\n')],
        [S + "test_safety_store_lock.py::test_cleanup_never_removes_a_generation_a_reader_holds"]),
    "reader-not-pinned": (
        [("kg/store/generations.py",
          "            if hold.acquire():\n                return HeldStore(active, read_only=True, release=hold.release)\n",
          "            return HeldStore(active, read_only=True, release=lambda: None)\n")],
        [S + "test_safety_store_lock.py::test_cleanup_never_removes_a_generation_a_reader_holds"]),
    "prune-removes-active": (
        [("kg/store/generations.py", "        for _, path in self._generations()[:-_KEEP]:\n            if active is not None",
          "        for _, path in self._generations():\n            if False and active is not None")],
        [S + "test_safety_store_lock.py::test_cleanup_never_removes_the_active_generation"]),
    "dangling-active-is-a-new-store": (
        [("kg/store/generations.py", "        if active is None and (link.is_symlink() or link.exists()):",
          "        if False:")],
        [S + "test_safety_store_lock.py::test_a_dangling_active_is_refused_and_nothing_is_deleted"]),
    # --- the JSON array reader -----------------------------------------------------------
    "resync-removed": (
        [("kg/sources/json_array.py", "            if match is not None:\n                self.pos = match.start()\n"
          "                return True\n", "            if match is not None:\n                return False\n")],
        [S + "test_safety_json_array.py", S + "test_safety_array_fuzz.py",
         "tests/test_fuzz.py::test_damaged_bytes_in_one_json_study_cost_that_study"]),
    "cut-at-anchor-removed": (
        [("kg/sources/json_array.py",
          '        yield self._error(message, self.nct or _nct(self.buf[max(self.start, 0) : at]))\n'
          "        self.pos = at\n        return False\n",
          '        yield self._error(message, self.nct or _nct(self.buf[max(self.start, 0) : at]))\n'
          "        self.pos = at\n        return None\n")],
        [S + "test_safety_json_array.py", S + "test_safety_array_fuzz.py",
         "tests/test_fuzz.py::test_damaged_bytes_in_one_json_study_cost_that_study"]),
    "depth-limit-removed": (
        [("kg/sources/json_array.py", "    depth: int = 64\n", "    depth: int = 10**9\n")],
        [S + "test_safety_json_array.py::test_limits_hold_before_memory_is_spent"]),
    "element-limit-removed": (
        [("kg/sources/json_array.py",
          "        if in_element and self.skip is None and len(self.buf) - self.start > self.limits.element:",
          "        if False:")],
        [S + "test_safety_json_array.py::test_limits_hold_before_memory_is_spent"]),
    "string-limit-removed": (
        [("kg/sources/json_array.py", "                    if len(buf) - self.string_start > limits.string:",
          "                    if False:"),
         ("kg/sources/json_array.py", "                if at - self.string_start > limits.string:\n",
          "                if False:\n")],
        [S + "test_safety_json_array.py::test_limits_hold_before_memory_is_spent"]),
    "number-limit-removed": (
        [("kg/sources/json_array.py", "    number: int = 100\n", "    number: int = 10**8\n")],
        [S + "test_safety_json_array.py::test_limits_hold_before_memory_is_spent"]),
    # --- zips and lines ------------------------------------------------------------------
    "ratio-limit-removed": (  # both ratio checks: the declared one and the streaming one
        [("kg/sources/bounded.py", "    max_ratio: float = 100.0\n", "    max_ratio: float = 1e12\n")],
        [S + "test_safety_bombs.py"]),
    "declared-size-check-unused": (  # the streaming check alone still stops the bomb, later
        [("kg/sources/bounded.py", "    check_member(source, member, size, compressed_size, limits)\n", "")],
        [S + "test_safety_bombs.py"]),
    "stream-ratio-check-removed": (  # the declared check alone still stops an honest header
        [("kg/sources/bounded.py", "        if self.produced > limits.ratio_floor:\n",
          "        if False:\n")],
        [S + "test_safety_bombs.py"]),
    "both-zip-checks-removed": (
        [("kg/sources/bounded.py", "    check_member(source, member, size, compressed_size, limits)\n", ""),
         ("kg/sources/bounded.py", "        if self.produced > limits.ratio_floor:\n", "        if False:\n")],
        [S + "test_safety_bombs.py::test_a_3_gib_one_line_member_fails_fast_under_1_gib"]),
    "line-cap-removed": (
        [("kg/sources/bounded.py", "        line = handle.readline(limit + 1)\n", "        line = handle.readline()\n")],
        [S + "test_safety_bombs.py"]),
    "json-lines-read-unbounded": (
        [("kg/sources/ctgov_json_read.py", "    for offset, line in bounded_lines(handle, _MAX_DOCUMENT):\n",
          "    for offset, line in enumerate(handle, 1):\n")],
        [S + "test_safety_bombs.py"]),
    # --- paths, names, encodings ---------------------------------------------------------
    "symlink-loop-check-removed": (
        [("kg/sources/walk.py", "                if identity in seen:\n", "                if False:\n")],
        [S + "test_safety_paths.py::test_a_symlink_loop_is_reported_not_followed"]),
    "symlinked-folder-not-followed": (
        [("kg/sources/walk.py", "                info = os.stat(path)  # follows links\n",
          "                info = os.lstat(path)\n")],
        [S + "test_safety_paths.py::test_a_symlinked_folder_is_read_once",
         S + "test_safety_end_to_end.py::test_a_build_reads_symlinked_folders_and_reports_loops"]),
    "unreadable-folder-silent": (
        [("kg/sources/walk.py",
          '            found.append((folder, SourceError(f"cannot read folder: {error.strerror or error}", '
          "source=str(folder))))\n", "            pass\n")],
        [S + "test_safety_paths.py"]),
    "pipe-is-read": (
        [("kg/sources/walk.py", "            elif stat.S_ISREG(info.st_mode):\n", "            elif True:\n")],
        [S + "test_safety_paths.py::test_broken_links_and_pipes_are_reported"]),
    "zip-member-dot-is-hidden": (
        [("kg/sources/walk.py", '    return any(part.startswith(".") for part in parts)\n',
          '    return name.startswith(".") or any(part.startswith(".") for part in parts)\n')],
        [S + "test_safety_paths.py::test_zip_member_names",
         S + "test_safety_end_to_end.py::test_a_zip_member_with_an_odd_name_is_read"]),
    "zip-member-dotdot-is-hidden": (
        [("kg/sources/walk.py", '    parts = [part for part in name.replace("\\\\", "/").split("/") if part not in ("", ".", "..")]\n',
          '    parts = [part for part in name.replace("\\\\", "/").split("/") if part not in ("",)]\n')],
        [S + "test_safety_paths.py::test_zip_member_names",
         S + "test_safety_end_to_end.py::test_a_zip_member_with_an_odd_name_is_read"]),
    "utf16-head-not-decoded": (
        [("kg/sources/text_head.py", "    if encoding is None:\n        return head\n", "    return head\n")],
        [S + "test_safety_paths.py"]),
    "utf16-bom-is-binary": (
        [("kg/sources/text_head.py", " and bom_encoding(head) is None\n", "\n")],
        [S + "test_safety_paths.py", S + "test_safety_end_to_end.py::test_a_utf16_xml_file_is_built"]),
    # --- kg serve ------------------------------------------------------------------------
    "query-memory-limit-removed": (
        [("kg/store/sandbox.py", "    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n", "    pass\n")],
        ["tests/serve/test_serve_safety.py::test_runaway_queries_are_stopped_and_the_server_answers_after"]),
    "serve-update-without-writer-lock": (
        [("kg/store/sandbox.py", "        with StoreDirectory(Path(location)).staging() as store:\n",
          "        with contextlib.contextmanager(StoreDirectory(Path(location))._stage)() as store:\n")],
        ["tests/serve/test_serve_updates.py"]),
}



def run(name: str) -> bool:
    changes, tests = MUTANTS[name]
    with tempfile.TemporaryDirectory(prefix=f"kg-mutant-{name}-") as scratch:
        tree = Path(scratch)
        for part in ("kg", "tests", "examples", "ontology", "queries", "pyproject.toml"):
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, tree / part, symlinks=True)
            elif source.exists():
                shutil.copy(source, tree / part)
        for path, old, new in changes:
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
