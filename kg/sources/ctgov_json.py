"""ClinicalTrials.gov API v2 JSON, in every shape a user meets, streamed into trials.

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
    >>> raws = read_ctgov_json(Path("tests/data/ctgov-json/single/NCT00465816.json"))
    >>> parse_ctgov_json(next(raws)).trial.references[0].pmid
    '22107850'
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias

import ijson
import orjson

from kg.errors import RecordError, SourceError
from kg.model import (
    AgeLimit,
    Arm,
    Document,
    Eligibility,
    Enrollment,
    GeoPoint,
    Identifier,
    Intervention,
    MeshTerm,
    Organization,
    Outcome,
    PersonMention,
    Reference,
    ResponsibleParty,
    Site,
    StudyDate,
    Trial,
)
from kg.sources import register
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.criteria_text import split_criteria
from kg.sources.vocab import age_limit, iso_date, mesh_id, nct_id, pubmed_id, quoted, web_address

__all__ = [
    "FORMAT",
    "ZIP_FORMAT",
    "parse_ctgov_json",
    "read_ctgov_json",
    "read_ctgov_json_zip",
    "sniff_ctgov_json",
    "sniff_ctgov_json_zip",
]

FORMAT = "ctgov-json"
ZIP_FORMAT = "ctgov-json-zip"

_HEAD_BYTES = 65536
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


# ---------------------------------------------------------------------------------------
# Zip archives, walked entry by entry
# ---------------------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_ZIP_MAX_COMMENT = 65535
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
_ZIP64_EXTRA = 0x0001
_SNIFF_MEMBERS = 32
_SMALL_MEMBER = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Member:
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


def sniff_ctgov_json_zip(path: Path, head: bytes) -> bool:
    """A zip whose first members are mostly ``.json`` files (read from the central directory)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    seen = json_members = 0
    try:
        with closing(_zip_members(path)) as members:
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
    members = _zip_members(path)
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


def _read_member(data: IO[bytes], member: _Member, source: str) -> Iterator[RawRecord | RecordError]:
    """The records of one zip member, its problems turned into RecordErrors naming it."""
    lowered = member.name.lower()
    if not lowered.endswith(_MEMBER_SUFFIXES):
        yield RecordError("not a JSON study file (zip member is no .json)", source=source, record=member.name)
        return
    try:
        stream: _Stream = _open_member(data, member)
        if member.size <= _SMALL_MEMBER:  # one study: decompress once, then seek freely
            stream = io.BytesIO(stream.read())
        yield from _read_stream(stream, source, member.name, lowered.endswith(_JSONL_SUFFIXES))
    except SourceError as error:
        yield RecordError(error.message, source=source, record=member.name)
    except (*_READ_ERRORS, NotImplementedError, struct.error) as error:
        yield RecordError(f"damaged zip member ({_short(error)})", source=source, record=member.name)


def _open_member(data: IO[bytes], member: _Member) -> zipfile.ZipExtFile:
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


def _zip_members(path: Path) -> Generator[_Member, None, None]:
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
            yield _Member(name, flags, method, crc, compressed, file_size, offset + shift)


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


# ---------------------------------------------------------------------------------------
# Parsing: one study's JSON -> Trial
# ---------------------------------------------------------------------------------------

_EMPTY: Mapping[str, Any] = {}
_CORE_MODULES = (
    "statusModule",
    "sponsorCollaboratorsModule",
    "descriptionModule",
    "conditionsModule",
    "designModule",
    "eligibilityModule",
)
# armGroups[].interventionNames are "Type: Name"; the type is a display label of these.
_INTERVENTION_PREFIX = re.compile(
    r"^(?:Drug|Device|Biological|Procedure|Radiation|Behavioral|Genetic|Dietary Supplement|"
    r"Combination Product|Diagnostic Test|Other):\s*"
)
_SITE_INVESTIGATOR_ROLES = frozenset({"PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR"})
_LARGE_DOCS_URL = "https://cdn.clinicaltrials.gov/large-docs/{}/{}/{}"
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_DOI_TRAILING = ".,;:)]"


