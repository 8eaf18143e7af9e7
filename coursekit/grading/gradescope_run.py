"""Gradescope's ``run_autograder``: grade the notebook a learner uploaded, write ``results/results.json``.

Gradescope lays out a root (``/autograder``) as ``source/`` (the autograder zip, unpacked: the lesson's master
in ``source/solutions/``), ``submission/`` (what the learner uploaded) and ``results/``. This grades the one
notebook (or ``.submission.zip`` from ``coursekit.submit()``) in ``submission/`` with the same grader as
``coursekit grade`` (``batch.grade_items``, into a gradebook of its own) and writes Gradescope's results, as
``Gradebook.gradescope`` does. Whatever was uploaded, and whatever goes wrong, ``results.json`` is written, whole
(written aside, then renamed), with a plain reason when there is nothing to grade: never a crash, never an empty
file. Files are read without following symbolic links (a link to the master would otherwise hand it over).

``python -m coursekit.grading.gradescope_run --lesson 03_activations [--root /autograder]``; the root may also come
from ``$COURSEKIT_GRADESCOPE_ROOT``, so that a test can lay out a temporary folder as Gradescope does.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

from coursekit import i18n
from coursekit.grading import limits
from coursekit.grading.batch import grade_items
from coursekit.grading.gradebook import Gradebook
from coursekit.grading.intake import SKIPPED_FOLDERS, Rejected, open_input, read_bytes, read_capped, utc_text
from coursekit.grading.master import Master, load_master
from coursekit.grading.reasons import failure_words, quoted, size
from coursekit.grading.session import SandboxCrashed, SandboxTimeout
from coursekit.i18n import N_

# Every sentence the learner reads on Gradescope from here, in one place for translation. They are said in the
# master's language (a Japanese edition's autograder speaks Japanese before any notebook is read).
NOTHING_UPLOADED = N_("No notebook was found in your submission: upload your {lesson}.ipynb (or the "
                      ".submission.zip that coursekit.submit() writes).")
SEVERAL_UPLOADED = N_("Your submission holds several notebooks ({names}): upload only your {lesson}.ipynb, so that "
                      "it is clear which one is graded.")
NOT_GRADED = N_("Your submission was not graded: {reason}")
OTHER_LESSON = N_("this submission file is for lesson {found}, and this assignment grades {lesson}: upload the "
                  "notebook of {lesson}")
NOT_THIS_LESSON = N_("this notebook holds none of the exercises of {lesson}, which this assignment grades: it is "
                     "another lesson's; upload the notebook of {lesson}")
LINK = N_("{name} is a symbolic link; links are not followed: upload the notebook itself")
NOT_A_FILE = N_("{name} is not a regular file")
UNREADABLE = N_("{name} cannot be read ({problem})")
TOO_LARGE = N_("{name} is {size}: more than the {cap} a notebook may have")
AUTOGRADER_FAILED = N_("The autograder itself failed ({problem}); your submission is not lost: tell your "
                       "instructor, who can grade it again.")

ROOT_VARIABLE = "COURSEKIT_GRADESCOPE_ROOT"
DEFAULT_ROOT = "/autograder"
MAX_LISTED = 1_000  # entries of submission/ looked at: a learner's upload has a handful
STUDENT = "gradescope"  # the id of the gradebook row (Gradescope knows who the learner is; the grade does not need it)


def main(argv: list[str] | None = None) -> int:
    """The command Gradescope's ``run_autograder`` runs; always 0, once ``results.json`` is written."""
    parser = argparse.ArgumentParser(prog="python -m coursekit.grading.gradescope_run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lesson", required=True,
                        help="the lesson graded: its master is source/solutions/LESSON.ipynb")
    parser.add_argument("--root", default=os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT,
                        help=f"Gradescope's root (default: ${ROOT_VARIABLE}, else {DEFAULT_ROOT})")
    options = parser.parse_args(argv)
    results = run(Path(options.root), options.lesson)
    print(f"score: {results['score']:g}", file=sys.stderr)  # Gradescope shows the autograder's output to staff
    return 0


def run(root: Path | str, lesson: str, *, sandbox: Path | str | None = None, settings=None) -> dict:
    """Grade ``root/submission`` against ``root/source/solutions/<lesson>.ipynb`` and write
    ``root/results/results.json``; the results written. ``sandbox``, ``settings``: as for ``batch.grade_items``."""
    root = Path(root)
    language = i18n.DEFAULT  # until the master says its own
    try:
        master = load_master(root / "source" / "solutions" / f"{lesson}.ipynb")  # the instructor's: a failure is theirs
    except Exception as error:  # noqa: BLE001 -- in its own words: nothing of the student's is in them yet
        results = _not_graded(AUTOGRADER_FAILED.format(problem=f"{type(error).__name__}: {str(error)[:300]}"))
    else:
        language = master.language
        with i18n.speaking(language):
            try:
                results = _grade(root, lesson, master, sandbox, settings)
            except (Exception, SandboxCrashed, SandboxTimeout) as error:  # noqa: BLE001 -- Gradescope gets results
                # that say so, in words the student's code cannot choose (the learner reads them)
                results = _not_graded(AUTOGRADER_FAILED.format(problem=failure_words(error)))
    _write(root / "results" / "results.json", results)
    return results


