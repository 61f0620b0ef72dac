"""Sharded builds: n disjoint N-Quads parts whose union is the whole build."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import in_shard, parse_shard
from kg.errors import KGError
from tests.conftest import DATA, run_kg

TRIALS = "PREFIX tkg: <https://w3id.org/trialkg/ontology#> SELECT DISTINCT ?n WHERE { ?t tkg:nctId ?n }"


def _trials(store: ox.Store) -> set[str]:
    return {s["n"].value for s in store.query(TRIALS, use_default_graph_as_union=True)}  # type: ignore[union-attr]


FIXED_TIME = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}


def test_shards_are_disjoint_and_cover_the_whole_build(tmp_path: Path) -> None:
    source = DATA / "ctgov-json"
    whole = run_kg("build", str(source), "--nquads-out", str(tmp_path / "whole.nq"), env=FIXED_TIME)
    assert whole.returncode == 0, whole.stderr
    reference = ox.Store()
    reference.load(path=str(tmp_path / "whole.nq"), format=ox.RdfFormat.N_QUADS)
    expected = _trials(reference)
    assert len(expected) == 112
    seen: list[set[str]] = []
    union = ox.Store()
    for i in (1, 2, 3):
        part = tmp_path / f"part-{i}.nq.gz"
        result = run_kg("build", str(source), "--shard", f"{i}/3", "--nquads-out", str(part), env=FIXED_TIME)
        assert result.returncode == 0, result.stderr
        one = ox.Store()
        one.load(gzip.decompress(part.read_bytes()), format=ox.RdfFormat.N_QUADS)
        seen.append(_trials(one))
        union.load(gzip.decompress(part.read_bytes()), format=ox.RdfFormat.N_QUADS)
    assert all(seen), "every shard got some trials"
    assert sum(len(s) for s in seen) == len(expected)
    assert set().union(*seen) == expected
    record_graphs = {g.value for g in reference.named_graphs() if "/graph/ctgov/" in g.value}
    for graph in record_graphs:
        node = ox.NamedNode(graph)
        assert set(union.quads_for_pattern(None, None, None, node)) == set(
            reference.quads_for_pattern(None, None, None, node))


def test_shard_arguments() -> None:
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/4", "5/4", "x", "1-4"):
        with pytest.raises(KGError):
            parse_shard(bad)
    ids = [f"NCT{i:08d}" for i in range(1000)]
    parts = [sum(in_shard(nct, (i, 4)) for nct in ids) for i in range(1, 5)]
    assert sum(parts) == 1000 and min(parts) > 200
