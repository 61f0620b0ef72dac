"""Turtle for people: subjects sorted, predicates grouped, prefixes, no escapes in names.

Why our own writer: Oxigraph's streaming serialiser writes subjects in storage order and
escapes the ``/`` of a local name (``res:role\\/NCT01374854\\/...``), which Turtle allows
but nobody reads comfortably. Here every subject is one block (``a`` first, then predicates
in IRI order, each with its objects), subjects come in N-Triples byte order (so two exports
diff cleanly), and a name is written with a prefix only when its local part needs no escape.
Resource IRIs (``https://w3id.org/trialkg/resource/person/jianming-tan``) are written relative
to ``@base`` (``<person/jianming-tan>``), which keeps their ``/`` as it is.

Example:
    >>> import io
    >>> t = (Term("uri", "https://clinicaltrials.gov/study/NCT01374854"),
    ...      Term("uri", "https://w3id.org/trialkg/ontology#hasArm"),
    ...      Term("uri", "https://w3id.org/trialkg/resource/arm/NCT01374854/a"))
    >>> out = io.BytesIO(); write_turtle([t], out); out.getvalue().decode().splitlines()[-2:]
    ['ct:NCT01374854', '    tkg:hasArm <arm/NCT01374854/a> .']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import IO

from kg.rdf.namespaces import PREFIXES, RDF, RESOURCE
from kg.rdf.terms import iri as encoded_iri
from kg.rdf.terms import literal
from kg.store.results import Term

_XSD = "http://www.w3.org/2001/XMLSchema#"
_LOCAL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
# A relative reference resolves back to the same IRI when it has no scheme-like first segment,
# no dot segments, and none of the characters that start a query, fragment or path root.
_RELATIVE = re.compile(r"^[A-Za-z0-9_~!$&'()*+,;=@%-][A-Za-z0-9_~!$&'()*+,;=@%./-]*$")
_BARE = {
    _XSD + "integer": re.compile(r"^[+-]?[0-9]+$"),
    _XSD + "decimal": re.compile(r"^[+-]?[0-9]*\.[0-9]+$"),
    _XSD + "boolean": re.compile(r"^(true|false)$"),
}
_WIDTH = 110


class _Names:
    """IRIs as prefixed names, base-relative references, or full IRIs."""

    def __init__(self) -> None:
        self.prefixes = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))

    def iri(self, iri: str) -> str:
        for name, namespace in self.prefixes:
            if iri.startswith(namespace) and namespace != RESOURCE and _LOCAL.match(iri[len(namespace):]):
                return f"{name}:{iri[len(namespace):]}"
        if iri.startswith(RESOURCE):
            relative = iri[len(RESOURCE):]
            segments = relative.split("/")
            if (_RELATIVE.match(relative) and ":" not in segments[0] and "." not in segments
                    and ".." not in segments and ">" not in relative):
                return f"<{relative}>"
        return encoded_iri(iri)

    def term(self, term: Term) -> str:
        if term.kind == "uri":
            return self.iri(term.value)
        if term.kind == "bnode":
            return "_:" + term.value
        if term.lang:
            return f"{literal(term.value)}@{term.lang}"
        datatype = term.datatype or _XSD + "string"
        if datatype in _BARE and _BARE[datatype].match(term.value):
            return term.value
        quoted = literal(term.value)
        return quoted if datatype == _XSD + "string" else f"{quoted}^^{self.iri(datatype)}"


def write_turtle(triples: Iterable[tuple[Term, Term, Term]], out: IO[bytes]) -> None:
    """Write triples, grouped by subject in the order given, as readable Turtle."""
    names = _Names()
    header = [f"@base <{RESOURCE}> ."] + [f"@prefix {name}: <{ns}> ." for name, ns in sorted(PREFIXES.items())
                                          if ns != RESOURCE]
    out.write(("\n".join(header) + "\n").encode("utf-8"))
    rdf_type = RDF + "type"
    for subject, group in itertools.groupby(triples, key=lambda triple: triple[0]):
        by_predicate: dict[str, list[str]] = {}
        for _, predicate_term, obj in group:
            by_predicate.setdefault(predicate_term.value, []).append(names.term(obj))
        lines = [names.term(subject)]
        order = sorted(by_predicate, key=lambda p: (p != rdf_type, p))
        for index, predicate in enumerate(order):
            verb = "a" if predicate == rdf_type else names.iri(predicate)
            objects = by_predicate[predicate]
            end = " ." if index == len(order) - 1 else " ;"
            joined = " , ".join(objects)
            if len(objects) == 1 or len(joined) + len(verb) + 5 <= _WIDTH:
                lines.append(f"    {verb} {joined}{end}")
            else:
                lines.append(f"    {verb}")
                lines += [f"        {text}{' ,' if i < len(objects) - 1 else end}" for i, text in enumerate(objects)]
        out.write(("\n" + "\n".join(lines) + "\n").encode("utf-8"))
