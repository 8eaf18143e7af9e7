"""The grading workers' supervisor (what ``coursekit serve`` forks before uvicorn): a worker killed with SIGKILL
while it grades is replaced, the upload it held goes back to the queue and is graded once, by the new worker, which
then grades the next upload; stopping the supervisor ends its workers.

The supervisor is forked from the test process (as the server forks it from its own), over a gradebook of its own
and the session's warm sandbox; uploads go straight into the queue, as the web process puts them."""

import datetime as dt
import json
import os
import signal
import time
from pathlib import Path

import pytest
from server_helpers import LESSON, MASTERS, SOLVED

from coursekit.grading.gradebook import Gradebook
from coursekit.server import queue, run, supervisor

pytestmark = pytest.mark.slow

SLEEP = 0.5  # seconds the slow upload's extra cell sleeps: the window in which its worker is killed


def slow_notebook() -> bytes:
    """Lesson 07's solution with a last cell that sleeps (wall time, no CPU): it is being graded for a while."""
    notebook = json.loads(SOLVED)
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                              "source": f"import time\ntime.sleep({SLEEP})"})
    return json.dumps(notebook).encode()


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are alive (its workers)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_until(condition, what: str, within: float = 30.0):
    deadline = time.monotonic() + within
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {within:g} s"
        time.sleep(0.01)
    return found


def state_of(db, queue_id: int) -> str:
    return db.execute("SELECT state FROM queue WHERE id = ?", (queue_id,)).fetchone()[0]


def enqueue(db, student: str, raw: bytes) -> int:
    return queue.enqueue(db, student, LESSON, f"{LESSON}--{student}.ipynb", raw, dt.datetime.now(dt.UTC), False)


def test_a_worker_killed_while_grading_is_replaced_and_every_upload_is_graded_once(config, monkeypatch, capfd):
    monkeypatch.setattr(supervisor, "RESTART_PAUSE", 0.05)  # inherited by the fork
    run.prepare(config)
    graders = supervisor.start(config, 1, {LESSON: MASTERS[LESSON]})
    try:
        with Gradebook(config.gradebook) as book:
            slow = enqueue(book.db, "ada", slow_notebook())
            wait_until(lambda: state_of(book.db, slow) == queue.GRADING, "the claim of the slow upload")
            [victim] = wait_until(lambda: children(graders.pid), "the first worker")
            os.kill(victim, signal.SIGKILL)

            wait_until(lambda: state_of(book.db, slow) == queue.DONE, "the slow upload's grading by a new worker")
            [replacement] = children(graders.pid)
            assert replacement != victim
            again = enqueue(book.db, "bob", SOLVED)
            wait_until(lambda: state_of(book.db, again) == queue.DONE, "the next upload's grading")
            assert children(graders.pid) == [replacement]  # graded by the new worker
            rows = book.db.execute("SELECT id, recorded, attempts FROM queue ORDER BY id").fetchall()
            assert rows == [(slow, 1, 2), (again, 1, 1)]  # once each; the slow one claimed twice, recorded once
            graded = book.db.execute("SELECT student, points FROM submissions WHERE state = 'graded' "
                                     "ORDER BY student").fetchall()
            assert graded == [("ada", MASTERS[LESSON].max_points), ("bob", MASTERS[LESSON].max_points)]
    finally:
        graders.stop()
    assert not graders.process.is_alive() and not children(graders.pid)
    said = capfd.readouterr().err
    assert f"coursekit grading worker {victim} ended (killed by SIGKILL); the upload it was grading is back" in said


def test_a_worker_that_keeps_dying_is_replaced_after_longer_and_longer_pauses(config, monkeypatch, capfd):
    monkeypatch.setattr(supervisor, "RESTART_PAUSE", 0.02)
    monkeypatch.setattr(supervisor, "MAX_PAUSE", 0.08)
    monkeypatch.setattr(supervisor.worker, "work", lambda *args, **kwargs: os._exit(3))  # dies at once, every time
    run.prepare(config)
    written, start = [], time.monotonic()

    def said() -> list[str]:
        """The supervisor's whole lines about a death so far (under capfd, a print's text and its newline are two
        writes: a line read half-written is left until its end arrives)."""
        written.append(capfd.readouterr().err)
        return [line for line in "".join(written).split("\n")[:-1] if "a new one starts in" in line]

    graders = supervisor.start(config, 1, {})
    try:
        wait_until(lambda: len(said()) >= 5, "five deaths")
        took = time.monotonic() - start
    finally:
        graders.stop()
    assert not graders.process.is_alive()
    lines = said()
    pauses = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in lines[:5]]
    assert pauses == [0.02, 0.04, 0.08, 0.08, 0.08]  # doubled after each quick death, up to MAX_PAUSE
    assert "ended (exit code 3); a new one starts in" in lines[0]
    assert took >= sum(pauses[:4])
