"""Deadlines, not timeouts: no traffic from the sandbox extends a call, a submission ends within its budget, and
anything the sandbox sends that the grader cannot read fails that test only."""

import os
import time

import nbformat
import pytest

from coursekit.grading import protocol, wire
from coursekit.grading.client import WarmServer
from coursekit.grading.limits import Settings
from coursekit.grading.session import ProtocolError, SandboxTimeout
from graded_submissions import MASTERS, by_id, grade, replacing, solution

pytestmark = pytest.mark.slow  # grades through a sandbox server, and waits on time limits

LESSON = "07_efficiency"
# Short limits, and a short wall-clock grace beyond the CPU budget, so that each stall costs the suite little.
QUICK = Settings(cell_timeout=0.5, call_timeout=0.2, test_timeout=2.0, wall_grace=0.5)

CHANNEL = ("import gc, socket, struct, time\n"
           "def channel():  # the worker's own socket to the grader, as student code can find it\n"
           "    return next(o for o in gc.get_objects() if isinstance(o, socket.socket) and o.fileno() >= 0)\n")

STALLS = {  # the stall, and how its test ends: at its deadline, or at once when what it sends is refused
    "a message trickled byte by byte": ((
        "    sock = channel()\n"
        "    sock.sendall(struct.pack('!I', 1000) + b'{')\n"
        "    while True:\n"
        "        time.sleep(0.1)\n"
        "        sock.sendall(b' ')\n"), "timeout"),
    "fake callbacks, one after another": ((
        "    sock = channel()\n"
        "    while True:\n"
        "        time.sleep(0.05)\n"
        "        body = b'{\"op\": \"callback\", \"id\": 1, \"args\": [], \"kwargs\": {\"__dict__\": []}}'\n"
        "        sock.sendall(struct.pack('!I', len(body)) + body)\n"
        "        sock.recv(65536)\n"), "error"),  # no callback was handed out: a protocol error
}


@pytest.mark.parametrize("stall", sorted(STALLS))
def test_traffic_from_the_sandbox_does_not_extend_a_calls_deadline(server, stall):
    code = CHANNEL + "def numerical_passes(n_params, method):\n" + STALLS[stall][0]
    start = time.monotonic()
    graded = grade(server, replacing(LESSON, "numerical_passes", code), LESSON, QUICK)
    assert time.monotonic() - start < 10  # without deadlines: forever
    result = by_id(graded)["numerical_passes_test"]
    assert result.status == STALLS[stall][1] and result.points == 0, result
    assert [t.status for t in graded.tests if t.grade_id != "numerical_passes_test"] == ["passed", "passed"]


def test_a_submission_that_sleeps_in_every_cell_ends_within_its_budget(server):
    nb = solution(LESSON)
    for at in range(2, 22):  # 20 cells that each stay under the cell limit, 6 s in all
        nb.cells.insert(at, nbformat.v4.new_code_cell("import time\ntime.sleep(0.3)", id=f"sleep-{at}"))
    server.wait_until_ready()
    graded = grade(server, nb, LESSON, Settings(cell_timeout=0.5, budget=1.5, wall_grace=0.5))
    assert graded.seconds < 1.5 + 1.0, graded.seconds
    assert any("time budget of 1.5 s" in str(problem) for problem in graded.cell_problems), graded.cell_problems
    assert {t.status for t in graded.tests} == {"timeout"} and graded.points == 0


def test_the_servers_warm_up_is_not_counted_in_the_first_submissions_budget():
    with WarmServer() as fresh:  # every module preloaded: it warms up for longer than the budget
        graded = grade(fresh, solution(LESSON), LESSON, Settings(budget=1.0))
    assert graded.points == graded.max_points and graded.cell_problems == [], graded


