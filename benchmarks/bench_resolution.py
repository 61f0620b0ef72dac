"""Resolution time at growing numbers of studies: is the stage linear in the records?

Why: resolution compares mentions only within blocks (a family name with an initial, a city
and a rare word, a criterion's rarest words), so its cost must grow with the number of
records, not with their square. This run generates synthetic ClinicalTrials.gov studies at
each size (``benchmarks/generate.py``: recurring investigators, sites, sponsors and criteria
with registry-like frequencies), builds each into an on-disk Oxigraph store, times
:func:`kg.resolve.stage.resolve` per kind, then times the four shared-* canned queries that
join through the resolution graph. It writes ``benchmarks/results/resolution.md`` with the
time per record at each size; a flat column is a linear stage.

Example:
    python benchmarks/bench_resolution.py                          # 1,000 to 8,000 studies
    python benchmarks/bench_resolution.py --sizes 25000 50000 100000 --jobs 4
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``kg`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import write_jsonl
from kg.build import build
from kg.queries import get_query
from kg.resolve.stage import ResolutionReport, resolve
from kg.store import open_store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
QUERIES = ("shared-principal-investigator", "shared-site", "shared-sponsor", "shared-exclusion-criteria")


@dataclass
class Run:
    studies: int
    build_seconds: float
    report: ResolutionReport
    query_seconds: dict[str, float]
    query_rows: dict[str, int]


def run_size(n: int, seed: int, work: Path, jobs: int, with_queries: bool) -> Run:
    """Generate, build and resolve ``n`` studies; time the shared-* queries after."""
    data = work / f"studies-{n}.jsonl"
    if not data.exists():
        write_jsonl(data, n, seed)
    store_dir = work / f"store-{n}"
    with open_store(store_dir) as store:
        started = time.perf_counter()
        build([data], store, jobs=jobs)
        build_seconds = time.perf_counter() - started
        report = resolve(store)
        seconds: dict[str, float] = {}
        rows: dict[str, int] = {}
        for name in QUERIES if with_queries else ():
            started = time.perf_counter()
            rows[name] = len(store.select(get_query(name).bind()).rows)
            seconds[name] = time.perf_counter() - started
    return Run(n, build_seconds, report, seconds, rows)


def render(runs: list[Run], seed: int, jobs: int) -> str:
    """The Markdown report: resolution time per record at each size, per kind, and the queries."""
    lines = [
        "# Resolution benchmark",
        "",
        f"Synthetic studies from `benchmarks/generate.py` (seed {seed}), built with `--jobs {jobs}` into an "
        "on-disk Oxigraph store, then `kg.resolve.stage.resolve(store)`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}.",
        "",
        "| studies | build s | resolve s | µs per study | persons s | sites s | organisations s | criteria s "
        "| role mentions | site mentions | criterion concepts | resolution quads |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        r = run.report
        lines.append(
            f"| {run.studies:,} | {run.build_seconds:.1f} | {r.seconds:.1f} | {r.seconds / run.studies * 1e6:,.0f} "
            f"| {r.persons.seconds:.1f} | {r.sites.seconds:.1f} | {r.organizations.seconds:.1f} "
            f"| {r.criteria.seconds:.1f} | {r.persons.mentions:,} | {r.sites.mentions:,} | {r.criteria.mentions:,} "
            f"| {r.quads:,} |")
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        per_first = first.report.seconds / first.studies
        per_last = last.report.seconds / last.studies
        lines += ["", f"Time per study at {last.studies:,} studies is {per_last / per_first:.2f}x the time per study "
                      f"at {first.studies:,} ({last.studies / first.studies:.0f}x the studies): "
                      f"{'linear' if per_last / per_first < 1.5 else 'NOT linear'} within measurement noise."]
    if any(run.query_seconds for run in runs):
        lines += ["", "Shared-* canned queries after resolution (seconds, rows):", "",
                  "| studies | " + " | ".join(QUERIES) + " |", "|---:|" + "---:|" * len(QUERIES)]
        for run in runs:
            cells = [f"{run.query_seconds[q]:.1f} ({run.query_rows[q]:,})" for q in QUERIES]
            lines.append(f"| {run.studies:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1)))
    parser.add_argument("--work", type=Path, default=None, help="folder for data and stores (default: temporary)")
    parser.add_argument("--no-queries", action="store_true", help="time resolution only")
    parser.add_argument("--out", type=Path, default=RESULTS / "resolution.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kg-bench-resolution-") as temp:
        work = args.work or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        runs = []
        for n in sorted(args.sizes):
            run = run_size(n, args.seed, work, args.jobs, not args.no_queries)
            print(f"{n:>8,} studies: build {run.build_seconds:6.1f} s, resolve {run.report.seconds:6.1f} s "
                  f"({run.report.seconds / n * 1e6:,.0f} µs/study)", file=sys.stderr)
            runs.append(run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(runs, args.seed, args.jobs), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
