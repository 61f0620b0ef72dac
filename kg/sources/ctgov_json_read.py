"""ClinicalTrials.gov API v2 JSON, in every shape a user meets, streamed as one raw study each.

Why one module for five shapes: users get API v2 JSON from the website ("Download" ->
JSON gives an array, or a zip of one file per study), from ``/api/v2/studies`` (pages of
``{"studies": [...], "nextPageToken": ...}``), from ``/api/v2/studies/NCT...`` (one study
document) and from their own scripts (JSON Lines). The study objects inside are the same,
so one parser serves them all, and one reader recognises the shape from the first bytes:

* ``{...}`` whose first key is a study section -> one study document;
* ``{...}`` whose first key is ``studies``/``totalCount``/``nextPageToken`` -> an API page;
* a ``.jsonl``/``.ndjson`` file, or lines that each start with ``{`` -> JSON Lines;
* ``[...]`` -> an array of studies;
* a zip (format ``ctgov-json-zip``) -> each member read as one of the shapes above.

Memory stays flat whatever the file size: arrays and pages are cut into studies by
``ijson`` (C backend), JSON Lines are read line by line, and zips are walked through
their central directory one entry at a time (``zipfile.ZipFile`` would hold a ZipInfo
per member: about 300 MB for the 500,000-study full download). Only one study is ever in
memory, as bytes, so it crosses a process pool cheaply; parsing is ``orjson`` plus plain
dict walks.

The retired classic API (``FullStudiesResponse``, ``StudyFieldsResponse``, capitalised
``ProtocolSection``) is recognised and refused with a clear message rather than read as
nothing. Contact data never leaves this module: central contacts and location contacts
other than investigators are dropped, and e-mail addresses and phone numbers found in
names, affiliations and facilities (some sponsors put a call-centre number there) are
removed; e-mail addresses and phone numbers introduced by "phone"/"call"/"tel" in the
free text are replaced by a marker.

Mapping notes: values stay as API v2 states them (codes, ISO dates, MeSH ids such as
``D000013166``); ``armGroups[].interventionNames`` lose their ``"Drug: "`` prefix so they
equal ``Intervention.name``; ``nctIdAliases`` become identifiers of type ``NCT_ALIAS``;
``seeAlsoLinks`` and ``availIpds`` become documents of type ``SEE_ALSO`` and
``AVAILABLE_IPD``; uploaded protocols/SAPs/ICFs get their CDN address. The results
section carries no references or people, so only ``hasResults`` is read from it.

Example:
    >>> from pathlib import Path
    >>> [raw.record for raw in read_ctgov_json(Path("tests/data/ctgov-json/single/NCT00465816.json"))]
    ['NCT00465816']
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import IO, Any, TypeAlias

import ijson
import orjson

from kg.errors import RecordError, SourceError
from kg.rules.codes import quoted
from kg.sources.base import RawRecord
from kg.sources.zipwalk import Member, open_member, zip_members

__all__ = [
    "FORMAT",
    "ZIP_FORMAT",
    "read_ctgov_json",
    "read_ctgov_json_zip",
    "sniff_ctgov_json",
    "sniff_ctgov_json_zip",
]

FORMAT = "ctgov-json"
ZIP_FORMAT = "ctgov-json-zip"

_HEAD_BYTES = 65536
_SNIFF_MEMBERS = 32
_SMALL_MEMBER = 16 * 1024 * 1024
_MAX_DOCUMENT = 512 * 1024 * 1024  # one study with results is a few MB; more is no study
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_MEMBER_SUFFIXES = (".json", *_JSONL_SUFFIXES)
# A plain file or a zip member (seekable: the shape is sniffed, then read from the start).
_Stream: TypeAlias = IO[bytes] | io.BufferedIOBase
_READ_ERRORS = (ijson.JSONError, ValueError, UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile, zlib.error)

# ---------------------------------------------------------------------------------------
# Recognising the shape from the first bytes
# ---------------------------------------------------------------------------------------

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # also the start of the UTF-32 BOMs
_WHITESPACE = b" \t\r\n"
_FIRST_KEY = re.compile(rb'\{\s*"((?:[^"\\]|\\.)*)"')
_PAGE_KEYS = frozenset({"studies", "nextPageToken", "totalCount"})
_PAGE_START = re.compile(rb'\{\s*(?:"(?:totalCount|nextPageToken)"\s*:\s*[^,]*,\s*)*"studies"\s*:\s*\[')
_CLASSIC = re.compile(rb'"(FullStudiesResponse|StudyFieldsResponse|FullStudies|ProtocolSection)"')
_STUDY_KEY = b'"protocolSection"'


def _start(head: bytes) -> int:
    """Offset of the first significant byte: after a UTF-8 BOM and leading whitespace."""
    offset = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
    while offset < len(head) and head[offset] in _WHITESPACE:
        offset += 1
    return offset


def _classic_key(head: bytes) -> str | None:
    """The retired classic API's key, when the head is classic JSON rather than API v2."""
    if _STUDY_KEY in head:
        return None
    match = _CLASSIC.search(head)
    return match.group(1).decode() if match else None


