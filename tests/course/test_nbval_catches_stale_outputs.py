"""nbval, as configured for the course, fails a notebook whose stored outputs are stale."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
from course_files import COURSE
from nbformat.v4 import new_code_cell, new_notebook, new_output

SANITIZE = COURSE.root / "tests" / "nbval_sanitize.cfg"


def nbval(notebook: Path) -> subprocess.CompletedProcess:
    """Run nbval exactly as the course does (strict, shared sanitize file), on one notebook."""
    (notebook.parent / "pytest.ini").write_text("[pytest]\n")  # keep the repo's addopts out
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pytest.ini", "--rootdir", ".", "-p", "no:xdist",
         "-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
         notebook.name],
        cwd=notebook.parent, capture_output=True, text=True, timeout=300,
    )


def printing_notebook(code: str, stored: str):
    nb = new_notebook(cells=[new_code_cell(code, execution_count=1,
                                           outputs=[new_output("stream", name="stdout", text=stored)])])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def test_fresh_outputs_pass_and_stale_outputs_fail(tmp_path):
    path = tmp_path / "demo.ipynb"
    nbformat.write(printing_notebook("print(6 * 7)", "42\n"), path)
    assert nbval(path).returncode == 0
    nbformat.write(printing_notebook("print(6 * 8)", "42\n"), path)  # code changed, output not refreshed
    result = nbval(path)
    assert result.returncode == 1 and "Cell outputs differ" in result.stdout


def test_a_changed_printed_value_in_lesson_01_fails(tmp_path):
    nb = nbformat.read(COURSE.lessons / "01_chain_rule.ipynb", as_version=4)
    streams = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
               if out.output_type == "stream" and re.search(r"\d", out.text)]
    assert streams, "lesson 01 prints no number"
    streams[0].text = re.sub(r"\d", "#", streams[0].text, count=1)  # as if the code changed, not the output
    path = tmp_path / "01_chain_rule.ipynb"
    nbformat.write(nb, path)
    result = nbval(path)
    assert result.returncode == 1 and "Cell outputs differ" in result.stdout
