"""RDF serialisations of a whole store, deterministic so exports diff cleanly.

N-Quads and N-Triples are sorted line by line (byte order), which makes two builds of
the same input compare with ``diff``; Turtle, TriG and JSON-LD come from Oxigraph's
streaming serialisers with our prefixes, keeping memory flat on large stores.

Example:
    >>> import io
    >>> from kg.store import open_store
    >>> store = open_store(None)
    >>> store.load_nquads(b'<urn:b> <urn:p> "2" <urn:g> .\\n<urn:a> <urn:p> "1" <urn:g> .\\n')
    >>> out = io.BytesIO(); export_rdf(store, out, "nquads"); out.getvalue().decode().splitlines()[0]
    '<urn:a> <urn:p> "1" <urn:g> .'
"""

from __future__ import annotations

import io
import subprocess
from typing import IO

from kg.errors import KGError
from kg.store.base import Store

SORT_IN_MEMORY_BYTES = 256 << 20


def export_rdf(store: Store, out: IO[bytes], format_name: str) -> None:
    """Write the store in ``turtle``, ``trig``, ``ntriples``, ``nquads`` or ``jsonld``."""
    if format_name in {"nquads", "ntriples"}:
        _sorted_lines(store, out, format_name)
    elif format_name in {"turtle", "trig"}:
        _prefixed(store, out, format_name)
    elif format_name == "jsonld":
        _jsonld(store, out)
    else:
        raise KGError(f"unknown export format {format_name!r}")


def _sorted_lines(store: Store, out: IO[bytes], format_name: str) -> None:
    buffer = io.BytesIO()
    store.dump(buffer, format_name)
    data = buffer.getvalue()
    if len(data) <= SORT_IN_MEMORY_BYTES:
        lines = sorted(set(data.splitlines()))
        out.write(b"\n".join(lines) + (b"\n" if lines else b""))
        return
    # Large stores: the system sort spills to disk (LC_ALL=C gives byte order).
    result = subprocess.run(["sort", "-u"], input=data, stdout=subprocess.PIPE, check=True,
                            env={"LC_ALL": "C"})
    out.write(result.stdout)


def _prefixed(store: Store, out: IO[bytes], format_name: str) -> None:
    store.dump(out, format_name, prefixes=True)


def _jsonld(store: Store, out: IO[bytes]) -> None:
    store.dump(out, "jsonld", prefixes=True)
