"""End to end through ``kg build``: the cases whose modules exist but are wired in after the layout change.

Each is a strict xfail while the pipeline still uses the old piece (``iter_input_files``,
the byte-pattern XML sniffer, the "hidden" zip member rule); once wired it passes, and the
strict marker turns the pass into a failure until the marker is removed.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from kg.build import build
from kg.sources import sniff
from kg.store import open_store
from tests.conftest import DATA

XML = DATA / "ctgov-xml" / "aact-fixtures" / "NCT02028676.xml"
STUDY = DATA / "ctgov-json" / "single" / "NCT00465816.json"


def _wired(module: str, name: str) -> bool:
    import importlib

    try:
        return name in vars(importlib.import_module(module))
    except ModuleNotFoundError:
        return False


@pytest.mark.xfail(not _wired("kg.build", "InputWalk") and not _wired("kg.pipeline", "InputWalk"), strict=True,
                   reason="the build still lists inputs with iter_input_files")
def test_a_build_reads_symlinked_folders_and_reports_loops(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(XML, outside / "linked.xml")
    root = tmp_path / "inputs"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    report = build([root], open_store(None))
    assert report.records_loaded == 1
    assert any("not followed again" in issue.reason for issue in report.failures), report.failures


@pytest.mark.xfail(not _wired("kg.sources", "utf8_head") and not _wired("kg.sources.ctgov_xml", "utf8_head"),
                   strict=True, reason="the XML sniffer still matches UTF-8 byte patterns only")
def test_a_utf16_xml_file_is_built(tmp_path: Path) -> None:
    path = tmp_path / "study.xml"
    path.write_bytes(XML.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
                     .encode("utf-16"))
    assert sniff(path).name == "ctgov-xml"
    assert build([path], open_store(None)).records_loaded == 1


@pytest.mark.xfail(not _wired("kg.sources.ctgov_json", "member_is_skipped")
                   and not _wired("kg.sources.zipwalk", "member_is_skipped"),
                   strict=True, reason="zip members starting with '.' are still dropped as hidden")
def test_a_zip_member_with_an_odd_name_is_read(tmp_path: Path) -> None:
    path = tmp_path / "studies.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("..\\..\\x.json", STUDY.read_bytes())
    report = build([path], open_store(None))
    assert report.records_loaded == 1, report.failures
