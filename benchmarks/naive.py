"""The naive way, timed: an rdflib Dataset parsed once, then each canned query by rdflib's engine.

Why a script of its own: parsing the N-Quads into rdflib dominates the naive way (minutes at
10,000 studies), so it is done once, and each query then runs in a forked child that shares
the parsed graph copy-on-write and can be stopped at the time limit (a Python thread
cannot be). The parse time and the peak RSS after parsing are what the naive "build" costs;
the child's wall time is the query latency.

Prints one JSON object per line: first ``{"load_seconds", "quads", "peak_rss_bytes"}``, then
``{"query", "form", "seconds", "rows"}`` or ``{"query", "form", "timeout": true}`` per query.

Example:
    python benchmarks/naive.py benchmarks/work/naive-1000.nq --timeout 60 --nct NCT90000001
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import ONE_TRIAL_PARAMS
from kg.queries import get_query, list_queries
from kg.store.rdflib_store import RdflibStore


def _run_child(store: RdflibStore, name: str, params: dict[str, str], write_end: int) -> None:
    """In the forked child: run one query, write its latency and row count, exit."""
    started = time.perf_counter()
    query = get_query(name)
    known = {p.name for p in query.parameters}
    rows = len(store.select(query.bind({k: v for k, v in params.items() if k in known})).rows)
    os.write(write_end, json.dumps({"seconds": time.perf_counter() - started, "rows": rows}).encode())
    os._exit(0)


def time_in_child(store: RdflibStore, name: str, params: dict[str, str], timeout: float) -> dict[str, object]:
    """One query in a forked child with a time limit; the child is killed when it passes it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            _run_child(store, name, params, write_end)
        finally:
            os._exit(1)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        return {"seconds": None, "rows": None, "timeout": True, "limit": timeout}
    data = os.read(read_end, 1 << 16)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not data or os.waitstatus_to_exitcode(status) != 0:
        return {"seconds": None, "rows": None, "error": f"exit status {status}"}
    result: dict[str, object] = json.loads(data)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nquads", type=Path)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per query")
    parser.add_argument("--nct", default=None, help="also time each query for this one trial")
    args = parser.parse_args()
    store = RdflibStore()
    started = time.perf_counter()
    store.dataset.parse(str(args.nquads), format="nquads")
    load_seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"load_seconds": load_seconds, "quads": len(store.dataset), "peak_rss_bytes": peak}), flush=True)
    forms: list[tuple[str, dict[str, str]]] = [("registry", {})]
    if args.nct:
        forms.append(("one_trial", {"nct": args.nct, **ONE_TRIAL_PARAMS}))
    for query in list_queries():
        for form, params in forms:
            result = time_in_child(store, query.name, params, args.timeout)
            print(json.dumps({"query": query.name, "form": form, **result}), flush=True)


if __name__ == "__main__":
    main()
