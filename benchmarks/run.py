"""The registry-scale benchmark: build throughput, memory, store size and query latency.

One command measures, on this machine, for each size N of a synthetic registry (see
``generate.py``; the input is a zip of per-study JSON files, like the real bulk download):

* ``kg build --jobs 2`` wall time, studies/s, triples/s, time spent loading, peak RSS of
  the whole process tree (parent + workers), store size on disk;
* the time of the post-load stages (entity resolution, investigator-author links), which
  ``kg build`` runs by default;
* the latency of every canned query on the built store (a fresh process per query, with a
  time limit), in two forms: registry-wide (no parameters: every pair, every finding) and
  for one trial (``nct`` bound; the threshold query with ``variable=bmi value=35``), the
  way a user asks interactively;
* the naive way at the sizes where it finishes in reasonable time: the same extraction to
  N-Quads, then rdflib parses the built store's N-Quads once and its SPARQL engine answers
  each query (``naive.py``), as ratios.

It writes ``benchmarks/results/registry.md``, ``registry.json`` and ``registry.png``.

Example:
    python benchmarks/run.py --sizes 1000 3000 10000 100000 560000 --naive-sizes 1000 3000 10000
    python benchmarks/run.py --sizes 2000 --naive-sizes 500      # a quick check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable
QUERY_TIMEOUT = 60.0
NAIVE_TIMEOUT = 60.0
NAIVE_LOAD_TIMEOUT = 600.0
ONE_TRIAL_PARAMS = {"variable": "bmi", "value": "35"}  # besides nct


def generate(n: int, seed: int) -> Path:
    """The synthetic registry of n studies as a zip (cached between runs)."""
    path = WORK / f"registry-{n}-{seed}.zip"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        subprocess.run([PYTHON, str(ROOT / "benchmarks" / "generate.py"), str(n), "--seed", str(seed),
                        "--out", str(partial), "--format", "zip"], check=True, stdout=subprocess.DEVNULL)
        partial.rename(path)
    return path


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


Completed = subprocess.CompletedProcess[str]


def run_measured(command: list[str], timeout: float | None = None) -> tuple[float, int, Completed | None]:
    """Wall seconds and peak RSS (bytes, whole process tree) of a command."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        watched = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(watched))
            if timeout is not None and time.perf_counter() - started > timeout:
                for child in watched.children(recursive=True):
                    child.kill()
                process.kill()
                process.wait()
                return time.perf_counter() - started, peak, None
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return seconds, peak, subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def canned_queries() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from kg.queries import list_queries

    return [q.name for q in list_queries()]


