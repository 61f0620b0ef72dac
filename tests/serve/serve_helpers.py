"""Helpers for kg serve's tests: building the store, fetching, starting real server processes.

The store is built once per session with the real ``kg build`` (examples, the registry JSON and
XML samples, the PubMed samples), into a trialkg store directory with generations, as a user
would. Tests that need a server start one themselves: ``running_server`` (uvicorn in a thread)
for protocol and page tests, or a real ``kg serve`` process (:func:`start_kg_serve`) where the
process itself is under test (memory, SIGTERM, writes).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.serve import QueryLimits

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("examples", "tests/data/ctgov-json", "tests/data/ctgov-xml", "tests/data/pubmed")
TRIAL = "https://clinicaltrials.gov/study/NCT01374854"
PI = "https://w3id.org/trialkg/resource/person/jianming-tan"
TOKEN = "s3cret-token-for-tests-0123456789"


def kg_command() -> list[str]:
    return [sys.executable, "-m", "kg"]


def environment() -> dict[str, str]:
    """The tests' own tree first on the path, for every child process."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def build_store(target: Path, *sources: str) -> Path:
    result = subprocess.run([*kg_command(), "build", *(sources or SOURCES), "--store", str(target)], cwd=ROOT,
                            env=environment(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return target


def fetch(url: str, *, accept: str | None = None, data: bytes | None = None, content_type: str | None = None,
          headers: dict[str, str] | None = None, method: str | None = None,
          timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    if accept:
        request.add_header("Accept", accept)
    if content_type:
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def query_url(base: str, sparql: str, **params: str) -> str:
    return base + "/sparql?" + urllib.parse.urlencode({"query": sparql, **params})


@dataclass
class KgServe:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_kg_serve(store: Path, workdir: Path, *extra: str) -> KgServe:
    """A real ``kg serve --port 0`` process; its URL read from the line it prints once listening."""
    log = workdir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([*kg_command(), "serve", "--store", str(store), "--port", "0", "--no-access-log",
                                    *extra], stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env=environment())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"kg serve: (http://127\.0\.0\.1:\d+)/", log.read_text(errors="replace"))
        if match:
            server = KgServe(process, match.group(1), log)
            _wait_until_answering(server)
            return server
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"kg serve did not start: {log.read_text(errors='replace')[-3000:]}")


def _wait_until_answering(server: KgServe) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if fetch(server.url + "/health", timeout=5)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("kg serve does not answer /health")


def oxigraph_binary() -> str:
    for candidate in (Path(sys.executable).parent / "oxigraph", shutil.which("oxigraph")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("the Oxigraph server CLI is missing: `.venv/bin/pip install 'oxigraph>=0.5'`")


def active_generation(store: Path) -> Path:
    return store / os.readlink(store / "active")


__all__ = ["PI", "TOKEN", "TRIAL", "KgServe", "QueryLimits", "fetch", "query_url", "start_kg_serve"]
