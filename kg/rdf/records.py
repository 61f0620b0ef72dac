"""Which emitter turns which record type into quads: an explicit table, the seam new record kinds plug into.

Each record kind (Trial, Publication, ...) has one function that returns an
:class:`~kg.rdf.emitted.Emitted`: the record's named graph, its main subject, its id, the
date of this version (to keep the newest of two copies) and its N-Quads lines. The build
pipeline only ever calls :func:`emit_record`. A new kind is one more row in ``EMITTERS``:
no registration by import side effect, so what is emitted is readable here.

Example:
    >>> from kg.model import Trial
    >>> emit_record(Trial("NCT00000001")).graph
    'https://w3id.org/trialkg/graph/ctgov/NCT00000001'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kg.errors import KGError
from kg.model import Publication, Trial
from kg.rdf.emit import emitted_trial
from kg.rdf.emit_publication import emitted_publication
from kg.rdf.emitted import Emitted

__all__ = ["EMITTERS", "Emitted", "emit_record"]

EMITTERS: dict[type, Callable[[Any], Emitted]] = {
    Trial: emitted_trial,
    Publication: emitted_publication,
}


def emit_record(record: Any) -> Emitted:
    """The quads of a finished record of any kind in ``EMITTERS``."""
    emitter = EMITTERS.get(type(record))
    if emitter is None:
        raise KGError(f"no emitter for {type(record).__name__} records")
    return emitter(record)
