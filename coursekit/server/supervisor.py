"""The grading workers' supervisor: one process that keeps ``count`` grading worker processes running, and starts a
new one in place of any that dies, while the server runs.

``coursekit serve`` forks it before uvicorn starts any thread, and it starts none itself: every process it forks
is forked from a single-threaded one (a fork of a process with threads may inherit a lock that no thread will
ever release). It dies with the server, however the server ends (on Linux, the kernel's parent-death signal;
elsewhere it notices within a second), and its workers die with it.

A worker writes the claim token it is about to use into a small array shared with the supervisor *before* the
claim commits. When the worker dies, the supervisor puts back in the queue the row that token still holds
(``queue.release_claim``: only if it is still being graded under that claim). The dead worker can no longer
record it, and a new claim replaces its own, so the row is recorded once, by the worker that grades it next; the
attempt counts, so an upload that kills its worker again and again is rejected after ``queue.MAX_ATTEMPTS``.
A worker that dies soon after it started is replaced after a pause that doubles each time (a crash loop does not
spin), from RESTART_PAUSE up to MAX_PAUSE; one that lived STEADY_SECONDS or more is replaced after RESTART_PAUSE.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass

from coursekit.server import queue, worker
from coursekit.server.config import ServerConfig

RESTART_PAUSE = 0.5  # seconds before a dead worker's replacement starts
MAX_PAUSE = 30.0
STEADY_SECONDS = 60.0  # a worker that lived this long did not die of a crash loop
LOOK_SECONDS = 0.25  # how often the supervisor looks at the stop event and its parent while its workers run
STOP_SECONDS = 10.0  # a worker's time to finish its upload once asked to stop
CLAIM_BYTES = 33  # a claim token (32 hexadecimal digits) and room for its end

# What the supervisor says on the server's standard error (the instructor's terminal).
WORKER_ENDED = "coursekit grading worker {pid} ended ({how}){put_back}; a new one starts in {pause:g} s"
PUT_BACK = "; the upload it was grading is back in the queue"
KILLED_BY = "killed by {signal}"
EXIT_CODE = "exit code {code}"


@dataclass
class Supervisor:
    """The server's handle on its supervisor process."""

    process: multiprocessing.Process
    stop_event: object

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the workers to stop after their current upload and wait for the supervisor to end (ended by force
        after ``timeout`` and a little more)."""
        self.stop_event.set()
        self.process.join(timeout + 2 * LOOK_SECONDS + 1)
        if self.process.is_alive():
            self.process.terminate()  # its workers die with it
            self.process.join(2)


def start(config: ServerConfig, count: int, masters: dict) -> Supervisor:
    """Fork the supervisor of ``count`` workers (call it before this process starts a thread: before uvicorn);
    the workers inherit ``masters``."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    # Not a daemon: multiprocessing lets only a process that is not one have children.
    process = context.Process(target=_supervise, args=(config, count, masters, stop, os.getpid()),
                              name="coursekit-grading-supervisor")
    process.start()
    return Supervisor(process, stop)


class _Place:
    """One worker's place: its process, the claim it holds, and when a replacement may start."""

    def __init__(self, context, number: int):
        self.number = number
        self.holding = context.RawArray("c", CLAIM_BYTES)
        self.process = None
        self.started = self.not_before = 0.0
        self.pause = RESTART_PAUSE

    def start(self, context, config: ServerConfig, stop, masters: dict) -> None:
        self.holding.value = b""
        self.process = context.Process(target=worker.process_main, args=(config, stop, masters, os.getpid(),
                                                                           self.holding),
                                       daemon=True, name=f"coursekit-grading-{self.number}")
        self.process.start()
        self.started = time.monotonic()

    def ended(self, config: ServerConfig) -> None:
        """The worker has died: put back the row it held, and set when its replacement starts."""
        process, self.process = self.process, None
        process.join()
        put_back = _release(config, self.holding.value.decode("ascii", "replace"))
        lived = time.monotonic() - self.started
        pause = RESTART_PAUSE if lived >= STEADY_SECONDS else self.pause
        self.pause = min(pause * 2, MAX_PAUSE)
        self.not_before = time.monotonic() + pause
        code = process.exitcode
        how = KILLED_BY.format(signal=signal.Signals(-code).name) if code is not None and code < 0 else \
            EXIT_CODE.format(code=code)
        print(WORKER_ENDED.format(pid=process.pid, how=how, put_back=PUT_BACK if put_back else "", pause=pause),
              file=sys.stderr, flush=True)


def _release(config: ServerConfig, token: str) -> int:
    """Put back the row claim ``token`` holds; how many (0 or 1). A busy gradebook is waited for: the row must not
    stay claimed by a dead worker."""
    if not token:
        return 0
    for _ in range(10):
        try:
            with contextlib.closing(sqlite3.connect(config.gradebook, timeout=60)) as db:
                return queue.release_claim(db, token)
        except sqlite3.OperationalError:
            time.sleep(1)
    return 0  # the gradebook stayed locked for ten minutes: the next start of the server puts it back


def _supervise(config: ServerConfig, count: int, masters: dict, stop, server: int) -> None:
    worker.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the server's: it stops us
    context = multiprocessing.get_context("fork")
    places = [_Place(context, number) for number in range(count)]
    try:
        while not stop.is_set() and os.getppid() == server:
            now = time.monotonic()
            for place in places:
                if place.process is None and now >= place.not_before:
                    place.start(context, config, stop, masters)
            waiting = [place.not_before - now for place in places if place.process is None]
            sentinels = [place.process.sentinel for place in places if place.process is not None]
            multiprocessing.connection.wait(sentinels, timeout=max(0.0, min([LOOK_SECONDS, *waiting])))
            for place in places:
                if place.process is not None and place.process.exitcode is not None and not stop.is_set():
                    place.ended(config)
    finally:
        stop.set()  # the workers stop after their current upload
        for place in places:
            if place.process is not None:
                place.process.join(STOP_SECONDS)
                if place.process.is_alive():
                    place.process.terminate()
                    place.process.join(2)
