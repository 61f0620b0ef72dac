"""Every path given or found is read or reported: the input walk behind ``kg build`` and ``kg sync``.

Why: ``Path.rglob`` skipped a symlinked subfolder and an unreadable (chmod 000) one
without a word, and a zip member named ``..\\..\\x.json`` was dropped as "hidden"; the
studies in them were simply not there. This walk yields each file to read, in the order
``iter_input_files`` gave (named paths in order, the files below a folder sorted), and a
:class:`~kg.errors.SourceError` for each path it cannot read:

* a folder that cannot be listed (permissions, I/O error);
* a symbolic link to a folder is followed once; a link back into a folder already walked
  (a loop, or the same folder twice) is reported and not followed again;
* a broken symbolic link, and a pipe, socket or device found in a folder (reading a pipe
  would hang the build);
* a named path that does not exist.

Hidden files and folders (``.git``, ``.DS_Store``) and notes (README, LICENSE, ``*.md``)
inside folders are still skipped, but counted: :meth:`InputWalk.summary` gives the line a
build prints. A file named explicitly is always read.

:func:`member_is_skipped` is the same rule for zip members: folders and what archivers add
(``__MACOSX/``, ``.DS_Store``, ``._x``) are skipped; any other name, ``..\\..\\x.json``
included, is read (members are never extracted to disk, so such a name is only a label).

Example:
    >>> walk = InputWalk([Path("examples")])
    >>> [p.name for p in walk if isinstance(p, Path)][:1], walk.summary()
    (['000_df29306579c496cc.txt'], 'skipped 1 note (README.md)')
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from kg.errors import SourceError

__all__ = ["InputWalk", "is_note", "member_is_skipped"]

_NOTES = ("readme", "license", "licence", "changelog")
_ARCHIVER_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def is_note(path: Path) -> bool:
    """Documentation that download folders carry (README.md, LICENSE): not records."""
    return path.name.lower().startswith(_NOTES) or path.suffix.lower() in {".md", ".rst"}


def member_is_skipped(name: str) -> bool:
    """Zip members with no study to report: folders, ``__MACOSX/`` and hidden names.

    Both separators count (archives made on Windows use ``\\``); ``.`` and ``..`` are path
    steps, not hidden names.
    """
    if name.endswith(("/", "\\")):
        return True
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    if not parts:
        return True
    if parts[0] == "__MACOSX" or parts[-1].lower() in _ARCHIVER_FILES:
        return True
    return any(part.startswith(".") for part in parts)


class InputWalk:
    """The files below the paths given, and a SourceError for each path that cannot be read.

    Iterate once; then :attr:`hidden` and :attr:`notes` list what was skipped on purpose.
    """

    def __init__(self, paths: Iterable[Path | str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.hidden: list[Path] = []
        self.notes: list[Path] = []

    def __iter__(self) -> Iterator[Path | SourceError]:
        for path in self.paths:
            if path.is_symlink() and not path.exists():
                yield SourceError(f"broken symbolic link (to {os.readlink(path)})", source=str(path))
            elif path.is_dir():
                found: list[tuple[Path, Path | SourceError]] = []
                self._folder(path, path, {_identity(path)}, found)
                for _, item in sorted(found, key=lambda pair: pair[0]):
                    yield item
            elif path.exists():
                yield path
            else:
                yield SourceError("no such file or folder", source=str(path))

    def _folder(self, root: Path, folder: Path, seen: set[tuple[int, int]],
                found: list[tuple[Path, Path | SourceError]]) -> None:
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            found.append((folder, SourceError(f"cannot read folder: {error.strerror or error}", source=str(folder))))
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                self.hidden.append(path)
                continue
            try:
                info = os.stat(path)  # follows links
            except OSError as error:
                reason = f"broken symbolic link (to {_link(path)})" if entry.is_symlink() else (
                    f"cannot read: {error.strerror or error}")
                found.append((path, SourceError(reason, source=str(path))))
                continue
            if stat.S_ISDIR(info.st_mode):
                identity = (info.st_dev, info.st_ino)
                if identity in seen:
                    reason = (f"symbolic link to {_link(path)}, a folder already read: not followed again (a loop?)"
                              if entry.is_symlink() else "folder already read through a symbolic link: not read again")
                    found.append((path, SourceError(reason, source=str(path))))
                    continue
                seen.add(identity)
                self._folder(root, path, seen, found)
            elif stat.S_ISREG(info.st_mode):
                if is_note(path):
                    self.notes.append(path)
                else:
                    found.append((path, path))
            else:
                found.append((path, SourceError("not a regular file (a pipe, socket or device): not read",
                                                 source=str(path))))

    def summary(self) -> str:
        """``skipped 2 hidden files or folders and 1 note (README.md)``, or ``""``."""
        parts = []
        if self.hidden:
            parts.append(f"{len(self.hidden)} hidden file{'s' if len(self.hidden) != 1 else ''} or folder"
                         f"{'s' if len(self.hidden) != 1 else ''}")
        if self.notes:
            names = ", ".join(sorted({p.name for p in self.notes})[:3])
            parts.append(f"{len(self.notes)} note{'s' if len(self.notes) != 1 else ''} ({names})")
        return f"skipped {' and '.join(parts)}" if parts else ""


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _link(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return str(path.resolve())
