"""scripts/test installs system packages only when asked, and the browser tests say what they need.

The script runs in a copy of the repository's layout with stand-ins for the virtualenv setup,
the installer and Python, so the test sees exactly what it would run without running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _fake_checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "test", tmp_path / "scripts" / "test")
    (tmp_path / "scripts" / "_venv.sh").write_text("# stand-in: the venv exists\n")
    (tmp_path / "scripts" / "install-test-deps").write_text("echo installer-ran >> \"$(dirname \"$0\")/../log\"\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/usr/bin/env bash\nprintf '%s|' \"$@\" >> \"$(dirname \"$0\")/../../log\"\necho >> "
                      "\"$(dirname \"$0\")/../../log\"\n")
    python.chmod(0o755)
    return tmp_path


def _run(checkout: Path, *args: str) -> str:
    log = checkout / "log"
    log.unlink(missing_ok=True)
    subprocess.run(["bash", str(checkout / "scripts" / "test"), *args], check=True, timeout=30,
                   env={k: v for k, v in os.environ.items() if k != "CI"})
    return log.read_text()


def test_scripts_test_installs_nothing_unless_asked(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path)
    assert _run(checkout, "-k", "queries") == "-m|pytest|-k|queries|\n"
    assert _run(checkout) == "-m|pytest|\n"
    assert _run(checkout, "--with-browser", "-q") == "installer-ran\n-m|pytest|-q|\n"


def test_scripts_test_fast_leaves_out_the_slow_tests(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path)
    assert _run(checkout, "--fast", "-x") == "-m|pytest|-m|not slow and not browser|-x|\n"


def test_ci_asks_for_the_browser() -> None:
    assert "scripts/test --with-browser" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow  # a pytest run inside the test
@pytest.mark.parametrize("ci", [None, "true"])
def test_browser_tests_without_chromium_skip_locally_and_fail_in_ci(ci: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TRIALKG_CHROMIUM"] = "/nonexistent/chromium"
    if ci:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider",
                             str(ROOT / "tests" / "serve" / "test_serve_browser.py")],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    output = result.stdout + result.stderr
    assert "scripts/test --with-browser" in output
    if ci:
        assert result.returncode == 1 and "CI must run the browser tests" in output
    else:
        assert result.returncode == 0 and " skipped" in output and " failed" not in output
