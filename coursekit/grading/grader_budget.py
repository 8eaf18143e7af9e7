"""A time budget for the grader's own work on what a submission's code returned.

A test runs in the trusted process and computes with what the student's code gave it: SymPy rebuilds and
simplifies an expression, NumPy compares arrays. The bounds on their size (limits.SYMPY_*) keep that cheap for
anything honest; this budget stops what slips through them, such as an expression whose simplification explodes
or a number SymPy evaluates to a million digits. Its cost is the student's, so it is counted like the sandbox's:
CPU time of the thread doing the work, with a wall-clock deadline as a backstop.

A watchdog thread reads the CPU clock of each watched thread; past its budget or deadline it raises
GraderBudgetExceeded in that thread, at its next line of Python. That works in whichever thread grades (a grading
process's main thread, a Dask worker's thread), where a signal would reach the main thread only. A computation
inside one C call (a single huge multiplication) is stopped only once the call returns: the size bounds are what
keep each call short.

Such an exception can be lost: when it arrives while a finalizer or a weakref callback runs (SymPy's caches have
many), Python reports it as unraisable and goes on. So it is raised again for as long as the block has not ended,
each time the thread has used another REPEAT_CPU seconds of CPU (or REPEAT_WALL seconds have passed, for a thread
that waits). A thread that is leaving the block uses microseconds, so no repeat can reach the code after it.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from coursekit.grading import messages
from coursekit.grading.limits import POLL
from coursekit.grading.session import SandboxTimeout


class GraderBudgetExceeded(SandboxTimeout):
    """The grader's work on a submission's values took longer than its budget (raised in the grading thread)."""

    def __str__(self) -> str:  # raised as a class by the watchdog, so its words are its own
        return str(messages.GRADER_BUDGET)


REPEAT_CPU = POLL   # CPU seconds the thread may use after the exception was raised in it, before it is raised again
REPEAT_WALL = 1.0   # seconds of waiting after which it is raised again all the same


@dataclass
class _Watch:
    clock: int          # the watched thread's CPU clock (time.pthread_getcpuclockid)
    cpu_until: float    # that clock's reading past which the budget is spent
    deadline: float     # time.monotonic() past which it is spent whatever the CPU
    fired_cpu: float | None = None  # that clock's reading, and time.monotonic(), when last raised
    fired_at: float = 0.0

    def due(self, cpu: float, now: float) -> bool:
        """Whether to raise (again) in the watched thread: its budget is spent, or it was raised and lost."""
        if self.fired_cpu is None:
            return cpu > self.cpu_until or now > self.deadline
        return cpu - self.fired_cpu >= REPEAT_CPU or now - self.fired_at >= REPEAT_WALL


# A plain lock, whose acquiring runs no line of Python: an exception raised in the watched thread can never leave it
# held. The event wakes the watchdog when there is something to watch.
_lock, _wake = threading.Lock(), threading.Event()
_watched: dict[int, _Watch] = {}
_watchdog: threading.Thread | None = None


@contextlib.contextmanager
def grader_budget(cpu_seconds: float, deadline: float | None = None) -> Iterator[None]:
    """Within this block the calling thread may use ``cpu_seconds`` of CPU, until ``deadline`` (time.monotonic) at
    the latest; past either, GraderBudgetExceeded is raised in it. Where a thread's CPU clock cannot be read (not
    Linux or another POSIX system with per-thread clocks), the block runs unbounded."""
    ident = threading.get_ident()
    try:
        clock = time.pthread_getcpuclockid(ident)
        watch = _Watch(clock, time.clock_gettime(clock) + cpu_seconds, math.inf if deadline is None else deadline)
    except (AttributeError, OSError):
        yield
        return
    with _lock:
        _watched[ident] = watch
        _start_watchdog()
    _wake.set()
    try:
        yield
    finally:
        _unwatch(ident, watch)


def _unwatch(ident: int, watch: _Watch) -> None:
    """Stop watching the calling thread; an exception raised in it and not delivered yet is withdrawn."""
    while True:
        try:
            with _lock:  # the watchdog raises only under this lock, and only for a watch still in _watched
                if _watched.get(ident) is watch:
                    del _watched[ident]
                if watch.fired_cpu is not None:
                    _raise_in(ident, None)
            return
        except GraderBudgetExceeded:  # a repeat arrived on the way here: the block is ending anyway
            continue


def _start_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        _watchdog = threading.Thread(target=_watch_forever, name="coursekit-grader-budget", daemon=True)
        _watchdog.start()


def _watch_forever() -> None:
    while True:
        _wake.wait()
        time.sleep(POLL)
        with _lock:
            if not _watched:
                _wake.clear()
                continue
            now = time.monotonic()
            for ident, watch in list(_watched.items()):
                try:
                    cpu = time.clock_gettime(watch.clock)
                except OSError:  # the thread has ended
                    del _watched[ident]
                    continue
                if watch.due(cpu, now):
                    watch.fired_cpu, watch.fired_at = cpu, now
                    _raise_in(ident, GraderBudgetExceeded)


def _raise_in(ident: int, exception: type[BaseException] | None) -> None:
    """Have thread ``ident`` raise ``exception`` at its next line of Python; None withdraws one not raised yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                               ctypes.py_object(exception) if exception is not None else None)


def _forget_after_fork() -> None:
    """A forked child (a grading process) has no watchdog thread and watches nothing of its parent's."""
    global _watchdog, _lock, _wake
    _watchdog, _lock, _wake = None, threading.Lock(), threading.Event()
    _watched.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
