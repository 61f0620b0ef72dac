"""RDF serialisations of a whole store, deterministic so exports diff cleanly.

N-Quads and N-Triples are sorted line by line (byte order), which makes two builds of
the same input compare with ``diff``. Turtle and JSON-LD are written for people and
linked-data tools from the same sorted triples (:mod:`kg.export.turtle`: subjects sorted,
predicates grouped; :mod:`kg.store.jsonld`: compact, under the published context, with the
ontology's schema.org/FOAF/BIBO alignment types); TriG comes from Oxigraph with our prefixes.

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
from collections.abc import Callable, Iterator
from typing import IO, Any

from kg.errors import KGError
from kg.store.base import Store

SORT_IN_MEMORY_BYTES = 256 << 20


def export_rdf(store: Store, out: IO[bytes], format_name: str, *, progress: Callable[[int], None] | None = None,
               on_total: Callable[[int], None] | None = None) -> None:
    """Write the store in ``turtle``, ``trig``, ``ntriples``, ``nquads`` or ``jsonld``.

    ``on_total`` hears how many triples (or quads) will be written once the sort has counted
    them, and ``progress`` how many more were written: a whole-registry export takes minutes,
    and a progress bar with a total is what tells a person it is moving.
    """
    if format_name in {"nquads", "ntriples"}:
        data = sorted_lines(store, format_name)
        count = data.count(b"\n")
        if on_total is not None:
            on_total(count)
        out.write(data)
        if progress is not None:
            progress(count)
    elif format_name == "trig":
        store.dump(out, format_name, prefixes=True)
    elif format_name in {"turtle", "jsonld"}:
        from kg.export.turtle import write_turtle
        from kg.store.jsonld import write_jsonld

        writer = write_turtle if format_name == "turtle" else write_jsonld
        writer(_counted(sorted_lines(store, "ntriples"), progress, on_total), out)
    else:
        raise KGError(f"unknown export format {format_name!r}")


def _counted(data: bytes, progress: Callable[[int], None] | None,
             on_total: Callable[[int], None] | None, batch: int = 10_000) -> Iterator[Any]:
    """Triples parsed from sorted N-Triples, reporting the total and every ``batch`` of them."""
    from kg.store.triples import parse_ntriples

    if on_total is not None:
        on_total(data.count(b"\n"))
    done = 0
    for done, triple in enumerate(parse_ntriples(data), start=1):
        yield triple
        if progress is not None and done % batch == 0:
            progress(batch)
    if progress is not None and done % batch:
        progress(done % batch)


def sorted_lines(store: Store, format_name: str) -> bytes:
    """The store's N-Quads or N-Triples (the union), distinct lines in byte order."""
    buffer = io.BytesIO()
    store.dump(buffer, format_name)
    data = buffer.getvalue()
    if len(data) <= SORT_IN_MEMORY_BYTES:
        lines = sorted(set(data.splitlines()))
        return b"\n".join(lines) + (b"\n" if lines else b"")
    # Large stores: the system sort spills to disk (LC_ALL=C gives byte order).
    result = subprocess.run(["sort", "-u"], input=data, stdout=subprocess.PIPE, check=True,
                            env={"LC_ALL": "C"})
    return result.stdout


def sorted_triples(store: Store) -> Iterator[Any]:
    """The union's distinct triples (Term triples) in N-Triples byte order: by subject first."""
    return _counted(sorted_lines(store, "ntriples"), None, None)
