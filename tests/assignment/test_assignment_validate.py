"""A broken master gets an error naming the notebook and the cell, in plain words."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from coursekit.assignment.validate import InvalidMaster, master_problems, validate_master
from master_builders import graded_cell, master, nbgrader_meta, solution_cell, square_master


def only_problem(nb):
    problems = master_problems(nb, "solutions/01_x.ipynb")
    assert len(problems) == 1, [str(p) for p in problems]
    return str(problems[0])


def test_a_good_master_has_no_problems():
    validate_master(square_master(), "solutions/01_squares.ipynb")


def test_unbalanced_markers_name_notebook_cell_and_line():
    message = only_problem(master(new_code_cell("x = 1"), solution_cell("### BEGIN SOLUTION\nx = 1", "sol")))
    assert message.startswith("solutions/01_x.ipynb, cell 2 (grade_id 'sol'): unbalanced markers: line 1")


def test_solution_region_outside_a_solution_cell():
    message = only_problem(master(new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")))
    assert "cell 1" in message and "not marked as a solution cell" in message


def test_hidden_tests_outside_a_test_cell():
    message = only_problem(master(new_code_cell("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS")))
    assert "not a graded test cell" in message


def test_duplicate_grade_id_names_both_cells():
    message = only_problem(master(solution_cell("x = 1", "same"), graded_cell("assert x", "same")))
    assert "cell 2 (grade_id 'same')" in message and "already used by cell 1" in message


@pytest.mark.parametrize("points", [None, 0, -1, "two", True])
def test_test_cell_needs_positive_points(points):
    cell = new_code_cell("assert True", metadata=nbgrader_meta("t", grade=True, points=points))
    message = only_problem(master(cell))
    assert "points" in message


def test_graded_cell_without_grade_id():
    cell = new_code_cell("assert True", metadata={"nbgrader": {"grade": True, "points": 1, "solution": False}})
    assert "without a grade_id" in only_problem(master(cell))


def test_every_problem_is_reported_at_once():
    nb = master(solution_cell("### BEGIN SOLUTION", "a"), graded_cell("x", "a", points=None))
    with pytest.raises(InvalidMaster) as err:
        validate_master(nb, "m.ipynb")
    assert len(err.value.problems) == 3  # unbalanced, duplicate id, no points


def written_answer(**meta):
    return new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
                             metadata=nbgrader_meta("why", **meta))


def test_a_written_answer_worth_no_points_is_a_good_ungraded_question():
    assert master_problems(master(written_answer(solution=True, grade=True, points=0)), "m.ipynb") == []


@pytest.mark.parametrize("meta", [{"solution": True, "points": 0}, {"grade": True, "points": 0}],
                         ids=["solution only", "grade only"])
def test_a_written_answer_must_be_a_solution_and_a_grade_cell_as_nbgrader_requires(meta):
    problems = [str(p) for p in master_problems(master(written_answer(**meta)), "m.ipynb")]
    assert any("not both a solution and a grade cell" in p for p in problems), problems


@pytest.mark.parametrize("points", [None, -1, "none"])
def test_a_written_answer_needs_points_of_zero_or_more(points):
    message = only_problem(master(written_answer(solution=True, grade=True, points=points)))
    assert "give it points 0 or more" in message


def test_every_master_of_the_course_validates():
    for path in sorted((Path(__file__).resolve().parents[2] / "solutions").glob("*.ipynb")):
        assert master_problems(nbformat.read(path, as_version=4), path) == [], path.name


def test_a_demonstration_must_be_a_plain_code_cell():
    marked = solution_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "sol")
    marked.metadata["coursekit"] = {"demonstration": True}
    message = only_problem(master(marked))
    assert "cell 1" in message and "demonstration" in message and "neither a solution nor a test" in message
    plain = new_code_cell("print(1)", metadata={"coursekit": {"demonstration": True}})
    assert master_problems(master(plain), "m.ipynb") == []
