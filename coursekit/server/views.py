"""What the pages show, read from the gradebook: a learner's own uploads, one upload, the class as a whole.

Every function takes the gradebook's connection and returns plain data for a template. A learner's
functions take the signed-in student's id and return nothing of anyone else's.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from coursekit import i18n
from coursekit.grading.gradebook import LATEST_GRADED
from coursekit.server import queue

BINS = 10  # the score distribution's bars: 0-10%, ..., 90-100%

# A learner's uploads: one row per submission (an upload graded again is still one: its last), newest first. One pass
# over the student's rows (a subquery per row made 6,000 uploads cost 8 s, with the web process's gradebook locked).
_MY_UPLOADS = """
SELECT q.id, q.lesson, q.received_at, q.late, q.state, s.state, s.points, s.max_points, s.reason
FROM (SELECT MAX(id) AS id FROM queue WHERE student = ? GROUP BY COALESCE(submission_key, 'q' || id)) AS last
JOIN queue q ON q.id = last.id
LEFT JOIN submissions s ON s.key = q.submission_key
ORDER BY q.received_at DESC, q.id DESC LIMIT 500
"""


@dataclass(frozen=True)
class Upload:
    """One upload as its learner (or the instructor) sees it."""

    id: int
    lesson: str
    received_at: str
    late: bool
    state: str  # queued, grading, graded, rejected
    points: float | None = None
    max_points: float | None = None
    reason: str | None = None
    student: str = ""
    key: str | None = None

    @property
    def when(self) -> str:
        return self.received_at[:19].replace("T", " ")


def _upload(row: tuple, student: str = "", key: str | None = None) -> Upload:
    queue_id, lesson, received, late, queue_state, state, points, max_points, reason = row
    shown = state if queue_state == queue.DONE and state else queue_state
    return Upload(queue_id, lesson, received, bool(late), shown, points, max_points, reason, student, key)


def my_uploads(db: sqlite3.Connection, student: str) -> list[Upload]:
    """The student's uploads, newest first (at most 500)."""
    return [_upload(row, student) for row in db.execute(_MY_UPLOADS, (student,))]


def upload(db: sqlite3.Connection, queue_id: int, student: str | None) -> Upload | None:
    """One upload; None when there is none of that id, or (``student`` given) it is not that student's."""
    if not -2**63 <= queue_id < 2**63:  # no row has it, and SQLite cannot hold it (an OverflowError, a 500)
        return None
    row = db.execute("SELECT q.id, q.lesson, q.received_at, q.late, q.state, s.state, s.points, s.max_points, "
                     "s.reason, q.student, q.submission_key FROM queue q "
                     "LEFT JOIN submissions s ON s.key = q.submission_key WHERE q.id = ?", (queue_id,)).fetchone()
    if row is None or (student is not None and row[9] != student):
        return None
    return _upload(row[:9], row[9], row[10])


HISTORY_ROWS = 500  # a student's page lists so many; a day of uploads at the rate limit made a 3.4 MB page


def history(db: sqlite3.Connection, student: str) -> tuple[list[Upload], int]:
    """The newest ``HISTORY_ROWS`` graded or rejected submissions of one student in the gradebook (uploads and
    `coursekit grade`'s), newest first, each with the queue id of its last upload, if any; and how many there are."""
    rows = db.execute(_SUBMISSIONS + "WHERE s.student = ? ORDER BY s.submitted_at DESC, s.arrival DESC LIMIT ?",
                      (student, HISTORY_ROWS)).fetchall()
    total = db.execute("SELECT COUNT(*) FROM submissions WHERE student = ?", (student,)).fetchone()[0]
    return [_submission(row) for row in rows], total


@dataclass
class Mistake:
    """A registered mistake recognised in the latest submissions of some students, for one exercise."""

    lesson: str
    grade_id: str
    name: str
    count: int
    share: float  # of the students whose latest submission of the lesson was graded


@dataclass
class ClassView:
    """The dashboard's data."""

    lessons: list[str]
    students: list[str]
    names: dict[str, str]
    cells: dict[tuple[str, str], tuple[float, float, bool]]  # (student, lesson) -> points, max, late
    pass_rates: list[tuple[str, str, int, int]]  # lesson, grade_id, passed, graded
    distribution: list[int]  # counts per bin of BINS
    mistakes: list[Mistake] = field(default_factory=list)
    queue: dict[str, int] = field(default_factory=dict)


