"""Entity keys: deciding when two strings name the same person, organisation, site or criterion.

Each function maps a source string to a stable key; equal keys mean one RDF node. The
keys are deliberately conservative (exact after normalisation); fuzzy matching layers on
top without changing how keys feed IRIs.
"""
