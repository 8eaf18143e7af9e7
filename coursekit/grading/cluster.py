"""Grading on a Dask distributed cluster (``coursekit grade --cluster tcp://host:8786``).

Each Dask worker holds a warm sandbox server of its own (``SandboxPlugin``, a Dask WorkerPlugin: started once
when the worker starts, stopped at its teardown) and a ``batch.Grader`` per worker thread, connected to it. The
masters travel once per worker and batch (scattered to every worker; each task refers to them), each submission's
notebook with its task. The Dask worker runs the trusted tests, as a local grading process does; the student's code
runs only in that worker's sandbox, never in the Dask worker's own process.

The caller's process records every result in its gradebook as it arrives, as local grading does. A worker that dies
mid-task: the scheduler runs the task again on another worker, and its result is recorded once. A submission whose
task killed workers again and again is recorded as rejected, with that reason. A batch whose scheduler is lost
stops with ClusterLost: what was recorded stays, the rest is graded by the next run.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator

from distributed import Client, WorkerPlugin, as_completed, get_worker
from distributed.scheduler import KilledWorker

from coursekit.grading import daemon
from coursekit.grading.batch import Grader
from coursekit.grading.client import end_server
from coursekit.grading.limits import Settings
from coursekit.grading.master import Master
from coursekit.grading.session import SandboxCrashed
from coursekit.grading.verdicts import Grade

# Every sentence this module writes (into errors, and so into a gradebook's reasons), in one place for translation.
UNREACHABLE = "cannot reach the Dask scheduler at {address}: {problem}"
LOST = ("the Dask cluster at {address} was lost during the batch ({problem}); what was graded is in the gradebook, "
        "and the next run grades the rest")
KILLED = ("grading it stopped the cluster's workers {times} times (Dask's allowed failures); it was not graded: "
          "grade it again, or locally, to see why")
NO_SANDBOX = "this Dask worker has no coursekit sandbox (the plugin {name!r} is not set up on it)"

PLUGIN_NAME = "coursekit-sandbox"
ORPHAN_IDLE = 2.0  # seconds a worker's sandbox server outlives its Dask worker, should that worker be killed
_ONE_SUBMISSION_AT_A_TIME = threading.Lock()  # see SandboxPlugin.grade
CONNECT_TIMEOUT = "10s"


class ClusterUnreachable(ConnectionError):
    """No Dask scheduler answers at the address given."""


class ClusterLost(ConnectionError):
    """The Dask cluster went away during a batch."""


class WorkersKilled(RuntimeError):
    """A submission whose task killed every worker that ran it."""


class SandboxPlugin(WorkerPlugin):
    """On each Dask worker: one sandbox server, and a Grader per worker thread connected to it.

    The server listens in the worker's private runtime folder (``daemon.runtime_dir``); the plugin holds a
    connection to it for as long as the worker lives, so that it ends ORPHAN_IDLE seconds after a worker that was
    killed, and at once at the worker's teardown; should it die, the next task starts another. ``preload``: the
    modules it imports before forking (default: all a lesson may use).
    """

    idempotent = True  # registered again by every batch: set up once per worker

    def __init__(self, preload: list[str] | None = None, idle: float = ORPHAN_IDLE):
        self.preload, self.idle = preload, idle

    def setup(self, worker) -> None:
        """Start the worker's sandbox server and connect to it (a second or so, once per worker)."""
        self.lock = threading.Lock()
        self.graders: dict[tuple[int, str, Settings], Grader] = {}
        self.process, self.keepalive = None, None
        self._start_server()

    def _start_server(self) -> None:
        self.path = str(daemon.runtime_dir() / f"dask-worker-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock")
        self.process = daemon.start(self.path, idle=self.idle, preload=self.preload)
        try:
            self.keepalive = daemon.attach(self.path, self.process)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise SandboxCrashed(f"the worker's sandbox server did not start ({error})") from error

    def grade(self, masters_key: str, masters: dict[str, Master], settings: Settings, lesson: str,
              raw_notebook: bytes) -> Grade:
        """Grade one notebook with this thread's Grader for these masters and settings, one at a time in this process
        whatever its threads: grading changes what the process holds (warning filters, standard output, the caches it
        clears at each submission so that no submission times another's), and two submissions graded at once in one
        process could read each other's traces (red team Z). A worker's threads beyond one add no grading speed."""
        with _ONE_SUBMISSION_AT_A_TIME:
            return self._grader(masters_key, masters, settings).grade(lesson, raw_notebook)

    def _grader(self, masters_key: str, masters: dict, settings: Settings) -> Grader:
        with self.lock:
            if self.process.poll() is not None:  # the server died (killed from outside): a new one, new graders
                self._stop_server()
                self._start_server()
            thread = threading.get_ident()
            for key in [key for key in self.graders if key[0] == thread and key[1:] != (masters_key, settings)]:
                self.graders.pop(key).close()  # one batch's Grader per thread: its setups are a batch's
            key = (thread, masters_key, settings)
            if key not in self.graders:
                self.graders[key] = Grader(masters, {}, settings, self.path)
            return self.graders[key]

    def _stop_server(self) -> None:
        for grader in self.graders.values():
            grader.close()
        self.graders.clear()
        if self.keepalive is not None:
            self.keepalive.close()
            self.keepalive = None
        if self.process is not None:
            end_server(self.process)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # the server removes it as it ends; not when it was killed

    def server_pid(self) -> int:
        """The process id of this worker's sandbox server."""
        return self.process.pid

    def teardown(self, worker) -> None:
        """Stop the worker's sandbox server (it kills its workers and removes their folders)."""
        with self.lock:
            self._stop_server()


