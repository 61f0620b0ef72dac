"""Which emitter turns which record type into quads: the seam new record kinds plug into.

Each record kind (Trial, Publication, ...) registers one function that returns an
:class:`Emitted`: the record's named graph, its main subject, its id, the date of this
version (to keep the newest of two copies) and its N-Quads lines. The build pipeline
only ever calls :func:`emit_record`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kg.errors import KGError


@dataclass(frozen=True, slots=True)
class Emitted:
    graph: str
    subject: str
    record_id: str
    last_changed: str
    lines: list[str]


Emitter = Callable[[Any], Emitted]
_EMITTERS: dict[type, Emitter] = {}


def register_emitter(record_type: type, emitter: Emitter) -> None:
    _EMITTERS[record_type] = emitter


def emit_record(record: Any) -> Emitted:
    """The quads of any registered record type."""
    emitter = _EMITTERS.get(type(record))
    if emitter is None:
        _load_builtins()
        emitter = _EMITTERS.get(type(record))
    if emitter is None:
        raise KGError(f"no emitter for {type(record).__name__} records")
    return emitter(record)


def _load_builtins() -> None:
    import kg.rdf.emit  # noqa: F401  (registers Trial)
