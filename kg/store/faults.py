"""Fault injection for crash tests: die or pause at a named point of a store write.

Why: a test that kills a build "after a while" kills it wherever it happens to be (often
before the first chunk lands), so a build that switched ``active`` before loading, or
loaded in place, passed it. With ``TRIALKG_FAULT`` the test names the point instead:

* ``TRIALKG_FAULT=load@2:die`` -- SIGKILL itself while loading the 2nd chunk into staging;
* ``TRIALKG_FAULT=before-rename:pause`` -- stop there (touching ``$TRIALKG_FAULT_READY``
  so the test knows) until killed.

Several faults are separated by commas. Points (see :mod:`kg.store.generations`):
``staged`` (the checkpoint copy made), ``load`` (after each chunk loaded into staging),
``loaded`` (the build's data all in, before the flush), ``flushed`` (closed, before the
switch), ``before-rename`` (temporary link made, ``active`` not yet replaced), ``switched``
(``active`` replaced, old generations not yet pruned), ``prune`` (between two removals).
Unset, :func:`fault` costs one dictionary lookup.

Example:
    >>> fault("loaded")  # no TRIALKG_FAULT: nothing happens
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ENV = "TRIALKG_FAULT"
READY_ENV = "TRIALKG_FAULT_READY"
_counts: dict[str, int] = {}


def _plan() -> dict[str, tuple[int, str]]:
    plan: dict[str, tuple[int, str]] = {}
    for item in os.environ.get(ENV, "").split(","):
        point, _, action = item.strip().partition(":")
        name, _, nth = point.partition("@")
        if name and action in ("die", "pause"):
            plan[name] = (int(nth) if nth.isdigit() else 1, action)
    return plan


def fault(point: str) -> None:
    """Die (SIGKILL, as ``kill -9``) or pause at ``point`` when ``TRIALKG_FAULT`` asks for it."""
    if ENV not in os.environ:
        return
    step = _plan().get(point)
    _counts[point] = count = _counts.get(point, 0) + 1
    if step is None or count != step[0]:
        return
    ready = os.environ.get(READY_ENV)
    if ready:
        Path(ready).write_text(f"{point} {os.getpid()}\n", encoding="utf-8")
    if step[1] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    while True:  # pause: the test inspects the store, then kills us
        time.sleep(3600)
