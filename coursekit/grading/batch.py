"""Grade many submissions in parallel: two grading processes per core, all sharing one warm sandbox server.

The parent reads the inputs, skips what the gradebook already holds, hands the rest to the
workers, and writes every result to the gradebook as it arrives (one transaction each). The
sandbox server is the caller's (``sandbox``: the socket of a running one, see ``daemon``) or one
started for this batch and stopped after it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from coursekit.grading import daemon, messages
from coursekit.grading.client import WarmServer, end_server
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.grader import Grade, Settings, grade_notebook, trusted_setup
from coursekit.grading.intake import Rejected, Submission, identify_lesson, read_submissions
from coursekit.grading.master import load_masters
from coursekit.grading.notebook_json import parse_notebook
from coursekit.grading.session import SandboxCrashed, SandboxTimeout, ServerGone

_STATE: dict = {}


def _start_worker(solutions: str, settings: Settings, sandbox: str) -> None:
    if "masters" not in _STATE:  # forked workers inherit the parent's masters and trusted setups
        _STATE.update(masters=load_masters(solutions), setups={})
    _STATE.update(settings=settings, sandbox=sandbox, server=daemon.attach(sandbox))


def _grade_one(lesson: str, raw_notebook: bytes) -> Grade:
    """In a worker: grade one notebook (its bytes) against the lesson's master.

    Should the sandbox server be gone (a submission of the same user may kill it where no Landlock stops
    signals), the worker takes a new one and grades the submission again from the start.
    """
    masters, setups = _STATE["masters"], _STATE["setups"]
    if lesson not in setups:
        setups[lesson] = trusted_setup(masters[lesson])
    notebook = parse_notebook(raw_notebook)
    try:
        return grade_notebook(notebook, masters[lesson], _STATE["server"], _STATE["settings"], setups[lesson])
    except ServerGone:
        _replace_server()
        return grade_notebook(notebook, masters[lesson], _STATE["server"], _STATE["settings"], setups[lesson])


def _replace_server() -> None:
    """A new connection to the shared server, or a server of this worker's own when it cannot be reached."""
    _STATE["server"].close()
    address = _STATE.get("sandbox")
    try:
        _STATE["server"] = daemon.attach(address) if address else WarmServer()
    except OSError:
        _STATE["server"] = WarmServer()


@dataclass
class Outcome:
    """What happened to one input, with the keys to find it in the gradebook."""

    source: str
    student: str | None
    lesson: str | None
    grade: Grade | None = None
    reason: str | None = None
    skipped: bool = False       # already in the gradebook (or read twice in this batch): not graded again
    key: str | None = None      # the gradebook row's key (see gradebook_schema)
    content_hash: str | None = None  # SHA-256 of the bytes as received


