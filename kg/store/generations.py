"""Crash-safe store directories: build into a staging generation, then switch atomically.

A store directory holds numbered Oxigraph databases (``gen-000001``, ...) and a symlink
``active`` naming the one readers use. A build, holding the store's writer lock
(:class:`~kg.store.lock.StoreLock`) from start to end:

1. checkpoints the active generation into a new one (Oxigraph's ``backup`` hard-links
   the files, so this costs next to nothing whatever the store's size),
2. loads into the new generation,
3. flushes it, then replaces the ``active`` symlink with one rename (atomic on POSIX).

A ``kill -9`` at any point before step 3 leaves ``active`` on the previous generation,
untouched; the half-built one is removed by the next build. A reader opens whatever
``active`` names when it starts, and holds a shared lock on that generation, so it sees
the old graph or the new one, never half, and cleanup never removes what it reads. The
previous generation is kept too (for readers that do not lock, such as other tools).

Why the writer lock: without it two builds each removed the other's staging generation
as "abandoned" and both switched ``active``, corrupting the store; and a damaged ``active``
(naming a missing generation) made the next build treat the store as new and delete the
last good generation. Now a second writer waits or fails at once, and a dangling
``active`` is refused with the fix, never "repaired" by deleting.

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
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from kg.errors import StoreError
from kg.store.faults import fault
from kg.store.lock import GenerationHold, StoreLock, try_remove_generation
from kg.store.mention_tables import FILENAME as MENTIONS_FILE
from kg.store.mention_tables import FORMS_MEMO
from kg.store.oxigraph import OxigraphStore

ACTIVE = "active"
_GENERATION = re.compile(r"^gen-(\d{6})$")
_TEMPORARY_LINK = re.compile(rf"^\.{ACTIVE}\.\d+$")
_KEEP = 2  # the active generation and the one before it
_OPEN_ATTEMPTS = 5
_staging: set[str] = set()  # store roots this process is staging (the writer lock is reentrant; staging is not)


class HeldStore(OxigraphStore):
    """An Oxigraph store that releases a lock (writer or reader) when closed or collected."""

    def __init__(self, path: Path, *, read_only: bool, release: Callable[[], None]) -> None:
        try:
            super().__init__(path, read_only=read_only)
        except BaseException:
            release()
            raise
        self._release = weakref.finalize(self, release)
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            super().close()
        finally:
            self._release()


class _StagingStore(OxigraphStore):
    """The staging generation; each chunk loaded passes the ``load`` fault point (crash tests)."""

    def load_nquads(self, data: bytes) -> None:
        super().load_nquads(data)
        fault("load")


class StoreDirectory:
    """A store directory of Oxigraph generations with an atomically switched ``active`` link.

    ``wait`` (the CLI's ``--wait``) makes a writer wait for another writer instead of
    failing at once (None: the process default, :func:`kg.store.lock.set_default_wait`);
    ``timeout`` bounds the wait; ``on_wait(holder)`` is called once when a writer waits.
    """

    def __init__(self, root: Path | str, *, wait: bool | None = None, timeout: float | None = None,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.wait = wait
        self.timeout = timeout
        self.on_wait = on_wait

    def lock(self) -> StoreLock:
        """The writer lock of this store (not yet acquired)."""
        return StoreLock(self.root, wait=self.wait, timeout=self.timeout, on_wait=self.on_wait)

    def active(self) -> Path | None:
        """The active generation's directory, or None for a new store (or a dangling ``active``)."""
        link = self.root / ACTIVE
        if link.is_symlink() or link.exists():
            target = self.root / os.readlink(link) if link.is_symlink() else link
            return target if target.is_dir() else None
        return None

    def _checked_active(self) -> Path | None:
        """The active generation; a StoreError when ``active`` names one that is missing."""
        active = self.active()
        link = self.root / ACTIVE
        if active is None and (link.is_symlink() or link.exists()):
            named = os.readlink(link) if link.is_symlink() else link.name
            present = ", ".join(p.name for _, p in self._generations()) or "none"
            raise StoreError(
                f"the store is damaged: {ACTIVE} names {named}, which is missing (generations present: {present}); "
                f"point {link} at a complete generation (ln -sfn gen-NNNNNN {link}) or build into a new --store",
                source=str(self.root),
            )
        return active

    def open(self, *, read_only: bool = False) -> OxigraphStore:
        """The active generation.

        Read-only opens never block a running build and pin the generation they opened
        (cleanup skips it until the store is closed). A writable open writes in place and
        holds the writer lock until closed.
        """
        if read_only:
            return self._open_reader()
        self._make_root()
        lock = self.lock().acquire()
        try:
            active = self._checked_active()
            if active is None:
                with self.staging():
                    pass
                active = self.active()
                assert active is not None
        except BaseException:
            lock.release()
            raise
        return HeldStore(active, read_only=False, release=lock.release)

    def _open_reader(self) -> OxigraphStore:
        for _ in range(_OPEN_ATTEMPTS):  # a cleanup may remove what ``active`` named a moment ago
            active = self._checked_active()
            if active is None:
                raise StoreError(f"no store at {self.root}: run `kg build PATHS --store {self.root}` first")
            hold = GenerationHold(active)
            if hold.acquire():
                return HeldStore(active, read_only=True, release=hold.release)
        raise StoreError("the store keeps changing under this reader; try again", source=str(self.root))

    def _make_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _store_error(error, self.root) from None

    def _generations(self) -> list[tuple[int, Path]]:
        if not self.root.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.root.iterdir() if (m := _GENERATION.match(p.name))]
        return sorted(found)

    @contextmanager
    def staging(self) -> Iterator[OxigraphStore]:
        """A writable copy of the active generation that becomes active on success.

        The writer lock is held throughout: from choosing the new generation's number to
        removing the generations no longer needed.
        """
        self._make_root()
        key = os.path.realpath(self.root)
        if key in _staging:
            raise StoreError("this process is already building this store (a staging inside a staging)",
                             source=str(self.root))
        with self.lock():
            _staging.add(key)
            try:
                yield from self._stage()
            finally:
                _staging.discard(key)

    def _stage(self) -> Iterator[OxigraphStore]:
        active = self._checked_active()
        self._remove_abandoned(active)
        generations = self._generations()
        number = (generations[-1][0] + 1) if generations else 1
        target = self.root / f"gen-{number:06d}"
        try:
            if active is not None:
                ox.Store.read_only(str(active)).backup(str(target))
                _copy_beside(active, target)
            store = _StagingStore(target)
        except OSError as error:
            shutil.rmtree(target, ignore_errors=True)
            raise _store_error(error, self.root) from None
        fault("staged")
        try:
            yield store
            fault("loaded")
            store.flush()
        except BaseException:
            store.close()
            shutil.rmtree(target, ignore_errors=True)
            raise
        store.close()
        fault("flushed")
        self._switch(target)
        fault("switched")
        self._prune()

    def _switch(self, target: Path) -> None:
        temporary = self.root / f".{ACTIVE}.{os.getpid()}"
        try:
            if temporary.is_symlink():
                temporary.unlink()
            temporary.symlink_to(target.name)
            fault("before-rename")
            os.replace(temporary, self.root / ACTIVE)
            _fsync_directory(self.root)
        except OSError as error:
            raise _store_error(error, self.root) from None

    def _remove_abandoned(self, active: Path | None) -> None:
        """Generations newer than the active one are leftovers of interrupted builds.

        Called under the writer lock, so no other build is staging; a store whose
        ``active`` dangles never gets here (:meth:`_checked_active` refuses it).
        """
        active_number = int(active.name[4:]) if active is not None and _GENERATION.match(active.name) else 0
        for number, path in self._generations():
            if number > active_number:
                try_remove_generation(path)
        for leftover in self.root.iterdir():  # temporary links of switches killed before the rename
            if _TEMPORARY_LINK.match(leftover.name) and leftover.is_symlink():
                leftover.unlink(missing_ok=True)

    def _prune(self) -> None:
        """Remove old generations: never the active one, the one before it, or one a reader holds."""
        active = self.active()
        for _, path in self._generations()[:-_KEEP]:
            if active is not None and path.name == active.name:
                continue
            try_remove_generation(path)
            fault("prune")


def _copy_beside(active: Path, target: Path) -> None:
    """The files the store keeps beside Oxigraph's (the mention tables, the criterion forms), into the new generation.

    Why: Oxigraph's backup copies only its own database; without this, a sync or a second
    build started from empty mention tables, so resolution fell back to reading the store.
    """
    for name in (MENTIONS_FILE, MENTIONS_FILE + ".wal", FORMS_MEMO, FORMS_MEMO + ".wal"):
        if (active / name).is_file():
            shutil.copy2(active / name, target / name)


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
