"""``kg build`` against the naive way on the shared real data, in one run.

Why: issue 18's target is at least twice the naive way's studies per second, everything
included, on the real records as well as on the generated registry. The naive way is
``naive_convert.py`` (json / ElementTree + rdflib, one process), the script a user writes
first; ``kg build`` runs with everything it does by default (parsing, criteria, loading into
Oxigraph, resolution, author links, MeSH links, VoID) into a fresh store. Each is run
``--repeat`` times in a fresh process, alternating, and the median is kept (the machine may be
shared). Writes ``benchmarks/results/real.md`` and ``real.json``.

Example:
    python benchmarks/bench_real.py               # the real JSON and XML studies in tests/data
    python benchmarks/bench_real.py --repeat 1    # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``kg`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import PYTHON, RESULTS, ROOT, run_measured

DATA = ROOT / "tests" / "data"
# The real ClinicalTrials.gov records both ways read (JSON and legacy XML; the CSV downloads
# and PubMed are left out because the naive script reads neither).
INPUTS = [DATA / "ctgov-json", DATA / "more" / "ctgov-json", DATA / "ctgov-xml"]


def naive(work: Path) -> dict[str, Any]:
    out = work / "naive.nq"
    seconds, peak, result = run_measured([PYTHON, str(ROOT / "benchmarks" / "naive_convert.py"),
                                          *map(str, INPUTS), "--out", str(out)])
    assert result is not None and result.returncode == 0, result.stderr if result else "timeout"
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    out.unlink()
    return {"seconds": seconds, "peak_rss_bytes": peak, **counts}


def trialkg(work: Path, jobs: int) -> dict[str, Any]:
    store, report_path = work / "store", work / "report.json"
    shutil.rmtree(store, ignore_errors=True)
    seconds, peak, result = run_measured([PYTHON, "-m", "kg", "build", *map(str, INPUTS), "--store", str(store),
                                          "--jobs", str(jobs), "--no-progress", "--report", str(report_path)])
    assert result is not None and result.returncode == 0, result.stderr if result else "timeout"
    report = json.loads(report_path.read_text())
    shutil.rmtree(store)
    return {"seconds": seconds, "peak_rss_bytes": peak, "studies": report["records_loaded"],
            "quads": report["quads"], "stage_seconds": report.get("stage_seconds", {})}


def _split(run: dict[str, Any]) -> str:
    """The run's seconds by stage: the pipeline (start, parse, load) is what the post-load stages leave."""
    stages = {name: t for name, t in run["stage_seconds"].items() if "." not in name}
    parts = {"pipeline (start, parse, criteria, load)": run["seconds"] - sum(stages.values()), **stages}
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    runs: dict[str, list[dict[str, Any]]] = {"naive": [], "trialkg": []}
    with tempfile.TemporaryDirectory(prefix="bench-real-") as work:
        for _ in range(args.repeat):
            runs["naive"].append(naive(Path(work)))
            runs["trialkg"].append(trialkg(Path(work), args.jobs))
            print(json.dumps({k: v[-1]["seconds"] for k, v in runs.items()}), flush=True)
    median = {way: statistics.median(r["seconds"] for r in rows) for way, rows in runs.items()}
    rate = {way: runs[way][0]["studies"] / median[way] for way in runs}
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "started": started,
               "inputs": [str(p.relative_to(ROOT)) for p in INPUTS], "runs": runs, "median_seconds": median,
               "studies_per_second": rate, "ratio": rate["trialkg"] / rate["naive"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "real.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    naive_row, kg_row = runs["naive"][0], runs["trialkg"][0]
    middle = sorted(runs["trialkg"], key=lambda r: r["seconds"])[len(runs["trialkg"]) // 2]
    lines = [
        "# The shared real data: `kg build` against the naive way", "",
        f"Run started {started} (`python benchmarks/bench_real.py`), {args.repeat} runs of each, alternating, "
        f"each in a fresh process; median wall time. Inputs: {', '.join(results['inputs'])} (the real API v2 JSON "
        "and legacy XML studies). The naive way is `benchmarks/naive_convert.py`: json / ElementTree + rdflib "
        "`Graph.add`, one process, N-Quads out; it states fewer facts (no criterion parsing, resolution, author "
        f"links or provenance). `kg build --jobs {args.jobs}` includes everything it does by default.", "",
        "| way | studies | quads | median seconds | studies/s | peak RSS |", "|---|---:|---:|---:|---:|---:|",
        f"| naive (json/ElementTree + rdflib) | {naive_row['studies']:,} | {naive_row['quads']:,} | "
        f"{median['naive']:.1f} | {rate['naive']:.0f} | {naive_row['peak_rss_bytes'] / 1024**2:,.0f} MiB |",
        f"| `kg build`, everything included | {kg_row['studies']:,} | {kg_row['quads']:,} | "
        f"{median['trialkg']:.1f} | {rate['trialkg']:.0f} | {kg_row['peak_rss_bytes'] / 1024**2:,.0f} MiB |", "",
        f"Ratio (studies/s, trialkg over naive): **{results['ratio']:.2f}x** (target: 2x). Per quad stated: "
        f"naive {naive_row['quads'] / median['naive']:,.0f}/s, trialkg {kg_row['quads'] / median['trialkg']:,.0f}/s. "
        f"Where `kg build`'s median run went: {_split(middle)}. "
        "All runs' seconds: " + "; ".join(f"{way} " + ", ".join(f"{r['seconds']:.1f}" for r in rows)
                                          for way, rows in runs.items()) + ".", "",
        "The naive way counts every study it reads (a study given twice, in two downloads, is counted twice); "
        "`kg build` counts the studies it loaded (one per NCT id, the later version kept).", ""]
    (RESULTS / "real.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
