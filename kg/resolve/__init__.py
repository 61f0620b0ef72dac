"""The post-load stage: deciding, with evidence, which mentions are one entity, and who wrote what.

Runs after the record graphs are loaded, over what the parse already finished (keys,
normal forms): :mod:`~kg.resolve.mentions` reads the mentions, :mod:`~kg.resolve.cluster`
blocks and clusters them, one module per kind of entity decides (:mod:`~kg.resolve.persons`,
:mod:`~kg.resolve.organizations`, :mod:`~kg.resolve.sites`, :mod:`~kg.resolve.criteria`),
:mod:`~kg.resolve.stage` writes canonical links into the resolution graph without changing
any record graph, :mod:`~kg.resolve.authorship` links investigators to the authors of
their trials' publications, :mod:`~kg.resolve.mesh` links MeSH headings given by name to
the descriptor other records give with that name, and :mod:`~kg.resolve.evaluate` scores resolution against a
labelled set. The string rules these use live in :mod:`kg.rules`.

Example:
    >>> from kg.store import open_store
    >>> from kg.build import build
    >>> store = open_store(None)
    >>> sorted(build(["examples"], store).stage_seconds)[:3]
    ['authorship', 'mesh', 'resolution']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kg.measure import peak_rss
from kg.store.base import Store
from kg.store.mention_tables import mention_tables

__all__ = ["PostLoad", "post_load"]


@dataclass
class PostLoad:
    """Seconds per post-load stage (resolution also per kind of entity) and a summary line each."""

    seconds: dict[str, float] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)  # bytes, peak so far at each stage's end (kg.measure)


def post_load(store: Store) -> PostLoad:
    """Entity resolution, then investigator-author links, over a loaded store.

    The per-kind times (``resolution.criteria`` ...) let a benchmark show which kind grows
    faster than the registry.
    """
    from kg.resolve.authorship import link_investigators_to_authors
    from kg.resolve.mesh import link_mesh_names
    from kg.resolve.stage import resolve

    started = time.perf_counter()
    resolution = resolve(store)
    resolved, resolved_rss = time.perf_counter(), peak_rss()
    links = link_investigators_to_authors(store)
    linked, linked_rss = time.perf_counter(), peak_rss()
    mesh = link_mesh_names(store)
    meshed = time.perf_counter()
    if store.readable:
        mention_tables(store).mark_resolved()
    names = ("organizations", "sites", "persons", "criteria")
    kinds = {f"resolution.{kind}": getattr(resolution, kind).seconds for kind in names}
    return PostLoad(
        seconds={"resolution": resolved - started, **kinds, "authorship": linked - resolved, "mesh": meshed - linked},
        summaries={"resolution": str(resolution), "authorship": links.summary(), "mesh": mesh.summary()},
        peak_rss={**{f"resolution.{kind}": getattr(resolution, kind).peak_rss_bytes for kind in names},
                  "resolution": resolved_rss, "authorship": linked_rss, "mesh": peak_rss()},
    )
