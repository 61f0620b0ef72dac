"""GEXF and GraphML exports read back by independent parsers: a plain XML parser for the GEXF
structure Gephi reads, python-igraph for GraphML; hostile strings stay well-formed."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from kg.analyze import PROJECTIONS, analyze
from kg.export.graphs import export_projection, write_graph
from kg.store.base import Store

GEXF = "{http://gexf.net/1.3}"
HOSTILE = 'He said "stop" <b>&amp; ]]> it\'s\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff\ud800 done\ttab\nline'
CLEAN = HOSTILE  # what a reader must get back: forbidden characters become U+FFFD
for forbidden in "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff\ud800":
    CLEAN = CLEAN.replace(forbidden, "\ufffd")


@pytest.fixture(scope="module")
def analyzed(sample_store: Store) -> dict[str, nx.Graph]:
    """Every projection of the sample data with its metrics, computed once."""
    return {name: analyze(sample_store, name)[0] for name in sorted(PROJECTIONS)}


def _gexf(graph: nx.Graph) -> ET.Element:
    out = io.BytesIO()
    write_graph(graph, out, "gexf")
    return ET.fromstring(out.getvalue())


def _check_gexf(root: ET.Element, graph: nx.Graph) -> None:
    assert root.tag == GEXF + "gexf" and root.get("version") == "1.3"
    body = root.find(GEXF + "graph")
    assert body is not None and body.get("defaultedgetype") == "undirected"
    declared: dict[str, dict[str, tuple[str, str]]] = {}
    for attributes in body.findall(GEXF + "attributes"):
        kind = attributes.get("class") or ""
        declared[kind] = {}
        for attribute in attributes.findall(GEXF + "attribute"):
            ident, title, kind_type = attribute.get("id"), attribute.get("title"), attribute.get("type")
            assert ident and title and kind_type in {"integer", "long", "double", "float", "boolean", "string"}
            declared[kind][ident] = (title, kind_type)
    assert set(declared) == {"node", "edge"}
    node_titles = {title for title, _ in declared["node"].values()}
    assert {"type", "degree", "pagerank", "community"} <= node_titles
    nodes = body.findall(f"{GEXF}nodes/{GEXF}node")
    edges = body.findall(f"{GEXF}edges/{GEXF}edge")
    assert (len(nodes), len(edges)) == (graph.number_of_nodes(), graph.number_of_edges())
    for element, kind in [(n, "node") for n in nodes] + [(e, "edge") for e in edges]:
        for value in element.iterfind(f"{GEXF}attvalues/{GEXF}attvalue"):
            ident = value.get("for") or ""
            assert ident in declared[kind], f"attvalue for undeclared {kind} attribute {ident}"
            text, kind_type = value.get("value") or "", declared[kind][ident][1]
            if kind_type in {"integer", "long"}:
                int(text)
            elif kind_type in {"double", "float"}:
                float(text)
    for node in nodes:
        assert node.get("label") == graph.nodes[node.get("id")]["label"]
    for edge in edges:
        source, target = edge.get("source"), edge.get("target")
        assert float(edge.get("weight") or "nan") == pytest.approx(float(graph.edges[source, target]["weight"]))


@pytest.mark.parametrize("projection", sorted(PROJECTIONS))
def test_gexf_declares_what_it_uses(analyzed: dict[str, nx.Graph], projection: str) -> None:
    _check_gexf(_gexf(analyzed[projection]), analyzed[projection])


def test_seed_gexf_edge_says_what_the_trials_share(seed_store: Store) -> None:
    out = io.BytesIO()
    export_projection(seed_store, out, "gexf", "trial-trial")
    expected = io.BytesIO()
    write_graph(analyze(seed_store, "trial-trial")[0], expected, "gexf")
    assert out.getvalue() == expected.getvalue()  # the export is the analysed projection, deterministically
    body = ET.fromstring(out.getvalue()).find(GEXF + "graph")
    assert body is not None
    titles = {a.get("id"): a.get("title") for a in body.iterfind(f"{GEXF}attributes[@class='edge']/{GEXF}attribute")}
    edge = body.find(f"{GEXF}edges/{GEXF}edge")
    assert edge is not None
    values = {titles[v.get("for")]: v.get("value") for v in edge.iterfind(f"{GEXF}attvalues/{GEXF}attvalue")}
    assert "principal_investigator" in (values["kinds"] or "") and values["shared_pi"] == "1"


@pytest.mark.parametrize("projection", sorted(PROJECTIONS))
def test_graphml_reads_back_in_igraph(analyzed: dict[str, nx.Graph], projection: str, tmp_path: Path) -> None:
    igraph = pytest.importorskip("igraph")
    graph = analyzed[projection]
    path = tmp_path / f"{projection}.graphml"
    with path.open("wb") as out:
        write_graph(graph, out, "graphml")
    read = igraph.Graph.Read_GraphML(str(path))
    assert (read.vcount(), read.ecount()) == (graph.number_of_nodes(), graph.number_of_edges())
    assert not read.is_directed()
    by_id = {vertex["id"]: vertex for vertex in read.vs}
    node = max(graph, key=lambda n: (graph.degree(n), n))
    assert by_id[node]["label"] == graph.nodes[node]["label"]
    assert by_id[node]["degree"] == graph.degree(node)
    assert sum(read.es["weight"]) == pytest.approx(sum(d["weight"] for _, _, d in graph.edges(data=True)))


def _hostile_graph() -> nx.Graph:
    graph = nx.Graph(projection="hostile")
    graph.add_node(f"urn:x:{HOSTILE}", label=HOSTILE, type="trial", note=HOSTILE, flag=True, score=float("nan"))
    graph.add_node("urn:x:b", label="b", type="site", note=3)  # a mixed column becomes a string
    graph.add_edge(f"urn:x:{HOSTILE}", "urn:x:b", weight=2.5, kinds=HOSTILE)
    return graph


@pytest.mark.parametrize("format_name", ["gexf", "graphml"])
def test_hostile_strings_stay_well_formed(format_name: str, tmp_path: Path) -> None:
    out = io.BytesIO()
    write_graph(_hostile_graph(), out, format_name)
    root = ET.fromstring(out.getvalue())  # raises on any ill-formed byte
    texts = [value for element in root.iter() for value in [*element.attrib.values(), element.text or ""]]
    assert CLEAN in texts
    assert not any(c in text for text in texts for c in "\x00\x01\x0b\ufffe")
    if format_name == "gexf":
        body = root.find(GEXF + "graph")
        assert body is not None
        types = {a.get("title"): a.get("type") for a in body.iterfind(f"{GEXF}attributes/{GEXF}attribute")}
        assert types["note"] == "string" and types["flag"] == "boolean" and types["score"] == "double"
    else:
        igraph = pytest.importorskip("igraph")
        path = tmp_path / "hostile.graphml"
        path.write_bytes(out.getvalue())
        read = igraph.Graph.Read_GraphML(str(path))
        assert CLEAN in read.vs["label"]
        assert read.es["kinds"] == [CLEAN]


def test_unknown_format_is_refused(seed_store: Store) -> None:
    with pytest.raises(Exception, match="unknown graph format"):
        export_projection(seed_store, io.BytesIO(), "dot", "trial-trial")
