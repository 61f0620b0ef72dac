"""Every path given or found is read or reported: links, loops, unreadable folders, odd names, UTF-16."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kg.errors import SourceError
from kg.sources import iter_input_files
from kg.sources.base import RawRecord
from kg.sources.ctgov_xml import parse_ctgov_xml, sniff_ctgov_xml
from kg.sources.text_head import bom_encoding, looks_binary, utf8_head
from kg.sources.walk import InputWalk, member_is_skipped
from tests.conftest import DATA, EXAMPLES

XML = DATA / "ctgov-xml" / "aact-fixtures" / "NCT02028676.xml"


def _walk(*paths: Path) -> tuple[list[Path], list[SourceError], InputWalk]:
    walk = InputWalk(paths)
    items = list(walk)
    return ([i for i in items if isinstance(i, Path)], [i for i in items if isinstance(i, SourceError)], walk)


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "inputs"
    (root / "sub").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    shutil.copy(XML, root / "sub" / "a.xml")
    shutil.copy(XML, root / "b.xml")
    return root


def test_same_files_as_before_for_ordinary_folders() -> None:
    for folder in (EXAMPLES, DATA):
        files, errors, _ = _walk(folder)
        assert files == list(iter_input_files([folder])) and not errors


def test_a_symlinked_folder_is_read_once(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(XML, outside / "linked.xml")
    root = _tree(tmp_path)
    (root / "link").symlink_to(outside, target_is_directory=True)
    files, errors, _ = _walk(root)
    assert root / "link" / "linked.xml" in files and not errors


def test_a_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    files, errors, _ = _walk(root)
    assert sorted(f.name for f in files) == ["a.xml", "b.xml"]
    assert len(errors) == 1 and "not followed again" in errors[0].message and errors[0].source.endswith("loop")


def test_an_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    locked = root / "locked"
    locked.mkdir()
    shutil.copy(XML, locked / "c.xml")
    if os.geteuid() != 0:
        locked.chmod(0)
    else:  # root reads anything: make the listing fail as chmod 000 does for everyone else
        real_scandir = os.scandir

        def scandir(path: os.PathLike[str] | str) -> object:
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        files, errors, _ = _walk(root)
    finally:
        locked.chmod(0o755)
    assert sorted(f.name for f in files) == ["a.xml", "b.xml"]
    assert [(e.source, e.message) for e in errors] == [(str(locked), "cannot read folder: Permission denied")]


def test_broken_links_and_pipes_are_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "gone.json").symlink_to(tmp_path / "nowhere.json")
    os.mkfifo(root / "pipe.json")
    files, errors, _ = _walk(root, tmp_path / "missing.json")
    assert len(files) == 2
    messages = {Path(e.source or "").name: e.message for e in errors}
    assert "broken symbolic link" in messages["gone.json"]
    assert "not a regular file" in messages["pipe.json"]
    assert messages["missing.json"] == "no such file or folder"


def test_hidden_files_and_notes_are_skipped_but_counted(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / ".DS_Store").write_bytes(b"x")
    (root / ".git").mkdir()
    (root / "README.md").write_text("notes")
    (root / "LICENSE").write_text("MIT")
    files, errors, walk = _walk(root, root / ".DS_Store")
    assert root / ".DS_Store" in files  # named explicitly: read
    assert walk.summary() == "skipped 2 hidden files or folders and 2 notes (LICENSE, README.md)"
    assert not errors


@pytest.mark.parametrize(("name", "skipped"), [
    ("..\\..\\x.json", False), ("../../x.json", False), ("studies/NCT01.json", False), ("x.json", False),
    (".DS_Store", True), ("__MACOSX/._x.json", True), ("folder/", True), ("a/.hidden/x.json", True),
    ("a\\.hidden\\x.json", True), ("Thumbs.db", True), ("._x.json", True),
])
def test_zip_member_names(name: str, skipped: bool) -> None:
    assert member_is_skipped(name) is skipped


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_xml_with_a_bom_is_sniffed_and_parsed(encoding: str) -> None:
    text = XML.read_text(encoding="utf-8").replace('encoding="UTF-8"', f'encoding="{encoding.upper()[:6]}"', 1)
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    data = bom + text.encode(encoding)
    assert bom_encoding(data) is not None and not looks_binary(data)
    assert sniff_ctgov_xml(Path("x.xml"), utf8_head(data[:65536]))
    parsed = parse_ctgov_xml(RawRecord("ctgov-xml", "x.xml", "x.xml", data))
    assert parsed.trial.nct_id == "NCT02028676"  # type: ignore[attr-defined]


def test_binary_is_still_binary() -> None:
    assert looks_binary(bytes(range(256)) * 16) and not looks_binary(b"PK\x03\x04\x00")
