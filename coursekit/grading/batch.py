"""Grade many submissions in parallel: two grading processes per core, all sharing one warm sandbox server.

The parent reads the inputs, skips what the gradebook already holds, hands the rest to the
grading processes (or grades them itself, one process; or, given ``cluster``, to the workers of a
Dask cluster, see ``cluster``), and writes every result to the gradebook as it arrives (one
transaction each). Every grading process uses the same Grader, and the same
sandbox server: the caller's (``sandbox``: the socket of a running one, see ``daemon``) or one
started for this batch and stopped after it.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from coursekit import i18n
from coursekit.grading import cores, daemon, limits, messages
from coursekit.grading.client import WarmServer, end_server
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.grader import grade_notebook, trusted_setup
from coursekit.grading.intake import Rejected, Submission, identify_lesson, lesson_of_its_cells, read_submissions
from coursekit.grading.lifetime import end_with_parent
from coursekit.grading.limits import Settings
from coursekit.grading.master import load_masters
from coursekit.grading.notebook_json import parse_notebook
from coursekit.grading.reasons import failure_words, quoted
from coursekit.grading.server_folders import BATCH_FOLDER_PREFIX
from coursekit.grading.session import SandboxCrashed, SandboxTimeout, ServerGone
from coursekit.grading.verdicts import Grade


class Grader:
    """What one grading process needs for a batch: the masters, their trusted setups, the settings, and a
    connection to the batch's sandbox server, made when first needed and made again should the server go."""

    def __init__(self, masters: dict, setups: dict, settings: Settings, address: str | None):
        self.masters, self.setups, self.settings, self.address = masters, dict(setups), settings, address
        self.server: WarmServer | None = None

    def grade(self, lesson: str, raw_notebook: bytes) -> Grade:
        """Grade one notebook (its bytes as submitted) against the lesson's master.

        Should the sandbox server be gone (a submission of the same user may kill it where nothing stops its
        signals), the submission is graded again from the start with a new connection.
        """
        if lesson not in self.setups:
            self.setups[lesson] = trusted_setup(self.masters[lesson])
        notebook = parse_notebook(raw_notebook)
        try:
            return grade_notebook(notebook, self.masters[lesson], self._server(), self.settings, self.setups[lesson])
        except ServerGone:
            self.close()
            return grade_notebook(notebook, self.masters[lesson], self._server(), self.settings, self.setups[lesson])

    def _server(self) -> WarmServer:
        if self.server is None:
            try:
                self.server = daemon.attach(self.address) if self.address else WarmServer()
            except OSError:
                self.server = WarmServer()  # the batch's server cannot be reached: one of this process's own
        return self.server

    def close(self) -> None:
        """Close the connection (a private server stops with it)."""
        if self.server is not None:
            self.server.close()
            self.server = None


_POOL_GRADER: Grader | None = None  # in a pool's worker process only: the Grader it was forked with


def _start_pool_worker(grader: Grader, batch: int, started, processes: int) -> None:
    global _POOL_GRADER
    _POOL_GRADER = grader  # inherited through the fork, masters and setups included: nothing is built again
    with started.get_lock():  # the pool's processes count themselves, so that each core gets its share
        index, started.value = started.value, started.value + 1
    cores.keep_to_one_core(index, processes)
    # An interrupt is the batch process's to handle (it stops this one at once); and should that process die,
    # however (SIGTERM, SIGKILL), this one dies too, rather than grade on for nobody.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the command's handler, which it inherits
    end_with_parent(batch)


