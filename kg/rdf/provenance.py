"""PROV-O provenance: which file, format, extractor and time each record graph came from.

A record's own provenance lives inside its record graph (so replacing the record
replaces its provenance in the same step); the shared metadata graph describes the
source files and build activities those record graphs point to.

The extraction time is ``$SOURCE_DATE_EPOCH`` when set (the reproducible-builds
convention), so two builds of the same input can be byte-identical.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kg.rdf import iris
from kg.rdf.namespaces import (
    DCT_FORMAT,
    LABEL,
    META_GRAPH,
    PROV_ACTIVITY,
    PROV_ASSOCIATED,
    PROV_DERIVED_FROM,
    PROV_ENTITY,
    PROV_GENERATED_AT,
    PROV_GENERATED_BY,
    PROV_STARTED,
    PROV_USED,
    TKG,
    A,
)
from kg.rdf.terms import XSD_DATETIME, date_literal, iri, literal, typed
from kg.version import __version__

SOFTWARE = "https://w3id.org/trialkg/software/" + __version__


def extraction_time() -> str:
    """Now (UTC, ISO 8601), or ``$SOURCE_DATE_EPOCH`` for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every record of one build shares: the activity IRI and its time."""

    activity: str
    time: str

    @classmethod
    def start(cls) -> BuildContext:
        time = extraction_time()
        return cls(activity=iris.resource("build", time), time=time)

    def activity_quads(self) -> list[str]:
        g = iri(META_GRAPH)
        a = iri(self.activity)
        return [
            f"{a} {A} {PROV_ACTIVITY} {g} .\n",
            f"{a} {A} {TKG.Extraction} {g} .\n",
            f"{a} {PROV_STARTED} {typed(self.time, XSD_DATETIME)} {g} .\n",
            f"{a} {PROV_ASSOCIATED} {iri(SOFTWARE)} {g} .\n",
            f"{a} {TKG.extractorVersion} {literal(__version__)} {g} .\n",
        ]


def source_file_iri(sha256: str) -> str:
    return iris.resource("source-file", sha256)


def source_file_quads(path: Path, sha256: str, format_name: str, context: BuildContext) -> list[str]:
    """Metadata-graph statements about one input file."""
    g = iri(META_GRAPH)
    f = iri(source_file_iri(sha256))
    return [
        f"{f} {A} {PROV_ENTITY} {g} .\n",
        f"{f} {A} {TKG.SourceFile} {g} .\n",
        f"{f} {TKG.fileName} {literal(path.name)} {g} .\n",
        f"{f} {LABEL} {literal(path.name)} {g} .\n",
        f"{f} {TKG.sha256} {literal(sha256)} {g} .\n",
        f"{f} {TKG.sourceFormat} {literal(format_name)} {g} .\n",
        f"{f} {DCT_FORMAT} {literal(format_name)} {g} .\n",
        f"{iri(context.activity)} {PROV_USED} {f} {g} .\n",
    ]


def record_quads(graph: str, subject: str, record_id: str, format_name: str, source_iri: str,
                 last_changed: str, context: BuildContext) -> list[str]:
    """A record graph's statements about itself."""
    g = iri(graph)
    lines = [
        f"{g} {A} {TKG.SourceRecord} {g} .\n",
        f"{g} {A} {PROV_ENTITY} {g} .\n",
        f"{g} {TKG.describes} {iri(subject)} {g} .\n",
        f"{g} {TKG.recordId} {literal(record_id)} {g} .\n",
        f"{g} {TKG.sourceFormat} {literal(format_name)} {g} .\n",
        f"{g} {PROV_DERIVED_FROM} {iri(source_iri)} {g} .\n",
        f"{g} {PROV_GENERATED_BY} {iri(context.activity)} {g} .\n",
        f"{g} {PROV_GENERATED_AT} {typed(context.time, XSD_DATETIME)} {g} .\n",
    ]
    if last_changed:
        lines.append(f"{g} {TKG.lastChanged} {date_literal(last_changed)} {g} .\n")
    return lines
