"""Builders of small master notebooks for the assignment tests (a module of its own: test files of other folders
import helpers too, and two modules both named ``conftest`` cannot be imported side by side)."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def nbgrader_meta(grade_id, *, solution=False, grade=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def solution_cell(source, grade_id="answer", **kw):
    cell = new_code_cell(source, metadata=nbgrader_meta(grade_id, solution=True), **kw)
    return cell


def graded_cell(source, grade_id="answer_test", points=1):
    return new_code_cell(source, metadata=nbgrader_meta(grade_id, grade=True, points=points))


def master(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


SQUARE_SOLUTION = '''def square(x):
    """Return x squared."""
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION'''

SQUARE_TEST = """assert square(3) == 9
### BEGIN HIDDEN TESTS
assert square(-2) == 4
### END HIDDEN TESTS"""


def square_master():
    """A complete little master: intro, a solved function, its test, a cell that uses it."""
    return master(
        new_markdown_cell("# Squares"),
        new_code_cell("import math", execution_count=1),
        solution_cell(SQUARE_SOLUTION, "square", execution_count=2),
        graded_cell(SQUARE_TEST, "square_test", points=2),
        new_code_cell("nine = square(3)\nprint(nine)", execution_count=4,
                      outputs=[new_output("stream", name="stdout", text="9\n")]),
        new_code_cell("print(nine + 1)"),
        new_code_cell("print(math.pi > 3)"),
    )


def read(path):
    return nbformat.read(path, as_version=4)