def _grade(root: Path, lesson: str, master: Master, sandbox, settings) -> dict:
    chosen = _the_upload(root / "submission", lesson)
    if isinstance(chosen, str):
        return _not_graded(chosen)
    name, raw = chosen
    suffix = ".submission.zip" if raw[:2] == b"PK" else ".ipynb"
    # The name read_bytes sees gives a bare notebook this lesson and a valid id, and a submission file too: Gradescope
    # knows who uploaded it, so its manifest's student and time are not asked (the manifest's lesson still is).
    item = read_bytes(name, raw, f"{lesson}--{STUDENT}{suffix}", utc_text(dt.datetime.now(dt.UTC)), identified=True)
    if not isinstance(item, Rejected) and item.lesson not in (None, lesson):
        return _not_graded(NOT_GRADED.format(reason=OTHER_LESSON.format(found=quoted(item.lesson), lesson=lesson)))
    # A notebook of another lesson, under this lesson's name, would get 0 and replace a better grade as Gradescope's
    # active submission (a red team's): its cells carry grade_ids, none of them this lesson's tests'.
    if not isinstance(item, Rejected) and item.grade_ids and \
            not item.grade_ids & {test.grade_id for test in master.tests}:
        return _not_graded(NOT_GRADED.format(reason=NOT_THIS_LESSON.format(lesson=lesson)))
    with tempfile.TemporaryDirectory(prefix="coursekit-gradescope-") as folder, \
            Gradebook(Path(folder) / "gradebook.sqlite") as book:
        [outcome] = grade_items([item], {lesson: master}, book, jobs=1, settings=settings, sandbox=sandbox)
        if outcome.grade is None:
            return _not_graded(NOT_GRADED.format(reason=outcome.reason))
        return book.gradescope(outcome.key)


def _the_upload(folder: Path, lesson: str) -> tuple[str, bytes] | str:
    """(name, bytes) of the one notebook or submission file uploaded, else the reason there is none to grade."""
    found: list[tuple[str, str]] = []  # (name shown, path)
    for top, folders, files in os.walk(folder, followlinks=False):
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS)
        for file in sorted(files):
            if file.lower().endswith((".ipynb", ".zip")):
                path = os.path.join(top, file)
                found.append((os.path.relpath(path, folder), path))
        if len(found) > MAX_LISTED:
            break
    if not found:
        return NOTHING_UPLOADED.format(lesson=lesson)
    if len(found) > 1:  # prefer the files named after the lesson ("03_activations.ipynb", "03_activations--ada...")
        named = [entry for entry in found if os.path.basename(entry[0]).startswith(lesson)]
        if len(named) != 1:
            names = ", ".join(quoted(name) for name, _ in found[:5]) + (", ..." if len(found) > 5 else "")
            return SEVERAL_UPLOADED.format(names=names, lesson=lesson)
        found = named
    [(name, path)] = found
    return _read(name, path)


def _read(name: str, path: str) -> tuple[str, bytes] | str:
    """The bytes of one uploaded file, within the grader's caps, never through a symbolic link; else the reason."""
    shown = quoted(name)
    try:
        handle = open_input(path, follow=False)  # as `coursekit grade` opens a file in a folder
    except OSError as error:
        if error.errno == errno.ELOOP:
            return NOT_GRADED.format(reason=LINK.format(name=shown))
        return NOT_GRADED.format(reason=UNREADABLE.format(name=shown, problem=error.strerror))
    with handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return NOT_GRADED.format(reason=NOT_A_FILE.format(name=shown))
        cap = limits.MAX_MEMBER_BYTES  # a notebook, or a submission file holding one (as `coursekit grade` caps them)
        raw = read_capped(handle, cap)  # a file may grow while it is read: never more than the cap is kept
    if raw is None:
        return NOT_GRADED.format(reason=TOO_LARGE.format(name=shown, size=size(max(info.st_size, cap + 1)),
                                                         cap=size(cap)))
    return name, raw


def _not_graded(reason: str) -> dict:
    """Gradescope's results for a submission that was not graded: no points, and why, in plain text."""
    return {"score": 0.0, "output": reason, "output_format": "text", "test_output_format": "text", "tests": []}


def _write(target: Path, results: dict) -> None:
    """Write ``results`` whole: into a file beside ``target``, then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=1, ensure_ascii=False)
    handle, aside = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as file:
            file.write(text)
        os.replace(aside, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(aside)
        raise


if __name__ == "__main__":
    sys.exit(main())
