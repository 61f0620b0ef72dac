"""The pipeline of two source trees on the same input, in one run: did a change slow the build?

Builds the same input with ``kg build --jobs 2 --no-resolve`` from each tree (``PYTHONPATH``
set to the tree), alternating the trees run after run so that a busy machine slows both
alike, and reports each run's pipeline time (read, parse, emit, load; the post-load stages are
left out with ``--no-resolve``), quads and peak RSS, then the median per tree.

Example:
    git worktree add --detach /tmp/before 665f50a
    python benchmarks/compare_trees.py benchmarks/work/registry-10000-42.zip \\
        --tree before=/tmp/before --tree after=. --runs 3 --out benchmarks/results/pipeline-before-after.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def _build(tree: Path, source: Path, work: Path) -> dict[str, float]:
    store, report = work / "store", work / "report.json"
    shutil.rmtree(store, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    started = time.perf_counter()
    process = psutil.Popen([sys.executable, "-m", "kg", "build", str(source), "--store", str(store), "--jobs", "2",
                            "--no-resolve", "--report", str(report)], env=env, cwd=tree,
                           stdout=subprocess.DEVNULL, stderr=(work / "stderr.txt").open("wb"))
    peak = 0
    while process.poll() is None:
        try:
            tree_rss = process.memory_info().rss + sum(child.memory_info().rss
                                                       for child in process.children(recursive=True))
        except psutil.Error:
            tree_rss = 0
        peak = max(peak, tree_rss)
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        tail = (work / "stderr.txt").read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SystemExit(f"kg build failed in {tree} (exit {process.returncode}):\n{tail}")
    data = json.loads(report.read_text(encoding="utf-8"))
    post = sum(seconds for stage, seconds in data.get("stage_seconds", {}).items() if "." not in stage)
    return {"wall": wall, "pipeline": data["seconds"] - post, "quads": data["quads"],
            "records": data["records_loaded"], "peak_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    trees = [(name, Path(path)) for name, _, path in (item.partition("=") for item in args.tree)]
    args.source = args.source.resolve()
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    with tempfile.TemporaryDirectory(prefix="compare-trees-") as tmp:
        for run in range(args.runs):
            for name, tree in trees if run % 2 == 0 else list(reversed(trees)):
                row = _build(tree, args.source, Path(tmp))
                results[name].append(row)
                print(f"run {run + 1} {name}: {row}", file=sys.stderr)
    lines = [f"# Pipeline time of two trees on `{args.source.name}`", "",
             f"`python benchmarks/compare_trees.py {args.source} "
             + " ".join(f"--tree {name}={path}" for name, path in trees) + f" --runs {args.runs}`: "
             "`kg build --jobs 2 --no-resolve`, the trees alternating run after run. Pipeline = the build's "
             "time less its post-load stages (VoID).", "",
             "| tree | runs | pipeline (median) | pipeline (each run) | quads | quads/record | peak RSS (median) |",
             "|---|---:|---:|---|---:|---:|---:|"]
    medians = {}
    for name, rows in results.items():
        pipeline = statistics.median(row["pipeline"] for row in rows)
        medians[name] = pipeline
        lines.append(f"| {name} | {len(rows)} | {pipeline:.1f} s | "
                     + ", ".join(f"{row['pipeline']:.1f}" for row in rows)
                     + f" | {rows[0]['quads']:,.0f} | {rows[0]['quads'] / rows[0]['records']:.0f} | "
                     f"{statistics.median(row['peak_mib'] for row in rows):,.0f} MiB |")
    first, *others = [name for name, _ in trees]
    for other in others:
        lines += ["", f"{other} / {first}: {medians[other] / medians[first]:.3f} (pipeline medians)."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