def _grade_in_pool(lesson: str, raw_notebook: bytes) -> Grade:
    return _POOL_GRADER.grade(lesson, raw_notebook)


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
                progress: Callable[[Outcome], None] | None = None, sandbox: Path | str | None = None,
                cluster: str | None = None) -> list[Outcome]:
    """Grade every submission under ``paths``; record each in ``gradebook``; return what happened to each.

    ``sandbox``: the socket of a running sandbox server to use (default: start one for this call).
    ``cluster``: the address of a Dask scheduler (``tcp://host:8786``) whose workers grade instead of this
    machine's processes (``jobs`` and ``sandbox`` then do not apply).
    """
    # read_submissions never raises: an unreadable input comes back as Rejected
    items = (item for path in paths for item in read_submissions(path))
    return grade_items(items, load_masters(solutions), gradebook, jobs=jobs, settings=settings, regrade=regrade,
                       progress=progress, sandbox=sandbox, cluster=cluster)


def grade_items(items: Iterable[Submission | Rejected], masters: dict, gradebook: Gradebook, *,
                jobs: int | None = None, settings: Settings | None = None, regrade: bool = False,
                progress: Callable[[Outcome], None] | None = None,
                sandbox: Path | str | None = None, cluster: str | None = None) -> list[Outcome]:
    """Grade submissions already read (``intake.read_submissions`` or ``intake.read_bytes``) against ``masters``
    (``master.load_masters``); record each in ``gradebook``; return what happened to each, as ``grade_paths``.

    With ``cluster``, ``cluster.ClusterUnreachable`` when no scheduler answers there (nothing graded is lost: the
    inputs not yet recorded are graded by the next call), ``cluster.ClusterLost`` when it goes away mid-batch."""
    settings = settings or Settings()
    lessons = {name: {t.grade_id for t in master.tests} for name, master in masters.items()}
    outcomes, todo, held = [], [], 0

    def grade(todo: list) -> None:
        _grade_todo(todo, masters, gradebook, outcomes, progress, jobs=jobs, settings=settings, sandbox=sandbox,
                    cluster=cluster)

    arrival = gradebook.next_arrival()
    in_this_batch: dict[str, Submission] = {}  # key -> the submission of that key this batch grades
    graded_before: set[str] = set()  # the keys of the parts of this batch already graded (see MAX_BATCH_BYTES)
    for item in items:
        item.arrival = arrival  # the order inputs are read in breaks ties between equal submitted times
        arrival += 1
        if isinstance(item, Rejected):
            entry, reason = Entry.of_rejected(item, place=_absolute(item.source)), item.reason
        else:
            lesson = identify_lesson(item, lessons)
            entry = Entry.of_submission(item, lesson)
            found = lesson_of_its_cells(item, lessons, lesson) if lesson is not None else None
            if lesson is None:
                reason = messages.UNKNOWN_LESSON.format(lesson=item.lesson)
            elif item.named_by_file and item.student.lower().startswith(lesson.lower()):
                reason = messages.NAMED_AFTER_LESSON.format(name=quoted(os.path.basename(item.source)), lesson=lesson)
                # nobody's: its row names no student, so that no regrade (the dashboard's "grade again", which takes
                # a row's student as it is) makes it the lesson-named student's (red team Z merged a class so)
                entry = replace(entry, student=None)
            elif found is not None:
                reason = messages.CELLS_OF_ANOTHER_LESSON.format(claimed=lesson, found=found)
            else:
                # The same submission read again (same student, lesson, bytes and time) is graded once, and counts as
                # arriving now: on equal times, the one read last is the latest.
                known = gradebook.known(entry.key, unless_rejected_for=_GRADER_FAILED)  # a failure of ours: again
                if known:
                    gradebook.arrived(entry.key, item.arrival)
                if entry.key in in_this_batch:
                    in_this_batch[entry.key].arrival = item.arrival  # recorded, once graded, with this arrival
                elif (not known or regrade) and entry.key not in graded_before:
                    in_this_batch[entry.key] = item
                    todo.append((item, lesson))
                    held += len(item.notebook_raw)
                    if held > limits.MAX_BATCH_BYTES:  # graded now, so that a batch holds a bounded part in memory
                        grade(todo)
                        graded_before.update(in_this_batch)
                        in_this_batch, todo, held = {}, [], 0
                    continue
                outcomes.append(_report(_outcome(entry, skipped=True), progress))
                continue
        if regrade or not gradebook.known(entry.key):
            gradebook.reject(entry, reason)
        outcomes.append(_report(_outcome(entry, reason=reason), progress))
    if todo:
        grade(todo)
    return outcomes


