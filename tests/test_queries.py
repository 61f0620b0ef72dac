"""Canned queries: the answers the seeds must give, and plain SPARQL 1.1 on two engines."""

from __future__ import annotations

import io
import re

import pytest

from kg import build, open_store
from kg.errors import QueryError
from kg.queries import get_query, list_queries
from kg.store.base import Store
from kg.store.rdflib_store import RdflibStore
from kg.store.results import ResultTable
from tests.conftest import DATA, EXAMPLES

REQUIRED = {"shared-principal-investigator", "shared-exclusion-criteria", "shared-sponsor", "shared-site",
            "trial-summary", "trial-publications"}


def test_required_queries_exist_with_headers() -> None:
    queries = {q.name: q for q in list_queries()}
    assert set(queries) >= REQUIRED
    for query in queries.values():
        assert query.title and query.columns, query.name
        assert query.description or query.name == "class-counts"


def test_shared_principal_investigator(seed_store: Store) -> None:
    rows = seed_store.select(get_query("shared-principal-investigator").bind()).records()
    assert [(r["trial1"], r["trial2"], r["name"]) for r in rows] == [("NCT01374854", "NCT01719640", "Jianming Tan")]


def test_shared_exclusion_criteria(seed_store: Store) -> None:
    rows = seed_store.select(get_query("shared-exclusion-criteria").bind()).records()
    assert len(rows) == 1
    assert (rows[0]["trial1"], rows[0]["trial2"]) == ("NCT01374854", "NCT01719640")
    assert int(rows[0]["shared"] or 0) >= 24


def test_trial_summary_has_one_row_per_trial(seed_store: Store) -> None:
    rows = seed_store.select(get_query("trial-summary").bind()).records()
    assert [(r["trial"], r["status"], r["phases"], r["enrollment"], r["sponsor"], r["principal_investigators"])
            for r in rows] == [
        ("NCT01374854", "UNKNOWN", "PHASE1/PHASE2", "44", "Fuzhou General Hospital", "Jianming Tan"),
        ("NCT01719640", "COMPLETED", "PHASE1/PHASE2", "22", None, "Jianming Tan"),
    ]


def test_parameters_restrict_and_are_checked(seed_store: Store) -> None:
    query = get_query("trial-publications")
    rows = seed_store.select(query.bind({"nct": "NCT01719640"})).values()
    assert rows == []
    rows = seed_store.select(query.bind({"nct": "NCT01374854"})).records()
    assert sorted(r["pmid"] for r in rows) == ["26628416", "35086778"]
    assert {r["link"] for r in rows} == {"derived"}
    with pytest.raises(QueryError, match="no parameter"):
        query.bind({"bogus": "1"})
    with pytest.raises(QueryError, match="no canned query"):
        get_query("no-such-query")


def _comparable(table: ResultTable, list_columns: set[str]) -> list[tuple[object, ...]]:
    """Rows with "; "-joined list columns compared as sets (GROUP_CONCAT order is engine-defined)."""
    out = []
    for row in table.records():
        out.append(tuple(frozenset((v or "").split("; ")) if k in list_columns else v for k, v in row.items()))
    return sorted(out, key=repr)


@pytest.fixture(scope="module")
def resolved_sample() -> Store:
    """The seeds and 20 legacy XML studies, built as users build them: resolved, authors linked.

    Small enough for rdflib to answer every query in seconds, large enough that every canned
    query has rows (shared sites and sponsors need more than the two seeds).
    """
    store = open_store(None)
    xml = sorted((DATA / "ctgov-xml" / "aact-search-2016").glob("*.xml"))[:20]
    report = build([EXAMPLES, *xml], store)
    assert report.records_loaded == 22 and "resolution" in report.stage_seconds
    return store


@pytest.mark.parametrize("name", sorted(q.name for q in list_queries()))
def test_each_query_gives_the_same_rows_on_rdflib_and_oxigraph(resolved_sample: Store, name: str) -> None:
    reference = RdflibStore()
    buffer = io.BytesIO()
    resolved_sample.dump(buffer, "nquads")
    reference.load_nquads(buffer.getvalue())
    query = get_query(name)
    list_columns = set(re.findall(r"(\w+) \(\"; \"-joined", query.columns))
    oxigraph_rows = resolved_sample.select(query.bind())
    rdflib_rows = reference.select(query.bind())
    assert oxigraph_rows.variables == rdflib_rows.variables
    assert _comparable(oxigraph_rows, list_columns) == _comparable(rdflib_rows, list_columns)
    assert oxigraph_rows.rows, f"{name} answers nothing on a resolved store"
