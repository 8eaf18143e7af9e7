#!/usr/bin/env python3
"""Set up the course and run it, with nothing but Python 3.11 or newer.

    python3 course.py lab    create/update .venv, then open the course in JupyterLab
    python3 course.py lab --lang ja   the same, opening the Japanese edition (ja/), with JupyterLab's Japanese
                                      language pack installed (choose 日本語 in Settings > Language)
    python3 course.py site   create/update .venv, then build the course's website, both editions, into build/site
                             from the notebooks' stored outputs (extra args go to site/build.py: --out, --lab-url)
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
# Each edition's start page, and the extra `lab` installs for it (the Japanese one adds JupyterLab's language pack).
EDITIONS = {"en": (START_PAGE, "lab"), "ja": ("ja/notebooks/00_start_here.ipynb", "lab-ja")}
# The whole suite: nbval over every notebook (lessons and masters strictly against their stored outputs, volatile
# text normalised by one sanitize file) and one test process per core. Kept here rather than in pytest's addopts
# so that `pytest tests/x.py` stays quick for a developer. Arguments given after `test` come later and win.
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
         "--nbval-cell-timeout", "120"]
# One test process more than there are cores: a notebook's tests wait on its kernel (start-up handshakes, messages)
# and a grading test on its sandbox, and the extra process keeps the cores busy meanwhile (34 -> 32 s on 2 cores).
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
PARALLEL = ["-n", str(CORES + 1), "--dist", "loadscope", "--no-loadscope-reorder"]  # order: tests/slow_first.py
STARTUP = ["-p", "tests.startup"]  # first of all plugins: spares every test process a second of imports
# A failing property test is reported with the first example that fails, not shrunk (tests/hypothesis_profiles.py).
PROPERTIES = ["--hypothesis-profile", "suite"]


def venv_executable(name: str) -> Path:
    """Path of a program inside the course's environment."""
    folder = "Scripts" if os.name == "nt" else "bin"
    return VENV / folder / (name + (".exe" if os.name == "nt" else ""))


def ensure_environment(extra: str) -> Path:
    """Create .venv and install the course with ``extra`` when missing or out of date; return its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 -- this runs on whatever python3 the machine has
        sys.exit(f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = venv_executable("python")
    if not python.exists():
        print(f"Creating the course's environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    installed = STAMP.read_text().split() if STAMP.exists() else []
    extras = set(installed[1:]) if installed[:1] == [digest] else set()
    # The test extra includes the lab and site extras, so an environment set up for tests also opens the course
    # and builds its website.
    satisfied = extra in extras or (extra in ("lab", "site") and "test" in extras)
    if not satisfied:
        print("Installing the course and its packages (the first time takes a few minutes) ...", flush=True)
        extras.add(extra)  # what was installed for another command stays installed
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "--editable", f"{ROOT}[{','.join(sorted(extras))}]"], check=True)
        STAMP.write_text(f"{digest} {' '.join(sorted(extras))}\n")
    return python


def language_option(args: list[str]) -> tuple[str, list[str]]:
    """The edition ``--lang LANG`` (or ``--lang=LANG``) asks for ("en" by default), and the other arguments."""
    language, rest, args = "en", [], list(args)
    while args:
        arg = args.pop(0)
        if arg == "--lang" and args:
            language = args.pop(0)
        elif arg.startswith("--lang="):
            language = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if language not in EDITIONS:
        sys.exit(f"--lang: the course has the editions {', '.join(EDITIONS)}, not {language!r}")
    return language, rest


def main(argv: list[str]) -> int:
    """Run the command named in ``argv``; return its exit code."""
    commands = ("lab", "test", "site")
    if not argv or argv[0] not in commands:
        print(__doc__.strip())
        return 2
    if argv[0] == "lab":
        language, args = language_option(argv[1:])
        start_page, extra = EDITIONS[language]
        ensure_environment(extra=extra)
        # Containers often run as root, where JupyterLab refuses to start unless told it may.
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        # Serve the whole course (lessons and exercises) and open the start page in it.
        where = [f"--ServerApp.root_dir={ROOT}", f"--LabApp.default_url=/lab/tree/{start_page}"]
        # coursekit speaks the edition's language in every notebook opened there (a Japanese notebook says so too)
        env = {**os.environ, "COURSEKIT_LANG": language} if language != "en" else None
        return subprocess.call([str(venv_executable("jupyter")), "lab", *where, *as_root, *args], cwd=ROOT, env=env)
    python = ensure_environment(extra=argv[0])  # each command has an extra of its name; "test" includes lab, site
    if argv[0] == "site":
        # Sphinx, MyST-NB and MathJax are in the environment; the build reads the stored outputs, runs no notebook.
        return subprocess.call([str(python), str(ROOT / "site" / "build.py"), *argv[1:]], cwd=ROOT)
    return subprocess.call([str(python), "-m", "pytest", *STARTUP, *NBVAL, *PARALLEL, *PROPERTIES, *argv[1:]], cwd=ROOT,
                           env=test_environment())


def test_environment() -> dict[str, str]:
    """This process's environment for the test run: Python's bytecode cache allowed, one BLAS thread per process.

    Containers often set PYTHONDONTWRITEBYTECODE. Then pytest cannot keep the assertion-rewritten copies of the
    tests and of hypothesis (whose plugin it rewrites), and every test process and notebook kernel compiles them
    and coursekit again: 5 of the suite's 41 seconds on the course's 2-core machine. The caches go to
    __pycache__ folders, which git ignores.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # The run already keeps every core busy with one test process each; a BLAS library that starts a thread per core
    # in every process (and every notebook kernel and sandbox) only oversubscribes them, and its idle threads spin:
    # one thread each cut the suite's CPU time by a tenth and its wall time by a quarter to a third on 2 cores.
    # A variable the user has set wins. (This is the thread count, not the kernel choice: OPENBLAS_CORETYPE is left
    # alone, and the lessons print the same text whatever the number of threads.)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
