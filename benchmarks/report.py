"""Turn benchmark results into the committed markdown table and plot.

Kept apart from the runner so a report can be re-made from ``registry.json`` without
re-running anything: ``python benchmarks/report.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Issue 18's targets on this 2-core machine: the 560k registry built in 45 min, under 3 GB of
# RSS, in a store under 30 GB; at least 2x the naive way's studies/s; a pair query's per-trial
# form under 1 s and its ranked form under 10 s.
BUILD_TARGET_SECONDS = 45 * 60
RSS_TARGET_BYTES = 3 * 1024**3
STORE_TARGET_BYTES = 30 * 1024**3
QUERY_TARGET_SECONDS = 10.0
ONE_TRIAL_TARGET_SECONDS = 1.0
NAIVE_TARGET_RATIO = 2.0


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value < 100 else f"{value / 60:.1f} min"


def _query_cell(entry: dict[str, Any]) -> str:
    if entry.get("missing"):
        return "—"  # the query did not exist when that size was measured
    if entry.get("timeout"):
        return f"> {entry['limit']:.0f} s (stopped)"
    if entry.get("seconds") is None:
        return "error"
    return f"{entry['seconds']:.2f} s ({entry['rows']} rows)"


def _naive_at(results: dict[str, Any], n: int) -> dict[str, Any] | None:
    return next((row for row in results["naive"] if row["n"] == n), None)


def write_report(results: dict[str, Any], markdown: Path, plot: Path) -> None:
    lines = [
        "# Registry-scale benchmark",
        "",
        f"Machine: {results['machine']['cpus']} cores, {results['machine']['memory_bytes'] / 1024**3:.0f} GiB, "
        f"Python {results['machine']['python']}; `kg build --jobs {results['jobs']}`; synthetic registry "
        f"(benchmarks/generate.py, seed {results['seed']}) as a zip of per-study API v2 JSON files. "
        f"Run started {results['started']}. Re-run: `python benchmarks/run.py`.",
        "",
        "## Build",
        "",
        "`kg build` as a user runs it: read, parse and emit in worker processes, bulk-load into Oxigraph "
        "(the pipeline), then resolution and investigator-author linking (post-load stages).",
        "",
        "| studies | build (all) | pipeline | of which waiting on the loader | resolution | author links "
        "| studies/s (all) | quads | quads/s (pipeline) | peak RSS | store on disk | failed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["builds"]:
        pipeline = row.get("pipeline_seconds", row["build_seconds"])
        lines.append(
            f"| {row['n']:,} | {_fmt_seconds(row['build_seconds'])} | {_fmt_seconds(pipeline)} | "
            f"{_fmt_seconds(row['load_seconds'])} | {_fmt_seconds(row.get('resolution_seconds'))} | "
            f"{_fmt_seconds(row.get('authorship_seconds'))} | {row['studies_per_second']:.0f} | "
            f"{row['quads']:,} | {row['quads'] / pipeline:,.0f} | "
            f"{row['peak_rss_bytes'] / 1024**2:,.0f} MiB | {row['store_bytes'] / 1024**2:,.0f} MiB | {row['failed']} |")
    lines += ["", "Per study (a flat column is a stage linear in N):", "",
              "| studies | pipeline ms/study | resolution ms/study | author links ms/study |", "|---:|---:|---:|---:|"]
    for row in results["builds"]:
        per = [row.get(key) for key in ("pipeline_seconds", "resolution_seconds", "authorship_seconds")]
        lines.append(f"| {row['n']:,} | " + " | ".join("—" if v is None else f"{1000 * v / row['n']:.2f}"
                                                       for v in per) + " |")
    kinds = sorted({kind for row in results["builds"] for kind in row.get("resolution_kind_seconds", {})})
    if kinds:
        lines += ["", "Resolution per study, by kind of entity (ms/study):", "",
                  "| studies | " + " | ".join(kinds) + " |", "|---:|" + "---:|" * len(kinds)]
        for row in results["builds"]:
            measured = row.get("resolution_kind_seconds", {})
            lines.append(f"| {row['n']:,} | " + " | ".join(
                f"{1000 * measured[kind] / row['n']:.2f}" if kind in measured else "—" for kind in kinds) + " |")
    lines += _stage_memory(results["builds"])
    names = sorted({name for row in results["builds"] for name in row["queries"]})
    lines += ["", "## Canned query latency (Oxigraph store, fresh process)", "",
              "| query | " + " | ".join(f"{row['n']:,}" for row in results["builds"]) + " |",
              "|---|" + "---:|" * len(results["builds"])]
    for name in names:
        cells = [_query_cell(row["queries"].get(name, {"missing": True})) for row in results["builds"]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if any(row.get("queries_one_trial") for row in results["builds"]):
        lines += ["", "## Canned query latency for one trial (`--param nct=...`; trials-excluding-above with "
                  "variable=bmi, value=35)", "",
                  "| query | " + " | ".join(f"{row['n']:,} ({row.get('one_trial')})"
                                            for row in results["builds"]) + " |",
                  "|---|" + "---:|" * len(results["builds"])]
        for name in names:
            cells = [_query_cell(row.get("queries_one_trial", {}).get(name, {"missing": True}))
                     for row in results["builds"]]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if results["naive"]:
        lines += _naive_table(results, names)
    lines += ["", "## Targets", "", *_targets(results)]
    markdown.write_text("\n".join(lines) + "\n")
    _plot(results, plot)


def _ratio_cell(slow: dict[str, Any], fast: dict[str, Any]) -> str:
    """``naive / trialkg = ratio`` for one query; a naive timeout gives a lower bound."""
    if fast.get("seconds") is None:
        return f"{_query_cell(slow)} / {_query_cell(fast)}"
    ours = max(fast["seconds"], 1e-3)
    if slow.get("timeout"):
        return f"> {slow['limit']:.0f} / {fast['seconds']:.2f} s = > {slow['limit'] / ours:.0f}x"
    if slow.get("seconds") is None:
        return f"{_query_cell(slow)} / {fast['seconds']:.2f} s"
    agree = "" if slow.get("rows") == fast.get("rows") else f" (rows {slow.get('rows')} vs {fast.get('rows')})"
    return f"{slow['seconds']:.2f} / {fast['seconds']:.2f} s = {slow['seconds'] / ours:.0f}x{agree}"


def _naive_table(results: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["", "## The naive way (same extraction, then rdflib Dataset + rdflib SPARQL)", "",
             "Naive build: the extraction to N-Quads plus rdflib parsing them; set against trialkg's pipeline "
             "(extraction plus Oxigraph loading; neither counts resolution). Queries: rdflib answers over the N-Quads "
             "of the store trialkg built, so both engines see identical data (a row-count difference is shown); "
             "each runs in a child forked after the parse, stopped at the time limit.", "",
             "| studies | quads | naive build | naive peak RSS | trialkg pipeline | build ratio |",
             "|---:|---:|---:|---:|---:|---:|"]
    for naive in results["naive"]:
        ours = next((row for row in results["builds"] if row["n"] == naive["n"]), None)
        pipeline = ours.get("pipeline_seconds") if ours else None
        ratio = f"{naive['build_seconds'] / pipeline:.1f}x" if pipeline and naive.get("build_seconds") else "—"
        rss = f"{naive['peak_rss_bytes'] / 1024**2:,.0f} MiB" if naive.get("peak_rss_bytes") else "—"
        lines.append(f"| {naive['n']:,} | {naive.get('quads', 0):,} | {_fmt_seconds(naive.get('build_seconds'))} | "
                     f"{rss} | {_fmt_seconds(pipeline)} | {ratio} |")
    for form, key in (("registry-wide", "queries"), ("for one trial", "queries_one_trial")):
        measured = [row for row in results["naive"] if row.get(key)]
        if not measured:
            continue
        lines += ["", f"Queries {form}, naive / trialkg:", "",
                  "| query | " + " | ".join(f"{row['n']:,}" for row in measured) + " |",
                  "|---|" + "---:|" * len(measured)]
        for name in names:
            cells = []
            for naive in measured:
                built: dict[str, Any] = next((row for row in results["builds"] if row["n"] == naive["n"]), {})
                cells.append(_ratio_cell(naive[key].get(name, {"missing": True}),
                                         built.get(key, {}).get(name, {"missing": True})))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _slow_queries(row: dict[str, Any], key: str, limit: float = QUERY_TARGET_SECONDS,
                  names: tuple[str, ...] | None = None) -> list[str]:
    return [f"{name} ({_query_cell(q)})" for name, q in sorted(row.get(key, {}).items())
            if (names is None or name in names)
            and (q.get("timeout") or q.get("seconds") is None or q["seconds"] > limit)]


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def _targets(results: dict[str, Any]) -> list[str]:
    """Each target of the scale issue at each size measured: met, or missed (the why is in README.md)."""
    builds = sorted(results["builds"], key=lambda row: row["n"])
    if not builds:
        return ["No builds measured."]
    largest = builds[-1]
    n = f"{largest['n']:,}"
    out = [f"- Build of {n} studies under 45 min: **{_verdict(largest['build_seconds'] <= BUILD_TARGET_SECONDS)}** "
           f"({_fmt_seconds(largest['build_seconds'])}).",
           f"- Peak RSS under 3 GB at {n}: **{_verdict(largest['peak_rss_bytes'] <= RSS_TARGET_BYTES)}** "
           f"({largest['peak_rss_bytes'] / 1024**3:.2f} GiB; at each size: "
           + ", ".join(f"{row['n']:,}: {row['peak_rss_bytes'] / 1024**3:.2f} GiB" for row in builds) + ").",
           f"- Store under 30 GB at {n}: **{_verdict(largest['store_bytes'] <= STORE_TARGET_BYTES)}** "
           f"({largest['store_bytes'] / 1024**3:.1f} GiB after the build).",
           ]
    pairs = tuple(sorted({name for row in builds for name in row.get("queries", {})
                          if name.startswith("shared-") and not name.endswith("-ranked")}))
    ranked = tuple(f"{name}-ranked" for name in pairs)
    for row in builds:
        size = f"{row['n']:,}"
        if not row.get("queries_one_trial"):
            continue
        slow = _slow_queries(row, "queries_one_trial", ONE_TRIAL_TARGET_SECONDS, pairs)
        out.append(f"- Pair queries for one trial under 1 s at {size}: **{_verdict(not slow)}**"
                   + (f" (over: {'; '.join(slow)})." if slow else "."))
        if any(name in row.get("queries", {}) for name in ranked):
            slow = _slow_queries(row, "queries", QUERY_TARGET_SECONDS, ranked)
            out.append(f"- Ranked pair queries under 10 s at {size}: **{_verdict(not slow)}**"
                       + (f" (over: {'; '.join(slow)})." if slow else "."))
        else:
            out.append(f"- Ranked pair queries at {size}: **not measured** (that size's row predates them).")
    naive = [row for row in results["naive"] if row.get("build_seconds")]
    for biggest in naive[-1:]:
        ours = next((row for row in builds if row["n"] == biggest["n"]), None)
        if ours:
            ratio = biggest["build_seconds"] / ours["build_seconds"]
            out.append(f"- At least 2x the naive way's studies/s at {biggest['n']:,}, everything included: "
                       f"**{_verdict(ratio >= NAIVE_TARGET_RATIO)}** ({ratio:.1f}x: naive extraction and rdflib "
                       f"parse {_fmt_seconds(biggest['build_seconds'])}, `kg build` with resolution, author links "
                       f"and VoID {_fmt_seconds(ours['build_seconds'])}).")
    tens = [row for row in builds if row["n"] >= 10_000 and row.get("resolution_seconds") is not None]
    if len(tens) >= 2:
        low, high = tens[0], tens[-1]
        for key, label in (("pipeline_seconds", "pipeline"), ("resolution_seconds", "resolution"),
                           ("authorship_seconds", "author links")):
            if low.get(key) and high.get(key):
                growth = (high[key] / high["n"]) / (low[key] / low["n"])
                out.append(f"- Linear in N, {label}: {1000 * low[key] / low['n']:.2f} ms/study at {low['n']:,}, "
                           f"{1000 * high[key] / high['n']:.2f} at {high['n']:,} ({growth:.2f}x per study).")
    return out


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    builds = sorted(results["builds"], key=lambda row: row["n"])
    if not builds:
        return
    sizes = [row["n"] for row in builds]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    left.plot(sizes, [row["build_seconds"] for row in builds], "o-", label="build (total)")
    left.plot(sizes, [row["extract_seconds"] for row in builds], "s--", label="read + parse + emit")
    left.plot(sizes, [row["load_seconds"] for row in builds], "^--", label="store load (waited)")
    for key, marker, label in (("resolution_seconds", "v-.", "resolution"), ("authorship_seconds", "d-.",
                                                                            "author links")):
        points = [(row["n"], row[key]) for row in builds if row.get(key) is not None]
        if points:
            left.plot([n for n, _ in points], [s for _, s in points], marker, label=label)
    naive = [row for row in results["naive"] if row.get("build_seconds")]
    if naive:
        left.plot([row["n"] for row in naive], [row["build_seconds"] for row in naive], "x:", label="naive (rdflib)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("studies")
    left.set_ylabel("seconds")
    left.set_title("Build time per stage")
    left.grid(True, which="both", alpha=0.3)
    left.legend()
    for name in sorted({name for row in builds for name in row["queries"]}):
        points = [(row["n"], row["queries"][name].get("seconds")) for row in builds if name in row["queries"]]
        points = [(n, s) for n, s in points if s]
        if points:
            right.plot([n for n, _ in points], [s for _, s in points], "o-", label=name)
    right.axhline(QUERY_TARGET_SECONDS, color="grey", linestyle=":", label="10 s target")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("studies")
    right.set_ylabel("seconds")
    right.set_title("Canned query latency")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)




_STAGES = ("pipeline.workers", "pipeline", "resolution.organizations", "resolution.sites", "resolution.persons",
           "resolution.criteria", "resolution", "authorship", "mesh")


def _stage_memory(builds: list[dict[str, Any]]) -> list[str]:
    """The build's peak RSS so far at the end of each stage: the first column that jumps raised the peak."""
    measured = [row for row in builds if row.get("stage_peak_rss_bytes")]
    if not measured:
        return []
    lines = ["", "Peak RSS of the build process so far at the end of each stage (MiB; from the build's report: "
             "`getrusage`, so a stage's figure includes the stages before it; \"workers\" is the largest parse "
             "worker). Sizes measured before this column existed have no row.", "",
             "| studies | " + " | ".join(_STAGES) + " |", "|---:|" + "---:|" * len(_STAGES)]
    for row in measured:
        peaks = row["stage_peak_rss_bytes"]
        lines.append(f"| {row['n']:,} | " + " | ".join(
            f"{peaks[stage] / 1024**2:,.0f}" if stage in peaks else "—" for stage in _STAGES) + " |")
    return lines


if __name__ == "__main__":
    root = Path(__file__).resolve().parent / "results"
    data = json.loads((root / "registry.json").read_text())
    write_report(data, root / "registry.md", root / "registry.png")
    print(f"wrote {root / 'registry.md'}", file=sys.stderr)
