"""One root exception with context, so the CLI can print one clear line for any user error.

Example:
    >>> str(RecordError("no NCT id", source="a.json", record="studies[3]"))
    'a.json [studies[3]]: no NCT id'
"""

from __future__ import annotations


class KGError(Exception):
    """Root of every error trialkg raises on purpose (bad input, bad usage, store trouble)."""

    def __init__(self, message: str, *, source: str | None = None, record: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.record = record

    def __str__(self) -> str:
        where = self.source or ""
        if self.record:
            where = f"{where} [{self.record}]" if where else f"[{self.record}]"
        return f"{where}: {self.message}" if where else self.message


class SourceError(KGError):
    """A whole input file cannot be read: unknown format, empty, binary, unreadable."""


class RecordError(KGError):
    """One record in an input cannot be turned into a trial; the others still build."""


class StoreError(KGError):
    """The store cannot be opened, written or queried."""


class QueryError(KGError):
    """A canned query is unknown, malformed, or given bad parameters."""
