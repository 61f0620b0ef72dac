"""IRI minting: registry and PubMed IRIs where they exist, stable keys everywhere else.

A minted IRI is ``https://w3id.org/trialkg/resource/{kind}/{key}`` where the key comes
from the resolved identity (a normalised name, an NCT id plus a label, a text hash),
never from a row number or a random id, so rebuilding gives the same IRIs.

Example:
    >>> resource("person", "jianming tan")
    'https://w3id.org/trialkg/resource/person/jianming-tan'
    >>> trial("NCT01374854")
    'https://clinicaltrials.gov/study/NCT01374854'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote

from kg.digest import text_hash
from kg.rdf.namespaces import DOI, GRAPH, MESH, PUBMED, RESOURCE, TRIAL

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_CLEAN_WORDS = re.compile(r"[a-z0-9]+(?:[ _-][a-z0-9]+)*")
_MAX_SLUG = 80


@lru_cache(maxsize=1 << 16)
def slug(text: str) -> str:
    """A readable key: ASCII, lowercase, dashes; distinct texts keep distinct keys.

    Plain words ("Aspirin Arm" -> ``aspirin-arm``) stay readable. When folding would lose
    information (punctuation as in "S+ Group" vs "S- Group", accents, non-Latin scripts,
    long texts), a hash of the exact text is appended. Empty text is ``_``.
    """
    if not text:
        return "_"
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    core = _NOT_SLUG.sub("-", folded).strip("-")
    lossy = len(core) > _MAX_SLUG or not _CLEAN_WORDS.fullmatch(text.lower())
    if lossy:
        return (core[:_MAX_SLUG].rstrip("-") + "-" if core else "") + text_hash(text, 10)
    return core


def resource(kind: str, *key_parts: str) -> str:
    """A minted IRI for an entity of ``kind`` identified by ``key_parts`` (NCT ids kept as written)."""
    return RESOURCE + kind + "/" + "/".join(part if _is_registry_id(part) else slug(part) for part in key_parts)


def _is_registry_id(part: str) -> bool:
    return len(part) == 11 and part.startswith("NCT") and part[3:].isdigit()


def trial(nct_id: str) -> str:
    return TRIAL + nct_id


def pubmed(pmid: str) -> str:
    return PUBMED + pmid


def cited(pmid: str | None, citation: str | None) -> str | None:
    """The publication a trial's reference names: its PubMed record, else a node minted from the
    citation's text (the same text in two records is one node); None when it gives neither."""
    if pmid:
        return pubmed(pmid)
    if citation:
        return resource("publication", text_hash(citation))
    return None


# MeSH unique ids were letter + 6 digits until about 2017 (highest near D066xxx); newer
# ones are letter + 9 digits (D000086382, COVID-19). API v2 pads old ids to 9 digits
# (D000003920), but id.nlm.nih.gov knows them only as D003920.
_LAST_SIX_DIGIT_MESH_ID = 68000


def mesh(descriptor_id: str) -> str:
    """The id.nlm.nih.gov IRI of a MeSH descriptor, unpadding API v2's old-style ids."""
    number = descriptor_id[1:]
    if len(descriptor_id) == 10 and number.isdigit() and int(number) < _LAST_SIX_DIGIT_MESH_ID:
        descriptor_id = descriptor_id[0] + number[3:]
    return MESH + descriptor_id


def doi(value: str) -> str:
    return DOI + quote(value.strip(), safe="/:;()._-")


def record_graph(source_kind: str, record_key: str) -> str:
    """The named graph holding one source record's triples."""
    return GRAPH + source_kind + "/" + record_key
