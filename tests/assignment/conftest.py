"""The course-folder fixture of the assignment tests; the notebook builders are in master_builders.py."""

from pathlib import Path

import pytest

from coursekit.assignment.notebooks import write_notebook
from master_builders import square_master


@pytest.fixture
def course(tmp_path) -> Path:
    """A course folder with one valid master and empty exercises/."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "notebooks").mkdir()
    write_notebook(square_master(), tmp_path / "solutions" / "01_squares.ipynb")
    return tmp_path
