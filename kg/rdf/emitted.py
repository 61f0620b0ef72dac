"""What emitting one record gives the pipeline: its graph, subject, id, version date and lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Emitted:
    """One record as N-Quads lines, with what the pipeline needs to load or supersede it."""

    graph: str
    subject: str
    record_id: str
    last_changed: str
    lines: list[str]
