"""The shared sandbox server: kept warm between commands, private to its user, never reachable by student code."""

import os
import signal
import time

import pytest
from click.testing import CliRunner

from coursekit.cli import main
from coursekit.grading import daemon
from coursekit.grading.client import WarmServer, end_server
from coursekit.grading.limits import Limits
from graded_submissions import MASTERS, ROOT

pytestmark = pytest.mark.slow  # starts, kills and stops sandbox servers

LESSON = "07_efficiency"


@pytest.fixture(autouse=True)
def servers_that_import_only_lesson_07s_modules(monkeypatch):
    """A shared server imports every lesson's modules before it forks (a second of CPU); these tests start eight of
    them to check their lifecycle, and grade lesson 07 only, which needs a quarter of that."""
    start = daemon.start

    def start_light(path, limits=None, idle=daemon.IDLE, preload=None, with_parent=False):
        return start(path, limits, idle, MASTERS[LESSON].modules() if preload is None else preload, with_parent)

    monkeypatch.setattr(daemon, "start", start_light)


def _wait_until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended too
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _as_handed_in(folder) -> str:
    """The lesson's master, as ada's submission (a notebook named after its lesson alone names nobody)."""
    notebook = folder / f"{LESSON}--ada.ipynb"
    notebook.write_bytes((ROOT / "solutions" / f"{LESSON}.ipynb").read_bytes())
    return str(notebook)


def _grade_with_cli(tmp_path, name: str) -> None:
    result = CliRunner().invoke(main, ["grade", str(_as_handed_in(tmp_path)), "--root", str(ROOT),
                                       "--gradebook", str(tmp_path / f"{name}.sqlite"), "--csv",
                                       str(tmp_path / f"{name}.csv")])
    assert result.exit_code == 0, result.output
    total = (tmp_path / f"{name}.csv").read_text().splitlines()[1].split(",")[-1]
    assert float(total) == MASTERS[LESSON].max_points


def test_grade_commands_share_one_warm_server_until_it_is_stopped(tmp_path):
    daemon.stop()
    _grade_with_cli(tmp_path, "first")
    first = daemon.running()
    _grade_with_cli(tmp_path, "second")
    assert daemon.running() == first and len(first) == 1  # the second command used the first one's server
    pid = first[0][1]
    result = CliRunner().invoke(main, ["sandbox", "stop"])
    assert result.exit_code == 0 and "stopped 1" in result.output
    assert _wait_until(lambda: not _alive(pid)) and daemon.running() == []
    assert "no shared sandbox server is running" in CliRunner().invoke(main, ["sandbox", "status"]).output


def test_without_keep_warm_no_server_stays_behind(tmp_path):
    daemon.stop()
    result = CliRunner().invoke(main, ["grade", str(_as_handed_in(tmp_path)), "--root", str(ROOT),
                                       "--gradebook", str(tmp_path / "book.sqlite"), "--no-keep-warm"])
    assert result.exit_code == 0, result.output
    assert daemon.running() == []


def test_student_code_cannot_reach_the_server_that_forked_it():
    with daemon.connect() as server:
        session = server.session(5.0)
        try:
            outcome = session.run_cell(
                "import socket\n"
                "answer = 'nothing'\n"
                "try:\n"
                "    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                "    probe.settimeout(5)\n"
                f"    probe.connect({str(daemon.address())!r})\n"
                "    answer = repr(probe.recv(1))\n"
                "except OSError as error:\n"
                "    answer = type(error).__name__\n", 10.0)
            assert outcome["ok"], outcome
            assert session.get("answer") != "b'R'"  # refused: closed at once, or not even reachable
        finally:
            session.kill()
        after = server.session(5.0)  # and the server still serves its graders
        try:
            assert after.run_cell("x = 6 * 7", 5.0)["ok"] and after.get("x") == 42
        finally:
            after.kill()


def test_a_server_killed_outright_is_replaced_by_the_next_command():
    daemon.connect().close()
    [(path, pid)] = daemon.running()
    os.kill(pid, signal.SIGKILL)
    assert _wait_until(lambda: not _alive(pid))
    assert path.exists()  # it had no chance to remove its socket
    with daemon.connect() as server:
        session = server.session(5.0)
        try:
            assert session.run_cell("y = 1 + 1", 5.0)["ok"] and session.get("y") == 2
        finally:
            session.kill()
    assert [p for _, p in daemon.running()] != [pid]


