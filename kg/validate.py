"""SHACL validation of a store: is the graph what the parsers and the emitter promise?

The shapes (``ontology/shapes.ttl``) state what every correct trialkg graph satisfies:
required properties, cardinalities the IRIs pin down, datatypes, value classes, id
patterns. A violation therefore points at a bug in a parser, the emitter or the store,
and names the node where it shows.

pySHACL works on an in-memory rdflib graph and checks about a thousand nodes a second,
so a store is validated in batches of record graphs, each with the full description of
every node the batch mentions (a sponsor's names from every trial, the source file and
build a record came from): memory stays bounded, batches can run in parallel, and a
large store can be checked on a deterministic sample of its records instead of all.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> _ = build(["examples"], store)
    >>> report = validate(store)
    >>> report.conforms, report.graphs_checked  # two records, the resolution, author-link, sharing and VoID graphs
    (True, 6)
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kg.rdf.namespaces import GRAPH, META_GRAPH, PREFIXES, PROV
from kg.rdf.terms import iri
from kg.resources import data_dir
from kg.store.base import Store
from kg.store.oxigraph import OxigraphStore
from kg.store.results import Term

__all__ = ["ValidationReport", "ValidationResult", "compact", "shapes_path", "validate", "validate_triples"]

DEFAULT_BATCH_GRAPHS = 100
_VALUES_CHUNK = 500  # IRIs per VALUES block: keeps each query small on any endpoint
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_SH = "http://www.w3.org/ns/shacl#"
SHAPES = "https://w3id.org/trialkg/shapes#"
_PROV_USED = PROV + "used"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

Triple = tuple[Term, Term, Term]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One SHACL result: which node, which property, what is wrong, which shape says so."""

    focus: str  # an IRI; a literal (shapes on code values) in N-Triples form, quoted
    path: str | None
    message: str
    severity: str  # Violation | Warning | Info
    shape: str  # the node shape (with the property for property shapes): "TrialShape tkg:nctId"
    constraint: str  # the SHACL constraint component: MinCount, Datatype, Pattern, Class, ...
    value: str | None = None

    def __str__(self) -> str:
        where = compact(self.focus) + (f" {self.path}" if self.path else "")
        value = f" (value {self.value})" if self.value is not None and self.value != self.focus else ""
        return f"{self.severity.lower()}: {where}: {self.message}{value} [{self.shape}, {self.constraint}]"


