"""No query can harm the server: runaway queries are stopped, memory stays capped, a full queue says
so, SIGTERM ends the process. Each test runs a real ``kg serve`` process and watches its process
tree with psutil.

The runaway queries are issue 19's: an ORDER BY over a cross join (in a server thread it grew by
about 180 MiB a second until the process died) and COUNTs over a cross join (each held a
worker for over a minute). The only timed assertions are the issue's must-show bounds: a
simple query answered within 2 s afterwards, and SIGTERM ending the server within 5 s.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import psutil
import pytest
from serve_helpers import fetch, query_url, start_kg_serve

ORDER_BY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
JSON = "application/sparql-results+json"
WORKERS = 2
MEMORY_MB = 768
SERVER_ALLOWANCE_MB = 512  # the uvicorn process itself


class TreeMemory:
    """Peak resident memory of a process and all its descendants, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_total = 0
        self.peak_process = 0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for process in processes:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.pids.add(process.pid)
                total += rss
                self.peak_process = max(self.peak_process, rss)
            self.peak_total = max(self.peak_total, total)
            time.sleep(0.02)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.mark.slow
def test_runaway_queries_are_stopped_and_the_server_answers_after(store_dir: Path, tmp_path: Path) -> None:
    server = start_kg_serve(store_dir, tmp_path, "--workers", str(WORKERS), "--timeout", "6",
                            "--memory-limit", str(MEMORY_MB), "--queue", "8")
    try:
        with TreeMemory(server.process.pid) as memory, ThreadPoolExecutor(max_workers=5) as pool:
            runaway = [pool.submit(fetch, query_url(server.url, ORDER_BY), accept=JSON, timeout=90)]
            runaway += [pool.submit(fetch, query_url(server.url, COUNT), accept=JSON, timeout=90) for _ in range(4)]
            answers = [future.result() for future in runaway]
            started = time.monotonic()
            status, _, body = fetch(query_url(server.url, "SELECT (COUNT(*) AS ?n) WHERE { ?t a "
                                              "<https://w3id.org/trialkg/ontology#Trial> }"), accept=JSON)
            elapsed = time.monotonic() - started
        print(f"after runaways: simple query {elapsed:.2f} s; peak process {memory.peak_process >> 20} MiB, "
              f"peak tree {memory.peak_total >> 20} MiB")
        assert status == 200, body[:300]
        assert int(orjson.loads(body)["results"]["bindings"][0]["n"]["value"]) > 100
        assert elapsed < 2.0, f"a simple query took {elapsed:.2f} s after the runaway queries"
        assert memory.peak_process < MEMORY_MB << 20, f"one process reached {memory.peak_process >> 20} MiB"
        budget = (WORKERS * MEMORY_MB + SERVER_ALLOWANCE_MB) << 20
        assert memory.peak_total < budget, f"the server's processes reached {memory.peak_total >> 20} MiB together"
        assert [status for status, _, _ in answers] == [503] * 5, [body[:200] for _, _, body in answers]
        assert b"memory" in answers[0][2], answers[0][2]
        stopped = (b"did not finish", b"more memory")  # a COUNT may reach its memory cap before its deadline
        assert all(any(w in body for w in stopped) for _, _, body in answers[1:]), [a[2] for a in answers]
        assert all("retry-after" in headers for _, headers, _ in answers)

        assert server.process.poll() is None
    finally:
        server.stop()


def test_a_full_queue_is_refused_at_once_with_retry_after(store_dir: Path, tmp_path: Path) -> None:
    server = start_kg_serve(store_dir, tmp_path, "--workers", "1", "--queue", "1", "--timeout", "3")
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(fetch, query_url(server.url, COUNT), accept=JSON, timeout=60) for _ in range(4)]
            answers = [future.result() for future in futures]
        busy = [(headers, body) for status, headers, body in answers if status == 503 and b"busy" in body]
        assert busy, [(status, body[:100]) for status, _, body in answers]  # one runs, one waits, the rest refused
        assert all(headers["retry-after"].isdigit() for headers, _ in busy)
        assert fetch(query_url(server.url, "ASK {}"), accept=JSON)[0] == 200
    finally:
        server.stop()


def test_sigterm_during_a_runaway_query_ends_the_server_and_its_workers(store_dir: Path, tmp_path: Path) -> None:
    server = start_kg_serve(store_dir, tmp_path, "--workers", "2", "--timeout", "60")
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        running = [pool.submit(fetch, query_url(server.url, COUNT), accept=JSON, timeout=90) for _ in range(2)]
        time.sleep(1.5)  # both workers are evaluating
        tree = [server.process, *psutil.Process(server.process.pid).children(recursive=True)]
        assert len(tree) >= 3
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=5)
        print(f"SIGTERM to exit: {time.monotonic() - started:.2f} s")
        assert time.monotonic() - started < 5.0
        _, alive = psutil.wait_procs([p for p in tree[1:] if p.is_running()], timeout=2)
        assert not alive, f"workers left running: {[p.pid for p in alive]}"
        for future in running:
            with contextlib.suppress(OSError):
                future.result(timeout=30)  # the client got an answer or a closed connection, not a hang
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        server.stop()
