"""Load benchmark for ``kg serve``: many concurrent clients on loopback, latency percentiles, zero errors.

Why: the endpoint's promise is that a team can point notebooks, SPARQL editors and browsers at
it at once. This run builds a store (the seed pages plus the real records in tests/data),
starts the real ``kg serve`` process on a free loopback port, and sends a fixed, seeded mix of
requests from concurrent clients over keep-alive connections: canned queries (with and
without a trial parameter, SPARQL JSON), trial and investigator pages (HTML), trial
descriptions (Turtle) and an ad-hoc SELECT (CSV). Every answer is checked: the status, and
for the canned queries the number of rows the local store gives. Any error fails the run.

It writes ``benchmarks/results/serve.md``.

Example:
    python benchmarks/bench_serve.py                       # 1,000 requests from 8 clients
    python benchmarks/bench_serve.py --requests 5000 --clients 16 --workers 4
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import queue
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``kg`` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
import pyoxigraph

from kg.build import build
from kg.queries import CannedQuery, list_queries
from kg.store import open_store
from kg.store.generations import StoreDirectory

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_DATA = [ROOT / "examples", ROOT / "tests" / "data"]
TKG = "https://w3id.org/trialkg/ontology#"
ADHOC = f"PREFIX tkg: <{TKG}> SELECT ?t ?title WHERE {{ ?t a tkg:Trial ; tkg:briefTitle ?title }} ORDER BY ?t LIMIT 50"


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    path: str
    accept: str
    body: bytes | None = None
    expect_rows: int | None = None  # canned queries: the local store's answer
    expect_text: str | None = None


@dataclass(frozen=True)
class Outcome:
    kind: str
    seconds: float
    error: str | None


def build_store(data: list[Path], directory: Path) -> tuple[int, int, int]:
    with StoreDirectory(directory).staging() as store:
        report = build(data, store, jobs=min(2, os.cpu_count() or 1))
    with open_store(directory, read_only=True) as store:
        trials = store.select(f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ ?t a <{TKG}Trial> }}").values()[0][0]
        return report.records_loaded, len(store), int(trials or 0)


def interactive_queries(directory: Path, limit: float) -> tuple[list[CannedQuery], dict[str, float]]:
    """The canned queries the local store answers within ``limit`` seconds (with and without a parameter).

    A load test of the server is about the server: a query that takes longer than the
    limit on its own (a whole-graph analysis) only measures the query, and is listed instead.
    """
    fast, slow = [], {}
    with open_store(directory, read_only=True) as store:
        nct = store.select(f"SELECT (MIN(?id) AS ?n) WHERE {{ ?t <{TKG}nctId> ?id }}").values()[0][0]
        for query in list_queries():
            seconds = 0.0
            for bindings in (None, {"nct": nct} if nct and any(p.name == "nct" for p in query.parameters) else None):
                started = time.perf_counter()
                store.select(query.bind(bindings))
                seconds = max(seconds, time.perf_counter() - started)
            if seconds <= limit:
                fast.append(query)
            else:
                slow[query.name] = seconds
    return fast, slow


def plan(directory: Path, count: int, seed: int, queries: list[CannedQuery]) -> list[Request]:
    """The seeded request mix, with the answers the local store gives for the canned queries."""
    rng = random.Random(seed)
    with open_store(directory, read_only=True) as store:
        ncts = [v for (v,) in store.select(f"SELECT ?id WHERE {{ ?t a <{TKG}Trial> ; <{TKG}nctId> ?id }} "
                                           "ORDER BY ?id").values() if v]
        people = [v for (v,) in store.select(f"SELECT DISTINCT ?p WHERE {{ ?r <{TKG}agent> ?p }} ORDER BY ?p "
                                             "LIMIT 2000").values() if v]
        expected: dict[tuple[str, str | None], int] = {}

        def canned() -> Request:
            query = rng.choice(queries)
            nct = rng.choice(ncts) if any(p.name == "nct" for p in query.parameters) and rng.random() < 0.5 else None
            sparql = query.bind({"nct": nct} if nct else None)
            key = (query.name, nct)
            if key not in expected:
                expected[key] = len(store.select(sparql).rows)
            body = urllib.parse.urlencode({"query": sparql}).encode("utf-8")
            return Request("canned query (JSON)", "POST", "/sparql", "application/sparql-results+json", body,
                           expect_rows=expected[key])

        makers = [
            (40, canned),
            (20, lambda: (lambda n: Request("trial page (HTML)", "GET", f"/study/{n}", "text/html",
                                            expect_text=n))(rng.choice(ncts))),
            (15, lambda: Request("person page (HTML)", "GET",
                                 "/resource/" + rng.choice(people).split("/resource/", 1)[1], "text/html")),
            (15, lambda: Request("trial description (Turtle)", "GET", f"/study/{rng.choice(ncts)}", "text/turtle")),
            (10, lambda: Request("ad-hoc SELECT (CSV)", "GET", "/sparql?" + urllib.parse.urlencode({"query": ADHOC}),
                                 "text/csv")),
        ]
        weights = [w for w, _ in makers]
        return [rng.choices(makers, weights)[0][1]() for _ in range(count)]


def check(request: Request, status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if request.expect_rows is not None:
        rows = len(orjson.loads(body)["results"]["bindings"])
        if rows != request.expect_rows:
            return f"{rows} rows, expected {request.expect_rows}"
    if request.expect_text is not None and request.expect_text.encode() not in body:
        return f"{request.expect_text} not in the page"
    return None


def client(host: str, port: int, work: queue.Queue[Request | None], out: list[Outcome]) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=120)
    while (request := work.get()) is not None:
        headers = {"Accept": request.accept}
        if request.body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            error = check(request, response.status, body)
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            connection.close()
        out.append(Outcome(request.kind, time.perf_counter() - started, error))
    connection.close()


def start_server(directory: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(directory),
                                    "--port", "0", "--workers", str(workers), "--no-access-log"],
                                   stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"http://(127\.0\.0\.1):(\d+)/", log.read_text(errors="replace"))
        if match:
            return process, match.group(1), int(match.group(2))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"kg serve did not start: {log.read_text(errors='replace')}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summary_rows(outcomes: list[Outcome]) -> list[list[str]]:
    kinds = sorted({o.kind for o in outcomes})
    rows = []
    for kind in [*kinds, "all"]:
        chosen = [o for o in outcomes if kind in ("all", o.kind)]
        ms = [o.seconds * 1000 for o in chosen]
        rows.append([kind, str(len(chosen)), str(sum(1 for o in chosen if o.error)),
                     *(f"{v:.1f}" for v in (statistics.mean(ms), percentile(ms, 0.5), percentile(ms, 0.9),
                                            percentile(ms, 0.95), percentile(ms, 0.99), max(ms)))])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="kg serve --workers (queries evaluated at once)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, nargs="*", default=DEFAULT_DATA)
    parser.add_argument("--max-query-seconds", type=float, default=2.0,
                        help="leave out canned queries slower than this on the local store alone")
    parser.add_argument("--out", type=Path, default=RESULTS / "serve.md")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        directory = Path(tmp) / "store"
        records, quads, trials = build_store(args.data, directory)
        queries, slow = interactive_queries(directory, args.max_query_seconds)
        requests = plan(directory, args.requests, args.seed, queries)
        process, host, port = start_server(directory, args.workers, Path(tmp) / "serve.log")
        try:
            work: queue.Queue[Request | None] = queue.Queue()
            for request in requests:
                work.put(request)
            for _ in range(args.clients):
                work.put(None)
            outcomes: list[Outcome] = []
            threads = [threading.Thread(target=client, args=(host, port, work, outcomes)) for _ in range(args.clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)

    errors = [o for o in outcomes if o.error]
    header = ["requests", "n", "errors", "mean ms", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"]
    table = [header, ["---"] * len(header), *summary_rows(outcomes)]
    lines = [
        "# kg serve under load",
        "",
        f"`python benchmarks/bench_serve.py --requests {args.requests} --clients {args.clients} "
        f"--workers {args.workers} --seed {args.seed}`, {time.strftime('%Y-%m-%d')}.",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__}.",
        f"- Store: {records} records loaded ({trials} trials, {quads} quads) from "
        + ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in args.data) + ".",
        f"- Server: the real `kg serve` process on 127.0.0.1, {args.workers} query workers, read-only; "
        f"{args.clients} client threads with keep-alive connections in another process.",
        f"- Canned queries in the mix: {', '.join(q.name for q in queries)}"
        + (f"; left out, slower than {args.max_query_seconds:g} s on the local store alone: "
           + ", ".join(f"{name} ({sec:.1f} s)" for name, sec in sorted(slow.items())) if slow else "") + ".",
        f"- Load on the machine at the start (1-minute load average): {load:.1f} (other work shares the cores).",
        f"- Result: {len(outcomes)} requests in {wall:.2f} s ({len(outcomes) / wall:.0f} requests/s), "
        f"**{len(errors)} errors** (status, and the canned queries' row counts against the local store).",
        "",
        *("| " + " | ".join(row) + " |" for row in table),
        "",
        "Latency is measured by the client, from sending the request to reading the whole answer.",
    ]
    if errors:
        lines += ["", "Errors (first 10):", *(f"- {e.kind}: {e.error}" for e in errors[:10])]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 1 if errors or len(outcomes) != args.requests else 0


if __name__ == "__main__":
    sys.exit(main())
