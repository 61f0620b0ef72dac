"""A JSON array reader that survives damaged elements, with limits checked before memory is spent.

Why not ``ijson``: one syntax error, one byte that is no UTF-8 or one 400-digit number
inside a 100-study array stopped ``ijson`` for good (the 89 studies after it were lost),
and a 216 KB element nested 100,000 levels deep made it grow memory with the square of the
depth (22.7 GB). This reader cuts the array into elements at the byte level, tracking only
string/escape state and bracket depth, and hands each element's bytes to ``orjson``:

* a damaged element costs that element: the error names its index (and NCT id when one can
  be read in it) and reading goes on at the next element;
* when the damage hides where the element ends (a missing bracket, an unescaped quote, a
  cut followed by the next study), the reader resynchronises on the *anchor*, the first key
  every element starts with (``{"protocolSection":`` for ClinicalTrials.gov; learned from
  the first good element when not given). A raw ``{"key":`` cannot occur inside a valid
  JSON string (its quote would be escaped), so it marks an element start;
* nesting depth, element size, string length and number length are checked while scanning,
  before the element is kept or parsed: a too-deep element is skipped with a depth counter,
  a too-large one is discarded as it streams by. Memory stays below one element limit plus
  one read chunk.

It reads an array (``[...]``) or the array of an API page (``{"studies": [...], ...}``).

Example:
    >>> import io
    >>> items = list(read_json_array(io.BytesIO(b'[{"a": 1}, {"a": 2 "b"}, {"a": 3}]'), "x.json"))
    >>> [item.value if isinstance(item, ArrayElement) else item.record for item in items]
    [{'a': 1}, '[1]', {'a': 3}]
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

import orjson

from kg.errors import RecordError, SourceError

__all__ = ["CTGOV_ANCHOR", "ArrayElement", "Limits", "read_json_array"]

CTGOV_ANCHOR = "protocolSection"
_CHUNK = 1 << 20
_HEAD = 65536
_LOOKAHEAD = 256  # bytes needed after a brace to tell whether the anchor starts there
_BLOCK = 4096  # bytes counted at once while discarding a too-deep or too-large element
_QUOTE, _BACKSLASH = 0x22, 0x5C
_LBRACE, _RBRACE, _LBRACKET, _RBRACKET, _COMMA = 0x7B, 0x7D, 0x5B, 0x5D, 0x2C
_IN_STRING = re.compile(rb'["\\]')
_NON_SPACE = re.compile(rb"[^ \t\r\n]")
_SCALAR = re.compile(rb'[^ \t\r\n,\]\[{}"]+')
_NCT = re.compile(rb'"nctId"\s*:\s*"(NCT\d{8})"')
_SCALAR_VALUE = rb'(?:"(?:[^"\\]|\\.)*"|[-+0-9.eE]+|true|false|null)'


@dataclass(frozen=True, slots=True)
class Limits:
    """What no real element exceeds (a study with results is a few MB, a few levels deep)."""

    depth: int = 64
    element: int = 64 << 20
    string: int = 16 << 20
    number: int = 100


class ArrayElement(NamedTuple):
    """One well-formed element: its position in the array, its exact bytes and its value."""

    position: int
    data: bytes
    value: Any


# A scanning step yields elements and errors, then says what follows: True a comma, False an
# element start (after a resynchronisation), None the end of reading.
_Steps = Generator["ArrayElement | RecordError", None, "bool | None"]


def read_json_array(
    handle: IO[bytes] | io.BufferedIOBase,
    source: str,
    *,
    pointer: str = "[{}]",
    key: str | None = None,
    anchor: str | None = None,
    limits: Limits = Limits(),
) -> Iterator[ArrayElement | RecordError]:
    """Elements of the array a stream starts with (or of ``{"KEY": [...]}`` with ``key``).

    Raises SourceError when the stream does not start with the array; every problem after
    that is a RecordError naming the element (``pointer`` formats its index).
    """
    yield from _Scanner(handle, source, pointer, anchor, limits).run(key)


def _inner_pattern(limits: Limits) -> re.Pattern[bytes]:
    return re.compile(rb'["{}\[\]]|[-+0-9.eE]{%d,}' % (limits.number + 1))


def _run_pattern(limits: Limits) -> re.Pattern[bytes]:
    """Complete strings, numbers within the limit and other bytes that are no brackets.

    Matched in one call (possessive, so linear), this is where the scanner spends its time
    on real data; what it stops at (a bracket, a string that goes on past the buffer, a
    too-long number) is handled a token at a time.
    """
    number = rb"[-+0-9.eE]{1,%d}+(?![-+0-9.eE])" % limits.number
    return re.compile(rb'(?:"(?:[^"\\]++|\\.)*+"|[^"\[\]{}\-+0-9.eE]++|' + number + rb")++", re.DOTALL)


class _Scanner:
    """The byte-level state machine; positions are offsets into ``buf`` (trimmed as it goes)."""

    def __init__(self, handle: IO[bytes] | io.BufferedIOBase, source: str, pointer: str, anchor: str | None,
                 limits: Limits) -> None:
        self.handle = handle
        self.source = source
        self.pointer = pointer
        self.limits = limits
        self.inner = _inner_pattern(limits)
        self.run_pattern = _run_pattern(limits)
        self.anchor: re.Pattern[bytes] | None = None
        self.anchor_key: re.Pattern[bytes] | None = None
        if anchor:
            self._set_anchor(anchor)
        self.buf = bytearray()
        self.pos = 0
        self.eof = False
        self.index = -1
        self.start = 0  # the current element's first byte
        self.skip: str | None = None  # why the current element is discarded (its bytes are not kept)
        self.nct: str | None = None
        self.slow_until = 0  # while discarding: scan bracket by bracket up to here
        self.string_start = 0

    def _set_anchor(self, key: str) -> None:
        quoted = re.escape(orjson.dumps(key))
        self.anchor = re.compile(rb"\{[ \t\r\n]*" + quoted + rb"[ \t\r\n]*:")
        self.anchor_key = re.compile(quoted + rb"[ \t\r\n]*:")

    # --- reading -----------------------------------------------------------------------

    def _more(self, in_element: bool) -> bool:
        """Drop what is no longer needed, read the next chunk; False at the end of the stream."""
        keep = self.start if in_element and self.skip is None else self.pos
        keep = max(0, min(keep, self.pos, len(self.buf)))
        if in_element and self.skip is None and len(self.buf) - self.start > self.limits.element:
            self._discard(f"element larger than {self.limits.element >> 20} MiB")
            keep = min(self.pos, len(self.buf))
        if in_element and self.skip is not None and self.nct is None and keep:
            self.nct = _nct(self.buf[max(self.start, 0) : keep])  # the id may come after the damage
        if keep:
            self.slow_until -= keep
            del self.buf[:keep]
            self.pos -= keep
            self.start -= keep
            self.string_start -= keep
        if self.eof:
            return False
        try:
            chunk = self.handle.read(_CHUNK)
        except (OSError, EOFError, ValueError) as error:
            raise _ReadFailed(error) from None
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _discard(self, reason: str) -> None:
        """From here on the current element is only scanned to its end, not kept."""
        if self.skip is None:
            self.skip = reason
            self.nct = _nct(self.buf[max(self.start, 0) : max(self.start, 0) + _HEAD])

    def _error(self, message: str, nct: str | None = None, index: int | None = None) -> RecordError:
        where = self.pointer.format(self.index if index is None else index)
        return RecordError(message, source=self.source, record=f"{where} {nct}" if nct else where)

    # --- the array's start ---------------------------------------------------------------

    def _open(self, key: str | None) -> None:
        while len(self.buf) < _HEAD and self._more(False):
            pass
        offset = len(codecs.BOM_UTF8) if self.buf.startswith(codecs.BOM_UTF8) else 0
        space = _NON_SPACE.search(self.buf, offset)
        offset = space.start() if space else len(self.buf)
        if key is None:
            if self.buf[offset : offset + 1] != b"[":
                raise SourceError("not a JSON array: it does not start with '['", source=self.source)
            self.pos = offset + 1
            return
        name = re.escape(orjson.dumps(key))
        pair = _SCALAR_VALUE + rb"\s*:\s*" + _SCALAR_VALUE + rb"\s*,\s*"
        page = re.compile(rb"\{\s*(?:" + pair + rb")*" + name + rb"\s*:\s*\[")
        match = page.match(self.buf, offset)
        if match is None:
            raise SourceError(f"no {key!r} array at the start of the object", source=self.source)
        self.pos = match.end()

    # --- the scan ------------------------------------------------------------------------

    def run(self, key: str | None) -> Iterator[ArrayElement | RecordError]:
        self.key = key
        try:
            self._open(key)
            yield from self._between(expect_comma=False)
        except _ReadFailed as failed:
            yield self._error(f"reading stopped: {failed.reason}", index=max(self.index, 0))

    def _between(self, expect_comma: bool) -> Iterator[ArrayElement | RecordError]:
        """Between elements: a comma, the closing bracket, or the next element's first byte."""
        while True:
            match = _NON_SPACE.search(self.buf, self.pos)
            if match is None:
                self.pos = len(self.buf)
                if self._more(False):
                    continue
                yield self._error(f"the array is not closed: the stream ends after {self.index + 1} elements "
                                  "(truncated?)", index=self.index + 1)
                return
            at = match.start()
            byte = self.buf[at]
            if byte == _RBRACKET:
                if not (yield from self._after_close(at + 1)):
                    return
                expect_comma = False
                continue
            if byte == _COMMA and expect_comma:
                self.pos, expect_comma = at + 1, False
                continue
            if byte in (_COMMA, _RBRACE) or (expect_comma and byte not in (_LBRACE, _LBRACKET)):
                where = "after this element" if self.index >= 0 else "before the first element"
                yield self._error(f"unexpected {chr(byte)!r} {where}", index=max(self.index, 0))
                if not (yield from self._resync(at + 1)):
                    return
                expect_comma = False
                continue
            self.index += 1
            self.start, self.pos, self.skip, self.nct = at, at, None, None
            resumed = yield from self._element()
            if resumed is None:
                return
            expect_comma = resumed

    def _after_close(self, at: int) -> Generator[RecordError, None, bool]:
        """After the closing bracket: the end, or damage that closed the array early (True: read on).

        A plain array may be followed by whitespace only; a page by its other keys, but not by
        another element (an anchor). Either way the rest is scanned, not kept.
        """
        self.pos = at
        while True:
            if self.key is None:
                match = _NON_SPACE.search(self.buf, self.pos)
            else:
                match = self.anchor.search(self.buf, self.pos) if self.anchor is not None else None
            if match is not None:
                break
            self.pos = max(self.pos, len(self.buf) - _LOOKAHEAD)
            if not self._more(False):
                return False
        yield self._error(f"the array closes early: more follows its closing bracket at byte {at - 1}",
                          index=self.index + 1)
        return (yield from self._resync(match.start()))

    def _element(self) -> _Steps:
        """Scan one element from ``self.start``; returns whether a comma is expected next, None to stop."""
        if self.buf[self.start] not in (_LBRACE, _LBRACKET, _QUOTE):
            return (yield from self._scalar())
        depth, stack, in_string = 0, bytearray(), False
        self.slow_until = 0
        limits, inner = self.limits, self.inner
        while True:
            buf = self.buf
            if self.pos + _LOOKAHEAD > len(buf) and not self.eof:
                self._more(True)
                continue
            if in_string:
                match = _IN_STRING.search(buf, self.pos)
                if match is None:
                    if self.eof:
                        return (yield from self._truncated())
                    if len(buf) - self.string_start > limits.string:  # before the string's end is read
                        self._discard(f"a string longer than {limits.string >> 20} MiB")
                    self.pos = len(buf)
                    continue
                at = match.start()
                if buf[at] == _BACKSLASH:
                    self.pos = at + 2
                    continue
                if at - self.string_start > limits.string:
                    self._discard(f"a string longer than {limits.string >> 20} MiB")
                brace = _brace_before(buf, at)
                if brace >= 0 and self.anchor_key is not None and self.anchor_key.match(buf, at):
                    return (yield from self._cut(brace, "a string is not closed before the next element"))
                in_string, self.pos = False, at + 1
                if depth == 0:
                    return (yield from self._complete())
                continue
            if depth > 0:  # whole strings and plain bytes at C speed, up to the next bracket
                run = self.run_pattern.match(buf, self.pos, len(buf) if self.eof else len(buf) - _LOOKAHEAD)
                if run is not None and run.end() > self.pos:
                    hidden = self.anchor.search(buf, self.pos, run.end()) if self.anchor is not None else None
                    if hidden is not None:  # a raw anchor inside "strings": an unescaped or missing quote
                        return (yield from self._cut(hidden.start(), "a string is not closed before the next element"))
                    self.pos = run.end()
                    continue
            if self.skip is not None and depth > 0 and self.pos >= self.slow_until:  # discarding: count in bulk
                quote = buf.find(b'"', self.pos, self.pos + _BLOCK)
                end = quote if quote >= 0 else min(len(buf), self.pos + _BLOCK)
                closes = buf.count(b"]", self.pos, end) + buf.count(b"}", self.pos, end)
                if depth - closes > 0 and end > self.pos:
                    reach = min(len(buf), end + _LOOKAHEAD)
                    cut = self.anchor.search(buf, self.pos, reach) if self.anchor is not None else None
                    if cut is not None and cut.start() < end:
                        return (yield from self._cut(cut.start(), self.skip))
                    depth += buf.count(b"[", self.pos, end) + buf.count(b"{", self.pos, end) - closes
                    self.pos = end
                    continue
                self.slow_until = end  # the element may end in this block: bracket by bracket
            match = inner.search(buf, self.pos)
            if match is None:
                if self.eof:
                    return (yield from self._truncated())
                self.pos = max(self.pos, len(buf) - limits.number)  # a long number may go on in the next chunk
                self._more(True)
                continue
            at, byte = match.start(), buf[match.start()]
            if byte == _QUOTE:
                in_string, self.string_start, self.pos = True, at + 1, at + 1
            elif byte in (_LBRACE, _LBRACKET):
                if byte == _LBRACE and depth >= 1 and self.anchor is not None and self.anchor.match(buf, at):
                    return (yield from self._cut(at, "the element is not closed before the next one starts"))
                depth += 1
                if depth > limits.depth:
                    self._discard(f"nested deeper than {limits.depth} levels")
                elif self.skip is None:
                    stack.append(byte)
                self.pos = at + 1
            elif byte in (_RBRACE, _RBRACKET):
                if self.skip is None:
                    opener = stack.pop()
                    if (opener == _LBRACE) != (byte == _RBRACE):
                        yield self._error(f"mismatched brackets ({chr(opener)} closed by {chr(byte)})",
                                          self.nct or _nct(self.buf[max(self.start, 0) : at]))
                        return (yield from self._resync_after(at + 1))
                depth -= 1
                self.pos = at + 1
                if depth == 0:
                    return (yield from self._complete())
            else:
                self._discard(f"a number longer than {limits.number} characters")
                self.pos = match.end()

    def _scalar(self) -> _Steps:
        """A number or literal element: up to the next delimiter."""
        while True:
            match = _SCALAR.match(self.buf, self.start)
            end = match.end() if match else self.start
            if end - self.start > max(self.limits.number, 8):
                yield self._error(f"a number longer than {self.limits.number} characters")
                return (yield from self._resync_after(end))
            if end < len(self.buf) or self.eof:
                break
            self.pos = end
            if not self._more(True):
                break
        if end == self.start:
            yield self._error(f"unexpected {bytes(self.buf[self.start:self.start + 1])!r} in the array")
            return (yield from self._resync_after(self.start + 1))
        self.pos = end
        return (yield from self._complete())

    def _complete(self) -> _Steps:
        """The element ended at ``self.pos``: parse it, or report it and resynchronise if needed."""
        if self.skip is not None:
            yield self._error(self.skip, self.nct or _nct(self.buf[max(self.start, 0) : self.pos]))
            return True
        data = bytes(self.buf[self.start : self.pos])
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            inner = self.anchor.search(data, 1) if self.anchor is not None else None
            part = data[: inner.start()] if inner else data
            yield self._error(_json_problem(error, part), _nct(part))
            if inner is not None:  # the damage swallowed the start of the next element
                self.pos = self.start + inner.start()
                return False
            return True
        if self.anchor is None and isinstance(value, dict) and value:
            self._set_anchor(next(iter(value)))
        yield ArrayElement(self.index, data, value)
        return True

    def _cut(self, at: int, message: str) -> _Steps:
        """The current element breaks off at ``at``, where the next element starts."""
        yield self._error(message, self.nct or _nct(self.buf[max(self.start, 0) : at]))
        self.pos = at
        return False

    def _truncated(self) -> _Steps:
        """The stream ends inside an element: report it, unless it hides the start of another."""
        if self.skip is None and self.anchor is not None:
            inner = self.anchor.search(self.buf, self.start + 1)
            if inner is not None:
                return (yield from self._cut(inner.start(), "the element is not closed before the next one starts"))
        yield self._error(self.skip or "the stream ends inside this element (truncated)",
                          self.nct or _nct(self.buf[max(self.start, 0) : max(self.start, 0) + _HEAD]))
        return None

    def _resync_after(self, at: int) -> _Steps:
        found = yield from self._resync(at)
        return False if found else None

    def _resync(self, at: int) -> Generator[RecordError, None, bool]:
        """Move to the next anchor (an element start) after ``at``; False when there is none."""
        self.pos = at
        while True:
            if self.anchor is None:
                yield self._error("cannot find the next element after this damage: reading stopped",
                                  index=self.index + 1)
                return False
            match = self.anchor.search(self.buf, self.pos)
            if match is not None:
                self.pos = match.start()
                return True
            self.pos = max(self.pos, len(self.buf) - _LOOKAHEAD)
            if not self._more(False):
                return False


class _ReadFailed(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        text = str(error).strip().splitlines()
        self.reason = text[0] if text else type(error).__name__


def _brace_before(buf: bytearray, quote: int) -> int:
    """Offset of a ``{`` just before a quote (whitespace between), or -1."""
    at = quote - 1
    while at >= 0 and at > quote - 64 and buf[at] in b" \t\r\n":
        at -= 1
    return at if at >= 0 and buf[at] == _LBRACE else -1


def _nct(data: bytes | bytearray) -> str | None:
    match = _NCT.search(data) if data else None
    return match.group(1).decode("ascii") if match else None


def _json_problem(error: orjson.JSONDecodeError, data: bytes) -> str:
    """What is wrong with an element orjson refused, saying where a byte is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not UTF-8 text (byte 0x{data[bad.start]:02X} at element offset {bad.start})"
    message = str(error).splitlines()[0] if str(error).strip() else "invalid JSON"
    return f"invalid JSON ({message[:200]})"
