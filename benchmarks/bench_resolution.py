"""Entity resolution at growing registry sizes: is it linear in the records?

Why: resolution must never compare all pairs of mentions. Each resolver blocks first (a
family name with an initial and a shared piece of evidence, a facility's name keys in its
city, an organisation's rarest words, a criterion's rarest words) and compares only inside
blocks whose size does not grow with the registry. Two figures show it, per kind of entity:

* **comparisons per mention**: the candidate pairs actually scored, divided by the
  mentions. Blocking keeps it bounded; an all-pairs method would give (mentions - 1) / 2,
  which the table prints beside it;
* **milliseconds per study**: reading the mentions from the store, and the rest (blocking,
  scoring, clustering, writing). A flat row is a linear stage.

Each size is a synthetic registry from ``benchmarks/generate.py`` (the zip ``run.py`` also
uses), built once with ``kg build --no-resolve`` and kept in ``benchmarks/work``; every run
resolves a fresh copy of that store in a child process, so its peak memory is measured on its
own. It writes ``benchmarks/results/resolution.md``, ``resolution.json`` and ``resolution.png``.

Example:
    python benchmarks/bench_resolution.py                          # 10,000, 30,000 and 100,000 studies
    python benchmarks/bench_resolution.py --sizes 1000 3000        # a quick check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``kg`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import PYTHON, RESULTS, WORK, generate, run_measured

KINDS = ("organizations", "sites", "persons", "criteria")
LABELS = {"organizations": "organisations", "sites": "sites", "persons": "persons", "criteria": "criteria"}
MENTIONS = {"organizations": "organisation names", "sites": "site mentions", "persons": "person mentions",
            "criteria": "criterion concepts"}


def unresolved_store(n: int, seed: int, jobs: int) -> Path:
    """The store of n synthetic studies without resolution, built once and kept."""
    path = WORK / f"unresolved-{n}-{seed}"
    done = WORK / f"unresolved-{n}-{seed}.done"
    if not done.exists():
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([PYTHON, "-m", "kg", "build", str(generate(n, seed)), "--store", str(path), "--jobs", str(jobs),
                        "--no-resolve", "--no-progress"], check=True, stdout=subprocess.DEVNULL)
        done.touch()
    return path


def measure(n: int, seed: int, jobs: int, source: str = "tables") -> dict[str, Any]:
    """Resolve a fresh copy of the n-study store in a child process: its report and peak memory.

    ``source`` is where the mentions come from: ``tables`` (the mention tables the build
    wrote, the new way) or ``store`` (read back from the store by SPARQL scans, the old way).
    The child also prints a digest of the resolution graph, so two sources can be shown to
    give the same clusters.
    """
    store_path = unresolved_store(n, seed, jobs)
    with tempfile.TemporaryDirectory(dir=WORK, prefix="resolve-") as temp:
        copy = Path(temp) / "store"
        shutil.copytree(store_path, copy, symlinks=True)
        _, peak, result = run_measured([PYTHON, str(Path(__file__).resolve()), "--resolve-store", str(copy),
                                        "--source", source])
    if result is None or result.returncode != 0:
        raise SystemExit(f"resolving {n} studies failed: {result.stderr if result else 'timeout'}")
    found: dict[str, Any] = json.loads(result.stdout)
    return {"n": n, "source": source, "peak_rss_bytes": peak, "report": found["report"], "digest": found["digest"]}


def resolve_store(path: Path, source: str) -> None:
    """The child process: resolve one store, print the report and the resolution graph's digest as JSON."""
    import hashlib

    from kg.rdf.namespaces import RESOLUTION_GRAPH
    from kg.resolve.mention_source import TableMentions
    from kg.resolve.mentions import StoreMentions
    from kg.resolve.stage import resolve
    from kg.store import open_store

    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    store = open_store(path)
    try:
        mentions = TableMentions.of(store) if source == "tables" else StoreMentions(store)
        report = resolve(store, mentions).to_dict()
        digest = hashlib.sha256()
        rows = store.iter_select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }}")
        for line in sorted("\t".join(str(v) for v in row) for row in rows):
            digest.update(line.encode("utf-8") + b"\n")
        print(json.dumps({"report": report, "digest": digest.hexdigest()}))
    finally:
        store.close()


def growth_exponent(rows: list[dict[str, Any]], seconds: Any) -> float | None:
    """The slope of log(seconds) against log(studies), least squares: 1.0 is linear, 2.0 all pairs."""
    points = [(math.log(row["n"]), math.log(seconds(row))) for row in rows if seconds(row) > 0]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else None


def _kind(row: dict[str, Any], kind: str) -> dict[str, Any]:
    return row["report"][kind]


def _total_seconds(row: dict[str, Any]) -> float:
    return float(row["report"]["seconds"])


def _read_seconds(row: dict[str, Any]) -> float:
    return sum(_kind(row, kind)["read_seconds"] for kind in KINDS)


