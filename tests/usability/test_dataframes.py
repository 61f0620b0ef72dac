"""Query results as DataFrames: typed by the literal datatypes in the library, and through CSV."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from kg import build, open_store
from kg.queries import get_query
from kg.store.base import Store
from kg.store.results import ResultTable, Term
from tests.conftest import DATA, run_kg

XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def sample_store() -> Store:
    store = open_store(None)
    build([DATA / "ctgov-json"], store)
    return store


def test_trial_summary_numbers_are_numbers(seed_store: Store) -> None:
    frame = seed_store.select(get_query("trial-summary").bind()).to_pandas()
    assert str(frame["enrollment"].dtype) == "Int64"
    assert frame["enrollment"].tolist() == [44, 22]
    assert frame["enrollment"].sum() == 66
    assert frame["trial"].tolist() == ["NCT01374854", "NCT01719640"]
    assert pd.api.types.is_object_dtype(frame["title"])


def test_dates_booleans_and_counts(sample_store: Store) -> None:
    frame = sample_store.select(get_query("unpublished-completed-trials").bind()).to_pandas()
    assert len(frame) > 10
    assert pd.api.types.is_datetime64_any_dtype(frame["completion_date"])
    assert str(frame["results_posted"].dtype) == "boolean"
    assert str(frame["background_references"].dtype) == "Int64"
    # a month-precision date (xsd:gYearMonth) stands for the month's first day
    assert (frame["completion_date"].dt.year > 1990).all()


def test_decimals_are_floats_and_iris_stay_whole_strings(sample_store: Store) -> None:
    frame = sample_store.select(get_query("trials-excluding-above").bind()).to_pandas()
    assert str(frame["threshold"].dtype) == "float64"
    people = sample_store.select(get_query("shared-principal-investigator").bind()).to_pandas()
    assert people["investigator"].str.startswith("https://w3id.org/trialkg/resource/person/").all()


def _term(value: str, datatype: str = XSD + "string") -> Term:
    return Term("literal", value, datatype)


def test_column_types_follow_the_datatypes_and_fall_back_to_strings() -> None:
    table = ResultTable(
        ["n", "mixed", "bad", "when", "flag", "x", "iri", "lang"],
        [
            (_term("3", XSD + "integer"), _term("1", XSD + "integer"), _term("abc", XSD + "integer"),
             _term("2024-01-02T03:04:05Z", XSD + "dateTime"), _term("true", XSD + "boolean"),
             _term("1.5", XSD + "decimal"), Term("uri", "https://clinicaltrials.gov/study/NCT01374854"),
             Term("literal", "Diabetes", None, "en")),
            (None, _term("one"), _term("2", XSD + "integer"), _term("2024-01-03T00:00:00+01:00", XSD + "dateTime"),
             _term("0", XSD + "boolean"), _term("2", XSD + "integer"), None, None),
        ],
    )
    frame = table.to_pandas()
    assert str(frame["n"].dtype) == "Int64" and frame["n"].isna().tolist() == [False, True]
    assert frame["mixed"].tolist() == ["1", "one"]  # a number and a word: strings
    assert frame["bad"].tolist() == ["abc", "2"]  # a lexical form its datatype rejects: strings
    assert str(frame["when"].dtype).startswith("datetime64") and str(frame["when"].dt.tz) == "UTC"
    assert frame["when"].dt.hour.tolist() == [3, 23]
    assert frame["flag"].tolist() == [True, False]
    assert str(frame["x"].dtype) == "float64" and frame["x"].tolist() == [1.5, 2.0]
    assert frame["iri"].tolist()[0] == "https://clinicaltrials.gov/study/NCT01374854"
    assert frame["lang"].tolist()[0] == "Diabetes"
    assert table.typed_records()[0]["n"] == 3 and table.typed_records()[1]["flag"] is False


def test_csv_from_the_command_line_reads_into_pandas(cli_store: Path) -> None:
    result = run_kg("query", "trial-summary", "--format", "csv", "--store", str(cli_store))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame["enrollment"].tolist() == [44, 22]
    assert pd.api.types.is_integer_dtype(frame["enrollment"])
