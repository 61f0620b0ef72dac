"""Decompressing streams with a ceiling: zip bombs fail fast, naming the archive and the member.

Why: a 3 MB zip holding one 3 GiB line of JSON reached 6.3 GB of memory before any error,
because the readers asked the member for "the next line" or "the whole document". Two
checks stop that before memory is spent:

* :func:`check_member` refuses a member whose *declared* sizes say it is a bomb (more
  than ``max_size`` uncompressed, or expanding more than ``max_ratio`` times), before a
  byte is decompressed;
* :class:`BoundedStream` counts what a decompressing stream actually produces and stops
  at the same limits, for headers that lie and streams that declare nothing.

Real ClinicalTrials.gov JSON and XML deflate 5 to 20 times; a ratio of 100 leaves room
for whitespace-heavy files and none for a bomb (1,000 times and more). The error is a
:class:`ZipBombError`, a ``ValueError`` so the readers' existing "damaged member" handling
reports it as one line naming the member.

Example:
    >>> import io, zlib
    >>> packed = zlib.compress(b" " * (8 << 20))
    >>> stream = BoundedStream(io.BytesIO(zlib.decompress(packed)), source="a.zip", member="x.json",
    ...                        compressed=lambda: len(packed), limits=ZipLimits(max_ratio=100))
    >>> try:
    ...     stream.read()
    ... except ZipBombError as error:
    ...     print(error.source, error.member, error.reason.split(" (")[0])
    a.zip x.json expands more than 100 times
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

__all__ = ["BoundedStream", "ZipBombError", "ZipLimits", "bounded_lines", "check_member", "open_bounded"]


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """How far one member may expand: in size, and relative to its compressed size."""

    max_size: int = 16 << 30  # the whole registry as one JSON array is about 10 GiB
    max_ratio: float = 100.0
    ratio_floor: int = 4 << 20  # small members may expand more (a page of blanks): judged past this


class ZipBombError(ValueError):
    """A member expands past the limits; the message names the archive and the member."""

    def __init__(self, source: str, member: str, reason: str) -> None:
        super().__init__(f"{source}!{member}: {reason}: refused as a zip bomb")
        self.source = source
        self.member = member
        self.reason = reason


def _size(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.3g} {unit}"
    return f"{count} bytes"


def check_member(source: str, member: str, size: int, compressed: int, limits: ZipLimits = ZipLimits()) -> None:
    """Refuse, before decompressing, a member whose declared sizes are a bomb's."""
    if size > limits.max_size:
        raise ZipBombError(source, member, f"declares {_size(size)} uncompressed, over the {_size(limits.max_size)} "
                                           "a member may have")
    if size > limits.ratio_floor and size > limits.max_ratio * max(compressed, 1):
        raise ZipBombError(source, member, f"declares {_size(size)} from {_size(compressed)} compressed, "
                                           f"more than {limits.max_ratio:g} times")


class BoundedStream(io.BufferedIOBase):
    """A read-only view of a decompressing stream that raises :class:`ZipBombError` past the limits.

    ``compressed`` returns how many compressed bytes the decompressor has consumed so far
    (for a zip member: the archive file's position minus the member data's start). Reads,
    lines and seeks go straight to the stream below (no second buffer: a zip member is
    already buffered), large reads in 1 MiB steps so the limits are checked as it expands.
    """

    _STEP = 1 << 20

    def __init__(self, stream: IO[bytes] | io.BufferedIOBase, *, source: str, member: str,
                 compressed: Callable[[], int], limits: ZipLimits = ZipLimits()) -> None:
        super().__init__()
        self._stream = stream
        self._source = source
        self._member = member
        self._compressed = compressed
        self._limits = limits
        self.produced = 0

    def _count(self, data: bytes) -> bytes:
        limits = self._limits
        self.produced += len(data)
        if self.produced > limits.max_size:
            raise ZipBombError(self._source, self._member, f"expands past {_size(limits.max_size)}")
        if self.produced > limits.ratio_floor:
            compressed = max(self._compressed(), 1)
            if self.produced > limits.max_ratio * compressed:
                raise ZipBombError(self._source, self._member,
                                   f"expands more than {limits.max_ratio:g} times (over {_size(self.produced)} "
                                   f"from {_size(compressed)} compressed)")
        return data

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and 0 <= size <= self._STEP:
            return self._count(self._stream.read(size))
        parts = []
        left = -1 if size is None or size < 0 else size
        while left != 0:
            part = self._count(self._stream.read(self._STEP if left < 0 else min(left, self._STEP)))
            if not part:
                break
            parts.append(part)
            left = left - len(part) if left > 0 else left
        return b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size if 0 <= size <= self._STEP else self._STEP)

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        """A line, read in 1 MiB steps when unbounded (a 3 GiB line stops at the limits)."""
        if size is not None and 0 <= size <= self._STEP:
            return self._count(self._stream.readline(size))
        parts = []
        left = -1 if size is None or size < 0 else size
        while left != 0:
            part = self._count(self._stream.readline(self._STEP if left < 0 else min(left, self._STEP)))
            parts.append(part)
            if not part or part.endswith(b"\n"):
                break
            left = left - len(part) if left > 0 else left
        return b"".join(parts)

    def seekable(self) -> bool:
        return bool(self._stream.seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek the stream below (a zip member rewinds by decompressing again): counts restart there."""
        position = self._stream.seek(offset, whence)
        self.produced = position
        return position

    def tell(self) -> int:
        return self._stream.tell()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


def open_bounded(stream: IO[bytes] | io.BufferedIOBase, *, source: str, member: str, size: int, compressed_size: int,
                 compressed: Callable[[], int], limits: ZipLimits = ZipLimits()) -> BoundedStream:
    """:func:`check_member`, then a :class:`BoundedStream` over ``stream``."""
    check_member(source, member, size, compressed_size, limits)
    return BoundedStream(stream, source=source, member=member, compressed=compressed, limits=limits)


def bounded_lines(handle: IO[bytes] | io.BufferedIOBase, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, line)`` of a byte stream; ``None`` for a line over ``limit`` bytes.

    Why: ``for line in handle`` and ``readline()`` keep a whole line, however long (a 3 GiB
    one-line JSON file is one line). An overlong line is skipped to its end in 1 MiB steps
    without being kept, and reported by the caller as one bad record.
    """
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, line
