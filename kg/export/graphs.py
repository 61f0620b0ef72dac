"""Projections as GEXF 1.3 and GraphML for Gephi, Cytoscape, igraph and networkx.

Why our own writers: Gephi shows node and edge attributes only when they are declared with a
type (GEXF ``<attributes>``, GraphML ``<key>``), and the values here come from registry text
that may hold anything: quotes, ``<``, ``&``, ``]]>``, control characters that XML 1.0 forbids
(a parser refuses the whole file over one of them). networkx's writers infer types per value
and pass forbidden characters through. These writers declare every attribute once with one
type (a mixed column becomes a string), escape all markup, replace forbidden characters with
U+FFFD, and write nodes and edges in sorted order so exports diff cleanly.

Example:
    >>> import io, networkx as nx
    >>> graph = nx.Graph(); graph.add_node("a", label='x < "y" & z\\x01', type="trial")
    >>> graph.add_edge("a", "b", weight=2)
    >>> out = io.BytesIO(); write_graph(graph, out, "gexf")
    >>> b'label="x &lt; &quot;y&quot; &amp; z\\xef\\xbf\\xbd"' in out.getvalue()
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import IO

import networkx as nx

from kg.errors import KGError
from kg.rdf.provenance import extraction_time
from kg.store.base import Store
from kg.version import __version__

GRAPH_FORMATS = ("gexf", "graphml")
GEXF_NAMESPACE = "http://gexf.net/1.3"
GRAPHML_NAMESPACE = "http://graphml.graphdrawing.org/xmlns"

# Characters XML 1.0 does not allow anywhere, even escaped (C0 controls but tab/LF/CR,
# unpaired surrogates, U+FFFE and U+FFFF).
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
                      ord("\t"): "&#9;", ord("\n"): "&#10;", ord("\r"): "&#13;"}
_INT32 = 2**31 - 1


def xml_text(value: object) -> str:
    """A value as XML attribute text: markup escaped, whitespace kept, forbidden characters replaced."""
    text = value if isinstance(value, str) else _plain(value)
    return _FORBIDDEN.sub("\ufffd", text).translate(_ATTRIBUTE_ESCAPES)


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return repr(value)
    return str(value)


def _column_type(values: Iterable[object]) -> str:
    """One type per attribute: boolean, integer, long, double, or string when mixed."""
    kinds = set()
    widest = 0
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("int")
            widest = max(widest, abs(value))
        elif isinstance(value, float):
            kinds.add("double")
        else:
            kinds.add("string")
    if kinds == {"boolean"}:
        return "boolean"
    if kinds == {"int"}:
        return "integer" if widest <= _INT32 else "long"
    if kinds <= {"int", "double"} and kinds:
        return "double"
    return "string"


def _columns(items: Iterable[dict[str, object]], skip: set[str]) -> list[tuple[str, str]]:
    """(name, type) of every attribute present, sorted by name."""
    values: dict[str, list[object]] = {}
    for data in items:
        for key, value in data.items():
            if key not in skip and value is not None:
                values.setdefault(key, []).append(value)
    return [(name, _column_type(values[name])) for name in sorted(values)]


def _sorted_edges(graph: nx.Graph) -> list[tuple[str, str, dict[str, object]]]:
    return sorted(((u, v, d) if str(u) <= str(v) else (v, u, d) for u, v, d in graph.edges(data=True)),
                  key=lambda edge: (str(edge[0]), str(edge[1])))


def write_gexf(graph: nx.Graph, out: IO[bytes]) -> None:
    """GEXF 1.3: declared node and edge attributes, labels, weights, edge kinds as labels."""
    write = _writer(out)
    node_columns = _columns((data for _, data in graph.nodes(data=True)), {"label"})
    edges = _sorted_edges(graph)
    edge_columns = _columns((data for _, _, data in edges), {"weight"})
    name = str(graph.graph.get("projection", "graph"))
    write('<?xml version="1.0" encoding="UTF-8"?>\n'
          f'<gexf xmlns="{GEXF_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          f'xsi:schemaLocation="{GEXF_NAMESPACE} {GEXF_NAMESPACE}/gexf.xsd" version="1.3">\n'
          f'  <meta lastmodifieddate="{extraction_time()[:10]}">\n'
          f"    <creator>trialkg {xml_text(__version__)}</creator>\n"
          f"    <description>{xml_text(f'the {name} projection of a trialkg knowledge graph')}</description>\n"
          "  </meta>\n"
          '  <graph mode="static" defaultedgetype="undirected">\n')
    for kind, columns in (("node", node_columns), ("edge", edge_columns)):
        write(f'    <attributes class="{kind}" mode="static">\n')
        for index, (column, column_type) in enumerate(columns):
            write(f'      <attribute id="{index}" title="{xml_text(column)}" type="{column_type}"/>\n')
        write("    </attributes>\n")
    node_ids = {column: str(index) for index, (column, _) in enumerate(node_columns)}
    edge_ids = {column: str(index) for index, (column, _) in enumerate(edge_columns)}
    write("    <nodes>\n")
    for node in sorted(graph, key=str):
        data = graph.nodes[node]
        label = data.get("label", node)
        write(f'      <node id="{xml_text(node)}" label="{xml_text(label)}">\n')
        write(_attvalues(data, node_ids))
        write("      </node>\n")
    write("    </nodes>\n    <edges>\n")
    for index, (source, target, data) in enumerate(edges):
        weight = data.get("weight", 1)
        label = f' label="{xml_text(data["kinds"])}"' if data.get("kinds") else ""
        write(f'      <edge id="{index}" source="{xml_text(source)}" target="{xml_text(target)}" '
              f'weight="{xml_text(weight)}"{label}>\n')
        write(_attvalues(data, edge_ids))
        write("      </edge>\n")
    write("    </edges>\n  </graph>\n</gexf>\n")


def _attvalues(data: dict[str, object], ids: dict[str, str]) -> str:
    values = [f'          <attvalue for="{ids[key]}" value="{xml_text(value)}"/>\n'
              for key, value in sorted(data.items()) if key in ids and value is not None]
    return "        <attvalues>\n" + "".join(values) + "        </attvalues>\n" if values else ""


_GRAPHML_TYPES = {"boolean": "boolean", "integer": "int", "long": "long", "double": "double", "string": "string"}


def write_graphml(graph: nx.Graph, out: IO[bytes]) -> None:
    """GraphML: typed keys for every node and edge attribute (label and weight included)."""
    write = _writer(out)
    node_columns = _columns((data for _, data in graph.nodes(data=True)), set())
    edges = _sorted_edges(graph)
    edge_columns = _columns((data for _, _, data in edges), set())
    write('<?xml version="1.0" encoding="UTF-8"?>\n'
          f'<graphml xmlns="{GRAPHML_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          f'xsi:schemaLocation="{GRAPHML_NAMESPACE} {GRAPHML_NAMESPACE}/1.0/graphml.xsd">\n')
    keys: dict[tuple[str, str], str] = {}
    for kind, columns in (("node", node_columns), ("edge", edge_columns)):
        for index, (column, column_type) in enumerate(columns):
            key = f"{kind[0]}{index}"
            keys[(kind, column)] = key
            write(f'  <key id="{key}" for="{kind}" attr.name="{xml_text(column)}" '
                  f'attr.type="{_GRAPHML_TYPES[column_type]}"/>\n')
    name = str(graph.graph.get("projection", "graph"))
    write(f'  <graph id="{xml_text(name)}" edgedefault="undirected">\n')
    for node in sorted(graph, key=str):
        write(f'    <node id="{xml_text(node)}">\n')
        write(_data(graph.nodes[node], "node", keys))
        write("    </node>\n")
    for index, (source, target, data) in enumerate(edges):
        write(f'    <edge id="e{index}" source="{xml_text(source)}" target="{xml_text(target)}">\n')
        write(_data(data, "edge", keys))
        write("    </edge>\n")
    write("  </graph>\n</graphml>\n")


def _data(data: dict[str, object], kind: str, keys: dict[tuple[str, str], str]) -> str:
    # Element text: the attribute escaping is also right here (it escapes more than needed).
    return "".join(f'      <data key="{keys[(kind, key)]}">{xml_text(value)}</data>\n'
                   for key, value in sorted(data.items()) if (kind, key) in keys and value is not None)


def _writer(out: IO[bytes]) -> Callable[[str], None]:
    def write(text: str) -> None:
        out.write(text.encode("utf-8"))

    return write


WRITERS = {"gexf": write_gexf, "graphml": write_graphml}


def write_graph(graph: nx.Graph, out: IO[bytes], format_name: str) -> None:
    """Write a graph in ``gexf`` or ``graphml``."""
    try:
        writer = WRITERS[format_name]
    except KeyError:
        raise KGError(f"unknown graph format {format_name!r} (known: {', '.join(GRAPH_FORMATS)})") from None
    writer(graph, out)


def export_projection(store: Store, out: IO[bytes], format_name: str, projection: str, **options: object) -> None:
    """Write a projection with its node metrics (degree, PageRank, community...) as GEXF or GraphML.

    ``options`` go to :func:`kg.analyze.analyze` (``max_shared``, ``min_weight``, ``max_edges``).

    Example:
        >>> import io
        >>> from kg import build, open_store
        >>> store = open_store(None); _ = build(["examples"], store)
        >>> out = io.BytesIO(); export_projection(store, out, "graphml", "trial-trial")
        >>> out.getvalue().count(b"<edge ")
        1
    """
    from kg.analyze import analyze

    if format_name not in WRITERS:
        raise KGError(f"unknown graph format {format_name!r} (known: {', '.join(GRAPH_FORMATS)})")
    graph, _table = analyze(store, projection, **options)  # type: ignore[arg-type]
    write_graph(graph, out, format_name)
