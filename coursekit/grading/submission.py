"""Submission files, as the learner makes them: ``submit()`` in a notebook, or ``coursekit submit``.

A submission file is a zip holding ``manifest.json`` (lesson, student, UTC time, the notebook's
content hash, coursekit version) and ``notebook.ipynb``. The grader reads them back (with bare
notebooks, folders and a platform's zips of many) in ``intake``.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import re
import time
import zipfile
from pathlib import Path

import coursekit
from coursekit.grading.notebook_json import NotASubmission, parse_notebook
from coursekit.grading.student_ids import normalize_student_id

__all__ = ["MANIFEST", "NOTEBOOK", "SUFFIX", "NotASubmission", "names_in_file_name", "pack", "parse_notebook",
           "student_id", "submit", "visible_checks"]

MANIFEST, NOTEBOOK = "manifest.json", "notebook.ipynb"
SUFFIX = ".submission.zip"
STUDENT_ENV = "COURSEKIT_STUDENT"
STUDENT_FILE = Path.home() / ".config" / "coursekit" / "student"


# ---------------------------------------------------------------- packing (the learner's side)
def student_id(explicit: str | None = None) -> str:
    """The learner's id: the argument, else $COURSEKIT_STUDENT, else ~/.config/coursekit/student; InvalidStudentId
    (a NotASubmission) saying what is wrong when it is not a valid id (see ``student_ids``)."""
    if explicit:
        return normalize_student_id(explicit)
    if os.environ.get(STUDENT_ENV):
        return normalize_student_id(os.environ[STUDENT_ENV])
    if STUDENT_FILE.exists():
        return normalize_student_id(STUDENT_FILE.read_text(encoding="utf-8").strip())
    raise NotASubmission(f"who is submitting? pass student='your id', set ${STUDENT_ENV}, or write it to "
                         f"{STUDENT_FILE}")


def names_in_file_name(name: str) -> tuple[str | None, str]:
    """(lesson, student) read off a file name like ``01_chain_rule--ada.ipynb`` or ``01_chain_rule.ipynb`` (whose
    student is then its whole stem); the lesson is None when the name does not start with one."""
    stem = name
    for suffix in (SUFFIX, ".ipynb", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[:-len(suffix)]
    lesson, _, student = stem.partition("--")
    return (lesson if re.fullmatch(r"\d\d_\w+", lesson) else None), (student or stem)


def pack(notebook: Path | str, student: str, outbox: Path | str = "outbox") -> Path:
    """Write the submission file for ``notebook`` into ``outbox``; returns its path.

    NotASubmission, with the reason, for an invalid student id or a notebook the grader would reject.
    """
    student = normalize_student_id(student)
    notebook = Path(notebook)
    raw = notebook.read_bytes()
    parse_notebook(raw)  # refuse to pack something the grader would reject
    lesson = names_in_file_name(notebook.name)[0] or notebook.stem
    now = dt.datetime.now(dt.UTC)
    manifest = {"lesson": lesson, "student": student, "submitted_at": now.isoformat(timespec="seconds"),
                "notebook_sha256": hashlib.sha256(raw).hexdigest(), "coursekit_version": coursekit.__version__}
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    target = outbox / f"{lesson}--{student}{SUFFIX}"  # a valid id is safe in a file name: no separator, no leading dot
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        archive.writestr(NOTEBOOK, raw)
    return target


def visible_checks(notebook: dict, namespace: dict) -> list[tuple[str, str]]:
    """(exercise, status) for every ``exercises.check(name, obj)`` line of the notebook, evaluated in ``namespace``."""
    results = []
    exercises = namespace.get("exercises")
    if exercises is None:
        return results
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for line in str(cell.get("source", "")).splitlines():
            if not line.startswith("exercises.check("):
                continue
            try:
                call = ast.parse(line.strip(), mode="eval").body
                name = ast.literal_eval(call.args[0])
                obj = eval(compile(ast.Expression(call.args[1]), "<check>", "eval"), namespace)  # noqa: S307
                results.append((name, exercises.evaluate(name, obj).status))
            except Exception as error:  # noqa: BLE001 -- a learner's notebook in the learner's own kernel
                results.append((line.strip()[:60], f"error: {type(error).__name__}"))
    return results


def _save_in_the_front_end(path: Path, wait: float = 3.0) -> bool:
    """Ask JupyterLab (or the classic notebook) to save, and wait for the file to change on disk."""
    try:
        from IPython import get_ipython
        from IPython.display import Javascript, display
    except ImportError:
        return False
    if get_ipython() is None or not hasattr(get_ipython(), "kernel"):
        return False  # no front end to ask
    before = path.stat().st_mtime if path.exists() else 0.0
    display(Javascript("if (window.jupyterapp) { window.jupyterapp.commands.execute('docmanager:save'); }"
                       " else if (window.Jupyter && Jupyter.notebook) { Jupyter.notebook.save_checkpoint(); }"))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime > before:
            return True
        time.sleep(0.1)
    return False


def _current_notebook() -> Path | None:
    """The notebook this kernel belongs to, where the front end tells (JupyterLab sets JPY_SESSION_NAME)."""
    for variable in ("JPY_SESSION_NAME", "__vsc_ipynb_file__"):
        value = os.environ.get(variable)
        if value and value.endswith(".ipynb") and Path(value).exists():
            return Path(value)
    return None


def submit(notebook: str | None = None, student: str | None = None, outbox: str = "outbox") -> Path:
    """Save this notebook, run its visible checks, and write the submission file into ``outbox``.

    Call it in the last cell of an exercise notebook: ``import coursekit; coursekit.submit()``.
    """
    path = Path(notebook) if notebook else _current_notebook()
    if path is None:
        raise NotASubmission("which notebook? call submit('exercises/01_chain_rule.ipynb')")
    who = student_id(student)  # before anything else: an invalid id is the learner's to fix first
    saved = _save_in_the_front_end(path)
    try:
        from IPython import get_ipython
        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
    except ImportError:
        namespace = {}
    checks = visible_checks(parse_notebook(path.read_bytes()), namespace)
    target = pack(path, who, Path(path).parent.parent / outbox if notebook is None else outbox)
    lines = [f"Submission for {who}: {target}"]
    if not saved:
        lines.append("Could not save the notebook from here: the LAST SAVED version was packed. Save (Ctrl+S) and "
                     "run submit() again if you changed something since.")
    lines += [f"  {name}: {status}" for name, status in checks]
    print("\n".join(lines))
    return target
