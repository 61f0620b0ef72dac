"""Network analyses at registry scale: each projection plus its metrics in time and memory.

Why: ``kg analyze`` must stay usable on a whole registry, where a naive trial-trial projection
has hundreds of millions of pairs. The target is each projection with its metrics in under 2
minutes and 4 GB on a 100,000-study synthetic registry (``benchmarks/generate.py``: API v2
studies whose investigators, sites, sponsors and criteria recur with registry-like Zipf
frequencies). Each projection runs in a fresh child process on the built on-disk store, so
its peak resident memory is its own; the write-back into the store is timed separately.
Results go to ``benchmarks/results/analytics.md``.

Example:
    python benchmarks/bench_analytics.py                 # 100,000 studies (generates and builds once)
    python benchmarks/bench_analytics.py 5000 --jobs 2   # a quick run
    python benchmarks/bench_analytics.py 100000 --projections trial-trial investigators
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``kg`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "analytics.md"
WORK = ROOT / "benchmarks" / "work" / "analytics"
LIMIT_SECONDS = 120.0
LIMIT_BYTES = 4 * 1024**3


def _peak_rss() -> int:
    """This process' peak resident memory in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def child(name: str, store_dir: Path, write: bool) -> dict[str, Any]:
    """One projection with its metrics (and, with ``write``, the write-back), measured in this process."""
    from kg.analyze import analyze
    from kg.analyze.writeback import write_metrics
    from kg.store import open_store

    with open_store(store_dir, read_only=not write) as store:
        started = time.perf_counter()
        graph, table = analyze(store, name)
        analysed = time.perf_counter()
        table.to_csv()
        write_seconds = None
        if write:
            clock = time.perf_counter()
            write_metrics(store, graph, table)
            write_seconds = time.perf_counter() - clock
    seconds = table.provenance.seconds if table.provenance else {}
    return {"projection": name, "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
            "min_weight": graph.graph.get("min_weight", 1), "projection_seconds": seconds.get("projection"),
            "metrics_seconds": seconds.get("metrics"), "analysis_seconds": analysed - started,
            "write_seconds": write_seconds, "peak_rss": _peak_rss(),
            "runs": {run.name: round(run.seconds, 2) for run in (table.provenance.runs if table.provenance else [])},
            "betweenness_k": next((run.parameters.get("k") for run in (table.provenance.runs if table.provenance
                                                                     else []) if run.name == "betweenness"), None)}


def prepare(n: int, seed: int, jobs: int, work: Path) -> dict[str, Any]:
    """Generate and build the synthetic registry once (reused by later runs of the same size and seed)."""
    from benchmarks.generate import write_jsonl
    from kg.build import build
    from kg.store import open_store

    work.mkdir(parents=True, exist_ok=True)
    data = work / f"studies-{n}-{seed}.jsonl"
    store_dir = work / f"store-{n}-{seed}"
    info: dict[str, Any] = {"data": str(data), "store": str(store_dir)}
    if not data.exists():
        started = time.perf_counter()
        write_jsonl(data, n, seed)
        info["generate_seconds"] = time.perf_counter() - started
    if not (store_dir / "BUILT").exists():
        with open_store(store_dir) as store:
            started = time.perf_counter()
            report = build([data], store, jobs=jobs)
            info["build_seconds"] = time.perf_counter() - started
            info["records"] = report.records_loaded
        (store_dir / "BUILT").write_text(json.dumps(info))
    info.update({key: value for key, value in json.loads((store_dir / "BUILT").read_text()).items()
                 if key not in info})
    with open_store(store_dir, read_only=True) as store:
        info["quads"] = len(store)
    return info


def run_child(name: str, store_dir: Path, write: bool, timeout: float) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--store", str(store_dir)]
    if write:
        command.append("--write")
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"projection": name, "error": f"no result after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"projection": name, "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    return result


def report(n: int, seed: int, info: dict[str, Any], results: list[dict[str, Any]], load: float) -> str:
    def seconds(value: object) -> str:
        return f"{float(str(value)):.1f}" if value is not None else "-"

    lines = [
        "# Network analyses at scale",
        "",
        f"`python benchmarks/bench_analytics.py {n} --seed {seed}`, {time.strftime('%Y-%m-%d')}.",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}.",
        f"- Load on the machine when the run started (1-minute load average): {load:.1f}.",
        f"- Store: {info.get('records', '?')} synthetic studies, {info.get('quads', 0):,} quads, on disk (Oxigraph); "
        f"build {seconds(info.get('build_seconds'))} s (not part of the analyses).",
        f"- Target: each projection plus its metrics under {LIMIT_SECONDS:.0f} s and "
        f"{LIMIT_BYTES / 1024**3:.0f} GB peak resident memory (a fresh process per projection: imports, "
        "store, graph, metrics). Defaults: hub cap 50, edge budget 200,000; the weight threshold is what the "
        "budget applied.",
        "",
        "| projection | nodes | edges | weight ≥ | projection s | metrics s | total s | write-back s | peak RSS MB "
        "| betweenness k | within target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        if "error" in result:
            lines.append(f"| {result['projection']} | | | | | | | | | | error: {result['error']} |")
            continue
        total = float(result["analysis_seconds"])
        ok = total < LIMIT_SECONDS and result["peak_rss"] < LIMIT_BYTES
        lines.append(
            f"| {result['projection']} | {result['nodes']:,} | {result['edges']:,} | {result['min_weight']} "
            f"| {seconds(result['projection_seconds'])} | {seconds(result['metrics_seconds'])} | {total:.1f} "
            f"| {seconds(result['write_seconds'])} | {result['peak_rss'] / 1024**2:,.0f} "
            f"| {result['betweenness_k']} | {'yes' if ok else '**no**'} |")
    lines += ["", "Time per algorithm (s):", ""]
    for result in results:
        if "runs" in result:
            lines.append(f"- {result['projection']}: " + ", ".join(f"{k} {v}" for k, v in result["runs"].items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Example: python benchmarks/bench_analytics.py 100000 --jobs 2")
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="synthetic studies (default 100,000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="build worker processes")
    parser.add_argument("--work", type=Path, default=WORK, help=f"data and stores (default {WORK})")
    parser.add_argument("--projections", nargs="*", default=None, help="default: all")
    parser.add_argument("--no-write", action="store_true", help="skip timing the write-back")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--reuse-store", type=Path, default=None,
                        help="analyse this store of n studies (e.g. benchmarks/work/store-100000 from run.py, "
                             "built by `kg build` with resolution) instead of building one")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.store, args.write)))
        return 0

    from kg.analyze import PROJECTIONS

    load = os.getloadavg()[0]
    if args.reuse_store is not None:
        from kg.store import open_store

        with open_store(args.reuse_store, read_only=True) as store:
            info: dict[str, Any] = {"store": str(args.reuse_store), "records": args.n, "quads": len(store),
                                    "built_by": "kg build (with resolution), reused"}
    else:
        info = prepare(args.n, args.seed, args.jobs, args.work)
    print(f"store ready: {info.get('records')} studies, {info['quads']:,} quads", file=sys.stderr)
    results = []
    for name in args.projections or sorted(PROJECTIONS):
        result = run_child(name, Path(info["store"]), not args.no_write, timeout=10 * LIMIT_SECONDS)
        results.append(result)
        print(json.dumps(result), file=sys.stderr)
    text = report(args.n, args.seed, info, results, load)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
