"""Every docstring example in kg/ runs, so the examples a reader copies keep working.

One test per module (a failing example names its module); the examples read files such as
``examples/`` and ``tests/data/`` relative to the repository root, so they run from there.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in (ROOT / "kg").rglob("*.py")
    if path.name != "__main__.py"
)


def test_every_module_is_listed() -> None:
    assert "kg.rules.finish" in MODULES and "kg.pipeline" in MODULES and len(MODULES) > 100


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False,
                             report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name} (see output above)"
