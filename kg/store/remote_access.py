"""Does a query or update reach beyond the store (SERVICE, LOAD)? Found by parsing it, not by regexes.

Why parsing: a word "LOAD" in a comment or a literal is no LOAD; only the parsed algebra
says what the text does. rdflib's SPARQL grammar parses (it evaluates nothing here).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Unchecked", "find_remote_access"]


class Unchecked(Exception):
    """The text could not be parsed, so whether it reaches beyond the store is unknown."""


def _may_hold(text: str, words: tuple[str, ...]) -> bool:
    """Cheap and sound: without the letters of a keyword or a \\u escape, the keyword cannot be there."""
    lowered = text.lower()
    return "\\u" in lowered or any(word in lowered for word in words)


def _walk(node: Any, names: frozenset[str]) -> str | None:
    """The first parse-tree node (rdflib CompValue) whose name is in ``names``."""
    stack = [node]
    while stack:
        item = stack.pop()
        name = getattr(item, "name", None)
        if isinstance(name, str) and name in names:
            return name
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)) or type(item).__name__ == "ParseResults":
            stack.extend(list(item))
    return None


def find_remote_access(text: str, *, update: bool) -> str | None:
    """``SERVICE`` or ``LOAD`` when the request uses one, found by parsing it (rdflib's SPARQL grammar).

    A request that might hold either keyword but does not parse is refused: better a clear 400
    than a guess. Everything else returns None without parsing (most queries, fast).
    """
    if not _may_hold(text, ("service", "load")):
        return None
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        tree = parseUpdate(text) if update else parseQuery(text)
    except Exception as error:  # pyparsing's ParseException and friends
        raise Unchecked(str(error).split("\n", 1)[0][:500]) from None
    found = _walk(tree, frozenset({"ServiceGraphPattern", "Load"}))
    return {"ServiceGraphPattern": "SERVICE", "Load": "LOAD"}.get(found or "")
