"""``coursekit gradescope build LESSON``: the autograder zip that Gradescope runs for one lesson.

The zip holds ``setup.sh`` (run once, as root, when Gradescope builds the image: it makes a virtual environment
in /opt/coursekit and installs into it coursekit from the wheel in the zip, its dependencies from PyPI),
``run_autograder`` (run for every submission: ``coursekit.grading.gradescope_run``), that wheel (this coursekit,
built here from the package itself, so no other network is needed) and the lesson's master, which holds the hidden
tests: Gradescope never shows the zip to students, and setup.sh lets only root (the grader) read the master, which
the sandbox cannot (it gives up root's rights). Nothing else of the course travels: no other master, no exercise.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import re
import shlex
import tomllib
import zipfile
from pathlib import Path

import coursekit
from coursekit.assignment.course import Course, select
from coursekit.grading.gradescope_run import DEFAULT_ROOT, ROOT_VARIABLE
from coursekit.grading.master import load_master

VENV = "/opt/coursekit"  # where setup.sh installs coursekit on Gradescope's image
PYTHON_VARIABLE = "COURSEKIT_GRADESCOPE_PYTHON"  # another Python for run_autograder (a test's)
# Every member is dated so: the same course builds the same zip, byte for byte.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# What run_autograder writes when not even Python could write results.json (for the learner to read on Gradescope).
COULD_NOT_RUN = ("The autograder could not run (exit status {status}); your submission is not lost: tell your "
                 "instructor, who can grade it again.")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the autograder's image (Ubuntu).
# It installs coursekit from the wheel beside it, and coursekit's dependencies from PyPI, into {venv}.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
PYTHON=""
for candidate in python3.13 python3.12 python3.11; do  # coursekit needs Python 3.11 or later
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
done
if [ -z "$PYTHON" ]; then  # Ubuntu 22.04's own Python is 3.10; its 3.11 is a package
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi
if ! "$PYTHON" -m venv {venv}; then  # Debian and Ubuntu ship venv's pip in a package of its own
    apt-get update
    apt-get install -y --no-install-recommends "$PYTHON-venv"
    rm -rf {venv}
    "$PYTHON" -m venv {venv}
fi
{venv}/bin/python -m pip install --no-cache-dir --disable-pip-version-check ./{wheel}
# The master holds the hidden tests: only root, the grader, may read it (the sandbox gives up root's rights).
chmod -R go-rwx solutions
{venv}/bin/python -c "import coursekit.grading.gradescope_run"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades the notebook in submission/ against the master of
# {lesson} and writes results/results.json. ${root_variable} (default {default_root}) and
# ${python_variable} (default {venv}/bin/python) say where, so that a test can lay out a
# folder as Gradescope lays out {default_root}.
ROOT="${{{root_variable}:-{default_root}}}"
PYTHON="${{{python_variable}:-{venv}/bin/python}}"
"$PYTHON" -m coursekit.grading.gradescope_run --root "$ROOT" --lesson {lesson_argument}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then  # not even Python could write it: say so rather than nothing
    mkdir -p "$ROOT/results"
    printf {fallback}'\\n' "$status" > "$ROOT/results/results.json"
fi
exit 0
"""


def build(lesson: str, output: Path | str | None = None, root: Path | str = ".") -> Path:
    """Write the autograder zip of ``lesson`` ("03" or "03_activations") of the course at ``root``; its path.

    FileNotFoundError when no master (or more than one) matches ``lesson``; ValueError when that master has no test.
    """
    course = Course.find(root)
    matches = select(course.masters(), [lesson])
    if len(matches) != 1:
        raise FileNotFoundError(f"{lesson!r} names {len(matches)} masters ({', '.join(p.stem for p in matches)}): "
                                "name one lesson")
    [master_path] = matches
    name = master_path.stem
    if not re.fullmatch(r"\w+", name, re.ASCII):
        raise ValueError(f"a lesson's name must be letters, digits and '_' to travel in a script: {name!r}")
    if not load_master(master_path).tests:
        raise ValueError(f"{master_path} has no graded test cell: Gradescope would have nothing to grade")
    target = Path(output) if output is not None else Path(f"{name}-autograder.zip")
    wheel_name, wheel = package_wheel()
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "setup.sh", SETUP_SH.format(venv=VENV, wheel=wheel_name).encode(), executable=True)
        _add(archive, "run_autograder", run_autograder_script(name).encode(), executable=True)
        _add(archive, wheel_name, wheel)
        _add(archive, f"solutions/{name}.ipynb", master_path.read_bytes())
    return target


def run_autograder_script(lesson: str) -> str:
    """The ``run_autograder`` script for ``lesson``."""
    # printf's format: Gradescope's results, with the exit status where %s is (the message has no other %)
    fallback = json.dumps({"score": 0, "output": COULD_NOT_RUN.format(status="%s"), "output_format": "text",
                           "tests": []})
    return RUN_AUTOGRADER.format(lesson=lesson, lesson_argument=shlex.quote(lesson), venv=VENV,
                                 root_variable=ROOT_VARIABLE, default_root=DEFAULT_ROOT,
                                 python_variable=PYTHON_VARIABLE, fallback=shlex.quote(fallback))


def package_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a wheel of this coursekit: every file of the package (no caches), its metadata, its
    console script, and a RECORD that pip checks."""
    package = Path(coursekit.__file__).resolve().parent
    version = coursekit.__version__
    info = f"coursekit-{version}.dist-info"
    files = {f"coursekit/{path.relative_to(package).as_posix()}": path.read_bytes()
             for path in sorted(package.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")}
    metadata = ["Metadata-Version: 2.1", "Name: coursekit", f"Version: {version}", "Requires-Python: >=3.11",
                *(f"Requires-Dist: {requirement}" for requirement in dependencies())]
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: coursekit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\ncoursekit = coursekit.cli:main\n"
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    name = f"coursekit-{version}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for member, data in files.items():
            _add(wheel, member, data)
    return name, buffer.getvalue()


def dependencies() -> list[str]:
    """What installing coursekit installs (its pyproject's dependencies when the package is a source checkout, else
    those its installed metadata declares), without the extras."""
    pyproject = Path(coursekit.__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "coursekit":
            return list(project.get("dependencies", []))
    return [requirement for requirement in importlib.metadata.requires("coursekit") or []
            if "extra ==" not in requirement]


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    member = zipfile.ZipInfo(name, FIXED_TIME)
    member.compress_type = zipfile.ZIP_DEFLATED
    member.create_system = 3  # Unix, so that unzip keeps the modes below
    member.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(member, data)
