"""Where the ontology and the canned queries live, installed or in a source checkout.

A wheel carries them inside the package (``kg/ontology``, ``kg/queries``); a source
checkout or an editable install has them at the repository's top level, as the
project layout asks. Looking in both keeps one copy of each file in the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of packaged data ``name`` (``ontology`` or ``queries``)."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"trialkg's {name}/ folder is missing from the installation")


def ontology_path() -> Path:
    return data_dir("ontology") / "trialkg.ttl"
