"""The gradebook: every submission as received and its results, in SQLite.

A submission is (student, lesson, notebook bytes, submitted time), and that is its row's key (see
``gradebook_schema``): two students who hand in the same bytes are two rows, and the coincidence
is reported (``identical_submissions``). A student's latest submission of a lesson is the one
submitted last, whatever order grading finished in. Each row is written in one transaction, so
a batch killed half way loses nothing it finished and never counts anything twice; grading the
same submission again is a no-op unless asked.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coursekit import i18n
from coursekit.grading import exports
from coursekit.grading.gradebook_schema import now, prepare, rejection_key, storable_text, submission_key
from coursekit.grading.verdicts import CellProblem, Grade

if TYPE_CHECKING:
    from coursekit.grading.intake import Rejected, Submission


JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes


@dataclass(frozen=True)
class Entry:
    """One input as the gradebook stores it: its key, where it came from, what identifies it, its bytes."""

    key: str
    source: str
    raw: bytes
    content_hash: str
    notebook_hash: str | None
    student: str | None
    lesson: str | None
    submitted_at: str | None
    arrival: int
    late: bool = False  # received after its lesson's deadline (known only for what the course server received)

    @classmethod
    def of_submission(cls, item: Submission, lesson: str | None, late: bool = False) -> Entry:
        """The entry of a submission that was read, for ``lesson`` (the one identified, None when none was)."""
        return cls(submission_key(item.student, lesson, item.notebook_hash, item.time_as_given or item.submitted_at),
                   storable_text(item.source), item.raw, item.content_hash, item.notebook_hash, item.student,
                   storable_text(lesson), item.submitted_at, item.arrival, late)

    @classmethod
    def of_rejected(cls, item: Rejected, late: bool = False, place: str | None = None) -> Entry:
        """The entry of an input that could not be read. ``place``: where it is, if not its source as given (a file's
        absolute path: the same folder graded again by another path is the same input)."""
        return cls(rejection_key(place or item.source, item.content_hash), storable_text(item.source), item.raw,
                   item.content_hash, None, storable_text(item.student), storable_text(item.lesson), None, item.arrival,
                   late)


@dataclass(frozen=True)
class IdenticalSubmissions:
    """Students who handed in byte-for-byte the same notebook for one lesson."""

    lesson: str | None
    notebook_hash: str
    students: tuple[str, ...]


def _names(text: str | None) -> list[str]:
    """The names a cell defines, as stored (a JSON list); none when the stored text is not one."""
    try:
        names = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(name) for name in names] if isinstance(names, list) else []


# The graded submissions ranked per student and lesson, the latest first (rank 1): the last submitted (the manifest's
# time, else the file's), and of those the last the grader read. One rule for the CSV, the feedback export and the
# course server's dashboard: a query starts with it and reads ``latest``.
LATEST_GRADED = """
WITH latest AS (
    SELECT id, key, student, lesson, points, max_points, late, ROW_NUMBER() OVER (
        PARTITION BY student, lesson ORDER BY submitted_at DESC, arrival DESC, id DESC) AS rank
    FROM submissions WHERE state = 'graded' AND student IS NOT NULL AND lesson IS NOT NULL)
