#!/usr/bin/env python3
"""Set up the course and run it, with nothing but Python 3.11 or newer.

    python3 course.py lab    create/update .venv, then open the course in JupyterLab
    python3 course.py test   create/update .venv, then run the whole test suite (extra args go to pytest)

The environment is rebuilt only when pyproject.toml changes. Standard library only, on purpose:
this script runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "coursekit-installed.sha256"  # hash of the pyproject.toml that was installed
START_PAGE = "notebooks/00_start_here.ipynb"


def venv_executable(name: str) -> Path:
    """Path of a program inside the course's environment."""
    folder = "Scripts" if os.name == "nt" else "bin"
    return VENV / folder / (name + (".exe" if os.name == "nt" else ""))


def ensure_environment() -> Path:
    """Create .venv and install the course into it when missing or out of date; return its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 -- this runs on whatever python3 the machine has
        sys.exit(f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = venv_executable("python")
    if not python.exists():
        print(f"Creating the course's environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing the course and its packages (the first time takes a few minutes) ...", flush=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True)
        STAMP.write_text(wanted + "\n")
    return python


def main(argv: list[str]) -> int:
    """Run the command named in ``argv``; return its exit code."""
    commands = ("lab", "test")
    if not argv or argv[0] not in commands:
        print(__doc__.strip())
        return 2
    python = ensure_environment()
    if argv[0] == "lab":
        # Containers often run as root, where JupyterLab refuses to start unless told it may.
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        # Serve the whole course (lessons and exercises) and open the start page in it.
        where = [f"--ServerApp.root_dir={ROOT}", f"--LabApp.default_url=/lab/tree/{START_PAGE}"]
        return subprocess.call([str(venv_executable("jupyter")), "lab", *where, *as_root, *argv[1:]], cwd=ROOT)
    return subprocess.call([str(python), "-m", "pytest", *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