def _absolute(source: str) -> str:
    """An input's source with its file's path made absolute (a zip's member stays as it is, after "!"): a folder
    graded once as ``inbox`` and again as ``/home/me/inbox`` holds the same rejected inputs, not twice as many."""
    path, bang, member = source.partition("!")
    return os.path.abspath(path) + bang + member


# How a row the grader failed on begins, in each language it may have been written in.
_GRADER_FAILED = tuple(i18n.translate(messages.GRADER_FAILED.msgid, language).split("{", 1)[0]
                       for language in i18n.LANGUAGES)


def fairly_ordered(todo: list) -> list:
    """``todo`` ((submission, lesson) pairs) in the order to grade them: every student's latest submission of each
    lesson first (the one that counts), then each one's next latest, and so on, in the order read within a round.

    Each submission may use its whole budget, so a student who hands in a dozen that do (in a folder, or a zip of
    them) held every student read after them for a dozen budgets (red team V): now only for one, at most."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, (item, lesson) in enumerate(todo):
        groups.setdefault((item.student, lesson), []).append(index)
    rank = {}
    for indices in groups.values():
        latest_first = sorted(indices, key=lambda i: (todo[i][0].submitted_at, todo[i][0].arrival), reverse=True)
        rank.update((index, place) for place, index in enumerate(latest_first))
    return [todo[index] for index in sorted(range(len(todo)), key=lambda index: (rank[index], index))]


def _grade_todo(todo: list, masters: dict, gradebook: Gradebook, outcomes: list, progress, *, jobs: int | None,
                settings: Settings, sandbox, cluster) -> None:
    """Grade ``todo`` ((submission, lesson) pairs), here or on ``cluster``, recording each result as it comes."""
    todo = fairly_ordered(todo)
    if cluster is not None:  # the cluster's workers grade; this process records each result as it arrives
        from coursekit.grading.cluster import grade_on_cluster  # needs distributed, the `cluster` extra

        for item, lesson, result in grade_on_cluster(cluster, todo, masters, settings):
            _finish(item, lesson, result, gradebook, outcomes, progress)
        return
    needed = sorted({lesson for _, lesson in todo})
    preload = sorted({module for lesson in needed for module in masters[lesson].sandbox_modules()})
    jobs = max(1, min(jobs or default_jobs(), len(todo)))
    with sandbox_server(sandbox, preload) as address:
        # Built once here, while the sandbox server imports its own modules on the other core: a pool's workers
        # inherit them through the fork, rather than build them each.
        setups = {lesson: trusted_setup(masters[lesson]) for lesson in needed}
        if jobs == 1:  # no pool to start: grade here
            grader = Grader(masters, setups, settings, address)
            try:
                for item, lesson in todo:
                    _finish(item, lesson, functools.partial(grader.grade, lesson, item.notebook_raw), gradebook,
                            outcomes, progress)
            finally:
                grader.close()
        else:
            for setup in setups.values():  # recognising wrong answers, computed once here rather than in each process
                compute = getattr(setup.get("exercises"), "compute_lesson_values", None)
                if compute is not None:
                    compute()
            grader = Grader(masters, setups, settings, address)

            def in_a_pool(items: list, processes: int) -> list:
                return _grade_in_a_pool(items, processes, grader, gradebook, outcomes, progress)

            # A grading process that dies (the kernel's OOM killer, a kill) breaks its pool, and every submission
            # still in it with it: those are graded again in a new pool. When a pool breaks before grading any, the
            # culprit is among the first it handed out (a pool hands out one more than it has processes): each of
            # those is graded alone, so that only the submission whose grading kills its process is recorded as the
            # grader's failure, and the rest go on in a pool.
            lost = in_a_pool(todo, jobs)
            while lost:
                again = in_a_pool(lost, min(jobs, len(lost)))
                if len(again) == len(lost):
                    suspects, again = again[:jobs + 1], again[jobs + 1:]
                    for item in suspects:
                        for failed in in_a_pool([item], 1):
                            _finish(*failed, _process_lost, gradebook, outcomes, progress)
                lost = again


def _grade_in_a_pool(items: list, processes: int, grader: Grader, gradebook: Gradebook, outcomes: list,
                     progress) -> list:
    """Grade ``items`` ((submission, lesson) pairs) in a new pool of ``processes``, recording each result; the items
    lost because a grading process died and broke the pool (not recorded)."""
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_start_pool_worker,
                               initargs=(grader, os.getpid(), context.Value("i", 0), processes))
    lost = set()
    try:
        futures = {pool.submit(_grade_in_pool, lesson, item.notebook_raw): (item, lesson) for item, lesson in items}
        for future in as_completed(futures):
            if isinstance(future.exception(), BrokenProcessPool):
                lost.add(future)
                continue
            item, lesson = futures[future]
            _finish(item, lesson, future.result, gradebook, outcomes, progress)
    except BaseException:  # interrupted: what waits is dropped, what runs is stopped now (what was
        _stop_now(pool)    # recorded stays; the next run grades the rest)
        raise
    pool.shutdown()
    return [pair for future, pair in futures.items() if future in lost]  # in the order they were handed out


def _process_lost() -> Grade:
    raise BrokenProcessPool("its grading process died while grading it, even alone")


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` without waiting for its queue: its grading processes are killed (their sandbox workers end
    with them, as the server sees their connections close)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # no public way to stop one; and
    # The queue's feeder thread may be writing a notebook into the pipe that the killed processes read: it would
    # wait there for ever, and the pool's own thread, joining it at exit, with it (the command hung, as a user).
    call_queue = getattr(pool, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    pool.shutdown(wait=False, cancel_futures=True)                           # shutdown forgets them
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.kill()


def default_jobs() -> int:
    """Two grading processes per core (at most 16 more than cores): one that waits on a submission looping until
    its time limit leaves its core to the others."""
    cores = os.cpu_count() or 1
    return min(2 * cores, cores + 16)


@contextlib.contextmanager
def sandbox_server(sandbox: Path | str | None, preload: list[str]) -> Iterator[str]:
    """The socket of the sandbox server a batch's grading processes share: the caller's, or one for this batch
    that imports only what the batch's lessons use (a smaller process forks faster), stopped after it."""
    if sandbox is not None:
        yield str(sandbox)
        return
    # Private to this user (0700), named after this process: should it be killed, its server ends with it and removes
    # the folder, and failing that the next server of this user does (server_folders).
    with tempfile.TemporaryDirectory(prefix=f"{BATCH_FOLDER_PREFIX}{os.getpid()}-", ignore_cleanup_errors=True) \
            as folder:
        path = os.path.join(folder, "sandbox.sock")
        process = daemon.start(path, idle=60, preload=preload, with_parent=True)
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
        reason = messages.GRADER_FAILED.format(error=failure_words(error))
        gradebook.reject(entry, reason)
        outcomes.append(_report(_outcome(entry, reason=reason), progress))
        return
    gradebook.record(entry, grade)
    outcomes.append(_report(_outcome(entry, grade=grade), progress))


def _outcome(entry: Entry, **what) -> Outcome:
    return Outcome(entry.source, entry.student, entry.lesson, key=entry.key, content_hash=entry.content_hash, **what)


def _report(outcome: Outcome, progress) -> Outcome:
    if progress is not None:
        progress(outcome)
    return outcome
