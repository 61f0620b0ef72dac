"""Crash-safe store directories: build into a staging generation, then switch atomically.

A store directory holds numbered Oxigraph databases (``gen-000001``, ...) and a symlink
``active`` naming the one readers use. A build:

1. checkpoints the active generation into a new one (Oxigraph's ``backup`` hard-links
   the files, so this costs next to nothing whatever the store's size),
2. loads into the new generation,
3. flushes it, then replaces the ``active`` symlink with one rename (atomic on POSIX).

A ``kill -9`` at any point before step 3 leaves ``active`` on the previous generation,
untouched; the half-built one is removed by the next build. A reader opens whatever
``active`` names when it starts, so it sees the old graph or the new one, never half.
The previous generation is kept until the build after next, so a reader that opened it
just before a switch keeps working.

Example:
    >>> import tempfile, pathlib
    >>> root = StoreDirectory(pathlib.Path(tempfile.mkdtemp()) / "kg-store")
    >>> with root.staging() as store:
    ...     store.load_nquads(b'<urn:s> <urn:p> "o" <urn:g> .\\n')
    >>> len(root.open(read_only=True))
    1
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from kg.errors import StoreError
from kg.store.oxigraph import OxigraphStore

ACTIVE = "active"
_GENERATION = re.compile(r"^gen-(\d{6})$")
_KEEP = 2  # the active generation and the one before it


class StoreDirectory:
    """A store directory of Oxigraph generations with an atomically switched ``active`` link."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def active(self) -> Path | None:
        """The active generation's directory, or None for a new store."""
        link = self.root / ACTIVE
        if link.is_symlink() or link.exists():
            target = self.root / os.readlink(link) if link.is_symlink() else link
            return target if target.is_dir() else None
        return None

    def open(self, *, read_only: bool = False) -> OxigraphStore:
        """The active generation (read-only opens never block a running build)."""
        active = self.active()
        if active is None:
            if read_only:
                raise StoreError(f"no store at {self.root}: run `kg build PATHS --store {self.root}` first")
            with self.staging():
                pass
            active = self.active()
            assert active is not None
        return OxigraphStore(active, read_only=read_only)

    def _generations(self) -> list[tuple[int, Path]]:
        if not self.root.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.root.iterdir() if (m := _GENERATION.match(p.name))]
        return sorted(found)

    @contextmanager
    def staging(self) -> Iterator[OxigraphStore]:
        """A writable copy of the active generation that becomes active on success."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _store_error(error, self.root) from None
        active = self.active()
        self._remove_abandoned(active)
        number = (self._generations()[-1][0] + 1) if self._generations() else 1
        target = self.root / f"gen-{number:06d}"
        try:
            if active is not None:
                ox.Store.read_only(str(active)).backup(str(target))
            store = OxigraphStore(target)
        except OSError as error:
            shutil.rmtree(target, ignore_errors=True)
            raise _store_error(error, self.root) from None
        try:
            yield store
            store.flush()
        except BaseException:
            store.close()
            shutil.rmtree(target, ignore_errors=True)
            raise
        store.close()
        self._switch(target)
        self._prune()

    def _switch(self, target: Path) -> None:
        temporary = self.root / f".{ACTIVE}.{os.getpid()}"
        try:
            if temporary.is_symlink():
                temporary.unlink()
            temporary.symlink_to(target.name)
            os.replace(temporary, self.root / ACTIVE)
            _fsync_directory(self.root)
        except OSError as error:
            raise _store_error(error, self.root) from None

    def _remove_abandoned(self, active: Path | None) -> None:
        """Generations newer than the active one are leftovers of interrupted builds."""
        active_number = int(active.name[4:]) if active is not None and _GENERATION.match(active.name) else 0
        for number, path in self._generations():
            if number > active_number:
                shutil.rmtree(path, ignore_errors=True)

    def _prune(self) -> None:
        for _, path in self._generations()[:-_KEEP]:
            shutil.rmtree(path, ignore_errors=True)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _store_error(error: OSError, root: Path) -> StoreError:
    """A clear message for the errors people meet: full disk, no permission."""
    if error.errno == errno.ENOSPC:
        return StoreError("the disk is full: free space or choose another --store", source=str(root))
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError("no permission to write here: choose another --store", source=str(root))
    return StoreError(f"cannot write the store: {error.strerror or error}", source=str(root))