def grade_paths(paths: Iterable[Path | str], solutions: Path | str, gradebook: Gradebook, *, jobs: int | None = None,
                settings: Settings | None = None, regrade: bool = False,
                progress: Callable[[Outcome], None] | None = None, sandbox: Path | str | None = None) -> list[Outcome]:
    """Grade every submission under ``paths``; record each in ``gradebook``; return what happened to each.

    ``sandbox``: the socket of a running sandbox server to use (default: start one for this call).
    """
    settings = settings or Settings()
    masters = load_masters(solutions)
    lessons = {name: {t.grade_id for t in master.tests} for name, master in masters.items()}
    outcomes, todo = [], []
    arrival = gradebook.next_arrival()
    in_this_batch: set[str] = set()
    for path in paths:
        for item in read_submissions(path):  # never raises: an unreadable input comes back as Rejected
            item.arrival = arrival  # the order inputs are read in breaks ties between equal submitted times
            arrival += 1
            if isinstance(item, Rejected):
                entry, reason = Entry.of_rejected(item), item.reason
            else:
                lesson = identify_lesson(item, lessons)
                entry = Entry.of_submission(item, lesson)
                if lesson is None:
                    reason = messages.UNKNOWN_LESSON.format(lesson=item.lesson)
                elif entry.key in in_this_batch or (gradebook.known(entry.key) and not regrade):
                    outcomes.append(_report(_outcome(entry, skipped=True), progress))
                    continue
                else:
                    in_this_batch.add(entry.key)
                    todo.append((item, lesson))
                    continue
            if regrade or not gradebook.known(entry.key):
                gradebook.reject(entry, reason)
            outcomes.append(_report(_outcome(entry, reason=reason), progress))
    jobs = max(1, min(jobs or default_jobs(), len(todo)))
    if len(todo) == 1 or jobs == 1:  # no pool to start: grade here
        if sandbox is not None:
            server = daemon.attach(sandbox)
        else:
            lessons_needed = {lesson for _, lesson in todo}
            preload = sorted({m for lesson in lessons_needed for m in masters[lesson].modules()}) \
                if len(lessons_needed) == 1 else None  # one lesson: import only what it uses (a quicker start)
            server = WarmServer(preload=preload)
        _STATE.update(masters=masters, setups={}, settings=settings, sandbox=sandbox and str(sandbox), server=server)
        try:
            for item, lesson in todo:
                _finish(item, lesson, lambda item=item, lesson=lesson: _grade_one(lesson, _notebook_bytes(item)),
                        gradebook, outcomes, progress)
        finally:
            _STATE.pop("server").close()
            _STATE.clear()
    elif todo:
        needed = sorted({lesson for _, lesson in todo})
        preload = sorted({m for lesson in needed for m in masters[lesson].modules()})
        # Built once here, before the pool forks its workers, rather than once in every worker.
        _STATE.update(masters=masters, setups={lesson: trusted_setup(masters[lesson]) for lesson in needed})
        try:
            with _shared_server(sandbox, preload) as address, ProcessPoolExecutor(
                    jobs, initializer=_start_worker, initargs=(str(solutions), settings, address)) as pool:
                futures = {pool.submit(_grade_one, lesson, _notebook_bytes(item)): (item, lesson)
                           for item, lesson in todo}
                for future in as_completed(futures):
                    item, lesson = futures[future]
                    _finish(item, lesson, future.result, gradebook, outcomes, progress)
        finally:
            _STATE.clear()
    return outcomes


def default_jobs() -> int:
    """Two grading processes per core (at most 16 more than cores): one that waits on a submission looping until
    its time limit leaves its core to the others."""
    cores = os.cpu_count() or 1
    return min(2 * cores, cores + 16)


@contextlib.contextmanager
def _shared_server(sandbox: Path | str | None, preload: list[str]) -> Iterator[str]:
    """The socket of the sandbox server the pool's workers share: the caller's, or one for this batch that
    imports only what the batch's lessons use (a smaller process forks faster)."""
    if sandbox is not None:
        yield str(sandbox)
        return
    with tempfile.TemporaryDirectory(prefix="coursekit-batch-") as folder:  # private to this user (0700)
        path = os.path.join(folder, "sandbox.sock")
        process = daemon.start(path, idle=60, preload=preload)  # if this process is killed, it ends by itself
        try:
            daemon.attach(path, process).close()  # up and listening before the workers look for it
            yield path
        finally:
            end_server(process)


def _finish(item: Submission, lesson: str, result: Callable[[], Grade], gradebook: Gradebook, outcomes: list,
            progress) -> None:
    """Record one graded submission (or the grader's own failure on it, as a rejection with the reason)."""
    entry = Entry.of_submission(item, lesson)
    try:
        grade = result()
    except (Exception, SandboxCrashed, SandboxTimeout) as error:  # noqa: BLE001 -- recorded, never skipped
        reason = f"the grader failed on it: {type(error).__name__}: {error}"
        gradebook.reject(entry, reason)
        outcomes.append(_report(_outcome(entry, reason=reason), progress))
        return
    gradebook.record(entry, grade)
    outcomes.append(_report(_outcome(entry, grade=grade), progress))


def _outcome(entry: Entry, **what) -> Outcome:
    return Outcome(entry.source, entry.student, entry.lesson, key=entry.key, content_hash=entry.content_hash, **what)


def _notebook_bytes(item: Submission) -> bytes:
    """The notebook a worker grades: its bytes as submitted, which the intake has already checked."""
    return item.notebook_raw


def _report(outcome: Outcome, progress) -> Outcome:
    if progress is not None:
        progress(outcome)
    return outcome