def sniff_ctgov_json(path: Path, head: bytes) -> bool:
    """API v2 JSON (document, array, page or JSON Lines), or classic JSON to refuse clearly."""
    if head.startswith(_UTF16_BOMS):
        head = head.decode("utf-16", errors="ignore").encode()
    offset = _start(head)
    if head[offset : offset + 1] not in (b"{", b"["):
        return False
    return _STUDY_KEY in head or bool(_PAGE_START.match(head, offset)) or _classic_key(head) is not None


# ---------------------------------------------------------------------------------------
# Reading: one file (or zip member) -> raw study records
# ---------------------------------------------------------------------------------------


def read_ctgov_json(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the studies of an API v2 JSON file: document, array, API page or JSON Lines."""
    source = str(path)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=source) from None
    with handle:
        yield from _read_stream(handle, source, path.name, path.suffix.lower() in _JSONL_SUFFIXES)


def _read_stream(handle: _Stream, source: str, name: str, jsonl: bool) -> Iterator[RawRecord | RecordError]:
    """Recognise the shape of one seekable byte stream and stream its studies.

    Raises SourceError for a whole-stream problem (empty, not UTF-8, not JSON, classic
    format, a document that is no study); yields RecordError for one bad study.
    """
    try:
        head = handle.read(_HEAD_BYTES)
    except _READ_ERRORS as error:
        raise SourceError(f"cannot read: {_short(error)}", source=source) from None
    offset = _start(head)
    _check_head(head, offset, source)
    first = head[offset : offset + 1]
    whole = len(head) < _HEAD_BYTES  # the stream ended inside the head: no need to read again
    try:
        if first == b"[":
            handle.seek(offset)  # past a BOM (orjson and yajl refuse one) and leading whitespace
            yield from _read_array(handle, source, "item", "[{}]")
            return
        key_match = _FIRST_KEY.match(head, offset)
        if key_match and key_match.group(1).decode("utf-8", errors="replace") in _PAGE_KEYS:
            handle.seek(offset)
            yield from _read_array(handle, source, "studies.item", "studies[{}]")
        elif jsonl or _looks_like_lines(head, offset, handle):
            handle.seek(offset)
            yield from _read_lines(handle, source, first_line=head.count(b"\n", 0, offset) + 1)
        else:
            if not whole:
                handle.seek(offset)
            yield _read_document(head[offset:] if whole else handle.read(_MAX_DOCUMENT + 1), source, name)
    except _READ_ERRORS as error:  # I/O trouble outside the per-record guards
        raise SourceError(f"cannot read: {_short(error)}", source=source) from None


def _check_head(head: bytes, offset: int, source: str) -> None:
    """Refuse, with the reason, a stream that cannot be API v2 JSON at all."""
    if head.startswith(_UTF16_BOMS):
        raise SourceError(
            "file is UTF-16/UTF-32 encoded; ClinicalTrials.gov JSON is UTF-8 (convert it, e.g. iconv -t UTF-8)",
            source=source,
        )
    if offset >= len(head):
        raise SourceError("empty file", source=source)
    classic = _classic_key(head)
    if classic:
        raise SourceError(
            f"retired classic API format {classic}; download API v2 JSON "
            "(https://clinicaltrials.gov/data-api/api) instead",
            source=source,
        )
    if head[offset : offset + 1] not in (b"{", b"["):
        raise SourceError(f"not JSON: starts with {head[offset : offset + 20]!r}", source=source)


def _looks_like_lines(head: bytes, offset: int, handle: _Stream) -> bool:
    """JSON Lines when the text after the first line starts a new object at column 0.

    A pretty-printed document goes on with an indented key, a compact one with nothing.
    Decided from the head when it holds the first line; else reads one line (one study).
    """
    whole = len(head) < _HEAD_BYTES
    newline = head.find(b"\n", offset)
    if newline >= 0:
        rest = head[newline + 1 :].lstrip(_WHITESPACE)
        if rest or whole:
            return rest.startswith(b"{")
    elif whole:
        return False
    handle.seek(offset)
    handle.readline()
    while chunk := handle.read(4096):
        stripped = chunk.lstrip(_WHITESPACE)
        if stripped:
            return stripped.startswith(b"{")
    return False


def _read_array(handle: _Stream, source: str, prefix: str, pointer: str) -> Iterator[RawRecord | RecordError]:
    """Studies of a JSON array (or of the ``studies`` array of a page), one at a time."""
    items = ijson.items(handle, prefix, use_float=True)
    index = 0
    while True:
        where = pointer.format(index)
        try:
            item = next(items)
        except StopIteration:
            return
        except _READ_ERRORS as error:
            reason = _short(error)
            kind = "not UTF-8 text" if "UTF8" in reason or "UTF-8" in reason else "invalid or truncated JSON"
            message = f"{kind} ({reason})"
            if index == 0:
                raise SourceError(message, source=source) from None
            yield RecordError(f"{message}; reading stopped after {index} studies", source=source, record=where)
            return
        index += 1
        problem = _not_a_study(item)
        if problem:
            yield RecordError(problem, source=source, record=where)
        else:
            yield RawRecord(FORMAT, source, _nct_id(item) or where, orjson.dumps(item))


def _read_lines(handle: _Stream, source: str, first_line: int = 1) -> Iterator[RawRecord | RecordError]:
    """JSON Lines: one study per line, blank lines skipped, a bad line reported and passed."""
    for number, line in enumerate(handle, start=first_line):
        text = line.strip()
        if not text:
            continue
        where = f"line {number}"
        try:
            study = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            message = _json_problem(error, text)
            if number == first_line and message.startswith("not UTF-8"):
                raise SourceError(message, source=source) from None  # the file's encoding, not one line
            yield RecordError(message, source=source, record=where)
            continue
        problem = _not_a_study(study)
        if problem:
            yield RecordError(problem, source=source, record=where)
        else:
            yield RawRecord(FORMAT, source, _nct_id(study) or where, text)


def _read_document(data: bytes, source: str, name: str) -> RawRecord:
    """One study document (``/api/v2/studies/NCT...``): loaded whole, it is one study."""
    if len(data) > _MAX_DOCUMENT:
        raise SourceError("a single JSON document over 512 MiB is no study; expected an array or page", source=source)
    try:
        study = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise SourceError(_json_problem(error, data), source=source) from None
    problem = _not_a_study(study)
    if problem:
        raise SourceError(f"{problem}, nor an /api/v2/studies page", source=source)
    return RawRecord(FORMAT, source, _nct_id(study) or name, data)


def _not_a_study(value: Any) -> str | None:
    """Why a JSON value is no API v2 study, or None when it is one."""
    if not isinstance(value, dict):
        return f"not a ClinicalTrials.gov study: a JSON {type(value).__name__}, not an object"
    if not isinstance(value.get("protocolSection"), dict):
        keys = ", ".join(quoted(key, 40) for key in list(value)[:8]) or "none"
        return f"not a ClinicalTrials.gov API v2 study: no protocolSection (top-level keys: {keys})"
    return None


def _nct_id(study: Mapping[str, Any]) -> str | None:
    identification = study["protocolSection"].get("identificationModule")
    nct = identification.get("nctId") if isinstance(identification, dict) else None
    return nct.strip() or None if isinstance(nct, str) else None


def _json_problem(error: orjson.JSONDecodeError, data: bytes | str) -> str:
    """What is wrong with JSON orjson refused, saying where a byte is not UTF-8."""
    if "UTF-8" in error.msg and isinstance(data, bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return (
                f"not UTF-8 text (byte 0x{data[bad.start]:02X} at offset {bad.start}); ClinicalTrials.gov JSON is "
                "UTF-8, so the file was re-encoded (e.g. saved as Latin-1)"
            )
    return f"invalid or truncated JSON ({error})"


def _short(error: BaseException) -> str:
    """First line of an error message (yajl's messages carry a multi-line excerpt)."""
    text = str(error)
    if text[:2] in ("b'", 'b"'):
        text = text[2:].replace("\\n", "\n")
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def sniff_ctgov_json_zip(path: Path, head: bytes) -> bool:
    """A zip whose first members are mostly ``.json`` files (read from the central directory)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    seen = json_members = 0
    try:
        with closing(zip_members(path)) as members:
            for member in members:
                if member.is_junk:
                    continue
                seen += 1
                json_members += member.name.lower().endswith(_MEMBER_SUFFIXES)
                if seen >= _SNIFF_MEMBERS:
                    break
    except (OSError, zipfile.BadZipFile, struct.error):
        return False
    return json_members > 0 and json_members * 2 >= seen


def read_ctgov_json_zip(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the studies of a zip of API v2 JSON files (``ctg-studies.json.zip``).

    Each member is read as a document, array, page or JSON Lines; a member that is no
    study, not JSON or damaged is reported by name and the others still come out.
    """
    source = str(path)
    members = zip_members(path)
    try:
        member = next(members, None)  # opens the archive and finds its directory
        data = path.open("rb")
    except (OSError, zipfile.BadZipFile, struct.error) as error:
        members.close()
        raise SourceError(f"not a readable zip archive ({_short(error)})", source=source) from None
    with data, closing(members):
        while member is not None:
            if not member.is_junk:
                yield from _read_member(data, member, f"{source}!{member.name}")
            try:
                member = next(members, None)
            except (OSError, zipfile.BadZipFile, struct.error) as error:
                raise SourceError(f"zip central directory is damaged ({_short(error)})", source=source) from None


def _read_member(data: IO[bytes], member: Member, source: str) -> Iterator[RawRecord | RecordError]:
    """The records of one zip member, its problems turned into RecordErrors naming it."""
    lowered = member.name.lower()
    if not lowered.endswith(_MEMBER_SUFFIXES):
        yield RecordError("not a JSON study file (zip member is no .json)", source=source, record=member.name)
        return
    try:
        stream: _Stream = open_member(data, member)
        if member.size <= _SMALL_MEMBER:  # one study: decompress once, then seek freely
            stream = io.BytesIO(stream.read())
        yield from _read_stream(stream, source, member.name, lowered.endswith(_JSONL_SUFFIXES))
    except SourceError as error:
        yield RecordError(error.message, source=source, record=member.name)
    except (*_READ_ERRORS, NotImplementedError, struct.error) as error:
        yield RecordError(f"damaged zip member ({_short(error)})", source=source, record=member.name)