def test_cells_whose_kept_definitions_loop_too_end_within_the_submissions_budget(server):
    nb = solution(LESSON)
    # each runs past its cell limit, does not say where (it swallows the interrupt), and, run again a statement at a
    # time, its class body loops as well
    stuck = ("class Stuck:\n    while True:\n        try:\n            while True:\n                pass\n"
             "        except KeyboardInterrupt:\n            pass\nKEPT = 1")
    for at in range(2, 12):
        nb.cells.insert(at, nbformat.v4.new_code_cell(stuck, id=f"stuck-{at}"))
    server.wait_until_ready()  # run alone, the test's server may still be warming up: that is not the submission's
    graded = grade(server, nb, LESSON, Settings(cell_timeout=0.1, budget=1.5, wall_grace=0.5))
    assert graded.seconds < 1.5 + 1.0, graded.seconds
    assert any("time budget of 1.5 s" in str(problem) for problem in graded.cell_problems), graded.cell_problems


def test_a_cell_is_limited_by_the_cpu_it_uses_not_by_the_time_it_waits(session_for):
    session = session_for("x = 0", cpu_limit=0.5)
    assert session.run_cell("import time\ntime.sleep(0.8)\nslept = True", 0.5)["ok"]  # waited, did not compute
    with pytest.raises(SandboxTimeout, match="of computing"):
        session.run_cell("while True:\n    pass", 0.5)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux's CPU affinity")
def test_a_call_kept_waiting_for_a_core_by_other_workers_is_not_stopped_by_the_wall_clock():
    # A server and its workers on one core. Two workers loop at the priority every worker starts with; a third
    # computes for 0.15 s of CPU, within its 0.3 s, and, slow, is moved to the lowest priority: it gets a sliver of
    # the core, and takes seconds. Its wall-clock backstop (4 x 0.3 s, no grace) is for code that sleeps, and
    # stopped it so; the CPU it waits for is not the student's fault.
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # the server started now inherits it, and its workers from it
    sessions = []
    try:
        with WarmServer(preload=[]) as server:
            server.wait_until_ready()
            for _ in range(2):
                sessions.append(server.session(60))
                wire.send(sessions[-1].sock, {protocol.OP: protocol.RUN, protocol.CODE: "while True:\n    pass"})
            sessions.append(server.session(0.3))
            sessions[-1].wall_grace = 0.0
            start = time.monotonic()
            outcome = sessions[-1].run_cell("import time\nt = time.process_time()\n"
                                            "while time.process_time() - t < 0.15:\n    pass\ndone = True", 0.3)
            waited = time.monotonic() - start
    finally:
        for session in sessions:
            session.kill()
        os.sched_setaffinity(0, cores)
    assert outcome["ok"], outcome
    assert waited > 4 * 0.3, waited  # it did wait past the backstop: the case this checks happened


def test_a_call_that_keeps_calling_back_is_still_stopped_at_its_cpu_limit(session_for):
    # red team X: the grader looked at the worker's CPU only after 50 ms without a message from it, so a call that
    # computed for seconds, calling back every 10 ms, was never looked at and returned its answer
    session = session_for("import time\ndef spin(g):\n    t = last = time.process_time()\n"
                          "    while time.process_time() - t < 1.5:\n        if time.process_time() - last > 0.01:\n"
                          "            g(1)\n            last = time.process_time()\n    return 'done'", cpu_limit=0.5)
    spin = session.get("spin")
    with pytest.raises(SandboxTimeout, match="of computing"):
        spin(lambda x: x)


def test_an_answer_trickled_while_the_worker_computes_past_its_limit_is_not_taken(session_for):
    # the grader blocks reading a message once it has begun: a worker that began one, then computed for 1 s of its
    # 0.5 s while it sent a byte every 20 ms, and ended it as a cell's answer, had that answer taken
    session = session_for(CHANNEL, cpu_limit=0.5)
    trickle = ("body = b'{\"ok\": true, \"error\": null, \"stdout\": \"\"' + b' ' * 200 + b'}'\n"
               "sock = channel()\nsock.sendall(struct.pack('!I', len(body)) + body[:10])\n"
               "sent, t, last = 10, time.process_time(), 0.0\n"
               "while time.process_time() - t < 1.0:\n"
               "    if time.process_time() - last > 0.02 and sent < len(body) - 1:\n"
               "        sock.sendall(body[sent:sent + 1])\n        sent, last = sent + 1, time.process_time()\n"
               "sock.sendall(body[sent:])\ntime.sleep(5)")
    with pytest.raises(SandboxTimeout, match="of computing"):
        session.run_cell(trickle, 0.5)


