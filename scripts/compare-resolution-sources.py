"""Resolution from the store (old) and from the mention tables (new), per tests/data file and all together: same
mention records, same resolution graph. Run: PYTHONPATH=. python scripts/compare-resolution-sources.py"""
import os

os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
from pathlib import Path

from kg import build, open_store
from kg.rdf.namespaces import RESOLUTION_GRAPH
from kg.resolve.mention_source import TableMentions
from kg.resolve.mentions import StoreMentions
from kg.resolve.stage import resolve


def graph_lines(store):
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }}")
    return sorted(map(str, rows.values()))

inputs = sorted(str(p) for d in ["tests/data/ctgov-json","tests/data/ctgov-xml","tests/data/ctgov-csv","tests/data/pubmed","examples"] for p in Path(d).rglob("*") if p.is_file() and p.suffix != ".md")
groups = [[i] for i in inputs] + [inputs]
bad = 0
for group in groups:
    stores = []
    for _ in range(2):
        s = open_store(None)
        try:
            build(group, s, resolve=False)
        except Exception as e:
            print("build failed", group[:1], e); break
        stores.append(s)
    if len(stores) < 2:
        continue
    a, b = StoreMentions(stores[0]), TableMentions.of(stores[1])
    n = a.ncts()
    same = n == b.ncts() and all(getattr(a, m)() == getattr(b, m)() for m in ("organizations", "affiliations", "concepts")) \
        and all(getattr(a, m)(n) == getattr(b, m)(n) for m in ("sponsors", "roles", "sites"))
    ra, rb = resolve(stores[0], a), resolve(stores[1], b)
    ga, gb = graph_lines(stores[0]), graph_lines(stores[1])
    ok = same and ga == gb
    bad += not ok
    label = "ALL" if len(group) > 1 else group[0]
    print("ok " if ok else "DIFF", label, len(ga), "resolution statements")
print("differences:", bad)