def parse_ctgov_json(raw: RawRecord) -> Parsed:
    """The trial one API v2 study states; RecordError when the payload is no study."""
    payload = raw.payload
    if not isinstance(payload, (bytes, bytearray, memoryview, str, dict)):
        raise RecordError(f"payload is {type(payload).__name__}, not JSON", source=raw.source, record=raw.record)
    try:
        study = payload if isinstance(payload, dict) else orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        problem_text = payload if isinstance(payload, (bytes, str)) else bytes(payload)
        raise RecordError(_json_problem(error, problem_text), source=raw.source, record=raw.record) from None
    problem = _not_a_study(study)
    if problem:
        raise RecordError(problem, source=raw.source, record=raw.record)
    protocol = study["protocolSection"]
    nct = _text(_module(protocol, "identificationModule").get("nctId"))
    if not nct:
        raise RecordError("no protocolSection.identificationModule.nctId", source=raw.source, record=raw.record)
    if not nct_id(nct):  # it becomes the trial's IRI
        raise RecordError(f"not an NCT id: {quoted(nct)}", source=raw.source, record=raw.record)
    warnings: list[str] = []
    try:
        trial = _trial(study, protocol, nct, warnings)
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        message = f"malformed study JSON ({type(error).__name__}: {error})"
        raise RecordError(message, source=raw.source, record=nct) from None
    return Parsed(trial, tuple(dict.fromkeys(warnings)))


def _trial(study: Mapping[str, Any], protocol: Mapping[str, Any], nct: str, warnings: list[str]) -> Trial:
    missing = [name for name in _CORE_MODULES if not isinstance(protocol.get(name), dict)]
    if missing:
        warnings.append(f"no {', '.join(missing)} in protocolSection")
    ident = _module(protocol, "identificationModule")
    status = _module(protocol, "statusModule")
    description = _module(protocol, "descriptionModule")
    conditions = _module(protocol, "conditionsModule")
    design = _module(protocol, "designModule")
    design_info = _module(design, "designInfo")
    sponsors = _module(protocol, "sponsorCollaboratorsModule")
    derived = _module(study, "derivedSection")
    arms, interventions = _arms_interventions(_module(protocol, "armsInterventionsModule"), warnings)
    officials, sites = _contacts_locations(_module(protocol, "contactsLocationsModule"), warnings)
    references, links = _references(_module(protocol, "referencesModule"), warnings)
    return Trial(
        nct_id=nct,
        org_study_id=_text(_module(ident, "orgStudyIdInfo").get("id")),
        secondary_ids=_secondary_ids(ident),
        brief_title=_text(ident.get("briefTitle")),
        official_title=_text(ident.get("officialTitle")),
        acronym=_text(ident.get("acronym")),
        brief_summary=_prose(description.get("briefSummary"), "briefSummary", warnings),
        detailed_description=_prose(description.get("detailedDescription"), "detailedDescription", warnings),
        overall_status=_text(status.get("overallStatus")),
        why_stopped=_prose(status.get("whyStopped"), "whyStopped", warnings),
        phases=_texts(design.get("phases")),
        study_type=_text(design.get("studyType")),
        start_date=_date_struct(status, "startDateStruct", warnings),
        primary_completion_date=_date_struct(status, "primaryCompletionDateStruct", warnings),
        completion_date=_date_struct(status, "completionDateStruct", warnings),
        enrollment=_enrollment(_module(design, "enrollmentInfo"), warnings),
        allocation=_text(design_info.get("allocation")),
        intervention_model=_text(design_info.get("interventionModel")),
        masking=_text(_module(design_info, "maskingInfo").get("masking")),
        primary_purpose=_text(design_info.get("primaryPurpose")),
        conditions=_texts(conditions.get("conditions")),
        keywords=_texts(conditions.get("keywords")),
        condition_mesh=_mesh(_module(derived, "conditionBrowseModule").get("meshes")),
        condition_mesh_ancestors=_mesh(_module(derived, "conditionBrowseModule").get("ancestors")),
        intervention_mesh=_mesh(_module(derived, "interventionBrowseModule").get("meshes")),
        intervention_mesh_ancestors=_mesh(_module(derived, "interventionBrowseModule").get("ancestors")),
        arms=arms,
        interventions=interventions,
        outcomes=_outcomes(_module(protocol, "outcomesModule"), warnings),
        eligibility=_eligibility(_module(protocol, "eligibilityModule"), warnings),
        lead_sponsor=_organization(sponsors.get("leadSponsor"), "leadSponsor", warnings),
        collaborators=_collaborators(sponsors.get("collaborators"), warnings),
        responsible_party=_responsible_party(sponsors.get("responsibleParty"), warnings),
        officials=officials,
        sites=sites,
        references=references,
        documents=_large_documents(study, nct, warnings) + links,
        first_submitted=_date(status.get("studyFirstSubmitDate"), "studyFirstSubmitDate", warnings),
        first_posted=_date_struct(status, "studyFirstPostDateStruct", warnings),
        last_update_submitted=_date(status.get("lastUpdateSubmitDate"), "lastUpdateSubmitDate", warnings),
        last_update_posted=_date_struct(status, "lastUpdatePostDateStruct", warnings),
        last_verified=_date(status.get("statusVerifiedDate"), "statusVerifiedDate", warnings),
        results_first_posted=_date_struct(status, "resultsFirstPostDateStruct", warnings),
        has_results=_bool(study.get("hasResults")),
    )