@dataclass
class ValidationReport:
    """What ``kg validate`` found, and how much of the store it looked at."""

    results: list[ValidationResult] = field(default_factory=list)
    graphs_checked: int = 0
    graphs_total: int = 0
    triples_checked: int = 0  # summed over batches: a shared node counts in each batch that names it
    seconds: float = 0.0
    sampled_graphs: list[str] = field(default_factory=list)  # the record graphs of a sample

    @property
    def violations(self) -> list[ValidationResult]:
        return [result for result in self.results if result.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        """No violations (warnings and infos do not fail a store)."""
        return not self.violations

    @property
    def sampled(self) -> bool:
        return self.graphs_checked < self.graphs_total

    def by_shape(self) -> list[tuple[str, str, int]]:
        """(shape, severity, count), most frequent first: where to look first."""
        counts = Counter((result.shape, result.severity) for result in self.results)
        return [(shape, severity, n) for (shape, severity), n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]

    def to_json(self) -> bytes:
        """The machine-readable report (``kg validate --report FILE``)."""
        document: dict[str, Any] = asdict(self)
        document["conforms"] = self.conforms
        document["violations"] = len(self.violations)
        document["by_shape"] = [{"shape": s, "severity": v, "count": n} for s, v, n in self.by_shape()]
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def shapes_path() -> Path:
    return data_dir("ontology") / "shapes.ttl"


def compact(value: str) -> str:
    """An IRI with a known prefix (``tkg:nctId``, ``ct:NCT01374854``), else unchanged."""
    best = max((ns for ns in PREFIXES.values() if value.startswith(ns)), key=len, default=None)
    if best is None:
        return value
    prefix = next(name for name, ns in PREFIXES.items() if ns == best)
    return f"{prefix}:{value[len(best):]}"


def validate(
    store: Store,
    sample: int | None = None,
    *,
    jobs: int = 1,
    batch_graphs: int = DEFAULT_BATCH_GRAPHS,
    progress: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Validate a store against the trialkg shapes.

    Without ``sample`` every record graph and the metadata graph are checked; with
    ``sample=N`` the N record graphs whose IRIs hash lowest (the same N on every run and
    spread over all sources), with the nodes they reference. ``jobs`` worker processes
    run pySHACL on batches of ``batch_graphs`` record graphs; ``progress`` gets the
    number of graphs just checked.
    """
    started = time.perf_counter()
    graphs = [g for g in store.graphs() if g != META_GRAPH]
    report = ValidationReport(graphs_total=len(graphs))
    chosen = sorted(graphs, key=_sample_key)[:sample] if sample is not None else graphs
    batches: list[list[str]] = [[META_GRAPH]] if sample is None and store.has_graph(META_GRAPH) else []
    # The store-wide graphs (resolution, sharing, links, VoID) are each as large as hundreds of
    # records: each is a batch of its own, first, so one worker checks it while the others take
    # the record graphs, instead of all waiting at the end for one batch that holds them all.
    ordered = sorted(chosen, key=lambda graph: (not _store_wide(graph), graph))
    wide = sum(1 for graph in ordered if _store_wide(graph))
    batches += [[graph] for graph in ordered[:wide]]
    batches += [ordered[i : i + batch_graphs] for i in range(wide, len(ordered), batch_graphs)]
    report.graphs_checked = len(chosen)
    if sample is not None:
        report.sampled_graphs = sorted(chosen)
    seen: set[ValidationResult] = set()
    for batch, (triples, results) in zip(batches, _outcomes(store, batches, jobs), strict=True):
        report.triples_checked += triples
        for result in results:
            if result not in seen:  # a shared node is checked in every batch naming it
                seen.add(result)
                report.results.append(result)
        if progress is not None:
            progress(0 if batch == [META_GRAPH] else len(batch))
    report.results.sort(key=lambda r: (r.severity != "Violation", r.shape, r.focus, r.path or "", r.value or ""))
    report.seconds = time.perf_counter() - started
    return report


Outcome = tuple[int, list[ValidationResult]]


def _outcomes(store: Store, batches: list[list[str]], jobs: int) -> Iterator[Outcome]:
    """Each batch's triple count and results, in order.

    Why workers read the store themselves: gathering a batch's triples (the SPARQL reads
    and their result terms) costs about as much as pySHACL checking them, so a parent
    that gathers for its workers keeps them idle most of the time. An on-disk store is
    opened read-only in every worker, which then gathers and checks its own batches; an
    in-memory or remote store is read by the parent, a few batches ahead of the workers.
    """
    if jobs <= 1 or len(batches) <= 1:
        yield from (_check_batch(_batch_triples(store, batch)) for batch in batches)
        return
    path = getattr(store, "path", None)
    if isinstance(store, OxigraphStore) and path is not None:
        store.flush()  # the workers open what is on disk
        with multiprocessing.Pool(jobs, initializer=_open_worker_store, initargs=(str(path),)) as pool:
            yield from pool.imap(_gather_and_check, batches, chunksize=1)
        return
    window = 2 * jobs  # batches in memory at once, whatever the store's size
    with multiprocessing.Pool(jobs) as pool:
        for start in range(0, len(batches), window):
            work = [_batch_triples(store, batch) for batch in batches[start : start + window]]
            yield from pool.map(_check_batch, work, chunksize=1)


_worker_store: OxigraphStore | None = None  # a validation worker's own read-only handle on the store


def _open_worker_store(path: str) -> None:
    global _worker_store
    _worker_store = OxigraphStore(path, read_only=True)


def _gather_and_check(graphs: list[str]) -> Outcome:
    assert _worker_store is not None
    return _check_batch(_batch_triples(_worker_store, graphs))


def _store_wide(graph: str) -> bool:
    """A graph the post-load stages write about the whole store, not one source record's."""
    return not graph.startswith(tuple(GRAPH + kind + "/" for kind in ("ctgov", "pubmed")))


def _sample_key(graph: str) -> str:
    return hashlib.sha1(graph.encode("utf-8")).hexdigest()


def _values(variable: str, nodes: list[str]) -> Iterator[str]:
    for i in range(0, len(nodes), _VALUES_CHUNK):
        yield f"VALUES ?{variable} {{ {' '.join(iri(node) for node in nodes[i : i + _VALUES_CHUNK])} }}"


def _batch_triples(store: Store, graphs: list[str]) -> tuple[list[Triple], frozenset[str]]:
    """The triples of some graphs plus the full description of every node they mention, and
    the nodes the graphs describe (their subjects): the batch reports on those only.

    Nodes mentioned only as objects are described without ``prov:used``: a build that
    read a folder of 500,000 files would otherwise bring them all into every batch. They
    are checked in the batch of the graph that describes them: a trial that the resolution
    graph mentions is checked with its own record graph, where its arms and criteria are.
    """
    subjects: set[str] = set()
    objects: set[str] = set()
    for values in _values("g", graphs):
        rows = store.select(f"SELECT DISTINCT ?s ?o WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} }}").rows
        for s, o in rows:
            if s is not None and s.kind == "uri":
                subjects.add(s.value)
            if o is not None and o.kind == "uri":
                objects.add(o.value)
    triples: set[Triple] = set()
    _describe(store, sorted(subjects), "", triples)
    # Everything the subjects' full descriptions point at (a trial the resolution graph
    # mentions points at arms and criteria described in its own record graph).
    objects |= {o.value for _, _, o in triples if o.kind == "uri"}
    _describe(store, sorted(objects - subjects), f"FILTER(?p != <{_PROV_USED}>)", triples)
    # Shapes that constrain a node by who points at it (a role has one trial via ^tkg:hasRole)
    # need those inbound links and their sources' types: the resolution and link graphs
    # mention roles, sites and criteria whose parent sits in another record graph.
    links = " ".join(iri(predicate) for predicate in _inverse_predicates())
    parents: set[str] = set()
    for values in _values("s", sorted(subjects)):
        query = f"SELECT DISTINCT ?x ?p ?s WHERE {{ {values} VALUES ?p {{ {links} }} ?x ?p ?s }}"
        for x, p, o in store.select(query).rows:
            if x is not None and p is not None and o is not None:
                triples.add((x, p, o))
                parents.add(x.value)
    for values in _values("s", sorted(parents - subjects)):
        for s, p, o in store.select(f"SELECT DISTINCT ?s ?p ?o WHERE {{ {values} ?s ?p ?o "
                                    f"FILTER(?p = <{_RDF_TYPE}>) }}").rows:
            if s is not None and p is not None and o is not None:
                triples.add((s, p, o))
    return sorted(triples, key=lambda t: (t[0].value, t[1].value, t[2].value)), frozenset(subjects)


def _describe(store: Store, nodes: list[str], condition: str, triples: set[Triple]) -> None:
    """Add every statement about ``nodes`` (in any graph) that meets ``condition``."""
    for values in _values("s", nodes):
        for s, p, o in store.select(f"SELECT DISTINCT ?s ?p ?o WHERE {{ {values} ?s ?p ?o {condition} }}").rows:
            if s is not None and p is not None and o is not None:
                triples.add((s, p, o))


@functools.lru_cache(maxsize=1)
def _inverse_predicates() -> tuple[str, ...]:
    """The predicates the shapes follow backwards (``sh:inversePath``), sorted."""
    import rdflib

    found = {str(o) for o in _shapes().objects(None, rdflib.URIRef(_SH + "inversePath"))}
    return tuple(sorted(found)) or ("urn:trialkg:none",)


def _check_batch(work: tuple[list[Triple], frozenset[str]]) -> Outcome:
    triples, described = work
    results = validate_triples(triples)
    return len(triples), [r for r in results if r.focus in described or r.focus.startswith('"')]


def validate_triples(triples: list[Triple] | Any) -> list[ValidationResult]:
    """SHACL results for a set of triples (as result Terms) or an rdflib Graph."""
    import pyshacl
    import rdflib

    if isinstance(triples, rdflib.Graph):
        graph = triples
    else:
        graph = rdflib.Graph()
        add = graph.add
        terms: dict[Term, Any] = {}  # predicates, types and codes repeat: convert each once
        for triple in triples:
            for term in triple:
                if term not in terms:
                    terms[term] = _rdflib(term)
            add((terms[triple[0]], terms[triple[1]], terms[triple[2]]))
    shapes = _shapes()
    _conforms, results, _text = pyshacl.validate(
        graph, shacl_graph=shapes, inference="none", allow_warnings=True, allow_infos=True, advanced=False,
        meta_shacl=False, debug=False,
    )
    return _results(results, shapes)


@functools.lru_cache(maxsize=1)
def _shapes() -> Any:
    import rdflib

    return rdflib.Graph().parse(shapes_path(), format="turtle")


def _rdflib(term: Term) -> Any:
    from rdflib import BNode, Literal, URIRef

    if term.kind == "uri":
        return URIRef(term.value)
    if term.kind == "bnode":
        return BNode(term.value)
    if term.lang:
        return Literal(term.value, lang=term.lang)
    if term.datatype and term.datatype != _XSD_STRING:
        return Literal(term.value, datatype=URIRef(term.datatype))
    return Literal(term.value)


def _results(results: Any, shapes: Any) -> list[ValidationResult]:
    """Plain results from pySHACL's report graph (top-level results, not their details)."""
    from rdflib import RDF, BNode, Literal, Namespace

    sh = Namespace(_SH)
    found: list[ValidationResult] = []
    for report in results.subjects(RDF.type, sh.ValidationReport):
        for node in results.objects(report, sh.result):
            path = results.value(node, sh.resultPath)
            value = results.value(node, sh.value)
            source = results.value(node, sh.sourceShape)
            component = str(results.value(node, sh.sourceConstraintComponent) or "")
            focus = results.value(node, sh.focusNode)
            found.append(
                ValidationResult(
                    focus=focus.n3() if isinstance(focus, Literal) else str(focus),
                    path=_path_text(results, path, sh) if path is not None else None,
                    message=" ".join(sorted(str(m) for m in results.objects(node, sh.resultMessage))),
                    severity=str(results.value(node, sh.resultSeverity) or sh.Violation).rsplit("#", 1)[-1],
                    shape=_shape_name(shapes, source, sh, BNode),
                    constraint=component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent"),
                    value=(value.n3() if hasattr(value, "n3") else str(value)) if value is not None else None,
                )
            )
    return found


def _path_text(graph: Any, path: Any, sh: Any) -> str:
    inverse = graph.value(path, sh.inversePath)
    return "^" + compact(str(inverse)) if inverse is not None else compact(str(path))


def _shape_name(shapes: Any, source: Any, sh: Any, bnode: type) -> str:
    """``TrialShape tkg:nctId`` for a property shape (blank nodes in the file), else the shape's name."""
    if source is None:
        return "?"
    if not isinstance(source, bnode):
        return str(source).removeprefix(SHAPES)
    parent = shapes.value(predicate=sh.property, object=source)
    path = shapes.value(source, sh.path)
    name = str(parent).removeprefix(SHAPES) if parent is not None else "(shape)"
    return f"{name} {_path_text(shapes, path, sh)}" if path is not None else name