def render(results: dict[str, Any]) -> str:
    """The Markdown report."""
    runs = sorted(results["runs"], key=lambda row: (row["n"], row.get("source", "store")))
    sizes = sorted({row["n"] for row in runs})
    lines = [
        "# Entity resolution at growing registry sizes",
        "",
        f"`python benchmarks/bench_resolution.py --sizes {' '.join(str(n) for n in sizes)}` "
        f"(seed {results['seed']}; {results['machine']}). Each store is built with `kg build --no-resolve` (which "
        "also writes the mention tables), then `kg.resolve.stage.resolve` runs on a fresh copy in its own process, "
        "once per source of mentions: `store` (read back by SPARQL scans, the old way) and `tables` (the DuckDB "
        "mention tables the load wrote, the new way). The digest is the resolution graph's: equal digests, same "
        "clusters.",
        "",
        "## Time per study",
        "",
        "| studies | mentions from | resolution s | ms/study | reading mentions, ms/study | the rest, ms/study "
        "| peak RSS | peak RSS after organisations / sites / persons / criteria (MiB) | graph digest |",
        "|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in runs:
        total, read, n = _total_seconds(row), _read_seconds(row), row["n"]
        stages = " / ".join(f"{_kind(row, kind).get('peak_rss_bytes', 0) / 2**20:.0f}" for kind in KINDS)
        lines.append(f"| {n:,} | {row.get('source', 'store')} | {total:.1f} | {1000 * total / n:.2f} "
                     f"| {1000 * read / n:.2f} | {1000 * (total - read) / n:.2f} "
                     f"| {row['peak_rss_bytes'] / 2**30:.2f} GiB "
                     f"| {stages} | `{row.get('digest', '')[:12]}` |")
    rows = [row for row in runs if row.get("source", "tables") == "tables"] or runs
    exponents = {
        "resolution": growth_exponent(rows, _total_seconds),
        "reading mentions": growth_exponent(rows, _read_seconds),
        "the rest": growth_exponent(rows, lambda row: _total_seconds(row) - _read_seconds(row)),
    }
    if all(value is not None for value in exponents.values()):
        lines += ["", "Growth exponent (slope of log seconds against log studies; 1.0 is linear, 2.0 is all pairs): "
                  + ", ".join(f"{name} {value:.2f}" for name, value in exponents.items()) + "."]
    lines += [
        "",
        "## Comparisons per mention, by kind",
        "",
        "A comparison is one candidate pair scored. All pairs would be (mentions - 1) / 2 per mention.",
        "",
        "| kind | studies | mentions | comparisons | per mention | all pairs, per mention | ms/study "
        "| of which reading, ms/study |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        for row in rows:
            found, n = _kind(row, kind), row["n"]
            mentions = max(found["mentions"], 1)
            read_cell = f"{1000 * found['read_seconds'] / n:.2f}" if kind != "persons" else "(with sites)"
            lines.append(f"| {LABELS[kind]} ({MENTIONS[kind]}) | {n:,} | {found['mentions']:,} "
                         f"| {found['comparisons']:,} | {found['comparisons'] / mentions:.2f} "
                         f"| {(mentions - 1) / 2:,.0f} | {1000 * found['seconds'] / n:.2f} | {read_cell} |")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(results["runs"], key=lambda row: row["n"])
    sizes = [row["n"] for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for kind in KINDS:
        left.plot(sizes, [1000 * (_kind(row, kind)["seconds"] - _kind(row, kind)["read_seconds"]) / row["n"]
                          for row in rows], "o-", label=f"{LABELS[kind]}: compare and write")
        right.plot(sizes, [_kind(row, kind)["comparisons"] / max(_kind(row, kind)["mentions"], 1) for row in rows],
                   "o-", label=LABELS[kind])
    left.plot(sizes, [1000 * _read_seconds(row) / row["n"] for row in rows], "s--", label="reading mentions (all)")
    left.plot(sizes, [1000 * _total_seconds(row) / row["n"] for row in rows], "k^-", label="resolution (total)")
    left.set_title("Time per study (flat = linear)")
    left.set_ylabel("ms per study")
    right.set_title("Comparisons per mention (bounded = no all-pairs)")
    right.set_ylabel("candidate pairs scored per mention")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlabel("studies")
        axis.set_ylim(bottom=0)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="workers for building the stores")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for resolution.md, .json and .png")
    parser.add_argument("--sources", nargs="+", choices=("store", "tables"), default=["store", "tables"],
                        help="where resolution reads its mentions: the old way (store) and the new (tables)")
    parser.add_argument("--resolve-store", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--source", choices=("store", "tables"), default="tables", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.resolve_store is not None:
        resolve_store(args.resolve_store, args.source)
        return 0
    runs = []
    for n in sorted(args.sizes):
        for source in args.sources:
            runs.append(measure(n, args.seed, args.jobs, source))
            seconds, peak = runs[-1]["report"]["seconds"], runs[-1]["peak_rss_bytes"]
            print(f"{n:>9,} studies, mentions from the {source}: resolution {seconds:7.1f} s "
                  f"({1000 * seconds / n:.2f} ms/study), peak RSS {peak / 2**30:.2f} GiB, "
                  f"graph {runs[-1]['digest'][:12]}", file=sys.stderr)
    results = {"seed": args.seed, "runs": runs,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "resolution.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (args.out / "resolution.md").write_text(render(results), encoding="utf-8")
    plot(results, args.out / "resolution.png")
    print(f"wrote {args.out / 'resolution.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
