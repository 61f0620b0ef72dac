"""The contract between input formats and the build pipeline.

A format is a pair of functions, as networkx pairs ``read_*``/``parse_*``:

* ``read(path)`` streams :class:`RawRecord` s out of a file (cheap: bytes or str payloads,
  so they cross a process pool without pickling large objects), and
* ``parse(raw)`` is pure: one payload in, one :class:`Parsed` trial out, or a
  :class:`~kg.errors.RecordError`.

Reading happens in the parent process (it is I/O bound and must keep file order);
parsing and emitting run in worker processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import RecordError
from kg.model import Trial


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read from a source, before parsing.

    ``source`` is the file (or ``file!member`` inside an archive); ``record`` says where in
    it (an NCT id when the reader can see it cheaply, else a pointer such as ``line 12``).
    """

    format: str
    source: str
    record: str
    payload: Any


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed record plus warnings about what the source lacked (missing optional sections).

    ``record`` is any record type that has an emitter registered in :mod:`kg.rdf.records`
    (a Trial, a Publication, ...).
    """

    record: Any
    warnings: tuple[str, ...] = field(default=())

    @property
    def trial(self) -> Trial:
        """The record, for parsers of trial formats."""
        if not isinstance(self.record, Trial):
            raise TypeError(f"parsed record is a {type(self.record).__name__}, not a Trial")
        return self.record


# A reader yields a RecordError (instead of raising) for a piece it cannot split off
# cleanly (a truncated JSON line, a zip member that is no study) and goes on; it raises
# SourceError only when the whole file is unreadable.
Reader = Callable[[Path], Iterator[RawRecord | RecordError]]
Parser = Callable[[RawRecord], Parsed]
Sniffer = Callable[[Path, bytes], bool]


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """A registered input format: its name, how to recognise it, and its read/parse pair."""

    name: str
    description: str
    sniff: Sniffer
    read: Reader
    parse: Parser
