"""The learner's front end, seen from the kernel: is there one, which notebook is this, and save it through it.

Saving goes through ipylab (a maintained JupyterLab extension with a Python side, in the ``lab`` extra): it runs
JupyterLab's own ``docmanager:save`` command, the one Ctrl+S runs, so what is saved is what the learner sees,
unsaved edits included. The kernel cannot be told when the front end is done, so it watches the file: the save
has reached the disk when the file's modification time or content has changed (a coarse clock may not tick between
two quick saves; a save of a running notebook changes its content) and the file reads as a whole notebook.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from coursekit.i18n import N_

SAVE_COMMAND = "docmanager:save"
SAVE_TIMEOUT = 10.0  # seconds; a save takes well under one, but a loaded machine may take its time to draw the page

# Why a save could not be made, in plain words: each completes "Could not save the notebook from here: ...".
NO_FRONT_END = N_("there is no JupyterLab page attached to this Python (plain Python, or a notebook run headless)")
NO_IPYLAB = N_("ipylab is not installed (pip install ipylab, then reload the JupyterLab page)")
NO_ANSWER = N_("JupyterLab did not save it within {seconds:g} s (is this notebook's page open, and the one in front? "
               "has that JupyterLab the ipylab extension?)")
NOT_WRITTEN = N_("the notebook file {path} is missing")


def has_front_end() -> bool:
    """True inside a Jupyter kernel that a front end may be attached to (not headless: COURSEKIT_HEADLESS=1)."""
    if os.environ.get("COURSEKIT_HEADLESS") == "1":
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # A kernel (ZMQ) shell talks to a front end; a bare InteractiveShell or plain Python does not.
    return shell is not None and hasattr(shell, "kernel")


def current_notebook() -> Path | None:
    """The notebook this kernel belongs to, where the front end tells: Jupyter Server sets $JPY_SESSION_NAME (its
    path when the kernel started), VS Code the variable ``__vsc_ipynb_file__``; None elsewhere."""
    candidates = [os.environ.get("JPY_SESSION_NAME")]
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            candidates.append(shell.user_ns.get("__vsc_ipynb_file__"))
    except ImportError:
        pass
    for value in candidates:
        if isinstance(value, str) and value.endswith(".ipynb") and Path(value).is_file():
            return Path(value)
    return None


_app = None  # one ipylab front end per kernel: its widget models live as long as the kernel


def _run_command(command: str) -> None:
    """Ask the JupyterLab page attached to this kernel to run ``command`` (ImportError without ipylab)."""
    global _app
    if _app is None:
        from ipylab import JupyterFrontEnd

        _app = JupyterFrontEnd()
    _app.commands.execute(command)


def save_notebook(path: Path, timeout: float = SAVE_TIMEOUT, run_command=None) -> str | None:
    """Have the front end save the notebook in front (``docmanager:save``) and wait until ``path`` has changed on
    disk and reads as a notebook. None once saved; else why not, in plain words (the file on disk is unchanged).

    ``run_command`` (a function of a command name) replaces ipylab, for tests.
    """
    if run_command is None and not has_front_end():
        return str(NO_FRONT_END)
    if not path.is_file():
        return NOT_WRITTEN.format(path=path)
    before = _fingerprint(path)
    try:
        (run_command or _run_command)(SAVE_COMMAND)
    except ImportError:
        return str(NO_IPYLAB)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Jupyter Server writes a notebook to a temporary file and renames it, so a change means a whole new file;
        # parsing it as well guards against a server configured to write in place.
        if _fingerprint(path) not in (before, None) and _reads_as_a_notebook(path):
            return None
        time.sleep(0.05)
    return NO_ANSWER.format(seconds=timeout)


def _fingerprint(path: Path) -> tuple[int, str] | None:
    """The file's modification time and content hash; None while it is missing (between two steps of a save)."""
    try:
        return path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _reads_as_a_notebook(path: Path) -> bool:
    from coursekit.grading.notebook_json import NotASubmission, parse_notebook

    try:
        parse_notebook(path.read_bytes())
    except (OSError, NotASubmission):
        return False
    return True
