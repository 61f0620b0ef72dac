"""N-Triples text as engine-independent terms, for writers outside the store layer.

Why here: only the store layer touches pyoxigraph (an import-linter contract), while the
Turtle and JSON-LD writers in :mod:`kg.export` need triples parsed from the store's sorted
N-Triples. They get :class:`~kg.store.results.Term` triples, the same terms query results use.

Example:
    >>> [t.value for t in next(parse_ntriples(b'<urn:s> <urn:p> "o"@en .\\n'))]
    ['urn:s', 'urn:p', 'o']
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from kg.store.results import Term

Triple = tuple[Term, Term, Term]


def _term(node: object) -> Term:
    if isinstance(node, ox.NamedNode):
        return Term("uri", node.value)
    if isinstance(node, ox.BlankNode):
        return Term("bnode", node.value)
    if isinstance(node, ox.Literal):
        return Term("literal", node.value, None if node.language else node.datatype.value, node.language)
    raise ValueError(f"unexpected term in N-Triples: {node!r}")


def triple_terms(triple: ox.Triple) -> Triple:
    """One engine triple (a CONSTRUCT answer's) as terms."""
    return _term(triple.subject), _term(triple.predicate), _term(triple.object)


def parse_ntriples(data: bytes) -> Iterator[Triple]:
    """The triples of N-Triples text, in the order written."""
    for triple in ox.parse(data, ox.RdfFormat.N_TRIPLES):
        yield triple_terms(triple)
