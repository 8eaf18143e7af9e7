"""End to end over real sockets: ``coursekit.submit()`` to a running server shows the grade and feedback; and a
server process killed (SIGKILL) mid-queue, then restarted, grades every queued upload exactly once."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from server_helpers import LESSON, MISTAKEN, ROOT, ROSTER, SOLVED, ServerThread, free_port

from coursekit.grading import course_server, learner_submit
from coursekit.grading.gradebook import Gradebook
from coursekit.server import tokens

pytestmark = pytest.mark.slow


def test_submit_sends_the_notebook_to_a_running_server_and_shows_its_grade_and_feedback(config, tmp_path,
                                                                                          monkeypatch, capsys):
    with Gradebook(config.gradebook) as book:
        issued = {one.student: one.token for one in tokens.import_roster(book.db, ROSTER)}
    server = ServerThread(config)
    try:
        monkeypatch.setattr(course_server, "LOGIN_FILE", tmp_path / "home" / "server.json")
        login = course_server.log_in(server.url, issued["ada"])
        assert login.student == "ada" and oct((tmp_path / "home" / "server.json").stat().st_mode)[-3:] == "600"
        notebook = tmp_path / f"{LESSON}.ipynb"
        notebook.write_bytes(MISTAKEN)
        learner_submit.submit(str(notebook))  # plain Python: prints what a notebook shows
        shown = capsys.readouterr().out
        assert f"{LESSON}: 6 / 7 points" in shown  # numerical_passes (1 point) failed
        assert "numerical_passes_test: failed" in shown
        assert not (tmp_path / "outbox").exists()  # sent, not packed
    finally:
        server.close()
    # with the server gone, submit() packs the file and says why
    learner_submit.submit(str(notebook), student="ada", outbox=str(tmp_path / "outbox"))
    shown = capsys.readouterr().out
    assert "Not sent to the course server: could not reach" in shown
    assert (tmp_path / "outbox" / f"{LESSON}--ada.submission.zip").exists()


def _serve(config, port, log):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "coursekit", "serve", "--root", str(ROOT), "--gradebook",
                             str(config.gradebook), "--port", str(port), "--workers", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait_up(url, process, log_path):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            urllib.request.urlopen(url + "/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the server did not answer: {log_path.read_text()}")


def _post(url, token, raw):
    call = urllib.request.Request(f"{url}/api/submissions?lesson={LESSON}", data=raw, method="POST",
                                  headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(call, timeout=10) as answer:
        return json.load(answer)["id"]


def _states(path):
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM queue GROUP BY state").fetchall())


def test_a_server_killed_mid_queue_grades_every_upload_exactly_once_after_a_restart(config, tmp_path):
    with Gradebook(config.gradebook) as book:
        issued = [one.token for one in tokens.import_roster(book.db, ROSTER, deliver=None)]
    port, log_path = free_port(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    uploads = 9
    with log_path.open("wb") as log:
        first = _serve(config, port, log)
        try:
            _wait_up(url, first, log_path)
            for index in range(uploads):  # three students, three uploads each (the rate limit allows 10 a minute)
                _post(url, issued[index % 3], SOLVED if index % 2 else MISTAKEN)
            deadline = time.monotonic() + 30
            while _states(config.gradebook).get("done", 0) == 0:  # kill as soon as the first is graded
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.005)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        at_kill = _states(config.gradebook)
        assert at_kill.get("done", 0) < uploads, "the queue drained before the kill: nothing was tested"
        second = _serve(config, port, log)
        try:
            _wait_up(url, second, log_path)
            deadline = time.monotonic() + 60
            while _states(config.gradebook).get("done", 0) < uploads:
                assert time.monotonic() < deadline, (_states(config.gradebook), log_path.read_text())
                time.sleep(0.02)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    with sqlite3.connect(config.gradebook) as db:
        recorded = [count for (count,) in db.execute("SELECT recorded FROM queue ORDER BY id")]
        graded = db.execute("SELECT COUNT(*) FROM submissions WHERE state = 'graded'").fetchone()[0]
    assert recorded == [1] * uploads  # each upload's result recorded once, none twice, none lost
    assert graded == uploads


def test_a_learners_third_upload_arriving_at_once_is_refused_while_two_stall(config):
    """Bodies are held in memory as they arrive: forty uploads of one student that stopped one byte short of their
    declared length held 720 MB of the server. Two may arrive at once; the next is refused at once (429)."""
    import socket

    with Gradebook(config.gradebook) as book:
        issued = {one.student: one.token for one in tokens.import_roster(book.db, ROSTER)}
    server = ServerThread(config)
    stalled = []
    try:
        port = server.config.port
        for _ in range(2):
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall((f"POST /api/submissions?lesson={LESSON} HTTP/1.1\r\nHost: x\r\n"
                                f"Authorization: Bearer {issued['cy']}\r\nContent-Length: 100000\r\n\r\n").encode()
                               + b"{" * 1000)  # and then nothing more
            stalled.append(connection)
        time.sleep(0.5)  # both are being received
        third = urllib.request.Request(f"{server.url}/api/submissions?lesson={LESSON}", data=SOLVED, method="POST",
                                       headers={"Authorization": f"Bearer {issued['cy']}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(third, timeout=10)
        assert refused.value.code == 429 and "still arriving" in json.loads(refused.value.read())["error"]
        other = urllib.request.Request(f"{server.url}/api/submissions?lesson={LESSON}", data=SOLVED, method="POST",
                                       headers={"Authorization": f"Bearer {issued['ada']}"})
        assert urllib.request.urlopen(other, timeout=10).status == 202  # another learner's are their own
    finally:
        for connection in stalled:
            connection.close()
        server.close()
