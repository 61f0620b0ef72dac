"""Criterion-concept resolution: forms held in Python (the naive way) against the DuckDB tables.

Why: criterion concepts are most of resolution's mentions (about 6.7 per study), and holding
every concept's comparison form and word set in Python made them the peak of a registry build
(20 GiB at 560,000 studies). :mod:`kg.resolve.criteria_tables` keeps them in DuckDB on disk.
This benchmark runs both on the same concepts, each in a fresh child process (peak RSS from
``getrusage``), checks they give the same clusters, confidences and evidence, and writes
``benchmarks/results/criteria.md`` and ``criteria.json``.

The concepts are those of the generated 10,000-study registry (its store's mention tables,
built by ``run.py`` or here), and for larger sizes k copies of them, each copy's texts with one
extra word drawn from 20,000 (so copies are new concepts that block and match like real ones,
not exact duplicates).

Example:
    python benchmarks/bench_criteria.py                 # 1x, 3x, 9x and 27x the 10k registry's concepts
    python benchmarks/bench_criteria.py --copies 1 3    # a quick check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pickle
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``kg`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from benchmarks.run import PYTHON, RESULTS, WORK, generate

BASE = 10_000


def concepts_of_registry(seed: int) -> list[tuple[str, str]]:
    """(IRI, normalised text) of every criterion concept of the generated 10k registry."""
    from kg import build, open_store
    from kg.resolve.mention_source import TableMentions

    path = WORK / f"store-{BASE}"  # run.py's, when it has run at this seed
    if not (path / "active").exists() or seed != 42:
        path = WORK / f"criteria-{BASE}-{seed}"
    if not (path / "active").exists():
        with open_store(path) as store:
            build([generate(BASE, seed)], store, jobs=2, resolve=False)
    with open_store(path, read_only=True) as store:
        return list(TableMentions.of(store).concepts())


def copies(concepts: list[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    rng = random.Random(k)
    out = [(f"{iri}-{copy:02d}", text if copy == 0 else f"{text} w{rng.randrange(20_000)}")
           for copy in range(k) for iri, text in concepts]
    out.sort()
    return out


def naive_resolution(concepts: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, float], list[Any], int]:
    """The in-memory way: every form and word set in Python lists, blocking in Python dicts."""
    from kg.resolve.cluster import Edge, candidate_pairs, cluster
    from kg.resolve.criteria import INDEX_OVERLAP, MAX_BLOCK, MAX_KEYS, MIN_OVERLAP, WINDOW
    from kg.resolve.criteria_match import blocking_tokens, criterion_form, match_criteria
    from kg.resolve.criteria_tables import signature

    iris = [iri for iri, _ in concepts]
    forms = [criterion_form(text, normalized=True) for _, text in concepts]
    tokens = [blocking_tokens(form) for form in forms]
    df = Counter(t for found in tokens for t in found)
    keys, order = {}, []
    for index, found in enumerate(tokens):
        ranked = sorted(found, key=lambda t: (df[t], t))
        order.append(" ".join(ranked))
        prefix = min(MAX_KEYS, len(ranked) - math.ceil(INDEX_OVERLAP * len(ranked)) + 1)
        keys[index] = [signature(forms[index]) + t for t in ranked[:prefix]]
    edges, comparisons = [], 0
    for a, b in candidate_pairs(keys, MAX_BLOCK, order, WINDOW):
        comparisons += 1
        if len(tokens[a] & tokens[b]) >= MIN_OVERLAP * max(len(tokens[a]), len(tokens[b])):
            score = match_criteria(forms[a], forms[b])
            if score:
                same = forms[a].word_set == forms[b].word_set
                reasons = ("same constraints" if forms[a].constraints else "same numbers",
                           *(() if same else ("wording differs by spelling, abbreviation or filler",)))
                edges.append(Edge(score, a, b, reasons))
    uf, used = cluster(len(iris), edges, lambda left, right: match_criteria(forms[min(left)], forms[min(right)]) > 0)
    canonical: dict[str, str] = {}
    confidence: dict[str, float] = {}
    for members in uf.groups().values():
        if len(members) > 1:
            for member in members:
                canonical[iris[member]] = iris[members[0]]
            confidence[iris[members[0]]] = 1.0
    evidence: list[Any] = []
    for edge in used:
        root = canonical[iris[edge.a]]
        confidence[root] = min(confidence[root], edge.score)
        evidence.append((iris[edge.a], iris[edge.b], edge.score, edge.evidence))
    return canonical, confidence, evidence, comparisons


def _child(way: str, concepts_path: str, out_path: str) -> None:
    import gc
    import resource

    gc.disable()  # as the resolution stage runs
    def read() -> Iterator[tuple[str, str]]:  # streamed, as the stage reads the mention tables
        with open(concepts_path, "rb") as handle:
            for line in handle:
                iri, text = json.loads(line)
                yield iri, text

    workers = {"peak": 0}
    finished = threading.Event()

    def sample_workers() -> None:  # getrusage's children figure would count each spawn's fork of this process
        me = psutil.Process()
        while not finished.wait(0.2):
            total = 0
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            workers["peak"] = max(workers["peak"], total)

    threading.Thread(target=sample_workers, daemon=True).start()
    started = time.perf_counter()
    if way == "naive":
        answer = naive_resolution(list(read()))
    else:
        from kg.resolve.criteria import resolve_criteria

        result = resolve_criteria(read())
        answer = (result.canonical, result.confidence, result.evidence, result.comparisons)
    seconds = time.perf_counter() - started
    finished.set()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with open(out_path, "wb") as handle:
        pickle.dump({"seconds": seconds, "peak_rss_bytes": peak, "worker_peak_rss_bytes": workers["peak"],
                     "answer": answer}, handle)


def measure(concepts: list[tuple[str, str]], way: str, work: Path) -> dict[str, Any]:
    concepts_path, out_path = work / "concepts.jsonl", work / f"{way}.pickle"
    if not concepts_path.exists():
        with concepts_path.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(concept) + "\n" for concept in concepts)
    subprocess.run([PYTHON, __file__, "--child", way, str(concepts_path), str(out_path)], check=True)
    with out_path.open("rb") as handle:
        found: dict[str, Any] = pickle.load(handle)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="*", default=[1, 3, 9, 27])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    base = concepts_of_registry(args.seed)
    rows = []
    for k in args.copies:
        concepts = copies(base, k)
        with tempfile.TemporaryDirectory(prefix="bench-criteria-") as work:
            naive = measure(concepts, "naive", Path(work))
            tables = measure(concepts, "tables", Path(work))
        same = naive.pop("answer") == tables.pop("answer")
        row = {"copies": k, "concepts": len(concepts), "naive": naive, "tables": tables, "same_answer": same}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not same:
            raise SystemExit(f"the two ways disagree at {k} copies")
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "started": started, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "criteria.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = ["# Criterion-concept resolution: in Python against DuckDB tables", "",
             f"Run started {results['started']} (`python benchmarks/bench_criteria.py`). Concepts of the generated "
             f"{BASE:,}-study registry, and k copies of them with one extra word each; each way in a fresh process "
             "(peak RSS of that process from `getrusage`; the tables' spawned workers together, sampled "
             "every 0.2 s, beside it). Both ways gave the "
             "same clusters, confidences and evidence at every size.", "",
             "| copies | concepts | in Python: seconds | in Python: peak RSS | tables: seconds | tables: peak RSS "
             "| tables: workers |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        naive, tables = row["naive"], row["tables"]
        lines.append(f"| {row['copies']} | {row['concepts']:,} | {naive['seconds']:.1f} | "
                     f"{naive['peak_rss_bytes'] / 1024**2:,.0f} MiB | {tables['seconds']:.1f} | "
                     f"{tables['peak_rss_bytes'] / 1024**2:,.0f} MiB | "
                     f"{tables['worker_peak_rss_bytes'] / 1024**2:,.0f} MiB |")
    (RESULTS / "criteria.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
