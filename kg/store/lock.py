"""Advisory locks on a store directory: one writer at a time, and readers pin their generation.

Why: two ``kg build`` runs on one store each staged a generation, each removed the other's
as "abandoned", and both switched ``active``: the store ended with an Oxigraph database
missing files, or ``active`` naming a generation the other build had deleted. Every writer
(build, sync, resolve, serve with updates) therefore holds :class:`StoreLock`, an exclusive
``flock`` on ``STORE/.writer.lock``; a second writer waits (``wait=True``, the CLI's
``--wait``) or fails at once with a :class:`~kg.errors.StoreError` naming the store and the
holder's pid and command. The kernel drops the lock when its holder dies, even by
``kill -9``, so a crash never leaves a store locked.

Readers take a shared lock on the generation directory they opened (:class:`GenerationHold`);
cleanup asks :func:`try_remove_generation`, which removes a generation only when it can take
the exclusive lock, so a generation a reader holds is never deleted under it.

Locks are per process and reentrant within it (a resolve inside a locked build does not
deadlock on itself). Forked children (the build's worker pool) close their copies of the
lock descriptors, so a worker that outlives a killed parent does not keep the store locked.
Without ``fcntl`` (Windows) the writer lock falls back to the ``filelock`` package and
reader holds are no-ops.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with StoreLock(root):
    ...     StoreLock(root).holder() is not None
    True
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from kg.errors import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".writer.lock"
_POLL_SECONDS = 0.05
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MAX_COMMAND = 200

_guard = threading.Lock()
# What a StoreLock does when another process writes, unless told: the CLI's ``--wait`` sets it.
_default_wait: list[Any] = [False, None]
_held: dict[str, _Held] = {}  # realpath of a store root -> this process's hold on it


class _Held:
    """This process's descriptor holding a store's writer lock, and how many holds share it."""

    def __init__(self, descriptor: int | None, fallback: Any = None) -> None:
        self.descriptor = descriptor
        self.fallback = fallback
        self.count = 1


def _after_fork_in_child() -> None:
    """A forked worker must not keep its parent's locks alive: drop its copies of the descriptors."""
    for held in _held.values():
        if held.descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(held.descriptor)
    _held.clear()
    for hold in list(GenerationHold._open):
        hold._forget()


def _command() -> str:
    """What the holder runs, one line: ``kg build data/ --store kg-store``."""
    argv = list(sys.argv) or ["python"]
    name = Path(argv[0]).name
    if name in ("__main__.py", "-m", "-c") or name.startswith("python"):
        name = "kg"
    text = " ".join([name, *argv[1:]])
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= _MAX_COMMAND else text[: _MAX_COMMAND - 3] + "..."


