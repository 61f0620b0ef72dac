"""Writes are never acknowledged and then lost: an update is a new store generation before its 204.

Issue 19: with ``--update-token``, three updates answered 204 were gone after the next
``kg build``. Now each update is applied to a generation checkpointed from the active one and
``active`` is switched before the server answers, so ``kg build`` (which starts from the active
generation) carries them on. These tests run the real ``kg serve`` and ``kg build`` processes.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import orjson
from serve_helpers import ROOT, TOKEN, build_store, environment, fetch, kg_command, query_url, start_kg_serve

from kg.store import open_store

NOTES = "urn:trialkg-test:notes"
COUNT_NOTES = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _count(url: str) -> int:
    status, _, body = fetch(query_url(url, COUNT_NOTES), accept="application/sparql-results+json")
    assert status == 200, body
    return int(orjson.loads(body)["results"]["bindings"][0]["n"]["value"])


def _update(url: str, text: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    status, _, body = fetch(url + "/sparql", data=urllib.parse.urlencode({"update": text}).encode(),
                            content_type="application/x-www-form-urlencoded", headers=headers)
    return status, body


def test_acknowledged_updates_survive_the_next_build(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store", "examples")
    (tmp_path / "token").write_text(TOKEN)
    server = start_kg_serve(store, tmp_path, "--update-token-file", str(tmp_path / "token"))
    try:
        for number in range(3):
            status, body = _update(server.url, f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:note:{number}> '
                                               f'<urn:says> "note {number}" }} }}', AUTH)
            assert status == 204, body
        assert _count(server.url) == 3  # acknowledged means visible at once

        build = subprocess.run([*kg_command(), "build", "tests/data/ctgov-json", "--store", str(store)], cwd=ROOT,
                               env=environment(), capture_output=True, text=True, timeout=600)
        assert build.returncode == 0, build.stderr[-2000:]
        trials = "SELECT (COUNT(*) AS ?n) WHERE { ?t a <https://w3id.org/trialkg/ontology#Trial> }"
        status, _, body = fetch(query_url(server.url, trials), accept="application/sparql-results+json")
        assert int(orjson.loads(body)["results"]["bindings"][0]["n"]["value"]) > 2  # the build is being served
        assert _count(server.url) == 3
    finally:
        server.stop()
    with open_store(store, read_only=True) as reopened:
        assert reopened.select(COUNT_NOTES).values() == [("3",)]


def test_an_update_while_a_build_writes_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    """The update child takes the store's writer lock: while a build holds it (paused after loading),
    an update is refused naming the build, never acknowledged beside it (it would remove the build's
    staging generation as abandoned and switch ``active`` under it); once the build is gone it applies."""
    store = build_store(tmp_path / "store", "examples")
    (tmp_path / "token").write_text(TOKEN)
    server = start_kg_serve(store, tmp_path, "--update-token-file", str(tmp_path / "token"))
    ready = tmp_path / "ready"
    build = subprocess.Popen([*kg_command(), "build", "tests/data/ctgov-json/single", "--store", str(store),
                              "--no-resolve"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**environment(), "TRIALKG_FAULT": "loaded:pause", "TRIALKG_FAULT_READY": str(ready)})
    insert = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:note:1> <urn:says> "note 1" }} }}'
    try:
        deadline = time.monotonic() + 300
        while not (ready.exists() and ready.read_text().strip()):
            assert build.poll() is None, "the build ended before its fault point"
            assert time.monotonic() < deadline, "the build did not reach its fault point"
            time.sleep(0.1)
        before = os.readlink(store / "active")
        staging = sorted(store.glob("gen-*"))[-1]
        assert staging.name != before
        status, body = _update(server.url, insert, AUTH)
        assert status != 204, "an update was acknowledged while a build was writing the store"
        assert status == 500 and b"being written by pid " + str(build.pid).encode() in body, (status, body)
        assert os.readlink(store / "active") == before and staging.is_dir()  # the build's staging is untouched
        assert _count(server.url) == 0
    finally:
        build.kill()
        build.wait(timeout=30)
    try:
        status, body = _update(server.url, insert, AUTH)  # the build is gone (killed): the update applies
        assert status == 204, body
        assert _count(server.url) == 1
    finally:
        server.stop()


def test_refused_and_failed_updates_change_nothing(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store", "examples")
    (tmp_path / "token").write_text(TOKEN)
    server = start_kg_serve(store, tmp_path, "--update-token-file", str(tmp_path / "token"))
    insert = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:a> <urn:b> "c" }} }}'
    before = os.readlink(store / "active")
    try:
        assert _update(server.url, insert)[0] == 401
        assert _update(server.url, insert, {"Authorization": "Bearer wrong-token-0123456789"})[0] == 401
        status, body = _update(server.url, "LOAD <http://127.0.0.1:9/x.ttl>", AUTH)
        assert status == 400 and b"LOAD" in body
        status, body = _update(server.url, "INSERT DATA { <urn:a> <urn:b> }", AUTH)
        assert status == 400 and b"syntax" in body.lower()
        assert os.readlink(store / "active") == before and _count(server.url) == 0
    finally:
        server.stop()


def test_a_read_only_server_refuses_updates(store_dir: Path, tmp_path: Path) -> None:
    server = start_kg_serve(store_dir, tmp_path)
    try:
        status, body = _update(server.url, f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:a> <urn:b> "c" }} }}', AUTH)
        assert status == 403 and b"read-only" in body
    finally:
        server.stop()
