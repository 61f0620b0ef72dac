"""Records to RDF: vocabulary, IRI minting, N-Quads emission. The only place with RDF terms."""
