"""Load benchmark for ``kg serve``: the old server (http.server, commit b54ec0b) against the new
(Starlette + uvicorn, sandboxed query workers), in the same run, on the same store and machine.

Why: issue 19 rewrote the server on a maintained stack and moved every query into a worker
process; this measures what that costs or gains where users feel it: a per-trial query (the
trial-summary canned query bound to one NCT id, SPARQL JSON) from 50 concurrent clients over
keep-alive connections. The old server runs from ``git archive b54ec0b kg`` in a temporary
directory (``PYTHONPATH``), so no old code stays in the tree. Every answer is checked (status
200, one row for the trial asked); any error is counted and reported.

It writes ``benchmarks/results/serve.md``.

Example:
    python benchmarks/bench_serve.py                        # 20 s per server, 50 clients
    python benchmarks/bench_serve.py --seconds 30 --clients 50 --store kg-store
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
OLD_COMMIT = "b54ec0b"
SOURCES = ["examples", "tests/data/ctgov-json", "tests/data/ctgov-xml", "tests/data/pubmed"]
TRIAL_SUMMARY = (ROOT / "queries" / "trial-summary.rq").read_text("utf-8")


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def build_store(target: Path) -> None:
    if (target / "active").exists():
        return
    subprocess.run([sys.executable, "-m", "kg", "build", *SOURCES, "--store", str(target)], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def old_tree(workdir: Path) -> Path:
    """The old ``kg`` package, extracted from git into a temporary directory."""
    archive = workdir / "old.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), OLD_COMMIT, "kg", "queries", "ontology"],
                   cwd=ROOT, check=True)
    target = workdir / "old"
    target.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def start(name: str, pythonpath: Path, store: Path, extra: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    sink = log.open("wb")
    process = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", "0",
                                "--no-access-log", *extra], stdout=sink, stderr=subprocess.STDOUT, cwd=pythonpath,
                               env={**os.environ, "PYTHONPATH": str(pythonpath)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"kg serve: (http://127\.0\.0\.1:\d+)/", log.read_text(errors="replace"))
        if found:
            time.sleep(1.0)
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}")


def trial_ids(base: str) -> list[str]:
    query = ("PREFIX tkg: <https://w3id.org/trialkg/ontology#> "
             "SELECT ?n WHERE { ?t a tkg:Trial ; tkg:nctId ?n }")
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=60)
    connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                       headers={"Accept": "application/sparql-results+json"})
    document = orjson.loads(connection.getresponse().read())
    return sorted(b["n"]["value"] for b in document["results"]["bindings"])


def per_trial_query(nct: str) -> str:
    """trial-summary for one trial: the canned query with its nct parameter bound (VALUES, as kg query does)."""
    from kg.queries import get_query

    return get_query("trial-summary").bind({"nct": nct})


def load(name: str, base: str, ncts: list[str], clients: int, seconds: float, seed: int) -> Run:
    run = Run(name)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    bodies = {nct: urllib.parse.urlencode({"query": per_trial_query(nct)}) for nct in ncts}

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        netloc = urllib.parse.urlsplit(base).netloc
        connection = http.client.HTTPConnection(netloc, timeout=120)
        while time.monotonic() < stop_at:
            nct = rng.choice(ncts)
            started = time.monotonic()
            try:
                connection.request("POST", "/sparql", body=bodies[nct], headers={
                    "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"})
                response = connection.getresponse()
                body = response.read()
                elapsed = time.monotonic() - started
                ok = response.status == 200 and len(orjson.loads(body)["results"]["bindings"]) == 1
                problem = None if ok else f"{response.status} {body[:120]!r}"
            except (OSError, http.client.HTTPException, ValueError) as error:
                elapsed, problem = time.monotonic() - started, repr(error)
                connection.close()
                connection = http.client.HTTPConnection(netloc, timeout=120)
            with lock:
                if problem is None:
                    run.latencies.append(elapsed)
                else:
                    run.errors += 1
                    if len(run.error_samples) < 5:
                        run.error_samples.append(problem)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.monotonic() - started
    return run


THREAD_PROBE = """
import resource, sys, threading, time
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # so the probe dies, not the machine
import psutil, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
def run():
    for _ in store.query(sys.argv[2], use_default_graph_as_union=True):
        break
thread = threading.Thread(target=run, daemon=True); thread.start(); started = time.monotonic()
me = psutil.Process()
while thread.is_alive() and time.monotonic() - started < 15:
    thread.join(0.5)
    print(f"{time.monotonic() - started:.1f} {me.memory_info().rss >> 20} {int(thread.is_alive())}", flush=True)
