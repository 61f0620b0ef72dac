"""End to end through the build: symlinked folders and loops, UTF-16 XML, odd zip member names."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from kg.build import build
from kg.sources import sniff
from kg.store import open_store
from tests.conftest import DATA

XML = DATA / "ctgov-xml" / "aact-fixtures" / "NCT02028676.xml"
STUDY = DATA / "ctgov-json" / "single" / "NCT00465816.json"


def test_a_build_reads_symlinked_folders_and_reports_loops(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(XML, outside / "linked.xml")
    root = tmp_path / "inputs"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    report = build([root], open_store(None), resolve=False)
    assert report.records_loaded == 1
    assert any("not followed again" in issue.reason for issue in report.failures), report.failures


def test_a_utf16_xml_file_is_built(tmp_path: Path) -> None:
    path = tmp_path / "study.xml"
    path.write_bytes(XML.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
                     .encode("utf-16"))
    assert sniff(path).name == "ctgov-xml"
    assert build([path], open_store(None), resolve=False).records_loaded == 1


def test_a_zip_member_with_an_odd_name_is_read(tmp_path: Path) -> None:
    path = tmp_path / "studies.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("..\\..\\x.json", STUDY.read_bytes())
    report = build([path], open_store(None), resolve=False)
    assert report.records_loaded == 1, report.failures
