"""The quickstart notebook runs top to bottom in a fresh folder, without ../shared and without torch."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from seeisp.models import available_models

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "01_quickstart.ipynb"


def test_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.skipif(not available_models(), reason="no seeisp model in weights/")
def test_quickstart_runs_top_to_bottom(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell('import sys\nprint("torch imported:", "torch" in sys.modules)'))
    # Raises CellExecutionError, naming the cell, if any cell fails.
    NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    printed = "".join(output.get("text", "") for output in outputs)
    assert "rendered image: (768, 1152, 3) float32" in printed
    assert "same as the steps above: True" in printed
    assert "torch imported: False" in printed
    assert any("image/png" in output.get("data", {}) for output in outputs)
    assert (tmp_path / "quickstart-output" / "seeisp-demo.dng").is_file()