def test_a_callback_the_grader_never_handed_out_is_a_protocol_error(session_for):
    session = session_for(CHANNEL, cpu_limit=0.5)
    fake = ("body = b'{\"op\": \"callback\", \"id\": 7, \"args\": [], \"kwargs\": {\"__dict__\": []}}'\n"
            "channel().sendall(struct.pack('!I', len(body)) + body)\nchannel().recv(65536)")
    with pytest.raises(ProtocolError, match="never handed out"):
        session.run_cell(fake, 0.5)


GARBAGE = {
    "invalid JSON": "b'{not json'",
    "invalid UTF-8": "b'\\xff\\xfe\\xfd'",
    "JSON nested 100,000 deep": "b'[' * 100_000 + b']' * 100_000",
    "a JSON list, not an object": "b'[1, 2, 3]'",
}


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_what_the_grader_cannot_read_fails_that_test_only(server, garbage):
    code = CHANNEL + ("def numerical_passes(n_params, method):\n"
                      f"    body = {GARBAGE[garbage]}\n"
                      "    channel().sendall(struct.pack('!I', len(body)) + body)\n"
                      "    time.sleep(5)\n")
    graded = grade(server, replacing(LESSON, "numerical_passes", code), LESSON, QUICK)
    result = by_id(graded)["numerical_passes_test"]
    assert result.status == "error" and "cannot read" in result.message, result
    assert [t.status for t in graded.tests if t.grade_id != "numerical_passes_test"] == ["passed", "passed"]


def test_an_exception_while_a_name_is_handed_over_fails_that_test_only(server):
    code = ("class Slippery:\n    @property\n    def __class__(self):\n        raise RuntimeError('no')\n"
            "numerical_passes = Slippery()\n")
    graded = grade(server, replacing(LESSON, "numerical_passes", code), LESSON, QUICK)
    assert by_id(graded)["numerical_passes_test"].status == "error"
    assert graded.points == MASTERS[LESSON].max_points - by_id(graded)["numerical_passes_test"].max_points


def test_a_budget_that_runs_out_while_a_new_worker_starts_ends_the_replay_quietly(server, monkeypatch):
    from coursekit.grading.student_code import StudentCode
    from coursekit.grading.verdicts import Grade

    student = StudentCode(server, ["x = 1"], Settings(cell_timeout=0.1, budget=5.0), Grade(LESSON), frozenset(),
                          time.monotonic() + 5.0)

    def start_as_the_budget_ends(self):  # the worker's first cell meets the submission's deadline
        self.deadline = time.monotonic() - 0.01
        raise SandboxTimeout("stopped after waiting 0 s for an answer")

    monkeypatch.setattr(StudentCode, "_start", start_as_the_budget_ends)
    student.restart()  # nothing more runs, and nothing is raised: the tests then say the budget was used up
    assert student.out_of_time()
    student.close()


@pytest.mark.parametrize(("cell", "line"), [
    ("import numpy as np\nEPS = 1e-12\nfor step in range(10**10):\n    EPS += 0\nDONE = True", (3, 4)),  # the loop
    ("x = 1\nwhile True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n"
     "        pass", (None,)),  # it swallows the interrupt: it says nothing, and is killed as before
])
def test_a_cell_stopped_at_its_limit_says_which_top_level_statement_it_was_in(session_for, cell, line):
    # ``line``: the lines of the statement it was in
    # so that, run again a statement at a time, it need not run past its limit there a second time (red team Q: 45
    # experiment cells, each run past the limit twice, left a notebook's tests to its budget)
    session = session_for("pass")
    with pytest.raises(SandboxTimeout) as stopped:
        session.run_cell(cell, 0.2, locate=True)
    assert stopped.value.line in line and not session.alive


def test_a_cell_not_to_be_located_is_not_interrupted(session_for):
    session = session_for("pass")
    with pytest.raises(SandboxTimeout) as stopped:
        session.run_cell("while True:\n    pass", 0.2)
    assert stopped.value.line is None
