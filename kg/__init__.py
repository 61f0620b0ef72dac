"""trialkg: clinical-trial registrations and PubMed records as an RDF knowledge graph.

Library first; the ``kg`` command only wires these functions together.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> report = build(["examples"], store)
    >>> report.records_loaded
    2
"""

from __future__ import annotations

from kg.build import BuildReport, build
from kg.store import open_store
from kg.version import __version__

__all__ = ["BuildReport", "__version__", "build", "open_store"]
