"""Sharded builds: n disjoint N-Quads parts whose union is the whole build, merged and resolved once."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import in_shard, parse_shard
from kg.errors import KGError
from kg.merge import merge
from kg.store import open_store
from kg.store.mention_file import mentions_path
from tests.conftest import DATA, EXAMPLES, run_kg

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


# ---------------------------------------------------------------- shards merged and resolved once

INPUTS = [str(EXAMPLES), str(DATA / "ctgov-json"), str(DATA / "pubmed")]


def _export(store: Path) -> list[str]:
    result = run_kg("export", "--format", "nquads", "--store", str(store), env=FIXED_TIME)
    assert result.returncode == 0, result.stderr
    return sorted(result.stdout.splitlines())


def _parts(tmp_path: Path, n: int) -> list[Path]:
    parts = []
    for i in range(1, n + 1):
        part = tmp_path / f"part-{i}.nq.gz"
        result = run_kg("build", *INPUTS, "--shard", f"{i}/{n}", "--nquads-out", str(part), env=FIXED_TIME)
        assert result.returncode == 0, result.stderr
        assert mentions_path(part).is_file(), "every part carries its mentions"
        parts.append(part)
    return parts


def test_merged_shards_equal_a_one_machine_build_resolution_included(tmp_path: Path) -> None:
    """The worked example: three machines build a shard each, one merges and resolves once."""
    whole = run_kg("build", *INPUTS, "--store", str(tmp_path / "whole"), env=FIXED_TIME)
    assert whole.returncode == 0, whole.stderr
    parts = _parts(tmp_path, 3)
    merged = run_kg("merge", *map(str, parts), "--store", str(tmp_path / "merged"), env=FIXED_TIME)
    assert merged.returncode == 0, merged.stderr
    expected, got = _export(tmp_path / "whole"), _export(tmp_path / "merged")
    graphs = {line.rsplit(" ", 2)[-2] for line in expected}
    # every derived graph is there: a merge without resolution would lack these, and the
    # resolution would differ if any part's mentions were missing
    for derived in ("resolution", "links/investigator-author", "sharing", "void"):
        assert f"<https://w3id.org/trialkg/graph/{derived}>" in graphs, derived
    assert got == expected
    assert "merged 3 parts" in merged.stderr and "resolution" in merged.stderr


def test_kg_stats_counts_the_finished_store(tmp_path: Path) -> None:
    """The VoID description is counted after the post-load stages, so it states every quad."""
    store = tmp_path / "store"
    assert run_kg("build", str(EXAMPLES), "--store", str(store)).returncode == 0
    stats = run_kg("stats", "--store", str(store))
    stated = int(next(line for line in stats.stdout.splitlines() if line.startswith("quads:")).split()[1])
    described = [line for line in _export(store) if not line.endswith("<https://w3id.org/trialkg/graph/void> .")]
    assert stated == len(described)  # every quad but the description's own


def test_merge_refuses_parts_it_cannot_resolve_whole(tmp_path: Path) -> None:
    parts = _parts(tmp_path, 2)
    # the same part twice: one record in two parts would merge two copies into one graph
    with pytest.raises(KGError, match="parts must be disjoint"):
        merge([parts[0], parts[0]], open_store(None))
    # a part whose mentions are missing, or cut short by a shard that crashed
    lone = tmp_path / "lone.nq.gz"
    lone.write_bytes(parts[0].read_bytes())
    with pytest.raises(KGError, match=r"lone\.nq\.gz.*no mentions beside this part|no mentions beside this part"):
        merge([lone], open_store(None))
    lines = gzip.decompress(mentions_path(parts[0]).read_bytes()).splitlines(keepends=True)
    mentions_path(lone).write_bytes(gzip.compress(b"".join(lines[:-1])[:-40]))  # cut inside a line
    with pytest.raises(KGError, match=r"lone\.mentions\.jsonl\.gz"):
        merge([lone], open_store(None))
    mentions_path(lone).write_bytes(gzip.compress(b"".join(lines[:-1])))  # whole lines, but unfinished
    with pytest.raises(KGError, match=r"lone\.mentions\.jsonl\.gz.*before its shard finished"):
        merge([lone], open_store(None))
    # a store that holds records already
    full = open_store(None)
    merge([parts[0]], full)
    with pytest.raises(KGError, match="already holds quads"):
        merge([parts[1]], full)


def test_kg_merge_errors_are_one_line(tmp_path: Path) -> None:
    result = run_kg("merge", str(tmp_path / "missing.nq.gz"), "--store", str(tmp_path / "store"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"kg: error: {tmp_path / 'missing.nq.gz'}: no such part"]
