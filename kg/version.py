"""The package version, in a module of its own so that every layer can read it.

Why not in ``kg/__init__.py``: that module re-exports ``build``, which imports the whole
pipeline; a low layer reading the version from there would import the layers above it.
"""

from __future__ import annotations

__version__ = "0.1.0"
