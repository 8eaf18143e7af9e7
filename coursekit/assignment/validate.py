"""Checks that a master notebook is well formed before anything is generated from it."""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from coursekit.assignment import cells
from coursekit.assignment.markers import HIDDEN_TESTS, SOLUTION, MarkerError, find_regions
from coursekit.assignment.notebooks import NotebookError, describe_cell


class InvalidMaster(Exception):
    """A master notebook has one or more problems; each names its cell."""

    def __init__(self, problems: list[NotebookError]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def master_problems(nb: NotebookNode, path: Path | str) -> list[NotebookError]:
    """Every problem of the master ``nb``, in cell order (empty when it is fine)."""
    problems: list[NotebookError] = []
    first_cell_of: dict[str, int] = {}

    def problem(index: int, message: str) -> None:
        problems.append(NotebookError(path, message, describe_cell(nb, index)))

    for index, cell in enumerate(nb.cells):
        meta = cells.nbgrader(cell)
        try:
            kinds = {region.kind for region in find_regions(cell.source)}
        except MarkerError as err:
            problem(index, f"unbalanced markers: {err}")
            kinds = set()
        if SOLUTION in kinds and not cells.is_solution_cell(cell):
            problem(index, "has a '### BEGIN SOLUTION' region but is not marked as a solution cell "
                           "(set metadata nbgrader.solution to true)")
        if HIDDEN_TESTS in kinds and not meta.get("grade"):
            problem(index, "has a '### BEGIN HIDDEN TESTS' region but is not a graded test cell "
                           "(set metadata nbgrader.grade to true and give it points)")
        if cell.get("cell_type") == "markdown" and (meta.get("solution") or meta.get("grade")):
            # nbgrader's rule, so that a master stays an nbgrader source: a written answer is a solution cell and
            # a grade cell (graded by hand) at once; points 0 leave it ungraded.
            if not (meta.get("solution") and meta.get("grade")):
                problem(index, "is a markdown answer cell that is not both a solution and a grade cell (set "
                               "metadata nbgrader.solution and nbgrader.grade to true; points 0 leave it ungraded)")
            value = meta.get("points")
            if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                problem(index, f"is a markdown answer cell with points {value!r}; give it points 0 or more")
        if cells.is_demonstration_cell(cell) and (cell.get("cell_type") != "code" or meta.get("solution")
                                                   or meta.get("grade")):
            problem(index, "is marked coursekit.demonstration but is not a plain code cell (a demonstration is the "
                           "master's own code, neither a solution nor a test)")
        if not meta.get("solution") and not meta.get("grade"):
            continue
        grade_id = meta.get("grade_id")
        if not grade_id:
            problem(index, "is a solution or test cell without a grade_id")
        elif grade_id in first_cell_of:
            problem(index, f"repeats grade_id '{grade_id}' already used by cell {first_cell_of[grade_id] + 1}")
        else:
            first_cell_of[grade_id] = index
        if cells.is_test_cell(cell):
            value = meta.get("points")
            if value is None:
                problem(index, "is a test cell without points (set metadata nbgrader.points)")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                problem(index, f"has points {value!r}; points must be a positive number")
    return problems


def validate_master(nb: NotebookNode, path: Path | str) -> None:
    """Raise InvalidMaster listing every problem of the master ``nb``."""
    problems = master_problems(nb, path)
    if problems:
        raise InvalidMaster(problems)
