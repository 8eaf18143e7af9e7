"""An untouched exercise fails every test cell as "not attempted", and only tagged cells raise."""

import pytest
from course_files import COURSE, EXERCISES, ids

from coursekit.assignment import cells
from coursekit.assignment.execute import run_notebook
from coursekit.assignment.notebooks import read_notebook
from coursekit.assignment.student_copy import RAISES_TAG


@pytest.fixture(scope="module", params=EXERCISES, ids=ids(EXERCISES))
def executed(request):
    nb = read_notebook(request.param)
    return request.param.name, run_notebook(nb, COURSE.exercises, allow_errors=True)


def error_of(cell):
    return next((out for out in cell.get("outputs", []) if out.output_type == "error"), None)


def test_every_test_cell_reports_not_attempted(executed):
    name, nb = executed
    tests = [cell for cell in nb.cells if cells.is_test_cell(cell)]
    assert tests, f"{name} has no test cells"
    for cell in tests:
        error = error_of(cell)
        assert error is not None, f"{name}: test '{cells.grade_id(cell)}' passed without a solution"
        assert "not attempted" in error.evalue.lower(), f"{name}: '{cells.grade_id(cell)}' said {error.evalue!r}"


def test_only_cells_tagged_by_the_generator_raise(executed):
    name, nb = executed
    untagged = [index + 1 for index, cell in enumerate(nb.cells)
                if error_of(cell) is not None and RAISES_TAG not in cell.metadata.get("tags", [])]
    assert not untagged, f"{name}: cells {untagged} raise but are not tagged {RAISES_TAG}"
