"""The background grader: claims queued uploads, grades them with the batch machinery, records each exactly once.

``coursekit serve`` runs worker processes under a supervisor (``supervisor``: forked before the web server
starts, so that grading's Python work never competes with the pages for one interpreter's lock, and a worker
that dies is replaced); a test may run one in a thread, or ``drain`` the queue in its own thread. Each worker
keeps one grader for its whole life: a ``batch.Grader`` (the masters, their trusted setups, a connection to a
warm sandbox server), or, when the server has a Dask cluster (``config.cluster``), a
``cluster_grading.ClusterGrader`` that sends each upload there and records its result here all the same.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import signal
import sqlite3
import sys
import threading

from coursekit import i18n
from coursekit.grading.batch import Grader
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.intake import Rejected, Submission, lesson_of_its_cells, read_bytes
from coursekit.grading.master import load_masters, submission_language
from coursekit.grading.messages import CELLS_OF_ANOTHER_LESSON, GRADER_FAILED, UNKNOWN_LESSON
from coursekit.grading.notebook_json import NotASubmission, parse_notebook
from coursekit.grading.reasons import failure_words
from coursekit.grading.session import SandboxCrashed, SandboxTimeout
from coursekit.server import queue
from coursekit.server.config import ServerConfig
from coursekit.server.messages import GAVE_UP

# The operator's lines (the server's standard error), not the learner's: in English.
UNAVAILABLE = "coursekit grading worker: {problem}; upload {id} is back in the queue, next try in {pause:g} s"
FAILED = "coursekit grading worker: upload {id}: {error}"
RETRY_PAUSE, MAX_RETRY_PAUSE = 1.0, 30.0  # seconds before a claim after grading could not start; doubles each time


class GradingUnavailable(Exception):
    """Grading could not start (the Dask cluster is unreachable, or was lost): nothing was graded or recorded. The
    worker puts the row back in the queue, the claim uncounted, and pauses before its next claim."""


def make_grader(config: ServerConfig, masters: dict):
    """What a worker grades with: a Grader over the sandbox server, or a ClusterGrader when the server has a
    cluster (``distributed`` is imported then only)."""
    if config.cluster:
        from coursekit.server.cluster_grading import ClusterGrader

        return ClusterGrader(config.cluster, masters, config.grading)
    return Grader(masters, {}, config.grading, config.sandbox)


def grade_job(job: queue.Job, grader, book: Gradebook) -> None:
    """Grade one claimed upload with ``grader`` (``make_grader``'s) and record its result (or why it has none) with
    the row marked done, in one transaction. The student, lesson and time are the server's (who signed in, what
    they chose, when it arrived), never what the file says. ``queue.ClaimLost`` when the row is no longer this
    worker's; GradingUnavailable, with nothing recorded, when grading could not start."""
    done = queue.finish(job)
    source = f"upload: {job.name} at {job.received_at}"
    # Never raises; the login and the server's clock say whose it is and when, not a manifest inside.
    item = read_bytes(source, job.content, job.name, job.received_at, identified=True)
    found = None if isinstance(item, Rejected) else _lesson_of_its_cells(item, grader.masters, job.lesson)
    if isinstance(item, Rejected) or job.lesson not in grader.masters or found or job.attempts > queue.MAX_ATTEMPTS:
        if isinstance(item, Rejected):
            reason = item.reason  # the notebook could not be read: in the worker's language
        elif job.lesson not in grader.masters:
            reason = _in_language_of(item, UNKNOWN_LESSON, lesson=job.lesson)
        elif found:  # chosen as one lesson, the notebook of another: graded as the choice it would get 0 points
            reason = _in_language_of(item, CELLS_OF_ANOTHER_LESSON, claimed=job.lesson, found=found)
        else:
            reason = _in_language_of(item, GAVE_UP, attempts=job.attempts - 1)
        rejected = Rejected(source, job.content, reason, job.student, job.lesson, book.next_arrival())
        book.reject(_as_regraded(Entry.of_rejected(rejected, job.late), job), reason, then=done)
        return
    item = dataclasses.replace(item, student=job.student, lesson=job.lesson, submitted_at=job.received_at,
                               arrival=book.next_arrival())
    entry = _as_regraded(Entry.of_submission(item, job.lesson, job.late), job)
    try:
        grade = grader.grade(job.lesson, item.notebook_raw)
    except GradingUnavailable:
        raise  # nothing was graded: the worker puts the row back
    except (Exception, SandboxCrashed, SandboxTimeout) as error:  # noqa: BLE001 -- recorded, never dropped
        reason = _in_language_of(item, GRADER_FAILED, error=failure_words(error))
        book.reject(entry, reason, then=done)
        return
    book.record(entry, grade, then=done)


