"""Zip archives walked through their central directory, one entry at a time.

Why not ``zipfile.ZipFile``: it holds a ZipInfo per member (about 300 MB for the
500,000-study bulk download) before the first member is read. This walker reads the
central directory entry by entry (zip64 included) and opens one member at a time with a
decompressing, CRC-checking reader, so memory stays flat whatever the archive's size. Every
zip format (API v2 JSON zips, AllPublicXML zips) walks its archive here.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_ZIP_MAX_COMMENT = 65535
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
_ZIP64_EXTRA = 0x0001


@dataclass(frozen=True, slots=True)
class Member:
    """One central-directory entry, with its local header offset already made absolute."""

    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int

    @property
    def is_junk(self) -> bool:
        """Folders and what archivers add (``__MACOSX/``, ``.DS_Store``): no data to report."""
        base = self.name.rstrip("/").rsplit("/", 1)[-1]
        return self.name.endswith("/") or self.name.startswith("__MACOSX/") or base.startswith(".")


def open_member(data: IO[bytes], member: Member) -> zipfile.ZipExtFile:
    """A decompressing, CRC-checking reader of one member, from its local header on."""
    if member.flags & _FLAG_ENCRYPTED:
        raise zipfile.BadZipFile("member is encrypted")
    data.seek(member.offset)
    header = data.read(_LOCAL.size)
    if len(header) < _LOCAL.size or not header.startswith(b"PK\x03\x04"):
        raise zipfile.BadZipFile("bad local file header")
    fields = _LOCAL.unpack(header)
    data.seek(fields[-2] + fields[-1], 1)  # file name and extra field
    info = zipfile.ZipInfo(member.name)
    info.compress_type = member.method
    info.compress_size = member.compressed
    info.file_size = member.size
    info.CRC = member.crc
    info.flag_bits = member.flags
    return zipfile.ZipExtFile(data, "r", info)


def zip_members(path: Path) -> Generator[Member, None, None]:
    """Central-directory entries in archive order, without holding them all in memory."""
    with path.open("rb") as handle:
        start, size, shift = _central_directory(handle)
        handle.seek(start)
        consumed = 0
        while consumed < size:
            fixed = handle.read(_CENTRAL.size)
            if len(fixed) < _CENTRAL.size or not fixed.startswith(b"PK\x01\x02"):
                raise zipfile.BadZipFile("bad central directory entry")
            fields = _CENTRAL.unpack(fixed)
            flags, method, crc, compressed, file_size = fields[5], fields[6], fields[9], fields[10], fields[11]
            name_length, extra_length, comment_length, offset = fields[12], fields[13], fields[14], fields[18]
            raw_name = handle.read(name_length)
            extra = handle.read(extra_length)
            handle.read(comment_length)
            consumed += _CENTRAL.size + name_length + extra_length + comment_length
            if 0xFFFFFFFF in (compressed, file_size, offset):
                file_size, compressed, offset = _zip64_sizes(extra, file_size, compressed, offset)
            name = raw_name.decode("utf-8" if flags & _FLAG_UTF8 else "cp437", errors="replace")
            yield Member(name, flags, method, crc, compressed, file_size, offset + shift)


def _central_directory(handle: IO[bytes]) -> tuple[int, int, int]:
    """Start and size of the central directory, and how far data before the zip shifts offsets.

    Read from the end-of-central-directory record, or its zip64 version for big archives.
    """
    handle.seek(0, 2)
    file_size = handle.tell()
    tail_size = min(file_size, _EOCD.size + _ZIP_MAX_COMMENT + _ZIP64_LOCATOR.size + _ZIP64_EOCD.size)
    handle.seek(file_size - tail_size)
    tail = handle.read(tail_size)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or len(tail) - position < _EOCD.size:
        raise zipfile.BadZipFile("no end of central directory (not a zip, or truncated)")
    fields = _EOCD.unpack_from(tail, position)
    size, stated_offset = fields[5], fields[6]
    record_at = file_size - tail_size + position
    locator_at = position - _ZIP64_LOCATOR.size
    if locator_at >= _ZIP64_EOCD.size and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        zip64_at = locator_at - _ZIP64_EOCD.size
        fields64 = _ZIP64_EOCD.unpack_from(tail, zip64_at)
        if fields64[0] != b"PK\x06\x06":
            raise zipfile.BadZipFile("bad zip64 end of central directory")
        size, stated_offset = fields64[8], fields64[9]
        record_at = file_size - tail_size + zip64_at
    start = record_at - size  # the directory ends where the end records begin
    if start < 0 or stated_offset > start:
        raise zipfile.BadZipFile("central directory out of range")
    return start, size, start - stated_offset


def _zip64_sizes(extra: bytes, file_size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from the zip64 extra field, for the fields that overflowed (in this order)."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, position)
        if kind == _ZIP64_EXTRA:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, position + 4))
            fields = [file_size, compressed, offset]
            for slot, value in enumerate(fields):
                if value == 0xFFFFFFFF:
                    if not values:
                        break
                    fields[slot] = values.pop(0)
            else:
                return fields[0], fields[1], fields[2]
            break
        position += 4 + length
    raise zipfile.BadZipFile("zip64 sizes missing")

