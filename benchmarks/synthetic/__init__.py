"""Building blocks of ``benchmarks/generate.py``: the real corpus, Zipf pools, study assembly, zip output."""
