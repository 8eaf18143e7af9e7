"""Which cores a batch's grading processes run on, and their sandbox workers with them.

A test is a conversation: the grading process asks, the worker answers, dozens of times a submission. When
the two run on different cores, each turn wakes a process on the other core, and on a virtual machine that
costs a round trip four times what it costs on one core (55 against 13 microseconds here, with a message
that has not left the first core's cache). So a batch's grading process keeps to one core, and the worker
the server forks for it is given the same core (``forkserver``). With two grading processes per core, a
core whose pair waits on a sleeping student still has the other pair to run.
"""

from __future__ import annotations

import os


def usable_cores() -> list[int]:
    """The cores this process may run on, in order (an empty list where the system cannot say)."""
    if not hasattr(os, "sched_getaffinity"):
        return []  # pragma: no cover -- macOS
    return sorted(os.sched_getaffinity(0))


def keep_to_one_core(index: int, processes: int) -> None:
    """Keep this process, the ``index``-th of ``processes`` grading processes, to one core: the cores in turn.

    Nothing changes when there are fewer processes than cores (a core of its own is no help to a process that
    leaves the others idle) or the system cannot set it."""
    cores = usable_cores()
    if len(cores) < 2 or processes < len(cores):
        return
    try:
        os.sched_setaffinity(0, {cores[index % len(cores)]})
    except OSError:
        pass  # a container that forbids it: the scheduler places the process as before


def cores_of(pid: int) -> set[int] | None:
    """The cores process ``pid`` may run on; None when that cannot be read (it ended, or another system)."""
    if not hasattr(os, "sched_getaffinity"):
        return None  # pragma: no cover -- macOS
    try:
        return os.sched_getaffinity(pid)
    except OSError:
        return None


def run_on(cores: set[int] | None) -> None:
    """Run this process on ``cores`` when given and allowed (a worker on its grading process's core)."""
    if not cores:
        return
    try:
        os.sched_setaffinity(0, cores)
    except OSError:
        pass  # cores outside this process's own set (a cpuset that changed): it runs where it may
