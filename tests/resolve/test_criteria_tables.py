"""Criteria blocking out of core gives the pairs the in-memory rules give, on every concept of the shared data.

The oracle here is written from the rules as documented (words ranked rarest first, then by
code point; a prefix of ``min(MAX_KEYS, n - ceil(INDEX_OVERLAP * n) + 1)`` words keyed with
the block signature; the joined ranking as the window order), fed to
:func:`kg.resolve.cluster.candidate_pairs`, the in-memory blocking the other kinds use. The
DuckDB tables must give the same candidate pairs, the same count of comparisons, and read
back exactly the pairs that share at least half their words.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from kg import build, open_store
from kg.resolve.cluster import candidate_pairs
from kg.resolve.criteria import INDEX_OVERLAP, MAX_BLOCK, MAX_KEYS, MIN_OVERLAP, WINDOW, resolve_criteria
from kg.resolve.criteria_match import blocking_tokens, criterion_form, match_criteria
from kg.resolve.criteria_tables import CriteriaTables, decode_form, encode_form, signature
from kg.resolve.mention_source import TableMentions
from tests.conftest import DATA


@pytest.fixture(scope="module")
def concepts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """(IRI, normalised text) of every criterion concept in the shared real records."""
    store = open_store(tmp_path_factory.mktemp("store"))
    build([DATA / "ctgov-json", DATA / "more" / "ctgov-json", DATA / "ctgov-xml"], store, resolve=False, jobs=2)
    found = list(TableMentions.of(store).concepts())
    store.close()
    return found


def _oracle(texts: list[str], window: int = WINDOW) -> tuple[set[tuple[int, int]], int]:
    forms = [criterion_form(text, normalized=True) for text in texts]
    tokens = [blocking_tokens(form) for form in forms]
    df = Counter(token for found in tokens for token in found)
    keys, order = {}, []
    for index, found in enumerate(tokens):
        ranked = sorted(found, key=lambda t: (df[t], t))
        order.append(" ".join(ranked))
        prefix = min(MAX_KEYS, len(ranked) - math.ceil(INDEX_OVERLAP * len(ranked)) + 1)
        keys[index] = [signature(forms[index]) + token for token in ranked[:prefix]]
    pairs = list(candidate_pairs(keys, MAX_BLOCK, order, window))
    return set(pairs), len(pairs)


def _tables(texts: list[str], directory: Path, window: int = WINDOW, jobs: int = 1) -> tuple[CriteriaTables, int]:
    tables = CriteriaTables(directory, jobs)
    tables.add(texts)
    return tables, tables.candidates(MAX_KEYS, INDEX_OVERLAP, MAX_BLOCK, window)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_the_tables_give_the_in_memory_candidate_pairs_on_the_shared_data(concepts, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                          jobs: int) -> None:
    texts = [text for _, text in concepts]
    assert len(texts) > 10_000
    expected, expected_count = _oracle(texts)
    tables, count = _tables(texts, tmp_path, jobs=jobs)
    with tables:
        pairs = tables.pairs()
        assert len(pairs) == len(set(pairs))
        assert set(pairs) == expected
        assert count == expected_count
        forms = [criterion_form(text, normalized=True) for text in texts]
        tokens = [blocking_tokens(form) for form in forms]
        close = {(a, b) for a, b in expected
                 if len(tokens[a] & tokens[b]) >= MIN_OVERLAP * max(len(tokens[a]), len(tokens[b]))}
        scored = {(a, b): match_criteria(forms[a], forms[b]) for a, b in close}
        matched = {pair: score for pair, score in scored.items() if score}
        found = [(a, b, score, decode_form(form_a), decode_form(form_b))
                 for score, a, b, _, form_a, form_b in tables.matches(MIN_OVERLAP)]
        assert all((form_a, form_b) == (forms[a], forms[b]) for a, b, _, form_a, form_b in found)
        assert {(a, b): score for a, b, score, _, _ in found} == matched
        assert len(found) == len(matched) > 100
        assert len(close) < len(expected)


def test_a_large_block_meets_its_window_in_the_ranked_order(tmp_path: Path) -> None:
    # 40 concepts share "zzrare" (one block over the window), listed in another order than
    # their second words sort in; 5 also share "common" with 20 others; 12 share "yyrare"
    # (one more than a window of 10 and its first item: the smallest block that is not compared whole).
    texts = [f"zzrare word{(7 * i) % 40:02d}" for i in range(40)] + [f"common other{i:02d} thing" for i in range(20)]
    texts += [f"zzrare common word{i:02d}" for i in range(5)] + [f"yyrare term{(5 * i) % 12:02d}" for i in range(12)]
    for window in (2, 5, WINDOW):
        expected, expected_count = _oracle(texts, window)
        tables, count = _tables(texts, tmp_path, window)
        with tables:
            assert set(tables.pairs()) == expected
            assert count == expected_count


def test_forms_survive_the_round_trip_through_json() -> None:
    for text in ["bmi > 35 kg/m2", "age >= 18 years and <= 65 years", "hemoglobin < 9 g/dl within 6 months",
                 "ecog performance status 0 or 1", "pregnant or breastfeeding women", ""]:
        form = criterion_form(text, normalized=True)
        assert decode_form(encode_form(form)) == form


def test_resolution_merges_near_duplicates_and_keeps_numbers_apart(tmp_path: Path) -> None:
    result = resolve_criteria([("c:1", "baseline hemoglobin below normal"), ("c:2", "baseline hgb below normal"),
                               ("c:3", "age > 18 years"), ("c:4", "age >= 18 years"),
                               ("c:5", "hemoglobin < 9 g/dl within 6 months"),
                               ("c:6", "hemoglobin < 9 g/dl within 12 months")], workdir=tmp_path)
    assert [result.canonical_of(f"c:{i}") for i in range(1, 8)] == ["c:1", "c:1", "c:3", "c:4", "c:5", "c:6", None]
    assert list(tmp_path.iterdir()) == []  # the working tables are gone


def test_an_on_disk_store_keeps_the_working_tables_on_its_own_disk(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import kg.resolve.criteria as criteria_module
    from tests.conftest import EXAMPLES

    used: list[Path] = []

    class Recorded(CriteriaTables):
        def __init__(self, directory: str | Path | None = None, jobs: int = 1) -> None:
            used.append(Path(directory) if directory is not None else Path(tempfile.gettempdir()))
            super().__init__(directory, jobs)

    monkeypatch.setattr(criteria_module, "CriteriaTables", Recorded)
    store_path = tmp_path / "store"
    with open_store(store_path) as store:
        build([EXAMPLES], store)
    assert used and all(store_path in directory.parents for directory in used)
    assert not list(store_path.rglob("trialkg-criteria-*"))  # gone after the stage


def test_a_store_path_with_an_apostrophe_builds_and_resolves(tmp_path: Path) -> None:
    # DuckDB's COPY and SET take paths as SQL string literals: "o'brien" once ended the literal.
    from kg.rdf.namespaces import RESOLUTION_GRAPH
    from tests.conftest import EXAMPLES

    store_path = tmp_path / "o'brien" / "store"
    with open_store(store_path) as store:
        report = build([EXAMPLES], store)
        resolved = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }}")
        assert report.records_loaded == 2 and int(resolved.values()[0][0]) > 0
    texts = ["history of stroke", "history of strokes", "age >= 18 years"]
    tables, _count = _tables(texts, tmp_path / "o'brien")
    with tables:
        assert [(a, b) for _, a, b, _, _, _ in tables.matches(MIN_OVERLAP)] == [(0, 1)]


def _resolved(concepts: list[tuple[str, str]], workdir: Path, memo: Path | None) -> tuple[object, ...]:
    result = resolve_criteria(concepts, workdir=workdir, jobs=2, memo=memo)
    return list(result.iris), result.canonical, result.confidence, sorted(result.evidence), result.comparisons


@pytest.mark.slow
def test_forms_kept_between_resolutions_give_the_same_resolution(concepts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A memo filled by a resolution of part of the concepts, then used (half hits, half new) by one of
    all of them, gives what forming every text again gives; forms kept under other rules are never used."""
    import duckdb

    from kg.resolve.criteria_tables import rules_version

    expected = _resolved(concepts, tmp_path, None)
    memo = tmp_path / "forms.duckdb"
    _resolved(concepts[::2], tmp_path, memo)  # every other concept formed and kept
    with duckdb.connect(str(memo)) as con:
        kept = con.execute("SELECT count(*) FROM forms").fetchone()
        assert kept is not None and kept[0] == len({text for _, text in concepts[::2]})
    assert _resolved(concepts, tmp_path, memo) == expected
    with duckdb.connect(str(memo)) as con:  # every text kept now, and only the current ones
        assert con.execute("SELECT count(*) FROM forms").fetchone() == (len({text for _, text in concepts}),)
        # Forms from other rules: each text kept with another text's form, under another version.
        con.execute("CREATE TABLE shifted AS SELECT text, lead(form) OVER (ORDER BY text) AS form, "
                    "lead(sig) OVER (ORDER BY text) AS sig, lead(tokens) OVER (ORDER BY text) AS tokens, "
                    "lead(ntok) OVER (ORDER BY text) AS ntok FROM forms")
        con.execute("DELETE FROM forms; INSERT INTO forms SELECT text, sig, ntok, tokens, form FROM shifted "
                    "WHERE form IS NOT NULL; DROP TABLE shifted")
        con.execute("UPDATE meta SET value = 'older rules' WHERE key = 'rules'")
    assert rules_version() != "older rules"
    assert _resolved(concepts, tmp_path, memo) == expected
    assert list(path.name for path in tmp_path.iterdir() if path.name.startswith("trialkg-criteria")) == []
