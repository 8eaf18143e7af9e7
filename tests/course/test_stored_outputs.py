"""Stored outputs are fresh: every lesson and master was run top to bottom, as nbval assumes.

nbval never compares a cell that has no execution count, so a notebook saved half-run would
pass it vacuously; these tests close that gap.
"""

import pytest
from course_files import COURSE, EXERCISES, MASTERS, READ_AS_STORED, ids

from coursekit.assignment import cells
from coursekit.assignment.notebooks import read_notebook
from coursekit.assignment.student_copy import RAISES_TAG


def code_cells(path):
    return [cell for cell in read_notebook(path).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", READ_AS_STORED, ids=ids(READ_AS_STORED))
def test_every_code_cell_ran_once_in_order(path):
    counts = [cell.execution_count for cell in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: run it with `coursekit generate --execute`"


@pytest.mark.parametrize("path", READ_AS_STORED, ids=ids(READ_AS_STORED))
def test_no_errors_or_timestamps_are_stored(path):
    assert "widgets" not in read_notebook(path).metadata, f"{path.name} stores widget state (random ids)"
    for index, cell in enumerate(code_cells(path)):
        assert "execution" not in cell.metadata, f"{path.name} code cell {index + 1} stores timings"
        if RAISES_TAG not in cell.metadata.get("tags", []):
            errors = [out for out in cell.outputs if out.output_type == "error"]
            assert not errors, f"{path.name} code cell {index + 1} stored an error: {errors[0].get('evalue')}"


@pytest.mark.parametrize("path", MASTERS, ids=ids(MASTERS))
def test_master_test_cells_are_expected_to_pass(path):
    tagged = [cells.grade_id(cell) for cell in code_cells(path)
              if cells.is_test_cell(cell) and RAISES_TAG in cell.metadata.get("tags", [])]
    assert not tagged, f"test cells of a master must pass, yet these may raise: {tagged}"


@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_exercises_store_no_outputs(path):
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code_cells(path))


@pytest.mark.parametrize("path", READ_AS_STORED, ids=ids(READ_AS_STORED))
def test_no_stored_output_is_a_warning_or_names_this_machines_folders(path):
    """A warning in a stored output (a missing glyph, a deprecation) is text another machine prints differently, or
    not at all; so is a path of this checkout."""
    root = str(COURSE.root)
    for index, cell in enumerate(code_cells(path)):
        for out in cell.outputs:
            text = out.get("text", "") if out.output_type == "stream" else ""
            text += str(out.get("data", {}).get("text/plain", "")) if out.output_type != "stream" else ""
            assert "Warning:" not in text, f"{path.name} code cell {index + 1} stored a warning: {text[:300]}"
            assert root not in text, f"{path.name} code cell {index + 1} stored a path of this machine: {text[:300]}"