"""


def isolation(store: Path, query: str, deadline: float) -> list[str]:
    """The same runaway query evaluated in a thread (the old engine) and in a sandboxed worker (the new one)."""
    import asyncio

    import psutil

    from kg.store.sandbox import QueryFailure, QueryLimits, QueryRunner

    active = store / os.readlink(store / "active")
    probe = subprocess.run([sys.executable, "-c", THREAD_PROBE, str(active), query], capture_output=True, text=True)
    samples = [line.split() for line in probe.stdout.splitlines() if line.count(" ") == 2]
    at_deadline = next((s for s in samples if float(s[0]) >= deadline), samples[-1] if samples else ["?", "?", "?"])
    last = samples[-1] if samples else ["?", "?", "?"]
    ended = ("killed by its 3 GiB cap (the whole process)" if probe.returncode
             else "still running when the probe stopped")
    peak = 0
    with QueryRunner(store, QueryLimits(timeout=deadline, memory_mb=1024), workers=1) as runner:
        runner.warm()
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                with contextlib.suppress(psutil.Error):
                    peak = max(peak, sum(p.memory_info().rss for p in psutil.Process().children(recursive=True)))
                time.sleep(0.02)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        started = time.monotonic()
        try:
            asyncio.run(runner.run(query, results_media="application/sparql-results+json"))
            outcome = "finished"
        except QueryFailure as failure:
            outcome = f"{failure.reason}: {failure.message}"
        stopped = time.monotonic() - started
        done.set()
        watcher.join()
    return [f"- In a thread (the old engine), deadline {deadline:g} s: at {at_deadline[0]} s still running "
            f"(alive={at_deadline[2]}) at {at_deadline[1]} MiB; at {last[0]} s {last[1]} MiB, {ended}.",
            f"- In a sandboxed worker (RLIMIT_AS 1024 MiB, deadline {deadline:g} s): stopped after {stopped:.2f} s "
            f"({outcome.strip()}); the worker peaked at {peak >> 20} MiB and was replaced."]


def report(runs: list[Run], args: argparse.Namespace, ncts: int, load_average: float, probes: list[str]) -> str:
    import pyoxigraph
    import starlette
    import uvicorn

    lines = [
        "# kg serve under load: old server against new",
        "",
        f"`python benchmarks/bench_serve.py --seconds {args.seconds:g} --clients {args.clients} --seed {args.seed} "
        f"--new-workers {args.new_workers}`, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}; Python "
        f"{platform.python_version()}, pyoxigraph {pyoxigraph.__version__}, Starlette {starlette.__version__}, "
        f"uvicorn {uvicorn.__version__}.",
        f"- Store: examples + tests/data ({ncts} trials), one trialkg store directory served read-only by both.",
        f"- Old: `kg serve` from commit {OLD_COMMIT} (http.server, a thread per connection, 4 query threads), run "
        "from `git archive` in a temporary directory. New: this tree (uvicorn, "
        f"{args.new_workers} sandboxed query worker processes, queue 64).",
        f"- Request: the trial-summary canned query bound to one random NCT id (VALUES), POSTed as a form, "
        f"SPARQL JSON; {args.clients} client threads with keep-alive connections, {args.seconds:g} s per server, "
        "in another process. An answer counts when it is 200 with exactly one row.",
        f"- Load on the machine when the run started (1-minute load average): {load_average:.1f}.",
        "",
        "| server | requests | errors | requests/s | mean ms | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        mean = statistics.fmean(run.latencies) * 1000 if run.latencies else float("nan")
        lines.append(f"| {run.name} | {len(run.latencies)} | {run.errors} | {len(run.latencies) / run.seconds:.1f} | "
                     f"{mean:.1f} | {run.percentile(0.5):.1f} | {run.percentile(0.95):.1f} | "
                     f"{run.percentile(0.99):.1f} | {max(run.latencies, default=0) * 1000:.1f} |")
    for run in runs:
        if run.error_samples:
            lines.append(f"\n{run.name} errors, first ones: " + "; ".join(run.error_samples))
    lines += ["", "Latency is measured by the client, from sending the request to reading the whole answer.", "",
              "## Isolation: why a worker process per query", "",
              "pyoxigraph 0.5's `Store.query` takes no cancellation token, so the engine cannot stop a query; the "
              "old server's threads kept evaluating after the client got its 503. Issue 19's runaway queries, "
              "measured by this script on the same store:", "", *probes, "",
              "So every query runs in a worker process with an address-space cap (RLIMIT_AS), killed at its "
              "deadline; tests/serve/test_serve_safety.py shows the server answering within 2 s afterwards with its "
              "process tree under the cap.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, default=None, help="store directory (default: built in a temp dir)")
    parser.add_argument("--output", type=Path, default=RESULTS / "serve.md")
    parser.add_argument("--new-workers", type=int, default=2, help="query worker processes of the new server")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as temporary:
        workdir = Path(temporary)
        store = args.store or workdir / "store"
        build_store(store)
        old = old_tree(workdir)
        load_average = os.getloadavg()[0]
        runs = []
        ncts: list[str] = []
        for name, path, extra in (("old (http.server, b54ec0b)", old, ["--workers", "4"]),
                                  ("new (Starlette + uvicorn, sandboxed)", ROOT,
                                   ["--workers", str(args.new_workers), "--queue", "64"])):
            process, base = start(name, path, store, extra, workdir / f"{len(runs)}.log")
            try:
                ncts = ncts or trial_ids(base)
                load(name, base, ncts[:20], clients=5, seconds=2, seed=args.seed)  # warm up
                runs.append(load(name, base, ncts, args.clients, args.seconds, args.seed))
            finally:
                process.terminate()
                process.wait(timeout=30)
            print(f"{name}: {len(runs[-1].latencies) / runs[-1].seconds:.1f} requests/s, "
                  f"p95 {runs[-1].percentile(0.95):.1f} ms, {runs[-1].errors} errors", file=sys.stderr)
        probes = [*isolation(store, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f", 2.0),
                  *isolation(store, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }", 2.0)]
        text = report(runs, args, len(ncts), load_average, probes)
    args.output.write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
