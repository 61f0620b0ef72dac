"""Hostile archives made in seconds: a 3 GiB one-line JSON member in a 3 MB zip, written by hand."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

GIB = 1 << 30
_BLOCK = b"a" * (1 << 20)


def deflate_bomb(size: int, prefix: bytes, suffix: bytes) -> tuple[bytes, int]:
    """Raw deflate of ``prefix + "a" * n + suffix`` (about ``size`` bytes) and its CRC-32.

    One MiB of "a" compresses to about 1 KB; after a full flush the compressor starts
    afresh, so that block's bytes repeat: no need to compress 3 GiB.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(_BLOCK) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(_BLOCK) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    count = max(1, (size - len(prefix) - len(suffix)) // len(_BLOCK))
    tail = compressor.compress(suffix) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    block_crc = [crc]
    for _ in range(count):
        block_crc[0] = zlib.crc32(_BLOCK, block_crc[0])
    crc = zlib.crc32(suffix, block_crc[0])
    return head + block * (count - 1) + block + tail, crc


def write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> None:
    """A zip of ``(name, deflated data, crc, uncompressed size, method)`` members, honest headers."""
    out = bytearray()
    central = bytearray()
    for name, data, crc, size, method in members:
        encoded = name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0x800, method, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0x800, method, 0, 0x21, crc,
                               len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))


def one_line_json_bomb(path: Path, size: int = 3 * GIB, good: bytes | None = None) -> None:
    """``big.json``: one line of JSON, ``size`` bytes uncompressed; plus ``good.json`` when given."""
    prefix = b'{"protocolSection": {"identificationModule": {"nctId": "NCT09999999", "briefTitle": "'
    data, crc = deflate_bomb(size, prefix, b'"}}}\n')
    count = max(1, (size - len(prefix) - 5) // len(_BLOCK))
    members = [("big.json", data, crc, len(prefix) + count * len(_BLOCK) + 5, 8)]
    if good is not None:
        packed = zlib.compress(good, 9)[2:-4]
        members.append(("good.json", packed, zlib.crc32(good), len(good), 8))
    write_zip(path, members)


class GeneratedStream(io.RawIOBase):
    """A stream of ``head``, then ``size`` bytes of ``fill``, then ``tail``, made as it is read."""

    def __init__(self, head: bytes, fill: bytes, size: int, tail: bytes) -> None:
        self.parts: Iterator[bytes] = iter([head, *([fill * (size // len(fill) // 64)] * 64), tail])
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self.pending:
            part = next(self.parts, None)
            if part is None:
                return 0
            self.pending = memoryview(part)
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n
