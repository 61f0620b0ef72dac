"""Who may write: the update token, compared in constant time.

Why: updates change what everyone reads, so ``kg serve`` is read-only unless started with a
token, and then takes updates only with ``Authorization: Bearer TOKEN``. SERVICE and LOAD
(which make the server fetch URLs for a client) are refused by :mod:`kg.store.sandbox`,
which finds them by parsing the request.

Example:
    >>> token_matches("Bearer s3cret-0123456789abcdef", "s3cret-0123456789abcdef")
    True
    >>> token_matches("Basic s3cret-0123456789abcdef", "s3cret-0123456789abcdef")
    False
"""

from __future__ import annotations

import hmac


def token_matches(header: str | None, token: str | None) -> bool:
    """An ``Authorization: Bearer TOKEN`` header against the configured token, in constant time."""
    if not token or not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