def _lesson_of_its_cells(item: Submission, masters: dict, lesson: str) -> str | None:
    lessons = {name: {test.grade_id for test in master.tests} for name, master in masters.items()}
    return lesson_of_its_cells(item, lessons, lesson)


def _as_regraded(entry: Entry, job: queue.Job) -> Entry:
    """``entry`` under the key of the row that ``job`` regrades, if it is a regrade: the row is replaced, never
    joined by a second one (the key of a row that `coursekit grade` made may hold a file's time or path that the
    upload made of it here does not)."""
    return dataclasses.replace(entry, key=job.regrade_of) if job.regrade_of else entry


def _in_language_of(item: Submission, message: i18n.Message, **values) -> str:
    """``message`` with ``values``, in the language the submitted notebook speaks (as its grading would)."""
    try:
        language = submission_language(parse_notebook(item.notebook_raw))
    except NotASubmission:
        language = i18n.current()
    with i18n.speaking(language):
        return message.format(**values)


def work(config: ServerConfig, stop: threading.Event, *, masters: dict | None = None, until_empty: bool = False,
         parent: int | None = None, holding=None) -> int:
    """Claim and grade queued uploads until ``stop`` is set (or, ``until_empty``, the queue is empty, or the process
    ``parent`` is gone); how many were recorded. ``holding``: a shared array of characters into which each claim's
    token is written before the claim is made, for the supervisor to put the row back should this process die.
    ``until_empty`` and grading unavailable: GradingUnavailable, once the row is back in the queue."""
    masters = masters if masters is not None else load_masters(config.solutions)
    grader = make_grader(config, masters)
    book = Gradebook(config.gradebook, timeout=60)
    recorded, pause = 0, RETRY_PAUSE
    unreleased: list[tuple[queue.Job, bool]] = []  # rows to put back that the gradebook refused (a full disk)
    try:
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                break  # the server is gone: a new one will hand out what is left
            unreleased = [(job, counted) for job, counted in unreleased if not _released(book, job, counted)]
            token = queue.new_claim()
            if holding is not None:
                holding.value = token.encode()  # before the claim commits: the supervisor always knows it
            try:
                job = queue.claim(book.db, token)
            except sqlite3.OperationalError:  # the gradebook is busy past the timeout: look again
                stop.wait(config.poll_seconds)
                continue
            if job is None:
                if until_empty:
                    break
                stop.wait(config.poll_seconds)
                continue
            try:
                grade_job(job, grader, book)
                recorded += 1
                pause = RETRY_PAUSE
            except queue.ClaimLost:
                pass  # another worker has it now
            except GradingUnavailable as problem:  # not the upload's doing: back in the queue, uncounted
                print(UNAVAILABLE.format(problem=problem, id=job.id, pause=pause), file=sys.stderr)
                if not _released(book, job, counted=False):
                    unreleased.append((job, False))
                if until_empty:
                    raise
                stop.wait(pause)
                pause = min(pause * 2, MAX_RETRY_PAUSE)
            except Exception as error:  # noqa: BLE001 -- the worker goes on; the row goes back (MAX_ATTEMPTS ends it)
                print(FAILED.format(id=job.id, error=f"{type(error).__name__}: {error}"), file=sys.stderr)
                if not _released(book, job, counted=True):
                    unreleased.append((job, True))
    finally:
        grader.close()
        book.close()
    return recorded


def _released(book: Gradebook, job: queue.Job, counted: bool) -> bool:
    """Whether ``job``'s row went back in the queue; False when the gradebook refused the write (a full disk): the
    worker tries again before each claim, or the row would wait in "grading" until the server restarts."""
    try:
        queue.release(book.db, job, counted=counted)
    except sqlite3.Error:
        return False
    return True


def drain(config: ServerConfig, masters: dict | None = None) -> int:
    """Grade every queued upload here and now (tests, and a server run without workers); how many."""
    return work(config, threading.Event(), masters=masters, until_empty=True)


def start_thread(config: ServerConfig, masters: dict | None = None) -> tuple[threading.Thread, threading.Event]:
    """A worker in a thread of this process (tests); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(config, stop), kwargs={"masters": masters}, daemon=True,
                              name="coursekit-grading")
    thread.start()
    return thread, stop


def process_main(config: ServerConfig, stop, masters: dict, parent: int, holding=None) -> None:
    """A worker process's life (forked by the supervisor ``parent``): it dies with it, and leaves Ctrl+C to the
    server."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the server's to handle: it stops us
    work(config, stop, masters=masters, parent=parent, holding=holding)


def die_with_parent() -> None:
    """On Linux, have the kernel kill this process when its parent process ends, however it ends (SIGKILL
    included); elsewhere the loops notice the parent is gone."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
