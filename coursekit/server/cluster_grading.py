"""Grading the server's uploads on a Dask cluster (``coursekit serve --cluster tcp://host:8786``).

A grading worker of the server claims an upload as always, then hands its notebook to
``coursekit.grading.cluster.grade_on_cluster`` (each Dask worker grading with a warm sandbox of its own) instead of
grading it in its own process, and records the result exactly as for local grading: the same claim, the row marked
done in the transaction that records it. When the cluster cannot be used, nothing was graded: GradingUnavailable,
and the worker puts the row back in the queue and tries again after a pause. A task's own failure (the grader
raised, the submission killed the Dask workers that ran it) is the upload's result, recorded as local grading
records it.
"""

from __future__ import annotations

import os
import select
import signal
from dataclasses import dataclass

from dask.utils import parse_timedelta
from distributed.client import ClosedClientError
from distributed.utils import CancelledError

from coursekit.grading import cluster
from coursekit.grading.limits import Settings
from coursekit.grading.verdicts import Grade
from coursekit.server.config import ConfigError
from coursekit.server.worker import GradingUnavailable

CHECK_FAILED = "the check of the Dask scheduler at {address} ended without an answer"
CHECK_GRACE = 20.0  # seconds the check may take past the client's time-out before it is given up
FETCH_LOST = "the Dask cluster at {address} was lost as the grade was fetched ({problem})"

# The ways a cluster's client fails when the scheduler cannot be reached or goes away (not a task's failure).
_CONNECTION_ERRORS = (cluster.ClusterUnreachable, cluster.ClusterLost, OSError, TimeoutError, CancelledError,
                      ClosedClientError)


@dataclass(frozen=True)
class _Notebook:
    """What ``grade_on_cluster`` reads of a submission: its notebook's bytes."""

    notebook_raw: bytes


class ClusterGrader:
    """A worker's grader when the server has a cluster: ``grade`` as ``batch.Grader.grade``, on the cluster.

    The Dask client is ``cluster.connect``'s, kept for the life of the process; the first upload registers the
    sandbox plugin (each Dask worker's sandbox preloads the modules of all the course's masters)."""

    def __init__(self, address: str, masters: dict, settings: Settings):
        self.address, self.masters, self.settings = address, masters, settings

    def grade(self, lesson: str, raw_notebook: bytes) -> Grade:
        """Grade one notebook on the cluster; GradingUnavailable when the cluster cannot be reached or is lost
        before its grade is here; what grading raised otherwise."""
        try:
            client = cluster.connect(self.address)
            [(_, _, result)] = list(cluster.grade_on_cluster(self.address, [(_Notebook(raw_notebook), lesson)],
                                                             self.masters, self.settings))
        except _CONNECTION_ERRORS as error:
            raise GradingUnavailable(_problem(error)) from error
        try:
            return result()
        except CancelledError as error:  # the scheduler went after the task ended, before its result came
            raise GradingUnavailable(FETCH_LOST.format(address=self.address, problem=_problem(error))) from error
        except OSError as error:
            if client.status == "running":
                raise  # the task's own error (the grader raised it on the Dask worker): the upload's result
            raise GradingUnavailable(FETCH_LOST.format(address=self.address, problem=_problem(error))) from error

    def close(self) -> None:
        """Nothing to close: the client stays for the next upload, and ends with the process."""


def check_reachable(address: str) -> None:
    """ConfigError, with the address and the reason, when no Dask scheduler answers at ``address``.

    Asked from a forked child process: a Dask client starts threads, and the server forks its workers after this
    check, which must be from a process without threads. The child has the client's time-out, and a little more,
    to answer."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, and never return into the caller's code
        try:
            os.close(read)
            try:
                cluster.connect(address)
                answer = b"ok"
            except cluster.ClusterUnreachable as problem:
                answer = str(problem).encode("utf-8", "replace")
            os.write(write, answer[:4000])
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], parse_timedelta(cluster.CONNECT_TIMEOUT) + CHECK_GRACE)
        answer = pipe.read() if ready else b""
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if answer != b"ok":
        raise ConfigError(answer.decode("utf-8", "replace") or CHECK_FAILED.format(address=address))


def _problem(error: BaseException) -> str:
    """The cluster's own errors say it all (address and reason); any other by its type and message."""
    if isinstance(error, (cluster.ClusterUnreachable, cluster.ClusterLost)):
        return str(error)
    return cluster.problem_text(error)