def class_view(db: sqlite3.Connection, lessons: list[str]) -> ClassView:
    """The class: each student's latest score per lesson, pass rates, the score distribution, the mistakes."""
    names = dict(db.execute("SELECT student, name FROM roster").fetchall())
    cells = {}
    per_lesson = Counter()
    distribution = [0] * BINS
    for student, lesson, points, max_points, late in db.execute(
            LATEST_GRADED + "SELECT student, lesson, points, max_points, late FROM latest WHERE rank = 1"):
        cells[(student, lesson)] = (points or 0.0, max_points or 0.0, bool(late))
        per_lesson[lesson] += 1
        share = (points or 0.0) / max_points if max_points else 0.0
        distribution[min(BINS - 1, int(share * BINS))] += 1
    rates = db.execute(LATEST_GRADED + "SELECT l.lesson, r.grade_id, SUM(r.status = 'passed'), COUNT(*) FROM latest l "
                       "JOIN results r ON r.submission = l.id WHERE l.rank = 1 GROUP BY l.lesson, r.grade_id "
                       "ORDER BY l.lesson, MIN(r.rowid)").fetchall()
    mistakes = [Mistake(lesson, grade_id, name, count, count / per_lesson[lesson] if per_lesson[lesson] else 0.0)
                for lesson, grade_id, name, count in db.execute(
                    LATEST_GRADED + "SELECT l.lesson, r.grade_id, r.mistake, COUNT(*) FROM latest l JOIN results r "
                    "ON r.submission = l.id WHERE l.rank = 1 AND r.mistake IS NOT NULL "
                    "GROUP BY l.lesson, r.grade_id, r.mistake ORDER BY l.lesson, COUNT(*) DESC, r.mistake")]
    students = sorted(set(names) | {student for student, _ in cells})
    known_lessons = sorted(set(lessons) | {lesson for _, lesson in cells})
    return ClassView(known_lessons, students, names, cells, [tuple(row) for row in rates], distribution, mistakes,
                     queue.counts(db))


def with_mistake(db: sqlite3.Connection, lesson: str, grade_id: str, mistake: str) -> list[Upload]:
    """The latest submissions in which the exercise's check recognised ``mistake``, by student."""
    rows = db.execute(LATEST_GRADED + "SELECT l.key, l.student, l.points, l.max_points, l.late, s.submitted_at, "
                      "(SELECT MAX(id) FROM queue q WHERE q.submission_key = l.key) FROM latest l "
                      "JOIN results r ON r.submission = l.id JOIN submissions s ON s.id = l.id WHERE l.rank = 1 "
                      "AND l.lesson = ? AND r.grade_id = ? AND r.mistake = ? ORDER BY l.student",
                      (lesson, grade_id, mistake)).fetchall()
    return [Upload(queue_id or 0, lesson, submitted or "", bool(late), "graded", points, max_points, None, student,
                   key) for key, student, points, max_points, late, submitted, queue_id in rows]


def mistake_words(name: str) -> str:
    """A registered mistake as the page's reader says it: the gradebook keeps its English name (the catalogue's
    msgid, so that it is counted once whatever language each learner spoke), translated here."""
    return i18n.translate(name) if name else name  # gettext("") would be the catalogue's header


def by_student(uploads: list[Upload]) -> dict[str, list[Upload]]:
    grouped = defaultdict(list)
    for one in uploads:
        grouped[one.student].append(one)
    return dict(grouped)


def history_row(db: sqlite3.Connection, key: str) -> Upload | None:
    """One submission of the gradebook by its key (any student's: the instructor's view)."""
    row = db.execute(_SUBMISSIONS + "WHERE s.key = ?", (key,)).fetchone()
    return None if row is None else _submission(row)


# Submissions of the gradebook as the instructor's pages list them, each with the queue id of its last upload.
_SUBMISSIONS = ("SELECT s.key, s.lesson, s.submitted_at, s.late, s.state, s.points, s.max_points, s.reason, "
                "s.student, (SELECT MAX(id) FROM queue q WHERE q.submission_key = s.key) FROM submissions s ")


def _submission(row: tuple) -> Upload:
    key, lesson, submitted, late, state, points, max_points, reason, student, queue_id = row
    return Upload(queue_id or 0, lesson or "", submitted or "", bool(late), state, points, max_points, reason,
                  student or "", key)
