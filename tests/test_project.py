"""The project's promises to a newcomer: two commands, CI runs the same one, pinned bounds, lint."""

import fnmatch
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands_lab_and_test():
    commands = readme_commands()
    assert commands == ["python3 course.py lab", "python3 course.py test"]


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    run_lines = [line.strip() for line in script.splitlines() if line.strip() and not line.startswith("#")
                 and not line.startswith(("set ", "cd "))]
    # Before it, only the system packages the tests need (Debian's chromium for the browser tests).
    assert run_lines == ["bash .ci/system-packages", f"exec {readme_commands()[1]}"]


def test_every_dependency_has_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    unpinned = [r for r in requirements if ">=" not in r and not r.startswith("coursekit[")]  # our own extras
    assert not unpinned, f"dependencies without a lower bound: {unpinned}"


def test_the_command_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "coursekit", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "generate" in result.stdout


def test_the_code_is_lint_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_every_file_of_the_package_that_is_not_python_ships_in_a_regular_install():
    """A wheel holds a package's non-Python files only when package-data names them: the server's templates and the
    catalogues must be there for `pip install .` (not only for the editable install the course makes)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["coursekit"]
    package = ROOT / "coursekit"
    data = [path.relative_to(package).as_posix() for path in package.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts]
    assert data and not [name for name in data if not any(fnmatch.fnmatch(name, p) for p in patterns)]
