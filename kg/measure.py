"""Peak resident memory, as build reports give it per stage.

Why: the registry-scale targets bound memory, and a report that says which stage raised the
peak (the pipeline, resolution of one kind of entity, author linking) shows where to look
without a profiler. ``getrusage`` gives the peak so far, so a stage's figure is the peak up
to its end: the first stage whose figure jumps is the one that raised it.

Example:
    >>> peak_rss() > 0
    True
"""

from __future__ import annotations

import sys


def peak_rss(children: bool = False) -> int:
    """Peak resident memory so far in bytes: this process's, or (``children``) its largest finished child's.

    0 where the platform does not say (Windows).
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 0
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return int(resource.getrusage(who).ru_maxrss) * (1 if sys.platform == "darwin" else 1024)
