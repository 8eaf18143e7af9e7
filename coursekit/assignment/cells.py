"""What a cell is to the grader, read from its nbgrader metadata."""

from __future__ import annotations

from nbformat import NotebookNode

NBGRADER_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution")


def nbgrader(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_solution_cell(cell: NotebookNode) -> bool:
    """A cell whose marked regions the learner fills in."""
    return bool(nbgrader(cell).get("solution"))


def is_test_cell(cell: NotebookNode) -> bool:
    """A graded cell: runs checks and is worth points."""
    return bool(nbgrader(cell).get("grade")) and not is_solution_cell(cell)


def is_demonstration_cell(cell: NotebookNode) -> bool:
    """A cell of the master that only shows the learner something (a training run, a figure): metadata
    ``coursekit.demonstration``. No test needs what it does, so the grader skips it where a submission holds it
    unchanged."""
    return bool((cell.get("metadata", {}).get("coursekit") or {}).get("demonstration"))


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's grade_id, if it has one."""
    return nbgrader(cell).get("grade_id")


def points(cell: NotebookNode) -> float | None:
    """The points a test cell is worth, or None when not given."""
    value = nbgrader(cell).get("points")
    return None if value is None else float(value)
