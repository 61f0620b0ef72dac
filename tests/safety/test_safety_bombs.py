"""Zip bombs and overlong lines fail fast with flat memory: one clear line, the rest still loads.

The builds run in a subprocess under ``RLIMIT_AS`` = 1 GiB: a reader that keeps a 3 GiB
member (or line) dies with MemoryError there instead of reporting it. ``RLIMIT_AS`` counts
address space reserved, not memory used, and glibc reserves 64 MiB per thread's malloc arena
(Oxigraph's loader and DuckDB start threads), so the child runs with ``MALLOC_ARENA_MAX=2``:
without it an ordinary one-study build is refused its loader's 200 MB buffer under 1 GiB.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import orjson
import pytest

from kg.sources.bounded import BoundedStream, ZipBombError, ZipLimits, bounded_lines, check_member
from kg.sources.ctgov_json_read import read_ctgov_json
from tests.conftest import DATA, ROOT
from tests.safety.bombs import GIB, GeneratedStream, deflate_bomb, one_line_json_bomb
from tests.safety.helpers import kg_env

GOOD = DATA / "ctgov-json" / "single" / "NCT00465816.json"
CEILING = 1 * GIB

def _ceiling() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING))


def _kg_under_ceiling(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True,
                          env=kg_env(MALLOC_ARENA_MAX="2"),
                          cwd=ROOT, preexec_fn=_ceiling, timeout=120)


def test_a_3_gib_one_line_member_fails_fast_under_1_gib(tmp_path: Path) -> None:
    bomb = tmp_path / "ctg-studies.json.zip"
    one_line_json_bomb(bomb, 3 * GIB, good=GOOD.read_bytes())
    assert bomb.stat().st_size < 4 << 20
    result = _kg_under_ceiling("build", str(bomb), str(GOOD), "--store", str(tmp_path / "store"), "--no-resolve")
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "big.json" in line]
    assert len(lines) == 1 and "zip bomb" in lines[0] and str(bomb) in lines[0], result.stderr
    # Refused from the sizes its header declares, before a byte is decompressed (the streaming
    # check would stop it too, once it has decompressed past 4 MiB).
    assert "declares 3 GiB" in lines[0], lines[0]
    assert "1 loaded, 1 failed, 1 superseded" in result.stderr, result.stderr  # the good study, in and beside the zip


def test_declared_sizes_of_a_bomb_are_refused_before_decompressing() -> None:
    with pytest.raises(ZipBombError, match=r"a\.zip!big\.json: declares 3 GiB from 3 MiB"):
        check_member("a.zip", "big.json", 3 * GIB, 3 << 20)
    with pytest.raises(ZipBombError, match="over the 16 GiB"):
        check_member("a.zip", "huge.json", 17 * GIB, 17 * GIB)
    check_member("a.zip", "study.json", 40_000, 4_000)  # real members pass
    check_member("a.zip", "blank.json", 1 << 20, 100)  # small ones are not judged by ratio


class _Inflate(io.RawIOBase):
    """Raw deflate data decompressed as read, counting the compressed bytes consumed."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.inflater = data, 0, zlib.decompressobj(-15)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        out = b""
        while not out and not self.inflater.eof:
            tail = self.inflater.unconsumed_tail
            if tail:
                out = self.inflater.decompress(tail, len(buffer))
            else:
                chunk = self.data[self.at : self.at + 4096]
                self.at += len(chunk)
                out = self.inflater.decompress(chunk, len(buffer))
        buffer[: len(out)] = out
        return len(out)


def test_a_stream_that_declares_nothing_stops_at_the_ratio_with_flat_memory() -> None:
    data, _ = deflate_bomb(GIB, b'{"x": "', b'"}')
    inflate = _Inflate(data)
    stream = io.BufferedReader(BoundedStream(inflate, source="a.zip", member="big.json",
                                             compressed=lambda: inflate.at, limits=ZipLimits()))
    tracemalloc.start()
    try:
        with pytest.raises(ZipBombError, match="expands more than 100 times"):
            while stream.read(1 << 20):
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20 and inflate.at < 1 << 20


def test_an_overlong_line_is_skipped_without_being_kept() -> None:

    stream = io.BufferedReader(GeneratedStream(b'{"a": 1}\n', b"x", 200 << 20, b'\n{"b": 2}\n'))
    tracemalloc.start()
    try:
        lines = list(bounded_lines(stream, 8 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lines == [(1, b'{"a": 1}\n'), (2, None), (3, b'{"b": 2}\n')]
    assert peak < 24 << 20


def test_a_json_lines_file_with_an_overlong_line_is_read_without_keeping_it(tmp_path: Path) -> None:
    """Through the JSON Lines reader: a 384 MiB line between two studies costs one line, and memory
    stays near the 64 MiB cap (a reader that keeps the line holds all of it)."""
    study = orjson.dumps(orjson.loads(GOOD.read_bytes()))  # one line
    path = tmp_path / "studies.jsonl"
    with path.open("wb") as out:  # the long line is a hole in a sparse file: nothing written to disk
        out.write(study + b'\n{"x": "')
        out.seek(384 << 20, io.SEEK_CUR)
        out.write(b'"}\n' + study + b"\n")
    tracemalloc.start()
    try:
        kinds: list[str] = []
        messages: list[str] = []
        for item in read_ctgov_json(path):
            kinds.append(type(item).__name__)
            messages.append(getattr(item, "message", ""))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert kinds == ["RawRecord", "RecordError", "RawRecord"], (kinds, [m[:200] for m in messages])
    assert "a line longer than 64 MiB" in messages[1], messages[1][:200]
    assert peak < 192 << 20, f"{peak >> 20} MiB"
