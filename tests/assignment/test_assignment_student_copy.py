"""Each step of the student-copy pipeline, and the pipeline as a whole."""

import copy

from nbformat.v4 import new_code_cell, new_markdown_cell

from coursekit.assignment import student_copy as sc
from coursekit.assignment.notebooks import notebook_text
from master_builders import graded_cell, master, solution_cell, square_master


def tagged(cell):
    return sc.RAISES_TAG in cell.metadata.get("tags", [])


def test_stub_solutions_keeps_signature_and_docstring():
    nb = square_master()
    sc.stub_solutions(nb)
    source = nb.cells[2].source
    assert source.startswith('def square(x):\n    """Return x squared."""')
    assert source.endswith("    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert "x * x" not in source


def test_solution_cell_without_markers_is_stubbed_whole():
    nb = master(solution_cell("answer = 42"))
    sc.stub_solutions(nb)
    assert nb.cells[0].source == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_markdown_solution_cell_gets_answer_prompt():
    cell = new_markdown_cell("Explain.\n### BEGIN SOLUTION\nIt adds.\n### END SOLUTION",
                             metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "why"}})
    nb = master(cell)
    sc.stub_solutions(nb)
    assert nb.cells[0].source == "Explain.\nYOUR ANSWER HERE"


def test_remove_hidden_tests_keeps_the_visible_check():
    nb = square_master()
    sc.remove_hidden_tests(nb)
    assert nb.cells[3].source == "assert square(3) == 9"


def test_clear_outputs_empties_outputs_and_counts():
    nb = square_master()
    nb.cells[4].metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    sc.clear_outputs(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "execution" not in nb.cells[4].metadata


def test_raising_cells_are_tagged_and_taint_flows_down():
    nb = square_master()
    sc.stub_solutions(nb)
    sc.tag_cells_expected_to_raise(nb)
    # intro import, solution def (no top-level raise), test, user of square, user of its result, unrelated
    assert [tagged(c) for c in nb.cells[1:]] == [False, False, True, True, True, False]


def test_top_level_stub_raises_and_is_tagged():
    nb = master(solution_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"), new_code_cell("x = 1"))
    sc.stub_solutions(nb)
    sc.tag_cells_expected_to_raise(nb)
    assert tagged(nb.cells[0]) and not tagged(nb.cells[1])


def test_cells_with_magics_are_analysed_not_skipped():
    nb = master(solution_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
                new_code_cell("%precision 3\ny = f()"))
    sc.stub_solutions(nb)
    sc.tag_cells_expected_to_raise(nb)
    assert tagged(nb.cells[1])


def test_existing_tags_are_kept_and_stale_raise_tags_dropped():
    plain = new_code_cell("x = 1", metadata={"tags": ["hide-input", sc.RAISES_TAG]})
    nb = master(plain)
    sc.tag_cells_expected_to_raise(nb)
    assert nb.cells[0].metadata["tags"] == ["hide-input"]


def test_student_copy_keeps_nbgrader_metadata_and_ids():
    nb = square_master()
    copy_ = sc.student_copy(nb, "01_squares.ipynb")
    for before, after in zip(nb.cells, copy_.cells, strict=True):
        assert after.metadata.get("nbgrader") == before.metadata.get("nbgrader")
    assert all(cell.get("id") for cell in copy_.cells)
    assert len({cell.id for cell in copy_.cells}) == len(copy_.cells)


def test_student_copy_does_not_touch_the_master():
    nb = square_master()
    snapshot = copy.deepcopy(nb)
    sc.student_copy(nb, "01_squares.ipynb")
    assert nb == snapshot


def test_student_copy_is_stable_text():
    nb = square_master()
    assert notebook_text(sc.student_copy(nb, "m")) == notebook_text(sc.student_copy(nb, "m"))


def test_test_cell_points_survive():
    nb = master(solution_cell("x = 1"), graded_cell("assert x == 1", points=3))
    assert sc.student_copy(nb, "m").cells[1].metadata["nbgrader"]["points"] == 3
