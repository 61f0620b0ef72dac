"""Safe HTML for the browsable pages: every data value escaped, isolated, and never a script.

Why: the graph holds text from public registrations, which anyone can write: titles with
``<script>``, names with quotes, Arabic or Hebrew text, and Unicode bidi controls (U+202E
can make ``exe.txt`` read as ``txt.exe``). So every value goes through :func:`text`, which
escapes ``& < > " '`` and wraps the value in ``<bdi>`` so its direction cannot leak into the
surrounding page; hrefs are either local paths we build or http(s) IRIs (never
``javascript:``); the pages carry no script at all and the server sends a Content Security
Policy that forbids any. Page titles drop bidi controls, since ``<title>`` cannot hold markup.

Example:
    >>> text('<script>alert("x")</script>')
    '<bdi>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</bdi>'
    >>> link("javascript:alert(1)", "x")
    '<bdi>x</bdi>'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from kg.serve.paths import compact, is_web_link, local_path
from kg.store.results import Term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# No script, no external resources, forms only to ourselves.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0 1rem 3rem;color:#1b1b1b}
header{padding:.6rem 0;border-bottom:1px solid #ddd;margin-bottom:1rem}header a{margin-right:1rem}
a{color:#0b57b0}h1{font-size:1.5rem;margin:.8rem 0}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f6f6f6}.muted{color:#666;font-size:.9em}
textarea{width:100%;font:13px/1.4 ui-monospace,monospace}code,pre{font:13px ui-monospace,monospace}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}.error{color:#a00}
"""


def esc(value: str) -> str:
    """Escape text for an element body or a double-quoted attribute."""
    return html.escape(value, quote=True)


def text(value: str | None) -> str:
    """A data value as isolated, escaped text."""
    return f"<bdi>{esc(value or '')}</bdi>"


def href(target: str) -> str | None:
    """A safe href: our own local paths, or http(s) IRIs; None otherwise."""
    if target.startswith("/") and not target.startswith("//"):
        return target
    return target if is_web_link(target) else None


def link(target: str, label: str | None, *, css: str | None = None) -> str:
    """``<a href=...>label</a>`` when the target is safe, else just the label."""
    safe = href(target)
    label_html = text(label if label is not None else target)
    if safe is None:
        return label_html
    css_attr = f' class="{esc(css)}"' if css else ""
    return f'<a href="{esc(safe)}"{css_attr}>{label_html}</a>'


def resource_link(iri: str, label: str | None = None) -> str:
    """A link to the local page describing ``iri`` (labelled, or the IRI in prefixed form)."""
    return link(local_path(iri), label or compact(iri))


def term_html(term: Term | None, label: str | None = None) -> str:
    """A result term: IRIs link to their pages, literals show their language or datatype."""
    if term is None:
        return ""
    if term.kind == "uri":
        return resource_link(term.value, label)
    if term.kind == "bnode":
        return text("_:" + term.value)
    suffix = ""
    if term.lang:
        suffix = f' <span class="muted">@{esc(term.lang)}</span>'
    elif term.datatype and term.datatype != XSD_STRING:
        suffix = f' <span class="muted">{esc(compact(term.datatype))}</span>'
    return text(term.value) + suffix


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table whose cells are already HTML (built with the helpers above)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, content: str, *, empty: str = "none") -> str:
    body = content or f'<p class="muted">{esc(empty)}</p>'
    return f"<section><h2>{esc(title)}</h2>{body}</section>"


def title_text(value: str) -> str:
    """Text for ``<title>``: escaped, bidi controls removed, shortened."""
    plain = _BIDI_CONTROLS.sub("", value)
    return esc(plain if len(plain) <= 120 else plain[:119] + "…")


def page(title: str, body: str, *, alternates: Sequence[tuple[str, str]] = ()) -> bytes:
    """A whole page. ``alternates`` are (media type, href) of the same resource in RDF formats."""
    links = "".join(f'<link rel="alternate" type="{esc(media)}" href="{esc(target)}">'
                    for media, target in alternates if href(target))
    document = (
        '<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title_text(title)} · trialkg</title>{links}<style>{_STYLE}</style></head><body>"
        '<header><a href="/">trialkg</a><a href="/sparql">SPARQL query</a><a href="/ontology">ontology</a></header>'
        f"<main>{body}</main></body></html>"
    )
    return document.encode("utf-8")


def error_page(status: int, message: str) -> bytes:
    return page(f"Error {status}", f'<h1>Error {status}</h1><p class="error">{text(message)}</p>')
