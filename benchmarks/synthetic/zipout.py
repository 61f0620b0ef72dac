"""A streaming zip writer: one member at a time, constant memory, zip64 when the archive needs it.

Why: ``zipfile.ZipFile`` keeps a ``ZipInfo`` per member until it writes the central directory,
a few hundred bytes each: about 200 MB for the 560,000 members of a full-registry download. This
writer spools the central directory to a temporary file instead, so writing a zip of any size
holds one member in memory. Members are deflated (like ``ctg-studies.json.zip``) with sizes in
the local header (no data descriptors), which every reader accepts.

Example:
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with StreamingZip(buffer) as archive:
    ...     archive.add("NCT90000000.json", b'{"hasResults": false}')
    >>> zipfile.ZipFile(buffer).read("NCT90000000.json")
    b'{"hasResults": false}'
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import IO

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_EOCD = struct.Struct("<4s4H2LH")
_LIMIT32 = 0xFFFFFFFF
_LIMIT16 = 0xFFFF
_DEFLATED = 8
_VERSION = 20  # 2.0: deflate
_VERSION64 = 45  # 4.5: zip64
_DOS_TIME, _DOS_DATE = 0, (2024 - 1980) << 9 | 12 << 5 | 16  # fixed, so the bytes depend only on the content
_UTF8 = 0x800


def deflate(data: bytes, level: int) -> tuple[bytes, int]:
    """Raw deflate stream and CRC-32 of one member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data)


class StreamingZip:
    """Write members with ``add(name, data)``; ``close()`` (or leaving ``with``) writes the directory."""

    def __init__(self, handle: IO[bytes], level: int = 6) -> None:
        self._out = handle
        self._level = level
        self._directory = tempfile.TemporaryFile()  # noqa: SIM115 - lives until close()
        self._offset = 0
        self._count = 0

    def add(self, name: str, data: bytes) -> None:
        self._write(name, len(data), *deflate(data, self._level))

    def add_all(self, members: Iterable[tuple[str, bytes]], threads: int = 2, window: int = 256) -> int:
        """Add members in order while threads deflate the next ones (zlib releases the GIL, so this
        overlaps compression with whatever produces ``members``); returns the bytes before compression."""
        total = 0
        with ThreadPoolExecutor(threads) as pool:
            pending: deque[tuple[str, int, Future[tuple[bytes, int]]]] = deque()
            for name, data in members:
                pending.append((name, len(data), pool.submit(deflate, data, self._level)))
                total += len(data)
                if len(pending) >= window:
                    name, size, future = pending.popleft()
                    self._write(name, size, *future.result())
            for name, size, future in pending:
                self._write(name, size, *future.result())
        return total

    def _write(self, name: str, size: int, packed: bytes, crc: int) -> None:
        encoded = name.encode()
        flags = _UTF8 if not encoded.isascii() else 0
        local = _LOCAL.pack(b"PK\x03\x04", _VERSION, flags, _DEFLATED, _DOS_TIME, _DOS_DATE, crc, len(packed),
                            size, len(encoded), 0)
        self._out.write(local + encoded)
        self._out.write(packed)
        extra = b""
        offset = self._offset
        if offset >= _LIMIT32:
            extra = struct.pack("<2HQ", 0x0001, 8, offset)
            offset = _LIMIT32
        version = _VERSION64 if extra else _VERSION
        self._directory.write(_CENTRAL.pack(b"PK\x01\x02", version, version, flags, _DEFLATED, _DOS_TIME, _DOS_DATE,
                                            crc, len(packed), size, len(encoded), len(extra), 0, 0, 0, 0, offset))
        self._directory.write(encoded + extra)
        self._offset += len(local) + len(encoded) + len(packed)
        self._count += 1

    def close(self) -> None:
        start, size = self._offset, self._directory.tell()
        self._directory.seek(0)
        shutil.copyfileobj(self._directory, self._out, 1 << 20)
        self._directory.close()
        end = start + size
        if self._count >= _LIMIT16 or start >= _LIMIT32 or size >= _LIMIT32:
            self._out.write(_ZIP64_EOCD.pack(b"PK\x06\x06", _ZIP64_EOCD.size - 12, _VERSION64, _VERSION64, 0, 0,
                                             self._count, self._count, size, start))
            self._out.write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, end, 1))
        count = min(self._count, _LIMIT16)
        self._out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, count, count, min(size, _LIMIT32), min(start, _LIMIT32), 0))

    def __enter__(self) -> StreamingZip:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