def _grade_on_worker(masters_key: str, masters: dict[str, Master], settings: Settings, lesson: str,
                     raw_notebook: bytes) -> Grade:
    """A task: grade one notebook on the Dask worker running it."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None:
        raise RuntimeError(NO_SANDBOX.format(name=PLUGIN_NAME))
    return plugin.grade(masters_key, masters, settings, lesson, raw_notebook)


def grade_on_cluster(address: str, todo: list, masters: dict[str, Master], settings: Settings) -> Iterator[tuple]:
    """Grade ``todo`` ((submission, lesson) pairs) on the Dask cluster at ``address``: (submission, lesson, result)
    as each finishes, ``result()`` giving its Grade or raising what grading it raised.

    The workers' sandboxes preload the modules of all ``masters`` (those of the course, for the CLI and the
    server): the first batch on a cluster sets them up. ClusterUnreachable when no scheduler answers; ClusterLost
    when it goes away during the batch.
    """
    client = connect(address)
    preload = sorted({module for master in masters.values() for module in master.sandbox_modules()})
    try:
        client.register_plugin(SandboxPlugin(preload), name=PLUGIN_NAME)
        needed = {lesson: masters[lesson] for lesson in sorted({lesson for _, lesson in todo})}
        # Sent once to each worker (fetched once by a worker that joins later, or whose copy Dask's memory manager
        # dropped while it had no task needing it); its key names it in the tasks.
        [shared] = client.scatter([needed], broadcast=True)
        futures = {client.submit(_grade_on_worker, shared.key, shared, settings, lesson, item.notebook_raw,
                                 pure=False, key=f"coursekit-grade-{uuid.uuid4().hex}"): (item, lesson)
                   for item, lesson in todo}
    except OSError as error:
        raise ClusterLost(LOST.format(address=address, problem=problem_text(error))) from error
    for future in as_completed(futures, loop=client.loop):
        item, lesson = futures.pop(future)
        if future.status == "cancelled":
            raise ClusterLost(LOST.format(address=address, problem="its tasks were cancelled"))
        yield item, lesson, _result(future)


def _result(future):
    """A function that gives the future's Grade, saying in plain words when its task killed workers."""

    def result() -> Grade:
        try:
            return future.result()
        except KilledWorker as error:
            raise WorkersKilled(KILLED.format(times=_allowed_failures())) from error

    return result


def _allowed_failures() -> int:
    import dask

    return int(dask.config.get("distributed.scheduler.allowed-failures", 3))


_CLIENTS: dict[str, Client] = {}
_CLIENTS_LOCK = threading.Lock()


def connect(address: str) -> Client:
    """A client of the scheduler at ``address``, kept for the next batch (the course server grades many)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(address)
        if client is not None and client.status == "running":
            return client
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterUnreachable(UNREACHABLE.format(address=address, problem=problem_text(error))) from error
        _CLIENTS[address] = client
        return client


def close_clients() -> None:
    """Close the clients ``connect`` kept."""
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            with contextlib.suppress(Exception):
                client.close()
        _CLIENTS.clear()


def problem_text(error: BaseException) -> str:
    """An exception in words: its type, and its message when it has one."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
