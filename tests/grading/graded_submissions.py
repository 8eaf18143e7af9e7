"""The course's masters, grading settings for the tests, and builders of submissions, for the grading tests (a
module of its own: two modules both named ``conftest`` cannot be imported side by side)."""

import copy
from pathlib import Path

import nbformat

from coursekit.assignment.notebooks import read_notebook
from coursekit.grading.grader import grade_notebook
from coursekit.grading.limits import Settings
from coursekit.grading.master import load_masters

ROOT = Path(__file__).resolve().parents[2]
MASTERS = load_masters(ROOT / "solutions")
# Short enough to keep the hostile tests quick, long enough for honest code on a loaded 2-core machine.
FAST = Settings(cell_timeout=3.0, call_timeout=3.0, test_timeout=10.0)
# For submissions that are meant to run into a limit, so that each loop costs the suite less than half a second.
# Only lesson 07's light honest code runs under it: grading its solution takes 0.04 s of wall time on an idle
# 2-core machine and 0.08 s with four busy loops beside it, so 0.4 s leaves a margin of five.
LIMITED = Settings(cell_timeout=0.4, call_timeout=0.4, test_timeout=5.0, wall_grace=0.5)


def solution(lesson: str) -> nbformat.NotebookNode:
    return read_notebook(ROOT / "solutions" / f"{lesson}.ipynb")


def solution_cell(lesson: str, grade_id: str) -> str:
    """The source of the cell ``grade_id`` of ``lesson``'s master."""
    return next(cell.source for cell in solution(lesson).cells
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def grade(server, nb, lesson: str, settings: Settings = FAST):
    return grade_notebook(nb, MASTERS[lesson], server, settings)


def by_id(graded) -> dict:
    return {test.grade_id: test for test in graded.tests}


def with_cell(lesson: str, code: str, at: int = 1) -> nbformat.NotebookNode:
    """The lesson's solution with one more code cell at position ``at``."""
    nb = copy.deepcopy(solution(lesson))
    nb.cells.insert(at, nbformat.v4.new_code_cell(code, id=f"added-{at}"))
    return nb


def replacing(lesson: str, grade_id: str, code: str) -> nbformat.NotebookNode:
    """The lesson's solution with the cell of ``grade_id`` holding ``code`` instead (KeyError when it has none)."""
    nb = copy.deepcopy(solution(lesson))
    cells = [cell for cell in nb.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    if not cells:
        raise KeyError(f"{lesson} has no cell {grade_id!r}")
    for cell in cells:
        cell.source = code
    return nb
