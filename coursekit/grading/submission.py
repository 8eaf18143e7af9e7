"""Submissions: the learner's notebook plus a small manifest, packed by `submit`, read back by the grader.

A submission file is a zip holding ``manifest.json`` (lesson, student, UTC time, the notebook's
content hash, coursekit version) and ``notebook.ipynb``. The grader also takes bare notebooks,
folders, and zips of many submissions (as a learning platform exports them); every input that
cannot be read is *rejected* with its reason, never skipped.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import coursekit

MANIFEST, NOTEBOOK = "manifest.json", "notebook.ipynb"
SUFFIX = ".submission.zip"
STUDENT_ENV = "COURSEKIT_STUDENT"
STUDENT_FILE = Path.home() / ".config" / "coursekit" / "student"


class NotASubmission(ValueError):
    """An input that cannot be graded, with the reason in plain words."""


@dataclass
class Submission:
    """One learner's notebook as received."""

    source: str                 # where it came from (a path, or path!member for a zip)
    raw: bytes                  # the bytes as received: what the gradebook stores
    notebook: dict
    lesson: str | None
    student: str
    manifest: dict = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass
class Rejected:
    """An input the grader could not read; recorded with its reason."""

    source: str
    raw: bytes
    reason: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


# ---------------------------------------------------------------- reading
def parse_notebook(raw: bytes) -> dict:
    """The notebook in ``raw`` as plain JSON data (version 4, any minor; version 3 converted); NotASubmission if not.

    Parsed with ``json`` alone: importing nbformat costs over a second, which a single grading would feel.
    """
    if not raw.strip():
        raise NotASubmission("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotASubmission(f"not UTF-8 text (byte {error.start})") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotASubmission(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from error
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotASubmission("valid JSON, but not a Jupyter notebook (no cells)")
    if "worksheets" in data:  # nbformat 3: let nbformat convert it
        import nbformat
        try:
            data = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as error:
            raise NotASubmission(f"a malformed notebook: {str(error)[:200]}") from error
    cells = data.get("cells")
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise NotASubmission("a malformed notebook: its cells are not a list of cells")
    for cell in cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(map(str, cell["source"]))
        if not isinstance(cell.get("metadata", {}), dict):
            cell["metadata"] = {}
    return data


def _from_name(name: str) -> tuple[str | None, str]:
    """(lesson, student) read off a file name like ``01_chain_rule--ada.ipynb`` or ``01_chain_rule.ipynb``."""
    stem = Path(name).name.removesuffix(SUFFIX).removesuffix(".ipynb").removesuffix(".zip")
    lesson, _, student = stem.partition("--")
    return (lesson if re.fullmatch(r"\d\d_\w+", lesson) else None), (student or stem)


def _submission(source: str, raw: bytes) -> Submission | Rejected:
    try:
        if raw[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
                notebook_raw = archive.read(NOTEBOOK)
            if not isinstance(manifest, dict):
                raise NotASubmission("its manifest is not a JSON object")
            nb = parse_notebook(notebook_raw)
            lesson, student = _from_name(source)
            return Submission(source, raw, nb, str(manifest.get("lesson") or lesson or "") or None,
                              str(manifest.get("student") or student), manifest)
        nb = parse_notebook(raw)
        lesson, student = _from_name(source)
        return Submission(source, raw, nb, lesson, student)
    except NotASubmission as error:
        return Rejected(source, raw, str(error))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        return Rejected(source, raw, f"not a submission file: {error}")


def read_submissions(path: Path | str) -> Iterator[Submission | Rejected]:
    """Every submission in a file, a folder (recursively), or a zip of many."""
    path = Path(path)
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and (child.suffix in (".ipynb", ".zip") or child.name.endswith(SUFFIX)):
                yield from read_submissions(child)
        return
    try:
        raw = path.read_bytes()
    except OSError as error:
        yield Rejected(str(path), b"", f"cannot read the file: {error.strerror}")
        return
    if raw[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                names = archive.namelist()
                if MANIFEST not in names:  # a zip of many submissions
                    for member in sorted(names):
                        if member.endswith((".ipynb", ".zip")) and not member.endswith("/"):
                            yield _submission(f"{path}!{member}", archive.read(member))
                    return
        except zipfile.BadZipFile as error:
            yield Rejected(str(path), raw, f"a damaged zip file: {error}")
            return
    yield _submission(str(path), raw)


def identify_lesson(submission: Submission, lessons: dict[str, set[str]]) -> str | None:
    """The lesson of a submission: its manifest or file name, else the master sharing most grade_ids."""
    if submission.lesson in lessons:
        return submission.lesson
    ids = {(cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id")
           for cell in submission.notebook.get("cells", [])}
    best = max(lessons, key=lambda name: len(lessons[name] & ids), default=None)
    return best if best is not None and lessons[best] & ids else None


# ---------------------------------------------------------------- packing (the learner's side)
def student_id(explicit: str | None = None) -> str:
    """The learner's id: the argument, else $COURSEKIT_STUDENT, else ~/.config/coursekit/student."""
    if explicit:
        return explicit
    if os.environ.get(STUDENT_ENV):
        return os.environ[STUDENT_ENV]
    if STUDENT_FILE.exists():
        return STUDENT_FILE.read_text(encoding="utf-8").strip()
    raise NotASubmission(f"who is submitting? pass student='your id', set ${STUDENT_ENV}, or write it to "
                         f"{STUDENT_FILE}")


def pack(notebook: Path | str, student: str, outbox: Path | str = "outbox") -> Path:
    """Write the submission file for ``notebook`` into ``outbox``; returns its path."""
    notebook = Path(notebook)
    raw = notebook.read_bytes()
    parse_notebook(raw)  # refuse to pack something the grader would reject
    lesson = _from_name(notebook.name)[0] or notebook.stem
    now = dt.datetime.now(dt.UTC)
    manifest = {"lesson": lesson, "student": student, "submitted_at": now.isoformat(timespec="seconds"),
                "notebook_sha256": hashlib.sha256(raw).hexdigest(), "coursekit_version": coursekit.__version__}
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    target = outbox / f"{lesson}--{re.sub(r'[^A-Za-z0-9_.-]', '_', student)}{SUFFIX}"
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
    saved = _save_in_the_front_end(path)
    who = student_id(student)
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
