"""Golden cases: one folder each under tests/golden/ with an input file and the triples
expected from it (written by hand), compared by graph isomorphism with a readable diff."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.compare import graph_diff, to_isomorphic

from kg import build, open_store
from kg.rdf.emit_void import VOID_GRAPH

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


def _record_graph(case: Path) -> rdflib.Graph:
    inputs = [p for p in case.iterdir() if p.name.startswith("input")]
    store = open_store(None)
    report = build(inputs, store, resolve=False)  # a golden case is what emission states
    assert report.records_failed == 0, report.failures
    graph_names = [g for g in store.graphs() if not g.endswith("/meta") and g != VOID_GRAPH]
    assert len(graph_names) == 1
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_names[0]}> {{ ?s ?p ?o }} "
                        f"FILTER(?s != <{graph_names[0]}>) }}")
    graph = rdflib.Graph()
    nt = "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in rows.rows if s and p and o)
    graph.parse(data=nt, format="nt")
    return graph


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: Path) -> None:
    actual = to_isomorphic(_record_graph(case))
    expected = to_isomorphic(rdflib.Graph().parse(case / "expected.ttl", format="turtle"))
    if actual != expected:
        _, only_actual, only_expected = graph_diff(actual, expected)
        lines = ["built but not expected:", *sorted(f"  {t[0].n3()} {t[1].n3()} {t[2].n3()}" for t in only_actual)]
        lines += ["expected but not built:", *sorted(f"  {t[0].n3()} {t[1].n3()} {t[2].n3()}" for t in only_expected)]
        pytest.fail("\n".join(lines))