# --- small value helpers ---------------------------------------------------------------


def _module(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else _EMPTY


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    """A string stripped of surrounding whitespace; blanks, containers and booleans give None."""
    if value.__class__ is str:  # the hot path: JSON strings are exactly str
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(text for text in map(_text, value) if text)


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _date(value: Any, where: str, warnings: list[str]) -> str | None:
    text = _text(value)
    if text is None:
        return None
    date = iso_date(text)  # API v2 dates are ISO already; this also refuses 2011-13-45
    if date is None:
        warnings.append(f"{where}: unrecognised date {quoted(text)} left out")
    return date


def _date_struct(status: Mapping[str, Any], key: str, warnings: list[str]) -> StudyDate | None:
    struct_value = _module(status, key)
    date = _date(struct_value.get("date"), key, warnings)
    return StudyDate(date, _text(struct_value.get("type"))) if date else None


# --- modules ---------------------------------------------------------------------------


def _secondary_ids(ident: Mapping[str, Any]) -> tuple[Identifier, ...]:
    """Secondary ids, then NCT ids merged into this one (``nctIdAliases``, type NCT_ALIAS)."""
    found = [
        Identifier(id_, _text(info.get("type")), _text(info.get("domain")))
        for info in _objects(ident.get("secondaryIdInfos"))
        if (id_ := _text(info.get("id")))
    ]
    found.extend(Identifier(alias, "NCT_ALIAS", "ClinicalTrials.gov") for alias in _texts(ident.get("nctIdAliases")))
    return tuple(found)


def _enrollment(info: Mapping[str, Any], warnings: list[str]) -> Enrollment | None:
    count = info.get("count")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool):
        return None
    if count < 0:
        warnings.append(f"enrollmentInfo: negative count {count} left out")
        return None
    return Enrollment(count, _text(info.get("type")))


def _arms_interventions(
    module: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[Arm, ...], tuple[Intervention, ...]]:
    interventions = tuple(
        Intervention(
            name=name,
            type=_text(item.get("type")),
            description=_prose(item.get("description"), "interventions", warnings),
            arm_labels=_texts(item.get("armGroupLabels")),
            other_names=_texts(item.get("otherNames")),
        )
        for item in _objects(module.get("interventions"))
        if (name := _text(item.get("name")))
    )
    known = {intervention.name for intervention in interventions}
    arms = tuple(
        Arm(
            label=label,
            type=_text(group.get("type")),
            description=_prose(group.get("description"), "armGroups", warnings),
            intervention_names=tuple(_intervention_name(n, known) for n in _texts(group.get("interventionNames"))),
        )
        for group in _objects(module.get("armGroups"))
        if (label := _text(group.get("label")))
    )
    return arms, interventions


