"""A polite, patient JSON-over-HTTP client: throttled, retrying, stdlib only.

Why its own module: registries (ClinicalTrials.gov now, PubMed E-utilities next) share the same
troubles: they throttle busy clients with 429, answer 5xx under load, drop connections, and now
and then cut a response short. Handling that once, here, keeps the registry modules about the
registry. Why ``urllib``: one GET with a few headers needs no ``requests`` dependency.

The clock, the sleep and the random source are injected so that tests run instantly and
deterministically; the opener is injected so callers (and tests) choose proxies and handlers.

Example:
    >>> client = JsonClient(max_retries=3, rate_limit=2.0)
    >>> client.get("https://clinicaltrials.gov/api/v2/version")  # doctest: +SKIP
    {'apiVersion': '2.0.5', ...}
"""

from __future__ import annotations

import gzip
import http.client
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.error import HTTPError
from urllib.request import OpenerDirector, Request, build_opener

import orjson

from kg.errors import KGError
from kg.version import __version__

__all__ = ["USER_AGENT", "FetchError", "JsonClient", "Malformed"]

USER_AGENT = f"trialkg/{__version__} (+https://w3id.org/trialkg)"
_MAX_WAIT = 600.0  # never sleep longer than this on one retry, whatever a server asks
_ERROR_BODY = 300  # characters of an error response worth showing the user


class FetchError(KGError):
    """A registry request failed for good (``source`` is the URL): retries exhausted or a 4xx."""

    report: Any = None  # what the fetch had done when it failed (set by the caller that knows)


class Malformed(Exception):
    """A response body that is not what the caller expects: treated as a transient truncation."""


class _Transient(Exception):
    """One failed attempt worth retrying, with the server's Retry-After when it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class JsonClient:
    """GET JSON documents politely: at most ``rate_limit`` requests a second, retrying what is transient.

    Transient means HTTP 429, any 5xx, a connection error or timeout, an undecodable body, or a
    body the caller's ``check`` rejects (raising :class:`Malformed`). Each retry waits the
    server's Retry-After when given, else an exponential backoff with jitter
    (``backoff * 2**attempt``, randomised over its upper half so clients do not retry in step).
    After ``max_retries`` retries, :class:`FetchError` names the URL and the last problem.
    """

    max_retries: int = 6
    backoff: float = 1.0
    rate_limit: float = 3.0
    timeout: float = 60.0
    opener: OpenerDirector = field(default_factory=build_opener)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    requests: int = field(default=0, init=False)
    retries: int = field(default=0, init=False)
    _next_slot: float | None = field(default=None, init=False, repr=False)

    def get(self, url: str, check: Callable[[Any], None] | None = None) -> Any:
        """The parsed JSON at ``url``, after as many polite retries as it takes (up to the limit)."""
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.retries += 1
            try:
                document = _decode(self._fetch(url))
                if check is not None:
                    check(document)
                return document
            except Malformed as problem:
                last, wait = f"malformed response: {problem}", None
            except _Transient as problem:
                last, wait = problem.reason, problem.retry_after
            if attempt < self.max_retries:
                self.sleep(wait if wait is not None else self._backoff(attempt))
        raise FetchError(f"gave up after {self.max_retries + 1} attempts; last: {last}", source=url)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(_MAX_WAIT, self.backoff * 2**attempt)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def _throttle(self) -> None:
        """Space requests ``1 / rate_limit`` seconds apart (a non-positive rate means no limit)."""
        if self.rate_limit <= 0:
            return
        now = self.clock()
        if self._next_slot is not None and now < self._next_slot:
            self.sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + 1.0 / self.rate_limit

    def _fetch(self, url: str) -> bytes:
        """One attempt: the (decompressed) body, or _Transient / FetchError."""
        self._throttle()
        self.requests += 1
        request = Request(url, headers={
            "User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip",
        })
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                encoding = response.headers.get("Content-Encoding", "")
        except HTTPError as error:
            raise _http_problem(error, url) from None
        except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets, IncompleteRead
            raise _Transient(f"connection error: {_reason(error)}") from None
        if "gzip" in encoding.lower():
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error) as error:
                raise _Transient(f"malformed response: bad gzip body ({error})") from None
        return body


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Malformed(f"not JSON, truncated? ({error}; {len(body)} bytes)") from None


def _http_problem(error: HTTPError, url: str) -> Exception:
    """A retryable _Transient for 429/5xx; a FetchError with the server's explanation otherwise."""
    status = error.code
    retry_after = _retry_after(error.headers.get("Retry-After") if error.headers else None)
    try:
        detail = error.read(_ERROR_BODY * 4).decode("utf-8", errors="replace").strip()[:_ERROR_BODY]
    except (OSError, http.client.HTTPException):
        detail = ""
    finally:
        error.close()
    if status == 429 or 500 <= status < 600:
        return _Transient(f"HTTP {status} {error.reason}", retry_after)
    return FetchError(f"HTTP {status} {error.reason}" + (f": {detail}" if detail else ""), source=url)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    return min(max(seconds, 0.0), _MAX_WAIT)


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason) or type(reason).__name__
