"""The resolution stage's memory, resolver by resolver, on the mention tables of a built registry.

Why: a registry build's resolution runs for an hour at 560,000 studies, after an hour of
loading; its memory is set by the mentions alone. A build's mention tables file
(``trialkg-mentions.duckdb``, in the store's generation directory) holds every mention, so
resolving it into an empty store measures the stage as a build runs it (the same reads,
clustering and graph writes; the previous resolution graph is empty, as in a build) without
the load. Each resolver and the ranked pairs are wrapped to print the process's resident
memory (VmRSS) and its high-water mark (VmHWM) as they start and end; the report's own
per-kind peaks and times are printed at the end and written as JSON.

The tables file is copied into the new store's directory first, where a build keeps it (one DuckDB
for the mentions and the derived graphs' lines); opening it adds any table added since it was written.
Or the tables are filled there, as ``kg merge`` fills them, from the mentions file a sharded build
writes beside its N-Quads (``kg build --shard 1/1 --nquads-out part-1.nq``: the parse alone, about
25 minutes at 560,000 studies against three hours for a whole build).

Example:
    python benchmarks/bench_resolution_memory.py STORE/gen-000001/trialkg-mentions.duckdb \\
        --out benchmarks/results/resolution-memory.json     # and resolution-memory.md beside it
    python benchmarks/generate.py 560000 --out registry.zip
    kg build registry.zip --jobs 2 --shard 1/1 --nquads-out part-1.nq
    python benchmarks/bench_resolution_memory.py part-1.mentions.jsonl.gz --out ...
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``kg`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kg.resolve.stage as stage
from kg.merge import add_mentions
from kg.resolve.mention_source import TableMentions, mention_source
from kg.store import open_store
from kg.store.mention_tables import MentionTables, mention_tables

WRAPPED = ("_previous", "resolve_organizations", "resolve_surface_sites", "site_organizations", "resolve_persons",
           "resolve_criteria", "write_sharing", "_retire")


def memory_mib() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in MiB."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS", "VmHWM")):
                out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def _log(events: list[dict[str, Any]], started: float, phase: str, step: str) -> None:
    event = {"seconds": round(time.perf_counter() - started, 1), "phase": phase, "step": step, **memory_mib()}
    events.append(event)
    print(json.dumps(event), flush=True)


def traced(events: list[dict[str, Any]], started: float) -> None:
    """Wrap the stage's resolvers so each start and end is logged with the memory at that moment."""
    for name in WRAPPED:
        real = getattr(stage, name)

        def wrapper(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            _log(events, started, "enter", _name)
            result = _real(*args, **kwargs)
            _log(events, started, "leave", _name)
            return result

        setattr(stage, name, functools.wraps(real)(wrapper))


def fill_tables(mentions: Path, directory: Path) -> None:
    """Mention tables in ``directory`` from a shard's mentions file, as ``kg merge`` fills them."""
    tables = MentionTables(directory)
    add_mentions(mentions, tables, {})
    tables.flush()
    tables.set_complete(True, every_table=True)
    tables.close()


def render(result: dict[str, Any]) -> str:
    """The report as Markdown: each step's start and end with the memory then, and the stage's own summary."""
    lines = ["# Resolution's memory, step by step", "",
             f"`python benchmarks/bench_resolution_memory.py {result['tables']}`: the mention tables of a built",
             "registry resolved into an empty store. RSS and its high-water mark (HWM) of the process, in MiB, as",
             "each step starts and ends; between steps the stage writes that step's part of the resolution graph.",
             "", "| s | step | phase | RSS MiB | HWM MiB |", "|---:|---|---|---:|---:|"]
    lines += [f"| {e['seconds']} | {e['step']} | {e['phase']} | {e['VmRSS']:,} | {e['VmHWM']:,} |"
              for e in result["events"]]
    lines += ["", f"Whole stage: {result['seconds']} s, peak {result['max_rss_mib']:,} MiB.", "",
              f"Summary: {result['summary']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", type=Path, help="a build's trialkg-mentions.duckdb, or a shard's *.mentions.jsonl.gz "
                        "(with --render: a JSON report)")
    parser.add_argument("--out", type=Path, required=True, help="JSON report; the Markdown goes beside it (.md)")
    parser.add_argument("--workdir", type=Path, help="where the copy and the store go (default: a temporary folder)")
    parser.add_argument("--render", action="store_true", help="only write the Markdown of an existing JSON report")
    args = parser.parse_args()
    if args.render:
        args.out.with_suffix(".md").write_text(render(json.loads(args.tables.read_text(encoding="utf-8"))),
                                               encoding="utf-8")
        return
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="trialkg-resolution-memory-") as work:
        events: list[dict[str, Any]] = []
        with open_store(Path(work) / "store") as store:
            # where a build keeps them: one DuckDB for the mentions and the derived graphs' lines, as in a build
            if args.tables.name.endswith(".jsonl.gz"):  # filled in another process, whose memory goes with it
                filler = multiprocessing.get_context("spawn").Process(
                    target=fill_tables, args=(args.tables, mention_tables(store).path.parent))
                filler.start()
                filler.join()
                assert filler.exitcode == 0, f"filling the tables from {args.tables} failed"
            else:
                shutil.copyfile(args.tables, mention_tables(store).path)  # before the tables are first opened
            source = mention_source(store)
            assert isinstance(source, TableMentions), "the tables cover the records: resolution reads them"
            started = time.perf_counter()
            traced(events, started)
            report = stage.resolve(store, source)
        seconds = time.perf_counter() - started
    result = {"tables": str(args.tables), "seconds": round(seconds, 1), "summary": str(report),
              "report": report.to_dict(), "events": events,
              "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    print(result["summary"])
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(render(result), encoding="utf-8")


if __name__ == "__main__":  # the criteria stage spawns workers, which import this module
    main()
