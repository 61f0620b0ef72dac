"""The ranked pair queries at registry scale: what they cost to answer, and what they add to resolution.

Why: the registry-wide pair queries (``shared-site`` ...) grow with the square of hub sizes;
their ranked forms (``shared-*-ranked``) read the top pairs resolution counted in DuckDB and
stated in the sharing graph (:mod:`kg.resolve.sharing`). Two figures say whether that works:
the latency of each ranked query (a fresh process per query, as ``run.py`` times the canned
queries, beside the registry-wide full query it replaces, with a time limit), and the time
``write_sharing`` adds to resolution per kind (its member rows read and copied into DuckDB,
the pairs counted) and for writing the graph.

The registry is the synthetic one of ``benchmarks/generate.py``, built once with
``kg build --no-resolve`` and kept in ``--work``; each run resolves a fresh copy of it in a
child process. It writes ``ranked.md`` and ``ranked.json`` into ``--out``.

Example:
    python benchmarks/bench_ranked.py --size 10000 --work /tmp/ranked-bench
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``kg`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run
from benchmarks.run import PYTHON, RESULTS, WORK, run_measured, time_query

KINDS = ("site", "sponsor", "principal-investigator", "exclusion-criteria")
NEW = ("principal-investigator", "exclusion-criteria")


def unresolved_store(work: Path, n: int, seed: int, jobs: int) -> Path:
    """The store of n synthetic studies without resolution, built once and kept in ``work``."""
    path, done = work / f"unresolved-{n}-{seed}", work / f"unresolved-{n}-{seed}.done"
    if not done.exists():
        registry = work / f"registry-{n}-{seed}.zip"
        if not registry.exists():
            work.mkdir(parents=True, exist_ok=True)
            subprocess.run([PYTHON, str(run.ROOT / "benchmarks" / "generate.py"), str(n), "--seed", str(seed),
                            "--out", str(registry), "--format", "zip"], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([PYTHON, "-m", "kg", "build", str(registry), "--store", str(path), "--jobs", str(jobs),
                        "--no-resolve", "--no-progress"], check=True, stdout=subprocess.DEVNULL, cwd=run.ROOT)
        done.touch()
    return path


def resolve_store(path: Path) -> None:
    """The child process: resolve the store at ``path``, print the report as JSON."""
    from kg.resolve.stage import resolve
    from kg.store import open_store

    store = open_store(path)
    started = time.perf_counter()
    report = resolve(store)
    seconds = time.perf_counter() - started
    store.close()
    print(json.dumps({"seconds": seconds, "source": report.source, "shared_pairs": report.shared_pairs,
                      "sharing_seconds": report.sharing_seconds}))


def measure(work: Path, n: int, seed: int, jobs: int, timeout: float) -> dict[str, Any]:
    store = work / f"resolved-{n}-{seed}"
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(unresolved_store(work, n, seed, jobs), store, symlinks=True)
    _, peak, result = run_measured([PYTHON, str(Path(__file__).resolve()), "--resolve-store", str(store)])
    if result is None or result.returncode != 0:
        raise SystemExit(f"resolving {n} studies failed: {result.stderr if result else 'timeout'}")
    resolution = json.loads(result.stdout.strip().splitlines()[-1])
    run.QUERY_TIMEOUT = timeout
    queries: dict[str, Any] = {}
    for kind in KINDS:
        queries[f"shared-{kind}-ranked"] = time_query(store, f"shared-{kind}-ranked")
        queries[f"shared-{kind}-ranked limit=10000"] = time_query(store, f"shared-{kind}-ranked", {"limit": "10000"})
    for kind in NEW:
        queries[f"shared-{kind}"] = time_query(store, f"shared-{kind}")
    return {"n": n, "seed": seed, "resolution": resolution, "peak_rss_bytes": peak, "queries": queries,
            "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d")}


def _latency(found: dict[str, Any]) -> str:
    if found.get("timeout"):
        return f"> {found['limit']:.0f} s (stopped)"
    if found.get("seconds") is None:
        return f"error: {found.get('error')}"
    return f"{found['seconds'] * 1000:.1f} ms ({found['rows']} rows)"


def render(row: dict[str, Any], command: str) -> str:
    resolution = row["resolution"]
    sharing = resolution["sharing_seconds"]
    total = sum(sharing.values())
    new = sum(sharing.get(kind, 0.0) for kind in NEW)
    lines = [
        f"# Ranked pair queries at {row['n']:,} synthetic studies ({row['date']})", "",
        f"Reproduce: `{command}`", "",
        f"{row['machine']}; 2 cores shared with other jobs, so the figures are upper bounds. Resolution of the "
        f"{row['n']:,}-study store (mentions from the {resolution['source']}) took {resolution['seconds']:.1f} s, "
        f"of which `write_sharing` {total:.2f} s. The two new kinds (principal investigators, exclusion criteria) "
        f"add {new:.2f} s to it ({100 * new / resolution['seconds']:.1f}% of resolution), and half the pairs of the "
        f"sharing graph's write ({sum(resolution['shared_pairs'].values()):,} pairs, four kinds).", "",
        "## Time `write_sharing` adds to resolution", "",
        "| kind | pairs stated | seconds (rows read and copied into DuckDB, pairs counted) |", "|---|---|---|"]
    for kind in KINDS:
        lines.append(f"| {kind} | {resolution['shared_pairs'].get(kind, 0):,} | {sharing.get(kind, 0.0):.2f} |")
    lines += [f"| writing the sharing graph (all kinds) | | {sharing.get('graph', 0.0):.2f} |", "",
              "## Query latency (fresh process, store opened read-only, time of the query alone)", "",
              "| query | latency |", "|---|---|"]
    for name, found in row["queries"].items():
        lines.append(f"| {name} | {_latency(found)} |")
    lines += ["", "The last rows are the registry-wide full pair queries the two new ranked forms replace, for "
              "comparison (with the time limit above); the ranked forms read at most 10,000 pairs per kind.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="workers for building the store")
    parser.add_argument("--work", type=Path, default=WORK, help="folder for the registry and the stores")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for ranked.md and ranked.json")
    parser.add_argument("--query-timeout", type=float, default=60.0, help="seconds per query")
    parser.add_argument("--resolve-store", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.resolve_store is not None:
        resolve_store(args.resolve_store)
        return 0
    row = measure(args.work, args.size, args.seed, args.jobs, args.query_timeout)
    command = f"python benchmarks/bench_ranked.py --size {args.size} --work {args.work}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ranked.json").write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    (args.out / "ranked.md").write_text(render(row, command), encoding="utf-8")
    print(render(row, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
