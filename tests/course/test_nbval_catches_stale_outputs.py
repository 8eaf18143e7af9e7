"""nbval, run with the options of `python3 course.py test`, fails a notebook whose stored outputs are stale,
its kernels compute with rounding noise (the root conftest.py), as another machine would, and an exercise's test
cell that does not fail as "not attempted" fails (tests/unsolved_exercises.py)."""

import importlib.util
import os
import subprocess
import sys

import nbformat
import pytest
from course_files import COURSE
from nbformat.v4 import new_code_cell, new_notebook, new_output


def course_nbval_options() -> list[str]:
    """The nbval options that course.py passes to pytest, with the sanitize file's path made absolute."""
    spec = importlib.util.spec_from_file_location("course_script", COURSE.root / "course.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return [str(COURSE.root / option) if option.endswith(".cfg") else option for option in script.NBVAL]


def printing_notebook(*cells: tuple[str, str]):
    """A notebook whose code cells are (code, stored stdout), as if each had been run once in order."""
    nb = new_notebook(cells=[new_code_cell(code, execution_count=count,
                                           outputs=[new_output("stream", name="stdout", text=stored)])
                             for count, (code, stored) in enumerate(cells, start=1)])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def exercise_test_cell(grade_id: str, code: str):
    """A test cell as the exercise sets have it: graded, locked, allowed to raise, no stored output."""
    cell = new_code_cell(code, execution_count=None, outputs=[])
    cell.metadata = {"nbgrader": {"grade": True, "grade_id": grade_id, "locked": True, "points": 1,
                                  "schema_version": 3, "solution": False}, "tags": ["raises-exception"]}
    return cell


@pytest.mark.slow
def test_fresh_outputs_pass_stale_outputs_fail_and_kernels_compute_with_rounding_noise(tmp_path):
    # The second cell's code changed and its output was not refreshed; a number, which no sanitizing may hide.
    cells = [("print(6 * 7)", "42\n"), ("print(6 * 8)", "42\n"),
             ("import numpy as np\nprint(type(np.exp).__name__)", "_NudgedUfunc\n")]
    nbformat.write(printing_notebook(*cells), tmp_path / "demo.ipynb")
    # An exercise set where one test cell raises as an untouched one should, and one (wrongly) passes.
    (tmp_path / "exercises").mkdir()
    exercise = printing_notebook()
    exercise.cells = [exercise_test_cell("untouched_test", "raise NotImplementedError('not attempted yet')"),
                      exercise_test_cell("leaky_test", "assert True")]
    nbformat.write(exercise, tmp_path / "exercises" / "demo.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # keep the repository's settings out
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pytest.ini", "--rootdir", ".", "-p", "no:xdist",
         "-p", "no:cacheprovider", "-p", "tests.startup", "-p", "tests.unsolved_exercises", "-rA",
         *course_nbval_options(), "demo.ipynb", "exercises/demo.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(COURSE.root)},  # for tests.startup
    )
    assert "PASSED demo.ipynb::Cell 0" in result.stdout, result.stdout[-3000:]
    assert "FAILED demo.ipynb::Cell 1" in result.stdout and "Cell outputs differ" in result.stdout, \
        result.stdout[-3000:]
    noisy = "COURSEKIT_NOISY_IPYTHONDIR" in os.environ  # set by the root conftest.py unless the noise is off
    assert f"{'PASSED' if noisy else 'FAILED'} demo.ipynb::Cell 2" in result.stdout, result.stdout[-3000:]
    assert "PASSED exercises/demo.ipynb::Cell 0" in result.stdout, result.stdout[-3000:]
    assert "FAILED exercises/demo.ipynb::Cell 1" in result.stdout, result.stdout[-3000:]
    assert "test cell 'leaky_test' of an untouched exercise set should fail as 'not attempted'" in result.stdout