class StoreLock:
    """The exclusive writer lock of one store directory (a context manager).

    ``wait=False`` fails at once when another process writes; ``wait=True`` waits (up to
    ``timeout`` seconds when given), calling ``on_wait(holder)`` once so a CLI can say why
    it pauses. ``wait=None`` takes the process default (:func:`set_default_wait`).
    """

    def __init__(
        self,
        root: Path | str,
        *,
        wait: bool | None = None,
        timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self.wait = _default_wait[0] if wait is None else wait
        self.timeout = timeout
        self.on_wait = on_wait if on_wait is not None else _default_wait[1]
        self._acquired = False

    def _key(self) -> str:
        return os.path.realpath(self.root)

    def holder(self) -> str | None:
        """``pid 1234 (kg build x --store s)`` as the holder wrote it, or None when unknown."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        pid, _, command = text.partition(" ")
        if not pid.isdigit():
            return None
        return f"pid {pid} ({_CONTROL.sub(' ', command)[:_MAX_COMMAND]})" if command else f"pid {pid}"

    def acquire(self) -> StoreLock:
        if self._acquired:
            return self
        key = self._key()
        with _guard:
            held = _held.get(key)
            if held is not None:  # this process already writes this store: reentrant
                held.count += 1
                self._acquired = True
                return self
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"cannot lock the store: {error.strerror or error}", source=str(self.root)) from None
        if fcntl is None:  # pragma: no cover - Windows
            os.close(descriptor)
            self._acquire_fallback(key)
            return self
        try:
            self._lock(descriptor)
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()} {_command()}\n".encode("utf-8", errors="replace"), 0)
        except BaseException:
            os.close(descriptor)
            raise
        with _guard:
            _held[key] = _Held(descriptor)
        self._acquired = True
        return self

    def _lock(self, descriptor: int) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        told = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            holder = self.holder() or "another process"
            if not self.wait or (deadline is not None and time.monotonic() >= deadline):
                waited = " (gave up waiting)" if self.wait else ""
                raise StoreError(
                    f"the store is being written by {holder}{waited}; wait for it to finish, or pass --wait",
                    source=str(self.root),
                ) from None
            if not told and self.on_wait is not None:
                self.on_wait(holder)
                told = True
            time.sleep(_POLL_SECONDS)

    def _acquire_fallback(self, key: str) -> None:  # pragma: no cover - Windows
        import filelock

        lock = filelock.FileLock(str(self.path) + ".fl")
        try:
            lock.acquire(timeout=(self.timeout if self.timeout is not None else -1) if self.wait else 0)
        except filelock.Timeout:
            raise StoreError("the store is being written by another process; wait for it to finish, or pass --wait",
                             source=str(self.root)) from None
        with _guard:
            _held[key] = _Held(None, lock)
        self._acquired = True

    def release(self) -> None:
        if not self._acquired:
            return
        self._acquired = False
        with _guard:
            key = self._key()
            held = _held.get(key)
            if held is None:
                return
            held.count -= 1
            if held.count > 0:
                return
            del _held[key]
        if held.descriptor is not None:
            os.close(held.descriptor)  # closing the last descriptor drops the flock
        elif held.fallback is not None:  # pragma: no cover - Windows
            held.fallback.release()

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


def set_default_wait(wait: bool, on_wait: Callable[[str], None] | None = None) -> None:
    """Make writers of this process wait for another writer (the CLI's ``--wait``) instead of failing."""
    _default_wait[:] = [wait, on_wait]


def is_locked_by_this_process(root: Path | str) -> bool:
    """Whether this process holds the writer lock of a store (for assertions in writers)."""
    with _guard:
        return os.path.realpath(root) in _held


class GenerationHold:
    """A reader's shared lock on the generation directory it opened, until :meth:`release`.

    Opened with the directory's descriptor, then checked to be the directory still at that
    path: a cleanup that removed it between the reader's look at ``active`` and its lock
    makes :meth:`acquire` return False, and the reader looks again.
    """

    _open: ClassVar[set[GenerationHold]] = set()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None

    def acquire(self) -> bool:
        if fcntl is None:  # pragma: no cover - Windows: no reader pinning
            return self.path.is_dir()
        try:
            descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH)  # waits only while a cleanup removes it
            same = os.fstat(descriptor).st_ino == os.stat(self.path).st_ino
        except OSError:
            same = False
        if not same:
            os.close(descriptor)
            return False
        self._descriptor = descriptor
        GenerationHold._open.add(self)
        return True

    def _forget(self) -> None:
        if self._descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(self._descriptor)
        self._descriptor = None
        GenerationHold._open.discard(self)

    def release(self) -> None:
        self._forget()


def try_remove_generation(path: Path) -> bool:
    """Remove a generation directory unless a reader holds it; True when it is gone.

    The exclusive lock is held while the files go, so a reader arriving meanwhile waits and
    then sees the directory gone (and looks at ``active`` again) rather than half of it.
    """
    if fcntl is None:  # pragma: no cover - Windows
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a reader has it open
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    finally:
        os.close(descriptor)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