def _intervention_name(text: str, known: set[str]) -> str:
    """``"Drug: Metformin"`` -> ``"Metformin"``, unless the full text is itself a name."""
    if text in known:
        return text
    return _INTERVENTION_PREFIX.sub("", text, count=1).strip() or text


def _outcomes(module: Mapping[str, Any], warnings: list[str]) -> tuple[Outcome, ...]:
    found: list[Outcome] = []
    for key, kind in (("primaryOutcomes", "PRIMARY"), ("secondaryOutcomes", "SECONDARY"), ("otherOutcomes", "OTHER")):
        for item in _objects(module.get(key)):
            measure = _text(item.get("measure"))
            if measure is None:
                warnings.append(f"{key}: an outcome without measure left out")
                continue
            description = _prose(item.get("description"), key, warnings)
            found.append(Outcome(measure, kind, _text(item.get("timeFrame")), description))
    return tuple(found)


def _eligibility(module: Mapping[str, Any], warnings: list[str]) -> Eligibility:
    text = _prose(module.get("eligibilityCriteria"), "eligibilityCriteria", warnings)
    return Eligibility(
        criteria=split_criteria(text),
        minimum_age=_age(module.get("minimumAge")),
        maximum_age=_age(module.get("maximumAge")),
        sex=_text(module.get("sex")),
        healthy_volunteers=_bool(module.get("healthyVolunteers")),
        std_ages=_texts(module.get("stdAges")),
        text=text,
    )


def _age(value: Any) -> AgeLimit | None:
    limit = age_limit(_text(value))
    return AgeLimit(*limit) if limit else None


def _organization(value: Any, where: str, warnings: list[str]) -> Organization | None:
    if not isinstance(value, dict):
        return None
    name = _contact_free(value.get("name"), where, warnings)
    return Organization(name, _text(value.get("class"))) if name else None


def _collaborators(value: Any, warnings: list[str]) -> tuple[Organization, ...]:
    found = (_organization(item, "collaborators", warnings) for item in _objects(value))
    return tuple(organization for organization in found if organization)


def _responsible_party(value: Any, warnings: list[str]) -> ResponsibleParty | None:
    """The responsible party; records from before 2017 name it in ``oldNameTitle``/``oldOrganization``."""
    if not isinstance(value, dict):
        return None
    party = ResponsibleParty(
        type=_text(value.get("type")),
        name=_person_name(value.get("investigatorFullName") or value.get("oldNameTitle"), "responsibleParty", warnings),
        title=_contact_free(value.get("investigatorTitle"), "responsibleParty", warnings),
        affiliation=_contact_free(
            value.get("investigatorAffiliation") or value.get("oldOrganization"), "responsibleParty", warnings
        ),
    )
    return party if any((party.type, party.name, party.title, party.affiliation)) else None


def _contacts_locations(
    module: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[PersonMention, ...], tuple[Site, ...]]:
    """Overall officials and sites; centralContacts and plain location contacts are contact data, left out."""
    officials = tuple(
        PersonMention(
            name=name,
            role=_text(item.get("role")) or "UNKNOWN",
            affiliation=_contact_free(item.get("affiliation"), "overallOfficials", warnings),
        )
        for item in _objects(module.get("overallOfficials"))
        if (name := _person_name(item.get("name"), "overallOfficials", warnings))
    )
    sites = tuple(_site(item, warnings) for item in _objects(module.get("locations")))
    return officials, sites


def _site(location: Mapping[str, Any], warnings: list[str]) -> Site:
    facility = _contact_free(location.get("facility"), "locations", warnings)
    investigators = tuple(
        PersonMention(name=name, role=role, affiliation=facility)
        for contact in _objects(location.get("contacts"))
        if (role := _text(contact.get("role"))) in _SITE_INVESTIGATOR_ROLES
        and (name := _person_name(contact.get("name"), "locations.contacts", warnings))
    )
    return Site(
        facility=facility,
        city=_text(location.get("city")),
        state=_text(location.get("state")),
        zip=_text(location.get("zip")),
        country=_text(location.get("country")),
        status=_text(location.get("status")),
        geo=_geo(location.get("geoPoint"), warnings),
        investigators=investigators,
    )


