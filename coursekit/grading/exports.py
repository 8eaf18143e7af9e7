"""What the gradebook exports: a CSV of the class, a feedback file per student and lesson, Gradescope's results.

Feedback files are named after the lesson and the student, and a student id is not trusted to be
a file name: one that is lowercase ASCII letters, digits and ``. _ - @ +`` is used as it is, any
other becomes a readable ASCII stem plus a hash of the exact id after ``~`` (a character no id
has). So every name is safe, and two ids never share a file even where the file system folds case
or Unicode forms. One row that cannot be written is reported, and the others are still written.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coursekit import i18n
from coursekit.grading import feedback_page

if TYPE_CHECKING:
    from coursekit.grading.gradebook import Gradebook

_PLAIN_STUDENT = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,63}")
_PLAIN_LESSON = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")  # no '-': the first "--" of a name ends its lesson
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")        # what a spreadsheet would run as a formula


@dataclass
class FeedbackExport:
    """The feedback files written, and the rows that could not be: (student, lesson, reason)."""

    written: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def feedback_file_name(lesson: str, student: str, fmt: str) -> str:
    """The name of a feedback file: ``lesson--student.fmt``, each part as it is when plainly safe, else an ASCII
    stem and a hash of the exact text after ``~``."""
    lesson_part = _safe_part(lesson, _PLAIN_LESSON, "[^a-z0-9]+")
    student_part = _safe_part(student, _PLAIN_STUDENT, "[^a-z0-9.@+]+")
    return f"{lesson_part}--{student_part}.{fmt}"


def _safe_part(text: str, plain: re.Pattern, unsafe: str) -> str:
    if plain.fullmatch(text):
        return text
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    stem = re.sub(unsafe, "_", folded).strip("._")[:40] or "id"
    return f"{stem}~{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def export_csv(book: Gradebook, path: Path | str) -> Path:
    """One row per student: one column per question (lesson:grade_id), the cells of theirs that did not run to their
    end (lesson, cell number and status: the feedback tells why), their inputs that were rejected (lesson and
    reason), and a total. A question the student's graded submission of that lesson does not hold (no submission of
    it, or one graded against an older master) is left empty, so that it reads as missing, never as a 0 they scored;
    a student whose every input was rejected has a row of empty questions that says why."""
    rows: dict[str, dict[str, float]] = {}
    cells: dict[str, list[str]] = {}
    rejected: dict[str, list[str]] = {}
    columns: list[str] = []
    for student, lesson, reason in book.rejected_of_students():
        rows.setdefault(student, {})
        rejected.setdefault(student, []).append(f"{lesson or 'no lesson'}: {reason}")
    for student, reasons in rejected.items():  # a folder of 10,000 unreadable files is a cell of a few lines
        if len(reasons) > MAX_REJECTED_LISTED:
            rejected[student] = [*reasons[:MAX_REJECTED_LISTED], f"{len(reasons) - MAX_REJECTED_LISTED:,} more"]
    for student, lesson, key in book.latest():
        for grade_id, _, points, _, _ in book.results(key):
            column = f"{lesson}:{grade_id}"
            if column not in columns:
                columns.append(column)
            rows.setdefault(student, {})[column] = points
        rows.setdefault(student, {})
        listed, more = feedback_page.listed_cells(book.cell_problems(key))
        cells.setdefault(student, []).extend(f"{lesson} cell {problem.cell}: {problem.status}" for problem in listed)
        if more:
            cells[student].append(f"{lesson}: {more:,} more cells")
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *columns, CELL_PROBLEMS_COLUMN, REJECTED_COLUMN, "total"])
        for student, scores in sorted(rows.items()):
            writer.writerow([_not_a_formula(student), *(scores.get(c, "") for c in columns),
                             _not_a_formula("; ".join(cells.get(student, []))),
                             _not_a_formula("; ".join(rejected.get(student, []))),
                             sum(scores.values()) if scores else ""])  # nothing graded: missing, never a 0
    return path


CELL_PROBLEMS_COLUMN = "cells not run to their end"
REJECTED_COLUMN = "inputs rejected"
MAX_REJECTED_LISTED = 5


def _not_a_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it (a valid id cannot start so; one graded before ids were
    checked may)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def feedback(book: Gradebook, key: str, fmt: str = "md") -> str:
    """A student's feedback for one submission, in Markdown (``md``) or as a standalone HTML page rendered from it
    (``html``): points, a status per question, the cells that did not run to their end, each question's message."""
    with i18n.speaking(book.language(key)):  # the headings in the language of the submission's messages
        student, lesson, points, max_points = book.graded(key)
        text = feedback_page.markdown(lesson, student, points, max_points, book.results(key), book.cell_problems(key))
        if fmt == "md":
            return text
        if fmt == "html":
            return feedback_page.html_page(text, feedback_page.TITLE.format(lesson=lesson, points=points,
                                                                            max_points=max_points))
    raise ValueError(f"no feedback format {fmt!r}: md or html")


def export_feedback(book: Gradebook, folder: Path | str, fmt: str = "md") -> FeedbackExport:
    """One feedback file per student and lesson (their latest submission); a row that fails is reported in
    ``problems`` and the next is written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    export = FeedbackExport()
    taken: set[str] = set()
    for student, lesson, key in book.latest():
        try:
            name = feedback_file_name(lesson, student, fmt)
            if name.casefold() in taken:  # names are unique by construction: a hash collision would land here
                export.problems.append((student, lesson, f"its file name {name} is another student's: not written"))
                continue
            target = folder / name
            target.write_text(feedback(book, key, fmt), encoding="utf-8", errors="backslashreplace")
        except (OSError, ValueError, TypeError, KeyError) as error:  # this row only: the others are still written
            export.problems.append((str(student), str(lesson), f"not written: {type(error).__name__}: {error}"))
            continue
        taken.add(name.casefold())
        export.written.append(target)
    return export


def gradescope(book: Gradebook, key: str) -> dict:
    """Gradescope's results.json for one submission: a test per question, and on top, the cells that did not run
    to their end. Everything is plain text (``output_format``): a student's text is never read as HTML there."""
    with i18n.speaking(book.language(key)):  # the learner reads the status words in the submission's language
        tests = [{"name": grade_id, "score": got, "max_score": full, "status": "passed" if status == "passed"
                  else "failed",
                  "output": feedback_page.plain_text(f"{feedback_page.STATUS_NAMES.get(status, status)}: {message}")}
                 for grade_id, status, got, full, message in book.results(key)]
    results = {"score": sum(t["score"] for t in tests), "output_format": "text", "test_output_format": "text",
               "tests": tests}
    problems = book.cell_problems(key)
    if problems:
        with i18n.speaking(book.language(key)):
            results["output"] = feedback_page.plain_text("\n".join([feedback_page.CELLS_HEADING + ":", *(
                "- " + sentence for sentence in feedback_page.cell_sentences(problems, as_markdown=False))]))
    return results
