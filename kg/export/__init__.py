"""Exports: RDF serialisations (and, later, graph formats for Gephi and result tables)."""