def _geo(value: Any, warnings: list[str]) -> GeoPoint | None:
    if not isinstance(value, dict):
        return None
    lat, lon = value.get("lat"), value.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool):
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return GeoPoint(float(lat), float(lon))
        warnings.append(f"locations.geoPoint: ({lat}, {lon}) is no WGS 84 position, left out")
    return None


def _references(
    module: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[Reference, ...], tuple[Document, ...]]:
    """Literature references, and the links (``seeAlsoLinks``, ``availIpds``) as documents."""
    references: list[Reference] = []
    for item in _objects(module.get("references")):
        pmid, citation = _text(item.get("pmid")), _prose(item.get("citation"), "references", warnings)
        if pmid and not pubmed_id(pmid):  # it becomes the publication's PubMed IRI
            warnings.append(f"references: PMID {quoted(pmid)} is no PubMed id, left out")
            pmid = None
        if pmid or citation:
            references.append(Reference(pmid=pmid, citation=citation, type=_text(item.get("type")), doi=_doi(citation)))
    links = [
        Document(url=url, label=_text(item.get("label")), type="LINK")
        for item in _objects(module.get("seeAlsoLinks"))
        if (url := _web_address(item.get("url"), "seeAlsoLinks", warnings))
    ]
    links.extend(
        Document(url=url, label=_text(item.get("type")), type="AVAILABLE_IPD")
        for item in _objects(module.get("availIpds"))
        if (url := _web_address(item.get("url"), "availIpds", warnings))
    )
    return tuple(references), tuple(links)


def _web_address(value: Any, where: str, warnings: list[str]) -> str | None:
    """A link's address, which becomes the document's IRI: an address that is none is left out."""
    text = _text(value)
    url = web_address(text)
    if text and url is None:
        warnings.append(f"{where}: {quoted(text)} is no web address, left out")
    return url


def _doi(citation: str | None) -> str | None:
    if not citation or "10." not in citation:
        return None
    match = _DOI.search(citation)
    return match.group(1).rstrip(_DOI_TRAILING) if match else None


def _large_documents(study: Mapping[str, Any], nct: str, warnings: list[str]) -> tuple[Document, ...]:
    """Protocols, SAPs and consent forms uploaded to the registry, with their CDN address."""
    docs = _objects(_module(_module(study, "documentSection"), "largeDocumentModule").get("largeDocs"))
    return tuple(
        Document(
            url=url,
            label=_text(doc.get("label")),
            type=_text(doc.get("typeAbbrev")),
            date=iso_date(_text(doc.get("date"))),
        )
        for doc in docs
        if (filename := _text(doc.get("filename")))
        and (url := _web_address(_LARGE_DOCS_URL.format(nct[-2:], nct, filename), "largeDocs", warnings))
    )


def _mesh(value: Any) -> tuple[MeshTerm, ...]:
    """MeSH headings as given (``D000013166``); ids of browse leaves (``M...``) are no MeSH ids."""
    found: list[MeshTerm] = []
    for item in _objects(value):
        term = _text(item.get("term"))
        if term:
            found.append(MeshTerm(term, mesh_id(_text(item.get("id")))))
    return tuple(found)


# --- keeping contact data out ----------------------------------------------------------

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE_CORE = r"\+?\(?\d(?:[ .\-/()]{0,3}\d){6,}\)?"
_PHONE = re.compile(r"(?<![\w.+\-])" + _PHONE_CORE + r"(?!\w)")
_CUED_PHONE = re.compile(
    r"(\b(?:tel(?:ephone)?|phone|fax|mobile|cell|call|hotline|contact\w*)\b[^\d\n]{0,25}?)(" + _PHONE_CORE + r")(?!\w)",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"^(?:19|20)\d\d(?:\s*[-/.]\s*(?:19|20)?\d{1,2}){0,2}$|^(?:19|20)\d\d\s*[-/]\s*(?:19|20)\d\d$")
