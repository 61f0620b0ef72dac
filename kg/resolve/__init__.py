"""Entity keys and resolution: deciding when two strings name the same person, organisation, site or criterion.

Two layers. At build time, each source string maps to a stable key (:mod:`persons`,
:mod:`organizations`, :mod:`criteria`): exact after normalisation, so every record graph
names the same node for the same spelling, and :mod:`constraints` and :mod:`quality` read
what one record states (bounds in criteria, contradictions between fields). After the
build, :func:`kg.resolve.stage.resolve` reads those nodes back from the store and decides,
with evidence, which spellings are one entity (:mod:`resolve_persons`, :mod:`resolve_orgs`,
:mod:`resolve_sites`, :mod:`resolve_criteria`), writing canonical links into the
resolution graph without changing any record graph.
"""
