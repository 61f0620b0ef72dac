"""Progress on stderr for every step that takes more than a few seconds.

Why one module: the build, resolution, export, validation and ``kg query --all`` each ran
silently for up to minutes. A step with countable parts gets a tqdm bar with its total (and
so an ETA) when the total is known; a step that is one long call (a SHACL run, the
resolution of a whole store) gets a line that keeps showing the elapsed time, so a person can
tell it is moving. Bars go to stderr and only when it is a terminal (``--progress`` forces
them, ``--no-progress`` turns them off), so stdout stays clean for pipes.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

PROGRESS_HELP = "Progress on stderr (default: when stderr is a terminal)."
F = TypeVar("F", bound=Callable[..., Any])


def progress_option(function: F) -> F:
    """``--progress/--no-progress`` (parameter ``progress``)."""
    return click.option("--progress/--no-progress", default=None, help=PROGRESS_HELP)(function)


def wanted(flag: bool | None) -> bool:
    """Whether to show progress: as asked, else when stderr is a terminal."""
    return sys.stderr.isatty() if flag is None else flag


def bar(enabled: bool, desc: str, unit: str, total: int | None = None) -> Any:
    """A tqdm bar on stderr, or None when progress is off."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, total=total, file=sys.stderr, smoothing=0.1, dynamic_ncols=True)


def total_setter(progress_bar: Any) -> Callable[[int], None] | None:
    """A callback that gives a bar its total once it is known (None without a bar)."""
    if progress_bar is None:
        return None

    def set_total(total: int) -> None:
        progress_bar.total = total
        progress_bar.refresh()

    return set_total


@contextmanager
def ticking(enabled: bool, desc: str) -> Iterator[None]:
    """An elapsed-time line for one long call with nothing to count."""
    if not enabled:
        yield
        return
    from tqdm import tqdm

    stop = threading.Event()
    with tqdm(desc=desc, total=None, file=sys.stderr, bar_format="{desc}: {elapsed}") as line:
        def tick() -> None:
            while not stop.wait(0.5):
                line.refresh()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def known_record_count(paths: tuple[Path, ...] | list[Path]) -> int | None:
    """How many records the inputs hold, when that is cheap to know; else None.

    Zips (the bulk downloads) are counted from their central directory, one entry per
    study; a JSON array, JSON Lines or CSV would have to be read to be counted, so any of
    those makes the total unknown and the bar shows a count and a rate.
    """
    import zipfile

    from kg.sources.zipwalk import zip_members

    total = 0
    for path in paths:
        if not (path.is_file() and path.suffix.lower() == ".zip"):
            return None
        try:
            total += sum(1 for member in zip_members(path) if not member.is_junk)
        except (OSError, zipfile.BadZipFile):
            return None  # the build reports the damaged file; the bar just has no total
    return total
