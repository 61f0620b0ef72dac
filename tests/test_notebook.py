"""The walkthrough notebook runs from top to bottom without an error, in under a minute, on typed DataFrames."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow
def test_walkthrough_notebook_executes() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    started = time.perf_counter()
    # Raises CellExecutionError, naming the cell, on the first error.
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    seconds = time.perf_counter() - started
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert sum("image/png" in output.get("data", {}) for output in outputs) >= 4  # the plots were drawn
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert re.search(r"enrollment\s+Int64", printed)  # to_pandas typed the query's answer
    assert "total enrollment: 66" in printed
    assert seconds < 60, f"the notebook took {seconds:.0f} s"
