"""Re-executing a notebook stores fresh, stable outputs, and loses nothing when a cell fails."""

import pytest
from nbformat.v4 import new_code_cell

from coursekit.assignment.execute import execute_in_place
from coursekit.assignment.notebooks import NotebookError, write_notebook
from master_builders import master, read

pytestmark = pytest.mark.slow  # each test starts a kernel


def test_execute_in_place_stores_fresh_outputs_without_timestamps(tmp_path):
    path = tmp_path / "01_demo.ipynb"
    write_notebook(master(new_code_cell("import os\nprint(6 * 7, os.environ['COURSEKIT_HEADLESS'])")), path)
    execute_in_place(path)
    cell = read(path).cells[0]
    assert cell.execution_count == 1
    assert cell.outputs[0].text == "42 1\n"  # and the kernel ran headless
    assert "execution" not in cell.metadata


def test_a_failing_cell_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "01_demo.ipynb"
    write_notebook(master(new_code_cell("x = 1"), new_code_cell("1 / 0")), path)
    before = path.read_bytes()
    with pytest.raises(NotebookError) as err:
        execute_in_place(path)
    assert "ZeroDivisionError" in str(err.value) and "nothing was written" in str(err.value)
    assert path.read_bytes() == before
