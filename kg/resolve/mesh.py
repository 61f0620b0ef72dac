"""Legacy XML MeSH headings (names only) linked to descriptors, where the store has seen the name with its id.

The legacy XML and the CSV name a trial's MeSH headings ("Depression") without the
descriptor id API v2 JSON gives (D003863), so the same trial had different MeSH facts by
format. No MeSH name table ships with trialkg (NLM's MeSH is public domain, but no copy is
available to this build offline), so a name is linked only when records in the same store
state that name with exactly one descriptor id; a name no record states with an id, or
states with two, stays a literal (``tkg:conditionMeshTerm``). The links go to their own
graph (:mod:`kg.rdf.emit_mesh_links`), rewritten after every build and sync, so a record
graph never depends on the other records.

Example:
    >>> from kg.store import open_store
    >>> store = open_store(None)
    >>> store.load_nquads(b'<https://clinicaltrials.gov/study/NCT1> '
    ...     b'<https://w3id.org/trialkg/ontology#conditionMeshTerm> "Depression" <urn:g:1> .\\n'
    ...     b'<http://id.nlm.nih.gov/mesh/D003863> <http://www.w3.org/2000/01/rdf-schema#label> '
    ...     b'"Depression" <urn:g:2> .\\n')
    >>> link_mesh_names(store).linked
    1
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kg.rdf.emit_mesh_links import mesh_link_lines
from kg.rdf.namespaces import MESH, MESH_LINKS_GRAPH, ONTOLOGY, RDFS, TRIAL
from kg.store.base import Store
from kg.store.derived_graphs import line_chunks, write_derived

__all__ = ["MeshLinks", "link_mesh_names"]

_NAMED = f"""PREFIX tkg: <{ONTOLOGY}>
SELECT ?trial ?kind ?name WHERE {{
  {{ ?trial tkg:conditionMeshTerm ?name BIND("condition" AS ?kind) }}
  UNION {{ ?trial tkg:interventionMeshTerm ?name BIND("intervention" AS ?kind) }}
}}"""
_DESCRIPTORS = f"""PREFIX tkg: <{ONTOLOGY}>
SELECT DISTINCT ?name ?descriptor WHERE {{
  {{ SELECT DISTINCT ?name WHERE {{
       {{ ?t tkg:conditionMeshTerm ?name }} UNION {{ ?t tkg:interventionMeshTerm ?name }} }} }}
  ?descriptor <{RDFS}label> ?name .
  FILTER(STRSTARTS(STR(?descriptor), "{MESH}"))
}}"""


@dataclass
class MeshLinks:
    """What linking did: headings named without id, how many got a descriptor, names left ambiguous."""

    named: int = 0
    linked: int = 0
    ambiguous: int = 0

    def summary(self) -> str:
        return (f"{self.linked} of {self.named} MeSH headings given by name linked to a descriptor"
                + (f", {self.ambiguous} names with two descriptors left as text" if self.ambiguous else ""))


def link_mesh_names(store: Store) -> MeshLinks:
    """Rewrite the MeSH links graph from what the store's records state."""
    descriptors: dict[str, set[str]] = defaultdict(set)
    for name, descriptor in store.iter_select(_DESCRIPTORS):
        if name is not None and descriptor is not None:
            descriptors[name].add(descriptor[len(MESH):])
    result = MeshLinks(ambiguous=sum(1 for found in descriptors.values() if len(found) > 1))
    links: set[tuple[str, str, str]] = set()
    for trial, kind, name in store.iter_select(_NAMED):
        if trial is None or kind is None or name is None or not trial.startswith(TRIAL):
            continue
        result.named += 1
        found = descriptors.get(name, set())
        if len(found) == 1:
            links.add((trial[len(TRIAL):], kind, next(iter(found))))
            result.linked += 1
    write_derived(store, MESH_LINKS_GRAPH, line_chunks(mesh_link_lines(sorted(links))))
    return result
