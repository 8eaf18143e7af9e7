"""The persistent queue of uploads, a table of the gradebook (see ``gradebook_schema``).

An upload is one row, inserted in one transaction by the request that received it. A worker claims
the oldest queued row (marking it ``grading`` with a random claim of its own, in one transaction),
grades it, and records the result in the gradebook in the *same* transaction that marks the row done
and counts the recording (``finish``); should the claim no longer be its own (the row was handed to
another worker after a restart), nothing is recorded. So every row is recorded exactly once:

- a server killed while a row is ``grading``: its result was never committed, and the next server puts
  the row back in the queue at start (``recover``);
- a worker process that dies while the server runs: its supervisor puts back the row its claim holds
  (``release_claim``), only while that row is still ``grading`` under that claim, then starts a new worker;
- a worker that outlived its server and finishes late: its claim was replaced, so it records nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from coursekit.grading.gradebook import Entry
from coursekit.grading.gradebook_schema import now

QUEUED, GRADING, DONE = "queued", "grading", "done"
MAX_ATTEMPTS = 3  # claims of one row: a row whose grading stopped its worker three times is rejected, not retried


class ClaimLost(RuntimeError):
    """The row is no longer this worker's to record (it was put back in the queue and claimed again)."""


@dataclass(frozen=True)
class Job:
    """A claimed row: what to grade, and the claim that lets this worker record it."""

    id: int
    student: str
    lesson: str
    name: str
    content: bytes
    received_at: str
    late: bool
    claim: str
    attempts: int
    regrade_of: str | None = None  # the key of the gradebook row this grading replaces (an instructor's regrade)


WAITING_PER_STUDENT = 20  # a student's uploads queued or being graded at once; past it, an upload is refused


class TooManyWaiting(Exception):
    """The student already has ``WAITING_PER_STUDENT`` uploads waiting to be graded."""


def enqueue(db: sqlite3.Connection, student: str, lesson: str, name: str, content: bytes,
            received: dt.datetime, late: bool) -> int:
    """Store an upload as received, in one transaction; its queue id. TooManyWaiting when the student has
    ``WAITING_PER_STUDENT`` uploads waiting already (uploads that each wait out their budget outpace grading, and
    the queue would grow without end)."""
    with db:
        waiting = db.execute("SELECT COUNT(*) FROM queue WHERE student = ? AND state IN (?, ?)",
                             (student, QUEUED, GRADING)).fetchone()[0]
        if waiting >= WAITING_PER_STUDENT:
            raise TooManyWaiting(waiting)
        cursor = db.execute("INSERT INTO queue (student, lesson, name, content, received_at, late) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (student, lesson, name, content, received.astimezone(dt.UTC).isoformat(
                                timespec="microseconds"), int(late)))
        return cursor.lastrowid


def enqueue_regrade(db: sqlite3.Connection, key: str) -> int | None:
    """Queue a graded or rejected submission again: its bytes, student, lesson, time and late mark as stored, and its
    key, under which the result is recorded (replacing the earlier one, even where the key was made from what the row
    does not keep: a file's time that lay in the future, or where a rejected input came from). Its queue id, or None
    when the gradebook has no such row."""
    with db:
        row = db.execute("SELECT student, lesson, content, submitted_at, late, source FROM submissions WHERE key = ?",
                         (key,)).fetchone()
        if row is None or row[0] is None or row[1] is None or row[2] is None:
            return None
        student, lesson, content, submitted_at, late, source = row
        name = f"{lesson}--{student}" + (".submission.zip" if content[:2] == b"PK" else ".ipynb")
        cursor = db.execute("INSERT INTO queue (student, lesson, name, content, received_at, late, regrade_of) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", (student, lesson, name, content,
                                                             submitted_at or now(), late, key))
        return cursor.lastrowid


def new_claim() -> str:
    """A claim token: 32 hexadecimal digits (``claim`` takes one made in advance, so that a supervisor can know it
    before the claim is committed)."""
    return secrets.token_hex(16)