_MAYBE_CONTACT = re.compile(r"[\d@]")
_SEVEN_DIGITS = re.compile(r"\d(?:[ .\-/()]{0,3}\d){6}")  # cheap pre-check before the cued-phone scan
_CONTACT_LABEL = re.compile(
    r"\b(?:tel(?:ephone)?|phone|ph|fax|mobile|cell|e-?mail|call)\b\.?\s*:?\s*(?=[,;/|)\]]|$)", re.IGNORECASE
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_SPACES = re.compile(r"\s+")
_TIDY_EDGES = " ,;:-/|"
_EMAIL_MARK = "[email removed]"
_PHONE_MARK = "[phone removed]"


def _is_phone(text: str) -> bool:
    """Seven or more digits with a ``+`` or separators (not a bare id number), and no date."""
    digits = sum(char.isdigit() for char in text)
    if not 7 <= digits <= 16 or _DATE_LIKE.match(text.strip("()")):
        return False
    return text.startswith("+") or digits < len(text.strip("()"))


def _drop_phone(match: re.Match[str]) -> str:
    return " " if _is_phone(match.group(0)) else match.group(0)


def _mark_phone(match: re.Match[str]) -> str:
    return match.group(1) + _PHONE_MARK if _is_phone(match.group(2)) else match.group(0)


def _contact_free(value: Any, where: str, warnings: list[str]) -> str | None:
    """A name, title, affiliation or facility with any e-mail address and phone number removed."""
    text = _text(value)
    if text is None or not _MAYBE_CONTACT.search(text):
        return text
    cleaned = _PHONE.sub(_drop_phone, _EMAIL.sub(" ", text))
    if cleaned == text:
        return text
    warnings.append(f"{where}: contact details removed")
    cleaned = _CONTACT_LABEL.sub(" ", _EMPTY_BRACKETS.sub(" ", cleaned))
    cleaned = _SPACES.sub(" ", cleaned).strip(_TIDY_EDGES)
    if cleaned.startswith("(") and cleaned.endswith(")") and cleaned.count("(") == 1:
        cleaned = cleaned[1:-1].strip()
    return cleaned if any(char.isalpha() for char in cleaned) else None


def _person_name(value: Any, where: str, warnings: list[str]) -> str | None:
    """A person's name; a "name" that holds a phone number or address is a call centre: left out."""
    text = _text(value)
    if text is None or not _MAYBE_CONTACT.search(text):
        return text
    if _EMAIL.search(text) or any(_is_phone(match.group(0)) for match in _PHONE.finditer(text)):
        warnings.append(f"{where}: a name holding contact details left out")
        return None
    return text


def _prose(value: Any, where: str, warnings: list[str]) -> str | None:
    """Free text with e-mail addresses, and phone numbers introduced as such, marked removed."""
    text = _text(value)
    if text is None:
        return None
    cleaned = _EMAIL.sub(_EMAIL_MARK, text) if "@" in text else text
    if _SEVEN_DIGITS.search(cleaned):
        cleaned = _CUED_PHONE.sub(_mark_phone, cleaned)
    if cleaned != text:
        warnings.append(f"{where}: contact details removed")
    return cleaned


# ---------------------------------------------------------------------------------------

register(
    SourceFormat(
        name=FORMAT,
        description="ClinicalTrials.gov API v2 JSON: one study, an array, an /api/v2/studies page, or JSON Lines",
        sniff=sniff_ctgov_json,
        read=read_ctgov_json,
        parse=parse_ctgov_json,
    )
)
register(
    SourceFormat(
        name=ZIP_FORMAT,
        description="Zip of ClinicalTrials.gov API v2 JSON files (ctg-studies.json.zip)",
        sniff=sniff_ctgov_json_zip,
        read=read_ctgov_json_zip,
        parse=parse_ctgov_json,
    )
)
