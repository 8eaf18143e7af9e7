"""The background grader: claims queued uploads, grades them with the batch machinery, records each exactly once.

``coursekit serve`` starts worker processes (forked before the web server starts, so that grading's
Python work never competes with the pages for one interpreter's lock); a test may run one in a
thread, or ``drain`` the queue in its own thread. Each worker keeps one ``batch.Grader`` (the masters,
their trusted setups, a connection to a warm sandbox server) for its whole life.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sqlite3
import sys
import threading

from coursekit.grading.batch import Grader
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.intake import Rejected, read_bytes
from coursekit.grading.master import load_masters
from coursekit.grading.messages import UNKNOWN_LESSON
from coursekit.grading.session import SandboxCrashed, SandboxTimeout
from coursekit.server import queue
from coursekit.server.config import ServerConfig

GAVE_UP = "grading it stopped the grader {attempts} times; it was not graded again (ask the instructor)"
GRADER_FAILED = "the grader failed on it: {error}"


def grade_job(job: queue.Job, grader: Grader, book: Gradebook) -> None:
    """Grade one claimed upload and record its result (or why it has none) with the row marked done, in one
    transaction. The student, lesson and time are the server's (who signed in, what they chose, when it arrived),
    never what the file says. ``queue.ClaimLost`` when the row is no longer this worker's."""
    done = queue.finish(job)
    source = f"upload: {job.name} at {job.received_at}"
    item = read_bytes(source, job.content, job.name, job.received_at)  # never raises
    if isinstance(item, Rejected) or job.lesson not in grader.masters or job.attempts > queue.MAX_ATTEMPTS:
        if isinstance(item, Rejected):
            reason = item.reason
        elif job.lesson not in grader.masters:
            reason = UNKNOWN_LESSON.format(lesson=job.lesson)
        else:
            reason = GAVE_UP.format(attempts=job.attempts - 1)
        rejected = Rejected(source, job.content, reason, job.student, job.lesson, book.next_arrival())
        book.reject(Entry.of_rejected(rejected, job.late), reason, then=done)
        return
    item = dataclasses.replace(item, student=job.student, lesson=job.lesson, submitted_at=job.received_at,
                               arrival=book.next_arrival())
    entry = Entry.of_submission(item, job.lesson, job.late)
    try:
        grade = grader.grade(job.lesson, item.notebook_raw)
    except (Exception, SandboxCrashed, SandboxTimeout) as error:  # noqa: BLE001 -- recorded, never dropped
        book.reject(entry, GRADER_FAILED.format(error=f"{type(error).__name__}: {str(error)[:300]}"), then=done)
        return
    book.record(entry, grade, then=done)


def work(config: ServerConfig, stop: threading.Event, *, masters: dict | None = None, until_empty: bool = False,
         parent: int | None = None) -> int:
    """Claim and grade queued uploads until ``stop`` is set (or, ``until_empty``, the queue is empty, or the process
    ``parent`` is gone); how many were recorded."""
    masters = masters if masters is not None else load_masters(config.solutions)
    grader = Grader(masters, {}, config.grading, config.sandbox)
    book = Gradebook(config.gradebook, timeout=60)
    recorded = 0
    try:
        while not stop.is_set():
            if parent is not None and os.getppid() != parent:
                break  # the server is gone: a new one will hand out what is left
            try:
                job = queue.claim(book.db)
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
            except queue.ClaimLost:
                pass  # another worker has it now
            except Exception as error:  # noqa: BLE001 -- the worker goes on; the row goes back (MAX_ATTEMPTS ends it)
                print(f"coursekit grading worker: upload {job.id}: {type(error).__name__}: {error}", file=sys.stderr)
                with contextlib.suppress(sqlite3.Error):
                    queue.release(book.db, job)
    finally:
        grader.close()
        book.close()
    return recorded


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


def start_processes(config: ServerConfig, count: int, masters: dict) -> tuple[list, object]:
    """``count`` worker processes, forked from this one (which must not have started threads yet: call it before
    the web server starts); they inherit ``masters``. Returns them and the event that stops them."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    processes = [context.Process(target=_process_main, args=(config, stop, masters, os.getpid()), daemon=True,
                                 name=f"coursekit-grading-{number}") for number in range(count)]
    for process in processes:
        process.start()
    return processes, stop


def _process_main(config: ServerConfig, stop, masters: dict, parent: int) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the server's to handle: it stops us
    work(config, stop, masters=masters, parent=parent)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this process when the server's process ends, however it ends (SIGKILL
    included); elsewhere the loop notices the parent is gone before its next claim."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def stop_processes(processes: list, stop, timeout: float = 10.0) -> None:
    """Ask the workers to stop after their current upload, then end those that do not."""
    stop.set()
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.terminate()
            process.join(2)
