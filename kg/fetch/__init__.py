"""Fetching registry records over the network into files ``kg build`` reads.

Why a separate stage: building stays offline and repeatable (files in, graph out), while
fetching deals with rate limits, retries and resuming. Each registry has one module; the
polite HTTP client they share lives in :mod:`kg.fetch.http`.

Example:
    >>> from kg.fetch import fetch_studies
    >>> report = fetch_studies("disc.jsonl", condition="herniated disc")  # doctest: +SKIP
    >>> report.written  # doctest: +SKIP
    100
"""

from __future__ import annotations

from kg.fetch.ctgov import DEFAULT_BASE_URL, FetchReport, fetch_studies
from kg.fetch.http import USER_AGENT, FetchError

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "FetchError", "FetchReport", "fetch_studies"]
