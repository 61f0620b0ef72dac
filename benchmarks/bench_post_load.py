"""Two post-load stages against the way they worked before, on one built store, in one run.

* Investigator-author linking reading its rows from the mention tables (now) against reading
  them back from the store by SPARQL (before): wall seconds, alternating, several runs, and
  whether both give the same links.
* Persons resolution (``resolve_persons``) as it is now against the module at an earlier
  commit (``--before``, read with ``git show``): traced peak memory (``tracemalloc``) and
  seconds, each in a fresh process, on the roles and context the resolution stage gives it,
  and whether both give the same persons, evidence and comparisons.

It writes ``benchmarks/results/post_load.md`` and ``post_load.json``.

Example:
    python benchmarks/bench_post_load.py --store benchmarks/work/store-10000 --before 13796f6
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable

_CAPTURE = """
import pickle, sys
import kg.resolve.stage as stage
from kg.store import open_store

def capture(roles, context):
    with open(sys.argv[2], "wb") as out:
        pickle.dump((roles, context), out)
    raise SystemExit(0)

stage.resolve_persons = capture
stage.resolve(open_store(sys.argv[1]))
"""

_MEASURE = """
import importlib.util, json, pickle, sys, time, tracemalloc
spec = importlib.util.spec_from_file_location("persons_measured", sys.argv[2])
module = importlib.util.module_from_spec(spec)
sys.modules["persons_measured"] = module
spec.loader.exec_module(module)
with open(sys.argv[1], "rb") as given:
    roles, context = pickle.load(given)
traced = sys.argv[4] == "traced"
if traced:
    tracemalloc.start()
started = time.perf_counter()
result = module.resolve_persons(roles, context)
seconds = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1] if traced else None
answer = (sorted(result.role_person.items()), sorted((k, vars(v)) for k, v in result.people.items()),
          sorted(result.same_as.items()), result.junk, sorted(result.evidence), result.comparisons)
with open(sys.argv[3], "wb") as out:
    pickle.dump(answer, out)
print(json.dumps({"roles": len(roles), "people": len(result.people), "seconds": seconds, "peak_bytes": peak}))
"""


def bench_authorship(store: Path, runs: int) -> dict[str, Any]:
    """Linking from the tables and from the store, alternating, on a copy of the store."""
    sys.path.insert(0, str(ROOT))
    from kg.resolve.authorship import link_investigators_to_authors
    from kg.resolve.authorship_rows import StoreAuthorRows
    from kg.store import open_store

    opened = open_store(store)
    times: dict[str, list[float]] = {"tables": [], "store": []}
    links: dict[str, set[int]] = {"tables": set(), "store": set()}
    for _ in range(runs):
        for way in ("tables", "store"):
            started = time.perf_counter()
            report = link_investigators_to_authors(opened, rows=StoreAuthorRows(opened) if way == "store" else None)
            times[way].append(time.perf_counter() - started)
            assert report.source == way, report.source
            links[way].add(report.links)
    opened.close()
    return {"runs": runs, "seconds": times, "median": {way: statistics.median(t) for way, t in times.items()},
            "links": {way: sorted(found) for way, found in links.items()},
            "same_links": links["tables"] == links["store"]}


def bench_persons(store: Path, before: str, work: Path) -> dict[str, Any]:
    """resolve_persons now and at ``before``: traced peak and (untraced) seconds, fresh processes."""
    inputs = work / "persons-input.pkl"
    subprocess.run([PYTHON, "-c", _CAPTURE, str(store), str(inputs)], check=True, cwd=ROOT)
    old = work / "persons_before.py"
    old.write_text(subprocess.run(["git", "show", f"{before}:kg/resolve/persons.py"], check=True, cwd=ROOT,
                                  capture_output=True, text=True).stdout)
    out: dict[str, Any] = {"commit_before": before}
    answers = {}
    for way, module in (("before", old), ("now", ROOT / "kg" / "resolve" / "persons.py")):
        row: dict[str, Any] = {}
        for mode in ("traced", "timed"):
            answer = work / f"persons-{way}.pkl"
            ran = subprocess.run([PYTHON, "-c", _MEASURE, str(inputs), str(module), str(answer), mode], check=True,
                                 cwd=ROOT, capture_output=True, text=True)
            found = json.loads(ran.stdout.strip().splitlines()[-1])
            row.update(roles=found["roles"], people=found["people"])
            if mode == "traced":
                row["peak_bytes"] = found["peak_bytes"]
            else:
                row["seconds"] = found["seconds"]
            answers[way] = answer.read_bytes()
        out[way] = row
    out["same_answer"] = pickle.loads(answers["before"]) == pickle.loads(answers["now"])
    return out


def write(result: dict[str, Any]) -> None:
    a, p = result["authorship"], result["persons"]
    mib = 2**20
    lines = [
        "# Post-load stages: now against before, on one store",
        "",
        f"Run started {result['started']} (`python benchmarks/bench_post_load.py --store {result['store']} "
        f"--before {p['commit_before']}`), commit {result['commit']}. {result['note']}",
        "",
        "## Investigator-author linking: rows from the mention tables against SPARQL over the store",
        "",
        f"{a['runs']} runs of each, alternating, in one process; median seconds.",
        "",
        "| rows read from | median seconds | all runs | links |",
        "|---|---:|---|---:|",
    ]
    for way, label in (("tables", "the mention tables (now)"), ("store", "the store, by SPARQL (before)")):
        runs = ", ".join(f"{t:.2f}" for t in a["seconds"][way])
        lines.append(f"| {label} | {a['median'][way]:.2f} | {runs} | {', '.join(map(str, a['links'][way]))} |")
    lines += ["", f"Same links both ways: {'yes' if a['same_links'] else '**no**'}. "
              f"{a['median']['store'] / a['median']['tables']:.1f}x faster from the tables.", "",
              "## Persons resolution: memory", "",
              f"`resolve_persons` on the roles the resolution stage gives it ({p['now']['roles']:,} roles), "
              f"each way in a fresh process: traced peak (`tracemalloc`) in one, seconds untraced in another.", "",
              "| code | traced peak | seconds | persons |", "|---|---:|---:|---:|"]
    for way, label in (("before", f"before ({p['commit_before']})"), ("now", "now")):
        row = p[way]
        lines.append(f"| {label} | {row['peak_bytes'] / mib:.1f} MiB | {row['seconds']:.2f} | {row['people']:,} |")
    lines += ["", f"Same persons, evidence and comparisons: {'yes' if p['same_answer'] else '**no**'}.", ""]
    (RESULTS / "post_load.md").write_text("\n".join(lines), encoding="utf-8")
    (RESULTS / "post_load.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a store built by this version (kg build)")
    parser.add_argument("--before", default="13796f6", help="the commit whose persons module is compared")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--note", default="", help="a sentence on the machine's state, for the results")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="trialkg-bench-") as scratch:
        work = Path(scratch)
        copy = work / "store"
        shutil.copytree(args.store, copy, symlinks=True)  # linking rewrites its graph; resolution reads a copy
        authorship = bench_authorship(copy, args.runs)
        persons = bench_persons(copy, args.before, work)
    result = {"started": started, "commit": commit, "store": str(args.store), "note": args.note,
              "authorship": authorship, "persons": persons}
    write(result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
