"""The layering is a contract: import-linter's contracts (pyproject.toml) hold, and modules stay small.

Why a test: the one-way house (docs/architecture.md) decays one convenient import at a time;
running the contracts with the suite makes every such import fail CI, with the chain of
imports that breaks the layer in the message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500


def test_import_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_no_module_over_500_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for path in sorted((ROOT / "kg").rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
