"""Network analyses of the knowledge graph (placeholder while developing)."""
