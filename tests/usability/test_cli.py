"""The command line as a new user meets it: limits, readable tables, progress, timings, error lines."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DATA, run_kg


def test_query_limit_caps_the_rows(cli_store: Path) -> None:
    result = run_kg("query", "shared-exclusion-criteria", "--format", "csv", "--limit", "0", "--store", str(cli_store))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["trial1,trial2,shared"]
    everything = run_kg("query", "--all", "--store", str(cli_store), "--no-progress")
    limited = run_kg("query", "--all", "--limit", "1", "--store", str(cli_store), "--no-progress")
    assert limited.returncode == 0, limited.stderr
    counts = [int(n) for n in re.findall(r"^\((\d+) rows?", limited.stdout, re.MULTILINE)]
    assert counts and max(counts) <= 1
    assert len(limited.stdout.splitlines()) < len(everything.stdout.splitlines())
    assert "(more rows not shown: --limit 1)" in limited.stdout  # class-counts has more than 1 row


def test_tables_never_cut_an_iri(cli_store: Path) -> None:
    result = run_kg("query", "shared-principal-investigator", "--store", str(cli_store), env=_narrow())
    assert result.returncode == 0, result.stderr
    assert "res:person/jianming-tan" in result.stdout
    assert "…" not in result.stdout and "..." not in result.stdout
    assert "prefixes: res: <https://w3id.org/trialkg/resource/>" in result.stdout


def _narrow() -> dict[str, str]:
    import os

    return {**os.environ, "COLUMNS": "60"}


@pytest.mark.parametrize(("args", "line"), [
    (("query", "missing.rq"), "kg: error: file not found: missing.rq"),
    (("query", "trial-summary", "--param", "nct=XYZ"),
     "kg: error: --param nct=XYZ: not an NCT id (NCT and 8 digits, e.g. NCT01374854)"),
])
def test_error_lines(cli_store: Path, args: tuple[str, ...], line: str) -> None:
    result = run_kg(*args, "--store", str(cli_store))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [line]


def test_a_zip_build_shows_its_total_and_times_every_stage(tmp_path: Path) -> None:
    archive = tmp_path / "ctg-studies.json.zip"
    studies = sorted((DATA / "ctgov-json" / "single").glob("*.json"))
    with zipfile.ZipFile(archive, "w") as out:
        for study in studies:
            out.write(study, study.name)
    result = run_kg("build", str(archive), "--store", str(tmp_path / "store"), "--progress")
    assert result.returncode == 0, result.stderr
    total = len(studies)
    assert re.search(rf"\b{total}/{total}\b", result.stderr), result.stderr  # the bar knew the total
    assert "LinkReport(" not in result.stderr and "seconds=" not in result.stderr  # no raw reprs
    timing = [line for line in result.stderr.splitlines() if line.startswith("time: ")][-1]
    for stage in ("read and parse", "load", "resolution", "authorship"):
        assert re.search(rf"{stage} \d+\.\d s", timing), timing
    stated, *parts = (float(n) for n in re.findall(r"(\d+\.\d) s", timing))
    assert abs(stated - sum(parts)) <= 0.05 * len(parts)  # the stages add up to the total


def test_export_shows_its_total(cli_store: Path, tmp_path: Path) -> None:
    result = run_kg("export", "--format", "jsonld", "--store", str(cli_store), "-o", str(tmp_path / "g.jsonld"),
                    "--progress")
    assert result.returncode == 0, result.stderr
    counted = re.findall(r"(\d+)/(\d+) \[", result.stderr)
    assert counted and counted[-1][0] == counted[-1][1] and int(counted[-1][1]) > 1000, result.stderr


def test_long_single_steps_show_that_they_are_running(cli_store: Path) -> None:
    validated = run_kg("validate", "--store", str(cli_store), "--progress")
    assert "validating (pySHACL): 00:" in validated.stderr, validated.stderr
    assert run_kg("query", "--all", "--limit", "1", "--store", str(cli_store), "--no-progress").stderr == ""
    shown = run_kg("query", "--all", "--limit", "1", "--store", str(cli_store), "--progress")
    assert re.search(r"queries: 100%.*\b(\d+)/\1\b", shown.stderr.replace("\r", "\n")), shown.stderr


def test_query_all_runs_a_pair_query_as_its_ranked_form(cli_store: Path) -> None:
    """A registry-wide pair list grows with the square of hub sizes: --all shows each pair question's top pairs."""
    result = run_kg("query", "--all", "--store", str(cli_store), "--no-progress")
    assert result.returncode == 0, result.stderr
    ran = set(re.findall(r"^== ([\w-]+):", result.stdout, re.MULTILINE))
    canned = {path.stem for path in (Path(__file__).resolve().parents[2] / "queries").glob("*.rq")}
    ranked = {name for name in canned if name.endswith("-ranked")}
    assert ranked and ranked <= ran
    assert not {name.removesuffix("-ranked") for name in ranked} & ran
    assert ran == canned - {name.removesuffix("-ranked") for name in ranked}
    assert "(every pair: kg query shared-site)" in result.stdout
