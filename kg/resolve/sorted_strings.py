"""A sorted list of millions of distinct strings, in one block of UTF-8 with their offsets.

Why: resolution keeps every criterion concept's IRI (3.6 million at 560,000 studies) to
write each one's link and to say which IRIs it resolved. As ``str`` objects in a list they
took about 120 bytes each (object header, hash, pointer); here each takes its UTF-8 bytes
and an 8-byte offset, under half of that, and no Python object per string is kept alive.
Lookups are a binary search over the block (strings are appended in increasing order, and
UTF-8 bytes sort as Python's code points do, so the byte order is the string order).

Example:
    >>> names = SortedStrings()
    >>> for name in ["c:1", "c:2", "c:été"]:
    ...     names.append(name)
    >>> len(names), "c:2" in names, "c:3" in names, names[2], list(names)[:2]
    (3, True, False, 'c:été', ['c:1', 'c:2'])
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

__all__ = ["SortedStrings"]


class SortedStrings(Sequence[str]):
    """Strings appended in strictly increasing order; ``in`` and ``index`` by binary search."""

    __slots__ = ("_blob", "_ends", "_last")

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = array("Q")
        self._last: bytes | None = None

    def append(self, value: str) -> None:
        """Add ``value``, which must sort after every string added so far."""
        encoded = value.encode()
        if self._last is not None and encoded <= self._last:
            raise ValueError(f"strings must come sorted, once each: {value!r} after {self._last.decode()!r}")
        self._blob += encoded
        self._ends.append(len(self._blob))
        self._last = encoded

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._bytes(index).decode()

    def _bytes(self, index: int) -> bytes:
        if index < 0:
            index += len(self._ends)
        if not 0 <= index < len(self._ends):
            raise IndexError(index)
        start = self._ends[index - 1] if index else 0
        return bytes(self._blob[start:self._ends[index]])

    def position(self, value: str) -> int | None:
        """The index of ``value``, or None when it was not added."""
        encoded = value.encode()
        keys = _Keys(self)
        index = bisect.bisect_left(keys, encoded)
        return index if index < len(self) and keys[index] == encoded else None

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self.position(value) is not None

    def __iter__(self) -> Iterator[str]:
        blob, start = self._blob, 0
        for end in self._ends:
            yield blob[start:end].decode()
            start = end


class _Keys(Sequence[bytes]):
    """The strings as bytes, for ``bisect`` (which compares whatever ``__getitem__`` gives)."""

    __slots__ = ("_strings",)

    def __init__(self, strings: SortedStrings) -> None:
        self._strings = strings

    def __len__(self) -> int:
        return len(self._strings)

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            raise TypeError("not sliceable")
        return self._strings._bytes(index)
