"""Bad input: one clear line naming the file, no traceback, the other files still build."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import CLASSIC_SEED, MODERN_SEED, run_kg


def _bad_inputs(folder: Path) -> dict[str, Path]:
    files = {
        "unrecognised": folder / "notes.txt",
        "empty": folder / "empty.txt",
        "binary": folder / "image.bin",
        "no-nct": folder / "page-without-id.txt",
    }
    files["unrecognised"].write_text("Shopping list\n\n- milk\n- eggs\n", encoding="utf-8")
    files["empty"].write_bytes(b"")
    files["binary"].write_bytes(bytes(range(256)) * 16)
    # A modern page whose NCT line is damaged: no trial id, so no layout claims it.
    text = MODERN_SEED.read_text(encoding="utf-8").replace("NCT ID: NCT01374854", "NCT ID: NCT0137")
    files["no-nct"].write_text(text, encoding="utf-8")
    return files


def test_each_bad_file_gets_one_clear_line_and_good_files_still_build(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    bad = _bad_inputs(inputs)
    shutil.copy(MODERN_SEED, inputs / "good-modern.txt")
    # A classic page with its sections cut away (criteria, arms, locations): warnings, not failure.
    lines = CLASSIC_SEED.read_text(encoding="utf-8").splitlines()
    (inputs / "partial-classic.txt").write_text("\n".join(lines[:30]) + "\n", encoding="utf-8")
    result = run_kg("build", str(inputs), "--store", str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    for name, path in bad.items():
        matching = [line for line in error_lines if str(path) in line]
        assert len(matching) == 1, (name, result.stderr)
    assert any("empty file" in line for line in error_lines)
    assert any("binary" in line for line in error_lines)
    assert any("unrecognised format" in line for line in error_lines)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any("partial-classic.txt" in w and "missing section" in w for w in warnings)
    assert "2 loaded" in result.stderr and "4 failed" in result.stderr
    summary = run_kg("query", "trial-summary", "--store", str(tmp_path / "store"), "--format", "csv")
    assert summary.returncode == 0
    assert "NCT01374854" in summary.stdout and "NCT01719640" in summary.stdout


def test_nothing_readable_exits_non_zero(tmp_path: Path) -> None:
    bad = _bad_inputs(tmp_path)
    result = run_kg("build", *[str(p) for p in bad.values()], "--store", str(tmp_path / "store"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nothing could be loaded" in result.stderr


def test_missing_path_and_missing_store_are_clear(tmp_path: Path) -> None:
    result = run_kg("build", str(tmp_path / "nope.json"), "--store", str(tmp_path / "store"))
    assert result.returncode != 0 and "no such file" in result.stderr and "Traceback" not in result.stderr
    result = run_kg("query", "trial-summary", "--store", str(tmp_path / "absent"))
    assert result.returncode != 0 and "no store" in result.stderr and "Traceback" not in result.stderr


def test_strict_stops_on_the_first_failure(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    shutil.copy(MODERN_SEED, tmp_path / "good.txt")
    result = run_kg("build", str(tmp_path / "empty.txt"), str(tmp_path / "good.txt"), "--strict",
                    "--store", str(tmp_path / "store"))
    assert result.returncode != 0 and "empty file" in result.stderr and "Traceback" not in result.stderr
