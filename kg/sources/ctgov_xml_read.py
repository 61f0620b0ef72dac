"""Legacy ClinicalTrials.gov XML files and AllPublicXML-style zips, streamed as one raw study each.

Reading is separate from parsing (:mod:`kg.sources.ctgov_xml`) because it runs in the
parent process, in file order, and must see every file and member: a member that is no
study, too large or damaged is reported by name and the others go on. Zips are walked by
the shared :mod:`kg.sources.zipwalk`, one entry at a time.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import IO

from kg.errors import RecordError, SourceError
from kg.sources.base import RawRecord
from kg.sources.zipwalk import Member, open_member, zip_members

__all__ = [
    "FORMAT",
    "MAX_DOCUMENT_BYTES",
    "read_ctgov_xml",
    "read_ctgov_xml_zip",
    "sniff_ctgov_xml",
    "sniff_ctgov_xml_zip",
]

FORMAT = "ctgov-xml"
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # the largest real study documents are a few MB
_PROBE_BYTES = 65536
# Root listing files that AllPublicXML-style archives carry next to the studies.
_IGNORED_MEMBERS = frozenset({"contents.txt"})

# Prolog (BOM, whitespace, XML declaration, processing instructions, comments, DOCTYPE)
# then the root element. Single-character whitespace alternatives keep the match linear.
_STUDY_HEAD = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE\b[^\[>]*(?:\[.*?\])?\s*>)*<clinical_study\b",
    re.DOTALL,
)
_NCT_ELEMENT = re.compile(rb"<nct_id>\s*(NCT\d{8})\s*</nct_id>")
_NCT_NAME = re.compile(r"NCT\d{8}")


# ---------------------------------------------------------------- sniffing


def sniff_ctgov_xml(path: Path, head: bytes) -> bool:
    """A ``<clinical_study>`` document: the root element follows the prolog."""
    return bool(_STUDY_HEAD.match(head)) or b"<!DOCTYPE clinical_study" in head[:4096]


def sniff_ctgov_xml_zip(path: Path, head: bytes) -> bool:
    """A zip archive whose members are mostly ``.xml`` files (AllPublicXML layout)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    names = [name for name in _head_member_names(head) if not name.endswith(b"/")]
    if not names:  # only folders in the first bytes: ask the central directory
        names = _directory_member_names(path, 50)
    xml = sum(name.lower().endswith(b".xml") for name in names)
    return xml > 0 and 2 * xml > len(names)


def _head_member_names(head: bytes) -> list[bytes]:
    """Member names from the local file headers inside the first bytes of a zip."""
    names: list[bytes] = []
    offset = 0
    while offset + 30 <= len(head) and head[offset : offset + 4] == b"PK\x03\x04":
        (flags,) = struct.unpack_from("<H", head, offset + 6)
        (size,) = struct.unpack_from("<I", head, offset + 18)
        name_length, extra_length = struct.unpack_from("<HH", head, offset + 26)
        names.append(head[offset + 30 : offset + 30 + name_length])
        if flags & 0x08 or size == 0xFFFFFFFF:  # size only known after the data
            break
        offset += 30 + name_length + extra_length + size
    return names


def _directory_member_names(path: Path, limit: int) -> list[bytes]:
    names: list[bytes] = []
    try:
        with closing(zip_members(path)) as members:
            for member in members:
                if len(names) >= limit:
                    break
                if not member.name.endswith("/"):
                    names.append(member.name.encode())
    except (zipfile.BadZipFile, OSError, ValueError, struct.error):
        return []
    return names


# ---------------------------------------------------------------- reading


def read_ctgov_xml(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the study documents of one XML file or of an AllPublicXML-style zip.

    Example:
        >>> [r.record for r in read_ctgov_xml(Path("tests/data/ctgov-xml/aact-fixtures/NCT02028676.xml"))]
        ['NCT02028676']
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None
    if magic == b"PK\x03\x04":
        yield from read_ctgov_xml_zip(path)
        return
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise SourceError(f"file of {size} bytes is larger than a study document can be", source=str(path))
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None
    yield RawRecord(FORMAT, str(path), _record_name(data, path.name), data)


def read_ctgov_xml_zip(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the members of an AllPublicXML-style zip, one study document each.

    Members that are not ``.xml`` or not ``<clinical_study>`` documents, oversized or
    damaged members are reported as RecordError by member name; the others go on.
    """
    members = zip_members(path)
    try:
        first = next(members, None)  # opens the archive and finds its directory
        handle = path.open("rb")
    except (OSError, zipfile.BadZipFile, struct.error) as error:
        members.close()
        raise SourceError(f"not a readable zip archive: {error}", source=str(path)) from None
    with handle, closing(members):
        for member in _until_damaged(first, members, path):
            if member.is_junk:
                continue
            name = member.name.rsplit("/", 1)[-1]
            if name.lower() in _IGNORED_MEMBERS:
                continue
            source = f"{path}!{member.name}"
            problem, data = _member_bytes(handle, member)
            if problem is None and not _STUDY_HEAD.match(data[:_PROBE_BYTES]):
                problem = "member is not a <clinical_study> XML document"
            if problem is not None:
                yield RecordError(problem, source=source, record=name)
                continue
            yield RawRecord(FORMAT, source, _record_name(data, name), data)


def _until_damaged(first: Member | None, rest: Iterator[Member], path: Path) -> Iterator[Member]:
    """The members in archive order; a damaged central directory ends the archive with an error."""
    member = first
    while member is not None:
        yield member
        try:
            member = next(rest, None)
        except (OSError, zipfile.BadZipFile, struct.error) as error:
            raise SourceError(f"zip central directory is damaged ({error})", source=str(path)) from None


def _member_bytes(handle: IO[bytes], member: Member) -> tuple[str | None, bytes]:
    """A member's bytes, or why they cannot be had (never an exception)."""
    if not member.name.lower().endswith(".xml"):
        return "not an .xml member", b""
    if member.size > MAX_DOCUMENT_BYTES:
        return f"member of {member.size} bytes is larger than a study document can be", b""
    try:
        with open_member(handle, member) as stream:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as error:
        return f"cannot extract member: {error}", b""
    if len(data) > MAX_DOCUMENT_BYTES:
        return "member is larger than a study document can be", b""
    return None, data


def _record_name(data: bytes, fallback: str) -> str:
    """The NCT id when it shows early in the document, else the file or member name."""
    match = _NCT_ELEMENT.search(data, 0, _PROBE_BYTES)
    if match:
        return match.group(1).decode("ascii")
    named = _NCT_NAME.search(fallback)
    return named.group(0) if named else fallback