def time_query(store: Path, name: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """One canned query on the Oxigraph store in a fresh process: its latency and row count, or a timeout."""
    script = (
        "import sys, time, json\n"
        "from kg.queries import get_query\n"
        "from kg.store import open_store\n"
        f"name = {name!r}\n"
        f"params = {params or {}!r}\n"
        f"store = open_store({str(store)!r}, read_only=True)\n"
        "started = time.perf_counter()\n"
        "query = get_query(name)\n"
        "known = {p.name for p in query.parameters}\n"
        "rows = len(store.select(query.bind({k: v for k, v in params.items() if k in known})).rows)\n"
        "print(json.dumps({'seconds': time.perf_counter() - started, 'rows': rows}))\n"
    )
    _seconds, _, result = run_measured([PYTHON, "-c", script], timeout=QUERY_TIMEOUT)
    if result is None:
        return {"seconds": None, "rows": None, "timeout": True, "limit": QUERY_TIMEOUT}
    if result.returncode != 0:
        return {"seconds": None, "rows": None, "error": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


ONE_TRIAL = """PREFIX tkg: <https://w3id.org/trialkg/ontology#>
SELECT ?nct WHERE { ?t tkg:hasSite ?site ; tkg:resultReference ?publication ; tkg:hasRole ?role ; tkg:nctId ?nct }
LIMIT 1"""


def typical_trial(store: Path) -> str | None:
    """A trial with sites, a results publication and investigators: the per-trial queries' subject."""
    sys.path.insert(0, str(ROOT))
    from kg.store import open_store

    opened = open_store(store, read_only=True)
    try:
        rows = opened.select(ONE_TRIAL).rows
        return rows[0][0].value if rows and rows[0][0] is not None else None
    finally:
        opened.close()


def bench_build(n: int, seed: int, jobs: int) -> dict[str, Any]:
    source = generate(n, seed)
    store = WORK / f"store-{n}"
    report_path = WORK / f"report-{n}.json"
    shutil.rmtree(store, ignore_errors=True)
    seconds, peak, result = run_measured([PYTHON, "-m", "kg", "build", str(source), "--store", str(store),
                                          "--jobs", str(jobs), "--no-progress", "--report", str(report_path)])
    assert result is not None and result.returncode == 0, result.stderr if result else "timeout"
    report = json.loads(report_path.read_text())
    active = store / os.readlink(store / "active")
    stages = report.get("stage_seconds", {})
    row: dict[str, Any] = {
        "n": n,
        "build_seconds": seconds,
        # The report's seconds include the post-load stages (resolution, author links, MeSH links, VoID).
        "pipeline_seconds": report["seconds"] - sum(t for name, t in stages.items() if "." not in name),
        "resolution_seconds": stages.get("resolution"),
        "authorship_seconds": stages.get("authorship"),
        "resolution_kind_seconds": {name.split(".", 1)[1]: seconds for name, seconds in stages.items()
                                    if name.startswith("resolution.")},
        "studies_per_second": n / seconds,
        "quads": report["quads"],
        "quads_per_second": report["quads"] / seconds,
        "load_seconds": report["load_seconds"],
        "extract_seconds": report["seconds"] - report["load_seconds"],
        "failed": report["records_failed"],
        "peak_rss_bytes": peak,
        # The build's own figures: its peak so far at the end of each stage (kg.measure), main process.
        "stage_peak_rss_bytes": report.get("stage_peak_rss", {}),
        "store_bytes": _du(active),
        "input_bytes": source.stat().st_size,
    }
    return time_queries(row, store)


def time_queries(row: dict[str, Any], store: Path) -> dict[str, Any]:
    """Every canned query on one built store, registry-wide and for one typical trial."""
    n = row["n"]
    row["queries"], row["queries_one_trial"] = {}, {}
    nct = typical_trial(store)
    row["one_trial"] = nct
    for name in canned_queries():
        row["queries"][name] = time_query(store, name)
        print(f"  {n}: {name}: {row['queries'][name]}", file=sys.stderr)
        if nct:
            row["queries_one_trial"][name] = time_query(store, name, params={"nct": nct, **ONE_TRIAL_PARAMS})
            print(f"  {n}: {name} ({nct}): {row['queries_one_trial'][name]}", file=sys.stderr)
    return row


def bench_naive(n: int, build_row: dict[str, Any], jobs: int) -> dict[str, Any]:
    """The naive way at n studies: the same extraction, then rdflib's in-memory store and SPARQL engine.

    rdflib parses the N-Quads of the store trialkg built (its record graphs plus resolution),
    so both engines answer over identical data and their row counts can be compared. The
    naive build is the extraction to N-Quads plus that parse; it is set against trialkg's
    pipeline (extraction plus loading), as neither includes the post-load stages.
    """
    source = generate(n, build_row["seed"])
    nquads = WORK / f"naive-{n}.nq"
    extract_seconds, _, result = run_measured([PYTHON, "-m", "kg", "build", str(source), "--nquads-out",
                                               str(nquads), "--no-progress", "--jobs", str(jobs)])
    assert result is not None and result.returncode == 0, result.stderr if result else "timeout"
    dump = WORK / f"naive-{n}-store.nq"
    subprocess.run([PYTHON, "-m", "kg", "export", "--store", str(WORK / f"store-{n}"), "--format", "nquads",
                    "--output", str(dump)], check=True, stdout=subprocess.DEVNULL)
    command = [PYTHON, str(ROOT / "benchmarks" / "naive.py"), str(dump), "--timeout", str(NAIVE_TIMEOUT)]
    if build_row.get("one_trial"):
        command += ["--nct", build_row["one_trial"]]
    _seconds, _, ran = run_measured(command, timeout=NAIVE_LOAD_TIMEOUT + 30 * NAIVE_TIMEOUT)
    row: dict[str, Any] = {"n": n, "extract_seconds": extract_seconds, "queries": {}, "queries_one_trial": {}}
    if ran is None or ran.returncode != 0:
        row["load_seconds"] = None
        row["error"] = "rdflib did not finish" if ran is None else ran.stderr.strip().splitlines()[-1:]
        return row
    lines = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    loaded = lines[0]
    row.update(load_seconds=loaded["load_seconds"], quads=loaded["quads"], peak_rss_bytes=loaded["peak_rss_bytes"],
               build_seconds=extract_seconds + loaded["load_seconds"])
    for entry in lines[1:]:
        key = "queries" if entry.pop("form") == "registry" else "queries_one_trial"
        row[key][entry.pop("query")] = entry
    print(f"  naive {n}: {row}", file=sys.stderr)
    return row


def main() -> None:
    global QUERY_TIMEOUT, NAIVE_TIMEOUT
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 3_000, 10_000, 100_000, 560_000])
    parser.add_argument("--naive-sizes", type=int, nargs="*", default=[1_000, 3_000, 10_000],
                        help="sizes also done the naive way (built first unless --append kept their build)")
    parser.add_argument("--queries-only", action="store_true",
                        help="re-time the queries on the stores of an earlier run (keeps its build rows)")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of registry.json for sizes not measured in this run")
    parser.add_argument("--query-timeout", type=float, default=QUERY_TIMEOUT, help="seconds per query")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    QUERY_TIMEOUT = NAIVE_TIMEOUT = args.query_timeout
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "memory_bytes": psutil.virtual_memory().total,
                    "python": platform.python_version(), "platform": platform.platform()},
        "jobs": args.jobs, "seed": args.seed, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "builds": [], "naive": [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = RESULTS / "registry.json"
    if args.append and previous.exists():
        earlier = json.loads(previous.read_text())
        results["builds"] = [row for row in earlier["builds"] if row["n"] not in args.sizes]
        results["naive"] = [row for row in earlier["naive"] if row["n"] not in args.naive_sizes]
    if args.queries_only:
        rerun_queries(results, json.loads(previous.read_text()), args.sizes)
        return
    for n in sorted(set(args.sizes) | set(args.naive_sizes)):
        kept = next((r for r in results["builds"] if r["n"] == n), None)
        if n in args.sizes or kept is None or not (WORK / f"store-{n}").exists():
            print(f"build {n} ...", file=sys.stderr)
            row = bench_build(n, args.seed, args.jobs)
            results["builds"] = sorted([r for r in results["builds"] if r["n"] != n] + [row], key=lambda r: r["n"])
            _write(results)
        else:
            row = kept  # a naive-only size: compared with the build an earlier run measured (--append)
        if n in args.naive_sizes:
            print(f"naive {n} ...", file=sys.stderr)
            naive = bench_naive(n, {**row, "seed": args.seed}, args.jobs)
            results["naive"] = sorted([r for r in results["naive"] if r["n"] != n] + [naive], key=lambda r: r["n"])
            _write(results)
    print(f"wrote {RESULTS / 'registry.md'}", file=sys.stderr)


def rerun_queries(results: dict[str, Any], earlier: dict[str, Any], sizes: list[int]) -> None:
    """Re-time the queries on the stores an earlier run built, keeping its build and naive rows."""
    builds = {row["n"]: row for row in earlier["builds"]}
    results.update({key: value for key, value in earlier.items() if key != "builds"})
    results["builds"] = []
    results["queries_rerun"] = time.strftime("%Y-%m-%d %H:%M:%S")
    for n in sizes:
        print(f"queries {n} ...", file=sys.stderr)
        results["builds"].append(time_queries(builds[n], WORK / f"store-{n}"))
        results["builds"].sort(key=lambda row: row["n"])
        _write(results)


def _write(results: dict[str, Any]) -> None:
    from benchmarks.report import write_report

    (RESULTS / "registry.json").write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, RESULTS / "registry.md", RESULTS / "registry.png")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