# The next row to grade, fairly: a student with nothing being graded first, then the student served least recently
# (never, first), then the oldest row. In the order of arrival alone, one student's uploads that each wait out the
# 30 s budget (sleeping costs nothing) kept every other student's feedback waiting for minutes.
# Each student with a row waiting is looked at once, by indexes, never once per row: per row, one student's 4,000
# uploads waiting (and 4,000 done) made each claim take 15 s, holding the gradebook's write lock, and every upload
# and page waited on it.
_NEXT = """
WITH waiting AS (SELECT DISTINCT student FROM queue WHERE state = :queued)
SELECT (SELECT id FROM queue q WHERE q.student = w.student AND q.state = :queued ORDER BY q.id LIMIT 1) AS first
FROM waiting w
ORDER BY EXISTS (SELECT 1 FROM queue g WHERE g.student = w.student AND g.state = :grading),
         COALESCE((SELECT MAX(s.claimed_at) FROM queue s WHERE s.student = w.student), ''),
         first
LIMIT 1
"""


def claim(db: sqlite3.Connection, token: str | None = None) -> Job | None:
    """Claim the next queued row for this worker (one transaction: no two workers get the same), with ``token``
    (default: a new one); None when the queue is empty. The next is chosen fairly between students (``_NEXT``)."""
    token = token or new_claim()
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute(_NEXT, {"queued": QUEUED, "grading": GRADING}).fetchone()
        if row is None:
            db.rollback()
            return None
        db.execute("UPDATE queue SET state = ?, claim = ?, claimed_at = ?, attempts = attempts + 1 WHERE id = ?",
                   (GRADING, token, now(), row[0]))
        job = db.execute("SELECT id, student, lesson, name, content, received_at, late, claim, attempts, regrade_of "
                         "FROM queue WHERE id = ?", (row[0],)).fetchone()
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return Job(job[0], job[1], job[2], job[3], job[4] or b"", job[5], bool(job[6]), job[7], job[8], job[9])


def finish(job: Job) -> Callable[[sqlite3.Connection, Entry], None]:
    """What the gradebook runs inside the transaction that records ``job``'s result: mark the row done and count the
    recording, or raise ClaimLost (and so record nothing) when the row is no longer this claim's."""
    def mark_done(db: sqlite3.Connection, entry: Entry) -> None:
        cursor = db.execute("UPDATE queue SET state = ?, recorded = recorded + 1, submission_key = ?, done_at = ?, "
                            "content = NULL WHERE id = ? AND claim = ? AND state = ?",
                            (DONE, entry.key, now(), job.id, job.claim, GRADING))
        if cursor.rowcount != 1:
            raise ClaimLost(f"queue row {job.id} is no longer claimed by this worker")
    return mark_done


def recover(db: sqlite3.Connection) -> int:
    """Put back in the queue every row a stopped server left ``grading`` (run at start, before any worker); how
    many."""
    with db:
        return db.execute("UPDATE queue SET state = ?, claim = NULL WHERE state = ?", (QUEUED, GRADING)).rowcount


def counts(db: sqlite3.Connection) -> dict[str, int]:
    """Rows per state (queued, grading, done)."""
    found = dict(db.execute("SELECT state, COUNT(*) FROM queue GROUP BY state").fetchall())
    return {state: found.get(state, 0) for state in (QUEUED, GRADING, DONE)}


def ahead_of(db: sqlite3.Connection, queue_id: int) -> int:
    """Rows waiting before this one."""
    return db.execute("SELECT COUNT(*) FROM queue WHERE state != ? AND id < ?", (DONE, queue_id)).fetchone()[0]


def release(db: sqlite3.Connection, job: Job, counted: bool = True) -> None:
    """Put a claimed row back in the queue (its grading failed in a way nothing recorded); MAX_ATTEMPTS bounds how
    often. ``counted=False``: the claim does not count as an attempt (grading could not start: the Dask cluster was
    unreachable, which says nothing about the upload)."""
    with db:
        db.execute("UPDATE queue SET state = ?, claim = NULL, attempts = attempts - ? "
                   "WHERE id = ? AND claim = ? AND state = ?", (QUEUED, 0 if counted else 1, job.id, job.claim,
                                                                GRADING))


def release_claim(db: sqlite3.Connection, token: str) -> int:
    """Put back in the queue the row that claim ``token`` holds, if it is still being graded under it (run once its
    worker is known to be dead, so it can no longer record); how many rows (0 or 1). The claim counts as an
    attempt: a row whose grading killed its worker MAX_ATTEMPTS times is rejected, not retried forever."""
    with db:
        return db.execute("UPDATE queue SET state = ?, claim = NULL WHERE claim = ? AND state = ?",
                          (QUEUED, token, GRADING)).rowcount