def test_an_idle_server_stops_by_itself_and_removes_its_socket():
    limits = Limits(cpu_seconds=59)  # an address of its own
    daemon.connect(limits, idle=0.5).close()
    path = daemon.address(limits)
    [(_, pid)] = [entry for entry in daemon.running() if entry[0] == path]
    assert _wait_until(lambda: not _alive(pid)) and not path.exists()


def test_an_idle_server_counts_its_idle_time_from_its_last_grader_not_from_its_last_worker_reaped():
    limits = Limits(cpu_seconds=58)  # an address of its own
    with daemon.connect(limits, idle=2.0) as server:
        session = server.session(5.0)
        assert session.run_cell("x = 1", 5.0)["ok"]
    # the grader is gone while its worker still runs: the server reaps it, then waits its whole idle time
    [(_, pid)] = [entry for entry in daemon.running() if entry[0] == daemon.address(limits)]
    time.sleep(1.2)
    assert _alive(pid)
    assert _wait_until(lambda: not _alive(pid))


def test_the_address_changes_with_the_limits():
    assert daemon.address(Limits(cpu_seconds=5)) != daemon.address() == daemon.address(Limits())


def test_a_runtime_folder_others_can_open_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setenv("COURSEKIT_RUNTIME_DIR", str(folder))
    with pytest.raises(daemon.RuntimeFolderError, match="only you can open"):
        daemon.address()


def test_attach_to_nothing_fails_plainly(tmp_path):
    with pytest.raises(FileNotFoundError):
        WarmServer.attach(tmp_path / "nobody.sock")


def test_a_batch_worker_whose_server_was_killed_regrades_with_a_new_one(tmp_path):
    from coursekit.grading import batch
    from coursekit.grading.limits import Settings

    path = tmp_path / "s.sock"
    process = daemon.start(path, idle=30)
    grader = batch.Grader(MASTERS, {}, Settings(), str(path))
    grader.server = daemon.attach(path, process)
    try:
        process.kill()  # e.g. a student's code of the same user, where nothing stops its signals
        process.wait()
        raw = (ROOT / "solutions" / f"{LESSON}.ipynb").read_bytes()
        graded = grader.grade(LESSON, raw)  # its socket is gone: the grader starts a server of its own
        assert graded.points == MASTERS[LESSON].max_points
    finally:
        grader.close()
        end_server(process)  # the killed server's folder goes with it


def test_workers_cannot_be_traced_or_read_by_others_of_their_user():
    with daemon.connect() as server:
        session = server.session(5.0)
        try:
            assert session.run_cell("import ctypes\ndumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)", 5.0)["ok"]
            assert session.get("dumpable") == 0  # inherited from the server, which is not dumpable either
        finally:
            session.kill()


def test_a_runtime_folder_too_deep_for_a_socket_is_refused_with_the_way_out(tmp_path, monkeypatch):
    folder = tmp_path / ("deep" * 30)
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("COURSEKIT_RUNTIME_DIR", str(folder))
    with pytest.raises(daemon.RuntimeFolderError, match="COURSEKIT_RUNTIME_DIR to a shorter one"):
        daemon.address()


def test_grade_goes_on_with_a_server_of_its_own_when_the_shared_one_cannot_run(tmp_path, monkeypatch):
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o755)
    monkeypatch.setenv("COURSEKIT_RUNTIME_DIR", str(folder))
    result = CliRunner().invoke(main, ["grade", str(_as_handed_in(tmp_path)), "--root", str(ROOT),
                                       "--gradebook", str(tmp_path / "book.sqlite"), "--csv", str(tmp_path / "g.csv")])
    assert result.exit_code == 0, result.output
    assert "no shared sandbox server" in result.output + getattr(result, "stderr", "")
    assert float((tmp_path / "g.csv").read_text().splitlines()[1].split(",")[-1]) == MASTERS[LESSON].max_points


def test_a_worker_holds_no_socket_but_its_own(tmp_path):
    with daemon.connect() as first, daemon.connect() as second:  # two graders connected to one server
        first.session(5.0).kill()
        session = second.session(5.0)
        try:
            assert session.run_cell(
                "import os\n"
                "sockets = []\n"
                "for fd in os.listdir('/proc/self/fd'):\n"
                "    try:\n"
                "        if os.readlink(f'/proc/self/fd/{fd}').startswith('socket:'):\n"
                "            sockets.append(fd)\n"
                "    except OSError:\n"
                "        pass  # the listing's own descriptor, closed by now\n", 5.0)["ok"]
            assert len(session.get("sockets")) == 1  # not the listener, not another grader's connection
        finally:
            session.kill()
