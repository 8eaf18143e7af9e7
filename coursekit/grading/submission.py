"""Submission files, as the learner makes them (``submit()`` in a notebook, see ``learner_submit``, or
``coursekit submit``), and the learner's student id.

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
import zipfile
from pathlib import Path

import coursekit
from coursekit.grading.notebook_json import NotASubmission, parse_notebook
from coursekit.grading.student_ids import normalize_student_id
from coursekit.i18n import N_

__all__ = ["MANIFEST", "NOTEBOOK", "SUFFIX", "NotASubmission", "file_stem", "names_in_file_name", "pack",
           "parse_notebook", "remember_student_id", "student_id", "visible_checks"]

MANIFEST, NOTEBOOK = "manifest.json", "notebook.ipynb"
SUFFIX = ".submission.zip"
STUDENT_ENV = "COURSEKIT_STUDENT"
STUDENT_FILE = Path.home() / ".config" / "coursekit" / "student"
NO_STUDENT_ID = N_("No student id is set, so this submission would have no owner. Give yours in one of these ways: "
                   "coursekit.submit(student=\"your-id\") in a notebook, --student your-id after `coursekit submit`, "
                   "the environment variable {variable}=your-id, or a file {file} holding it.")
NOT_RUN = "not run yet"  # the state of a visible check whose name is not defined (shown as NOT_RUN_WORDS)
NOT_RUN_WORDS = N_("not run yet")


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
    raise NotASubmission(NO_STUDENT_ID.format(variable=STUDENT_ENV, file=STUDENT_FILE))


def remember_student_id(text: str) -> str:
    """Check ``text`` as a student id and store it where ``student_id`` looks (~/.config/coursekit/student), so that
    later submissions need not ask; returns the id (InvalidStudentId, saying what is wrong, if it is not valid)."""
    who = normalize_student_id(text.strip())
    STUDENT_FILE.parent.mkdir(parents=True, exist_ok=True)
    STUDENT_FILE.write_text(who + "\n", encoding="utf-8")
    return who


def names_in_file_name(name: str) -> tuple[str | None, str]:
    """(lesson, student) read off a file name like ``01_chain_rule--ada.ipynb`` or ``01_chain_rule.ipynb`` (whose
    student is then its whole stem); the lesson is None when the name does not start with one."""
    stem = file_stem(name)
    lesson, _, student = stem.partition("--")
    return (lesson if re.fullmatch(r"\d\d_\w+", lesson) else None), (student or stem)


def file_stem(name: str) -> str:
    """A file's name without its suffix (``.submission.zip``, ``.ipynb``, ``.zip``, in any case)."""
    for suffix in (SUFFIX, ".ipynb", ".zip"):
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def pack(notebook: Path | str, student: str, outbox: Path | str = "outbox") -> Path:
    """Write the submission file for ``notebook`` into ``outbox``; returns its path.

    NotASubmission, with the reason, for an invalid student id or a notebook the grader would reject.
    """
    student = normalize_student_id(student)
    notebook = Path(notebook)
    raw = notebook.read_bytes()
    parse_notebook(raw)  # refuse to pack something the grader would reject
    # A name that does not start with a lesson goes as it is, but for what would break the file name written: "--",
    # which separates the lesson from the student ("work--v2.ipynb" would be read as student "v2--ada"), a dash at
    # its end ("01_x-.ipynb" as student "-ada", red team Z) and a backslash, which the grader reads as a folder (the
    # grader then finds the lesson by the notebook's cells)
    lesson = names_in_file_name(notebook.name)[0] or \
        re.sub("-{2,}", "-", notebook.stem.replace("\\", "_")).strip("-") or "notebook"
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
    """(exercise, status) for every ``exercises.check(name, obj)`` line of the notebook, evaluated in ``namespace``:
    a check's state (passed, failed, not attempted, error), NOT_RUN when what it checks is not defined there."""
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
            label = line.strip()[:60]
            try:
                call = ast.parse(line.strip(), mode="eval").body
                label = name = ast.literal_eval(call.args[0])
                obj = eval(compile(ast.Expression(call.args[1]), "<check>", "eval"), namespace)  # noqa: S307
                results.append((name, exercises.evaluate(name, obj).status))
            except NameError:  # the cell that defines it has not run since the kernel started
                results.append((str(label), NOT_RUN))
            except Exception as error:  # noqa: BLE001 -- a learner's notebook in the learner's own kernel
                results.append((str(label), f"error: {type(error).__name__}"))
    return results