"""


class Gradebook:
    """An SQLite file of submissions and results."""

    def __init__(self, path: Path | str, *, shared: bool = False, timeout: float = 5.0):
        """Open (creating or upgrading) the gradebook at ``path``. ``shared``: the connection may be used from
        several threads, one at a time (the course server guards it with a lock); ``timeout``: seconds to wait
        for another process's write."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=not shared)
        # A write-ahead log (the course server's) is cut back to this once its pages are in the gradebook: without a
        # limit it keeps the size of its busiest minute for good (a flood of uploads left 642 MB).
        self.db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        try:
            prepare(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def known(self, key: str, unless_rejected_for: tuple[str, ...] = ()) -> bool:
        """True when the input with this key was already graded or rejected (but not rejected for a reason that starts
        with one of ``unless_rejected_for``: such an input is to be graded again)."""
        row = self.db.execute("SELECT state, reason FROM submissions WHERE key = ?", (key,)).fetchone()
        if row is None:
            return False
        state, reason = row
        return not (state == "rejected" and unless_rejected_for and str(reason or "").startswith(unless_rejected_for))

    def arrived(self, key: str, arrival: int) -> None:
        """The submission with this key was read again, as arrival number ``arrival``: it counts as having arrived
        then (the latest on equal times is the one read last), and is not graded again."""
        with self.db:
            self.db.execute("UPDATE submissions SET arrival = MAX(arrival, ?) WHERE key = ?", (arrival, key))

    def next_arrival(self) -> int:
        """The arrival number after every one recorded: a batch numbers the inputs it reads from here."""
        return self.db.execute("SELECT COALESCE(MAX(arrival), 0) + 1 FROM submissions").fetchone()[0]

    def record(self, entry: Entry, grade: Grade, then: Callable[[sqlite3.Connection, Entry], None] | None = None
               ) -> None:
        """Store a graded submission and its results, atomically (replacing an earlier grading of it, and earlier
        rejections of the same bytes from the same place). ``then(db, entry)`` runs in the same transaction (the
        server's queue marks its row done there); should it raise, nothing is stored."""
        with self.db:
            row = self._write(entry, "graded", None, grade.points, grade.max_points, json.dumps(grade.protections),
                              grade.seconds)
            self.db.execute("UPDATE submissions SET language = ? WHERE id = ?", (grade.language, row))
            self.db.executemany("INSERT INTO results (submission, grade_id, status, points, max_points, message, "
                                "mistake) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(row, t.grade_id, t.status, t.points, t.max_points, t.message, t.mistake)
                                 for t in grade.tests])
            self.db.executemany("INSERT INTO cell_problems VALUES (?, ?, ?, ?, ?, ?)",
                                [(row, p.cell, p.status, p.cause, p.start, json.dumps(list(p.names)))
                                 for p in grade.cell_problems])
            self.db.execute("DELETE FROM submissions WHERE state = 'rejected' AND source = ? AND hash = ? AND id != ?",
                            (entry.source, entry.content_hash, row))
            if then is not None:
                then(self.db, entry)

    def reject(self, entry: Entry, reason: str, then: Callable[[sqlite3.Connection, Entry], None] | None = None
               ) -> None:
        """Store an input that could not be graded, with its reason (replacing an earlier row of the same key);
        ``then`` as for ``record``."""
        with self.db:
            row = self._write(entry, "rejected", reason, None, None, None, None)
            # the same input rejected under the key of an earlier rule (its path as given): one row, not two. By that
            # key only: another folder given by the same relative path (next week's "inbox") holds other inputs, and
            # many rejected rows keep no bytes (a folder with nothing to grade, a link), so have the same hash
            self.db.execute("DELETE FROM submissions WHERE state = 'rejected' AND key = ? AND id != ?",
                            (rejection_key(entry.source, entry.content_hash), row))
            if then is not None:
                then(self.db, entry)

    def _write(self, entry: Entry, state: str, reason: str | None, points, max_points, protections, seconds) -> int:
        """Insert or update the row of ``entry`` (keeping its first arrival) and clear its results; its id."""
        self.db.execute(
            "INSERT INTO submissions (key, hash, notebook_hash, source, student, lesson, submitted_at, arrival, "
            "received_at, content, state, reason, points, max_points, protections, seconds, late) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "source = excluded.source, received_at = excluded.received_at, content = excluded.content, "
            "state = excluded.state, reason = excluded.reason, points = excluded.points, "
            "max_points = excluded.max_points, protections = excluded.protections, seconds = excluded.seconds, "
            "late = excluded.late",
            (entry.key, entry.content_hash, entry.notebook_hash, entry.source, entry.student, entry.lesson,
             entry.submitted_at, entry.arrival, now(), entry.raw, state, storable_text(reason), points, max_points,
             protections, seconds, int(entry.late)))
        row = self.db.execute("SELECT id FROM submissions WHERE key = ?", (entry.key,)).fetchone()[0]
        self.db.execute("DELETE FROM results WHERE submission = ?", (row,))
        self.db.execute("DELETE FROM cell_problems WHERE submission = ?", (row,))
        return row

    def rejected(self) -> list[tuple[str, str]]:
        """(source, reason) of every rejected input."""
        return self.db.execute("SELECT source, reason FROM submissions WHERE state = 'rejected' "
                               "ORDER BY source").fetchall()

    def rejected_of_students(self) -> list[tuple[str, str | None, str]]:
        """(student, lesson, reason) of every rejected input whose student is known, in the order they arrived."""
        return self.db.execute("SELECT student, lesson, reason FROM submissions WHERE state = 'rejected' "
                               "AND student IS NOT NULL ORDER BY arrival, id").fetchall()

    def results(self, key: str) -> list[tuple[str, str, float, float, str]]:
        """(grade_id, status, points, max_points, message) of one submission."""
        return self.db.execute("SELECT grade_id, status, r.points, r.max_points, message FROM results r "
                               "JOIN submissions s ON s.id = r.submission WHERE s.key = ? ORDER BY r.rowid",
                               (key,)).fetchall()

    def mistakes(self, key: str) -> dict[str, str]:
        """grade_id -> the registered mistake its check recognised, for the tests of one submission that have one."""
        return dict(self.db.execute("SELECT grade_id, mistake FROM results r JOIN submissions s ON s.id = r.submission "
                                    "WHERE s.key = ? AND mistake IS NOT NULL", (key,)).fetchall())

    def cell_problems(self, key: str) -> list[CellProblem]:
        """The student cells of one submission that did not run to their end, in cell order (none for a
        submission graded before they were kept)."""
        rows = self.db.execute("SELECT cell, c.status, cause, start, names FROM cell_problems c "
                               "JOIN submissions s ON s.id = c.submission WHERE s.key = ? ORDER BY cell, c.rowid",
                               (key,)).fetchall()
        return [CellProblem(cell, status, cause, start, tuple(_names(names))) for cell, status, cause, start, names
                in rows]

    def language(self, key: str) -> str:
        """The language a submission's messages were written in (English for one graded before it was kept)."""
        row = self.db.execute("SELECT language FROM submissions WHERE key = ?", (key,)).fetchone()
        return row[0] if row and row[0] in i18n.LANGUAGES else i18n.DEFAULT

    def graded(self, key: str) -> tuple[str, str, float, float]:
        """(student, lesson, points, max_points) of one graded submission; KeyError when there is none."""
        row = self.db.execute("SELECT student, lesson, points, max_points FROM submissions "
                              "WHERE key = ? AND state = 'graded'", (key,)).fetchone()
        if row is None:
            raise KeyError(f"no graded submission has the key {key!r}")
        return row

    def latest(self) -> list[tuple[str, str, str]]:
        """(student, lesson, key) of each student's latest graded submission per lesson: the last submitted (the
        manifest's time, else the file's), and of those the last the grader read."""
        query = LATEST_GRADED + "SELECT student, lesson, key FROM latest WHERE rank = 1 ORDER BY student, lesson"
        return self.db.execute(query).fetchall()

    def identical_submissions(self) -> list[IdenticalSubmissions]:
        """Every notebook that two or more students handed in byte for byte, per lesson (for the instructor to
        look at: the untouched exercise notebook is one, copying is another)."""
        groups: dict[tuple[str | None, str], set[str]] = {}
        for lesson, notebook_hash, student in self.db.execute(
                "SELECT lesson, notebook_hash, student FROM submissions "
                "WHERE notebook_hash IS NOT NULL AND student IS NOT NULL ORDER BY lesson, notebook_hash"):
            groups.setdefault((lesson, notebook_hash), set()).add(student)
        return [IdenticalSubmissions(lesson, notebook_hash, tuple(sorted(students)))
                for (lesson, notebook_hash), students in groups.items() if len(students) > 1]

    # -- exports (see ``exports``)
    def export_csv(self, path: Path | str) -> Path:
        """One row per student, one column per question (lesson:grade_id) and a total."""
        return exports.export_csv(self, path)

    def feedback(self, key: str, fmt: str = "md") -> str:
        """A student's feedback for one submission, in Markdown or HTML: points, status and message per question."""
        return exports.feedback(self, key, fmt)

    def export_feedback(self, folder: Path | str, fmt: str = "md") -> exports.FeedbackExport:
        """One feedback file per student and lesson (their latest submission), under a safe and unique name."""
        return exports.export_feedback(self, folder, fmt)

    def gradescope(self, key: str) -> dict:
        """Gradescope's results.json for one submission."""
        return exports.gradescope(self, key)
