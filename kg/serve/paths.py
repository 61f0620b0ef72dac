"""Dereferenceable IRIs: which local path serves which IRI, and back.

Why: linked data means a resource IRI can be looked up. trialkg mints its IRIs under
namespaces it does not host (w3id.org, clinicaltrials.gov), so ``kg serve`` mounts each
namespace on a local path; a w3id.org redirect (or a reverse proxy) can then point the
public namespace at a deployment. The mapping:

=========================================  ============================
IRI                                        local path
=========================================  ============================
``https://clinicaltrials.gov/study/{NCT}``  ``/study/{NCT}``
``https://w3id.org/trialkg/resource/{..}``  ``/resource/{..}``
``https://w3id.org/trialkg/graph/{..}``     ``/graph/{..}`` (the named graph itself)
``https://w3id.org/trialkg/ontology#{T}``   ``/ontology#{T}``
any other IRI in the store                 ``/describe?iri={IRI}``
=========================================  ============================

The suffix after the namespace is used verbatim (minted keys are ASCII slugs, NCT ids and
hashes), so the mapping is exact in both directions; an IRI with any other character is
served through ``/describe``.

Example:
    >>> local_path("https://w3id.org/trialkg/resource/person/jianming-tan")
    '/resource/person/jianming-tan'
    >>> iri_for_path("/study/NCT01374854")
    'https://clinicaltrials.gov/study/NCT01374854'
    >>> local_path("https://pubmed.ncbi.nlm.nih.gov/26628416")
    '/describe?iri=https%3A%2F%2Fpubmed.ncbi.nlm.nih.gov%2F26628416'
"""

from __future__ import annotations

import re
from urllib.parse import quote

from kg.rdf.namespaces import GRAPH, ONTOLOGY, PREFIXES, RESOURCE, TRIAL

MOUNTS = (("/study/", TRIAL), ("/resource/", RESOURCE), ("/graph/", GRAPH))
ONTOLOGY_PATH = "/ontology"
_SAFE_SUFFIX = re.compile(r"^(?:[A-Za-z0-9._~\-]|%[0-9A-Fa-f]{2})+(?:/(?:[A-Za-z0-9._~\-]|%[0-9A-Fa-f]{2})+)*$")
_SAFE_FRAGMENT = re.compile(r"^[A-Za-z0-9_\-]+$")


def iri_for_path(path: str) -> str | None:
    """The IRI a local path stands for (``path`` as sent, without query string), or None."""
    for prefix, namespace in MOUNTS:
        if path.startswith(prefix):
            suffix = path[len(prefix) :]
            return namespace + suffix if _SAFE_SUFFIX.match(suffix) else None
    return None


def local_path(iri: str) -> str:
    """Where ``kg serve`` describes an IRI: a mounted path, or /describe?iri=..."""
    for prefix, namespace in MOUNTS:
        if iri.startswith(namespace):
            suffix = iri[len(namespace) :]
            if _SAFE_SUFFIX.match(suffix):
                return prefix + suffix
    if iri.startswith(ONTOLOGY) and _SAFE_FRAGMENT.match(iri[len(ONTOLOGY) :]):
        return ONTOLOGY_PATH + "#" + iri[len(ONTOLOGY) :]
    return "/describe?iri=" + quote(iri, safe="")


def is_web_link(iri: str) -> bool:
    """Whether an IRI may be an href as is (http/https only: never javascript:, data:, ...)."""
    lowered = iri[:8].lower()
    return lowered.startswith(("http://", "https://"))


def compact(iri: str) -> str:
    """A prefixed name for display (``tkg:Trial``, ``res:person/jianming-tan``), else the IRI."""
    best = ""
    best_prefix = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best, best_prefix = namespace, prefix
    return f"{best_prefix}:{iri[len(best):]}" if best and len(iri) > len(best) else iri
