"""Each protection of the sandbox, checked by its effect: what student code tries, and fails to do.

A protection the kernel cannot give is skipped here with the reason, and the report says it was not active.
"""

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from coursekit.grading.protections import landlock_abi

pytestmark = pytest.mark.slow  # starts sandbox workers

ABI = landlock_abi()
ROOT = os.geteuid() == 0


# A write is refused by Landlock (EACCES), or first by the read-only view of the file systems the worker has (EROFS)
WRITE_REFUSED = {errno.EACCES, errno.EROFS}


def attempt(session_for, code: str):
    """Run ``code`` (which sets ``outcome``) in a fresh worker; what it reported."""
    session = session_for("outcome = None\n" + code)
    return session.get("outcome")


def failure(action: str) -> str:
    return ("import os\ntry:\n" + "".join(f"    {line}\n" for line in action.splitlines()) + "    outcome = 'done'\n"
            "except OSError as error:\n    outcome = type(error).__name__\n")


@pytest.fixture()
def course_file(tmp_path):
    path = tmp_path / "master.ipynb"  # outside the worker's folder, like the course's files
    path.write_text("the instructor's file")
    path.chmod(0o644)
    return path


@pytest.mark.skipif(ABI < 3, reason="Landlock before ABI 3 (Linux 6.2) does not handle truncation")
def test_a_file_outside_its_folder_cannot_be_truncated(session_for, course_file):
    code = failure(f"os.truncate({str(course_file)!r}, 0)").replace("outcome = type(error).__name__",
                                                                    "outcome = error.errno")
    assert attempt(session_for, code) in WRITE_REFUSED
    assert course_file.read_text() == "the instructor's file"


def test_a_file_outside_its_folder_cannot_change_mode_owner_or_times(session_for, course_file):
    before = course_file.stat()
    for action in (f"os.chmod({str(course_file)!r}, 0o777)", f"os.chown({str(course_file)!r}, 0, 0)",
                   f"os.utime({str(course_file)!r}, (0, 0))"):
        assert attempt(session_for, failure(action)) == "PermissionError", action
    after = course_file.stat()
    assert (after.st_mode, after.st_uid, after.st_mtime) == (before.st_mode, before.st_uid, before.st_mtime)


def test_a_process_outside_the_sandbox_cannot_be_signalled(session_for):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        outcome = attempt(session_for, failure(f"os.kill({bystander.pid}, 9)"))
        time.sleep(0.1)
        assert outcome == "PermissionError" and bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.skipif(ABI < 1, reason="without Landlock, /proc of the grader's user is open to file modes alone")
def test_the_graders_processes_cannot_be_read_through_proc(session_for):
    code = failure(f"open('/proc/{os.getpid()}/environ').read()")
    assert attempt(session_for, code) == "PermissionError"


def test_the_sandbox_has_none_of_the_graders_environment_but_a_few_harmless_variables(session_for):
    # a red team read the course's path in the worker's PYTHONPATH (which the server needs, to import coursekit)
    from coursekit.grading.client import INHERITED_ENV, SINGLE_THREADED

    names = set(attempt(session_for, "import os\noutcome = sorted(os.environ)"))
    assert "PYTHONPATH" not in names
    own = {"PATH", "COURSEKIT_HEADLESS", "MPLBACKEND", "PYTHONDONTWRITEBYTECODE", "HOME", "IPYTHONDIR", "TMPDIR",
           "MPLCONFIGDIR"}  # the worker's own folder, headless plotting
    assert names <= set(INHERITED_ENV) | set(SINGLE_THREADED) | own, names


def test_no_other_program_can_be_run(session_for):
    # execv itself, without a fork first: as a user (not root) the process limit, shared with the grader's own
    # processes, may refuse the fork before the exec is even tried. Were exec allowed, the worker would become
    # /bin/true and end.
    assert attempt(session_for, failure("os.execv('/bin/true', ['true'])")) == "PermissionError"


@pytest.mark.skipif(ABI < 4, reason="Landlock before ABI 4 (Linux 6.7) does not handle TCP")
def test_no_tcp_connection_can_be_made(session_for):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code = "import socket\n" + failure(f"socket.create_connection(('127.0.0.1', {port}), timeout=2)")
        assert attempt(session_for, code) == "PermissionError"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp filters are Linux's")
def test_no_process_can_leave_the_workers_group_to_outlive_it(session_for):
    assert attempt(session_for, failure("os.setsid()")) == "PermissionError"
    assert attempt(session_for, failure("os.setpgid(0, 0)")) == "PermissionError"
    # A child forked by libc itself (past Python's fork hooks, which would park it) that tries to leave the group,
    # then sleeps: it is killed with the worker's group.
    session = session_for("import ctypes, os, time\n"
                          "pid = ctypes.CDLL(None).fork()\n"
                          "if pid == 0:\n"
                          "    try:\n        os.setsid()\n    except OSError:\n        pass\n"
                          "    time.sleep(300)\n    os._exit(0)\n")
    child = session.get("pid")
    if child < 0:  # refused: no new process in the sandbox (seccomp), or, without it, the process limit
        return
    assert _alive(child)
    session.kill()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp filters are Linux's")
@pytest.mark.skipif(ABI < 1, reason="the kernel offers no Landlock")
def test_nothing_can_be_written_even_in_the_workers_own_folder(session_for):
    # A red team wrote 2.5 GiB past the 16 MiB a file (fallocate keeps a file's size), filled a tmpfs /tmp with
    # 16 MiB files (memory that no limit saw), and made a million folders whose removal held up every other worker.
    for action in ("open('scratch.txt', 'w')", "os.mkdir('more')", "os.mkfifo('pipe')",
                   "import tempfile\ntempfile.mkstemp()", "open('/tmp/coursekit-probe', 'w')"):
        code = failure(action).replace("outcome = type(error).__name__", "outcome = error.errno")
        assert attempt(session_for, code) in WRITE_REFUSED, action


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "aarch64"),
                    reason="seccomp filters are Linux's, and coursekit's are written for x86-64 and aarch64")
def test_no_file_can_be_made_in_memory_where_no_limit_counts_it(session_for):
    # Red team Z kept 1.8 GiB in 115 memfds of 16 MiB (50 open, 65 in flight over a socketpair): memory that neither
    # the limit on the worker's address space nor its size counted.
    assert attempt(session_for, failure("os.memfd_create('kept')")) == "PermissionError"
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"  # memfd_secret: 447 on both
            "outcome = 'made' if libc.syscall(447, 0) != -1 else os.strerror(ctypes.get_errno())\n")
    assert attempt(session_for, code) == os.strerror(1)  # EPERM, from the filter: not a missing feature


def test_no_process_or_thread_can_be_started(session_for):
    # Each would take a process id from the machine's counter: a red team forked until the next worker's id was a
    # hidden input (modulo 256), which the same student's next submission then printed in a cell's error.
    code = ("import ctypes, os, threading\n"
            "outcome = [ctypes.CDLL(None).fork()]\n"
            "if outcome[0] == 0:\n    os._exit(0)\n"
            "try:\n    os.fork()\nexcept OSError as error:\n    outcome.append(type(error).__name__)\n"
            "try:\n    threading.Thread(target=print).start()\nexcept RuntimeError:\n    outcome.append('no thread')\n")
    assert attempt(session_for, code) == [-1, "PermissionError", "no thread"]


def _as_a_shell_starts_it() -> None:
    """A command's signals at their defaults, as an interactive shell starts it. A test process may have inherited
    SIGINT ignored (a test of the course server's processes), and Python then installs no KeyboardInterrupt: the
    command ignored Ctrl-C in three full suite runs, waiting on its pool (faulthandler's stack showed it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _state(pid: int) -> str:
    """A process's state and what it waits in (for a report)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return f"{stat} {Path(f'/proc/{pid}/wchan').read_text()} {Path(f'/proc/{pid}/cmdline').read_text()[:80]!r}"
    except OSError:
        return "gone"


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, ended but not yet reaped, counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp filters are Linux's")
def test_no_socket_can_be_made_to_send_what_a_test_gave_it(session_for):
    # UDP is not Landlock's to refuse: a datagram could carry a hidden input to a server of the student's; nor is a
    # Unix socket that is a file (red team AB's, below)
    for family, kind in (("AF_INET", "SOCK_DGRAM"), ("AF_INET6", "SOCK_DGRAM"), ("AF_PACKET", "SOCK_RAW"),
                         ("AF_UNIX", "SOCK_DGRAM"), ("AF_UNIX", "SOCK_STREAM")):
        code = failure(f"import socket\nsocket.socket(socket.{family}, socket.{kind})")
        assert attempt(session_for, code) == "PermissionError", (family, kind)
    # a connected pair of stream sockets stays (asyncio's event loop makes one); one of datagrams could send anywhere
    assert attempt(session_for, failure("import socket\nsocket.socketpair()")) == "done"
    assert attempt(session_for, failure("import asyncio\nasyncio.new_event_loop().close()")) == "done"
    for kind in ("SOCK_DGRAM", "SOCK_SEQPACKET", "SOCK_DGRAM | socket.SOCK_CLOEXEC"):
        code = failure(f"import socket\nsocket.socketpair(socket.AF_UNIX, socket.{kind})")
        assert attempt(session_for, code) == "PermissionError", kind


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp filters are Linux's")
def test_a_unix_socket_outside_the_sandbox_hears_nothing_from_a_worker(session_for, tmp_path):
    # Red team AB: a worker sent every hidden input of lesson 03 to a datagram socket in a folder it could not read,
    # and, graded as a user, talked to the instructor's own agent socket (Landlock does not govern a socket's path).
    folder = tmp_path / "outside"
    folder.mkdir(mode=0o733)  # others may reach a socket in it, not list it
    folder.chmod(0o733)
    path = folder / "listener.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        path.chmod(0o777)
        listener.settimeout(0.2)
        for action in (f"socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'hidden', {str(path)!r})",
                       f"socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)[0].sendto(b'hidden', {str(path)!r})",
                       f"socket.socketpair()[0].sendto(b'hidden', {str(path)!r})"):
            assert attempt(session_for, failure("import socket\n" + action)) in ("PermissionError", "OSError"), action
        with pytest.raises(TimeoutError):
            listener.recv(100)


# Kernel objects of the user rather than of the worker's folder: each would outlive the worker, and hold what a hidden
# test gave it until a later cell (of a regrading) or the next submission reads it back into its feedback.
KEPT_BY_THE_KERNEL = {
    "a System V message queue": "libc.msgget(0x5EC0DE, 0o1666)",
    "System V shared memory": "libc.shmget(0x5EC0DE, 4096, 0o1666)",
    "a System V semaphore set": "libc.semget(0x5EC0DE, 1, 0o1666)",
    "a POSIX message queue": "libc.mq_open(b'/coursekit-kept', os.O_CREAT | os.O_RDWR, 0o600, None)",
    "a key in the user's keyring": "libc.syscall({add_key}, b'user', b'kept', b'hidden', 6, -4)",  # -4: the user's
}


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "aarch64"),
                    reason="seccomp filters are Linux's, and coursekit's are written for x86-64 and aarch64")
@pytest.mark.parametrize("kept", KEPT_BY_THE_KERNEL)
def test_nothing_can_be_kept_in_the_kernel_for_a_later_worker(session_for, kept):
    call = KEPT_BY_THE_KERNEL[kept].format(add_key={"x86_64": 248, "aarch64": 217}[os.uname().machine])
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"made = {call}\n"
            "outcome = 'made' if made not in (-1, None) else os.strerror(ctypes.get_errno())\n")
    assert attempt(session_for, code) == os.strerror(1)  # EPERM, from the filter: not a missing feature


# What two workers running at once could pass each other through a file both may read (red team S: every hidden input
# of lesson 01 went from one submission's worker into another's feedback as the offsets of locks on a library file).
SHARED_FILE_CHANNELS = {
    "a record lock": "fcntl.lockf(handle, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 2**40)",
    "a lock's query": "fcntl.fcntl(handle, fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0))",
    "an open file description lock": "fcntl.fcntl(handle, 37, struct.pack('hhqqi', fcntl.F_RDLCK, 0, 0, 1, 0))",
    "a whole-file lock": "fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)",
    "a lease": "fcntl.fcntl(handle, fcntl.F_SETLEASE, fcntl.F_RDLCK)",
    "a directory notification": "fcntl.fcntl(os.open(os.path.dirname(numpy.__file__), os.O_RDONLY), fcntl.F_NOTIFY, "
                                "fcntl.DN_ACCESS)",
    "an inotify watch": "check(libc.inotify_add_watch(libc.inotify_init1(0), numpy.__file__.encode(), 1))",
    "a page-cache query": "check(libc.mincore(mapped, 4096, ctypes.create_string_buffer(1)))",
    "a page-cache drop": "os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)",
}


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "aarch64"),
                    reason="seccomp filters are Linux's, and coursekit's are written for x86-64 and aarch64")
@pytest.mark.parametrize("channel", SHARED_FILE_CHANNELS)
def test_nothing_passes_between_workers_through_a_file_they_both_read(session_for, channel):
    code = ("import ctypes, fcntl, mmap, os, struct, numpy\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "def check(result):\n    if result == -1:\n"
            "        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))\n"
            "handle = os.open(numpy.__file__, os.O_RDONLY)\n"
            "libc.mmap.restype = ctypes.c_void_p\n"
            "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, *[ctypes.c_int] * 3, ctypes.c_long]\n"
            "mapped = ctypes.c_void_p(libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_SHARED, handle, 0))\n"
            "try:\n"
            f"    {SHARED_FILE_CHANNELS[channel]}\n"
            "    outcome = 'done'\n"
            "except OSError as error:\n    outcome = error.errno\n")
    assert attempt(session_for, code) == 1  # EPERM, from the filter


def test_a_worker_still_reads_and_flags_its_own_file_descriptors(session_for):
    code = ("import fcntl, os, numpy\nhandle = os.open(numpy.__file__, os.O_RDONLY)\n"
            "flags = fcntl.fcntl(handle, fcntl.F_GETFD)\nfcntl.fcntl(handle, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)\n"
            "outcome = [len(os.read(handle, 10)), fcntl.fcntl(handle, fcntl.F_GETFL) & os.O_ACCMODE]\n")
    assert attempt(session_for, code) == [10, os.O_RDONLY]


def test_a_file_a_worker_reads_keeps_its_access_time_for_no_later_worker_to_read(server, tmp_path):
    # relatime stamps a file's first read after its last change: a red team passed every hidden input of lesson 01
    # to the same learner's next submission in which of 4,000 files it had read (stat shows any later process)
    probe = Path(sys.prefix) / f"coursekit-atime-probe-{os.getpid()}.txt"  # in a root the sandbox may read
    probe.write_text("never read since it was written")
    os.utime(probe, (1_500_000_000, 1_600_000_000))  # read before its last change: the next read stamps it
    session = server.session(5.0)
    try:
        if not ROOT and not any("read-only" in protection for protection in session.protections):
            pytest.skip("this kernel gives a user's worker no namespaces of its own (no unprivileged user namespaces)")
        assert session.run_cell(f"text = open({str(probe)!r}).read()", 5.0)["ok"]
        assert session.get("text") == "never read since it was written"
    finally:
        session.kill()
        atime = probe.stat().st_atime
        probe.unlink()
    assert atime == 1_500_000_000


@pytest.mark.skipif(not ROOT, reason="the grader is not root: there is no privilege to drop")
def test_as_root_every_id_is_dropped_and_secrets_stay_unreadable(session_for):
    ids = attempt(session_for, "import os\noutcome = [os.getresuid(), os.getresgid(), os.getgroups(),\n"
                               "    open('/proc/self/status').read()]")
    (uids, gids, groups, status) = ids
    assert 0 not in uids and 0 not in gids and groups == []
    fs_ids = [line.split()[4] for line in status.splitlines() if line.startswith(("Uid:", "Gid:"))]
    assert "0" not in fs_ids  # the file-system ids too
    assert attempt(session_for, failure("open('/etc/shadow').read()")) == "PermissionError"


def test_the_report_lists_what_is_active(server):
    session = server.session(5.0)
    try:
        report = " | ".join(session.protections)
    finally:
        session.kill()
    assert "limits:" in report and ("seccomp" in report) == sys.platform.startswith("linux")
    assert ("landlock ABI" in report) == (ABI >= 1)
    assert ("unprivileged user" in report) == ROOT


def _server_folders(parent: int | None = None) -> set[Path]:
    """The folders of running sandbox servers (only those started by process ``parent``, if given)."""
    import tempfile

    folders = set(Path(tempfile.gettempdir()).glob("coursekit-sandbox-*-*"))
    if parent is None:
        return folders
    return {folder for folder in folders if _parent_of(int(folder.name.split("-")[2])) == parent}


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_a_workers_folder_is_removed_when_it_ends_and_the_servers_when_it_stops():
    import tempfile

    from coursekit.grading.client import WarmServer

    server = WarmServer(preload=[])  # nothing to import: it serves a cell of plain Python
    session = server.session(5.0)
    assert session.run_cell("x = 1", 5.0)["ok"]
    (folder,) = Path(tempfile.gettempdir()).glob(f"coursekit-sandbox-{server.process.pid}-*")
    (worker_folder,) = folder.glob("worker-*")
    # what a worker without Landlock (an older kernel) could leave in its folder
    (worker_folder / "scratch.txt").write_text("x" * 1000)
    (worker_folder / "more").mkdir()
    session.kill()
    deadline = time.monotonic() + 5
    while list(folder.glob("worker-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(folder.glob("worker-*"))
    crashed = server.session(5.0)
    with pytest.raises(BaseException, match="ended its own process"):
        crashed.run_cell("import os\nos._exit(3)", 5.0)
    server.close()
    assert not folder.exists()


def test_an_interrupted_grade_leaves_no_folder_and_no_process(tmp_path):
    from graded_submissions import ROOT as COURSE

    loop = tmp_path / "07_efficiency--looper.ipynb"
    nb = (COURSE / "solutions" / "07_efficiency.ipynb").read_text()
    loop.write_text(nb.replace("def numerical_passes(n_params, method):", "while True:\\n    pass\\n"
                               "def numerical_passes(n_params, method):", 1))
    grade = subprocess.Popen([sys.executable, "-m", "coursekit", "grade", str(loop), "--root", str(COURSE),
                              "--gradebook", str(tmp_path / "book.sqlite"), "--no-keep-warm"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not _server_folders(parent=grade.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = _server_folders(parent=grade.pid)
    assert started, "the grade command never started a sandbox server"
    time.sleep(0.3)
    grade.send_signal(signal.SIGINT)
    grade.wait(20)
    deadline = time.monotonic() + 10
    while any(folder.exists() for folder in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(folder.exists() for folder in started)
    for folder in started:
        pid = int(folder.name.split("-")[2])
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _sleepy_batch(folder: Path, count: int) -> list[Path]:
    """``count`` submissions whose cells each sleep: every one would take its whole 30 s budget."""
    from graded_submissions import ROOT as COURSE

    nb = json.loads((COURSE / "solutions" / "07_efficiency.ipynb").read_text())
    nb["cells"][1:1] = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                         "source": "import time\ntime.sleep(0.9)\n"} for _ in range(40)]
    paths = []
    for index in range(count):
        path = folder / f"07_efficiency--sleeper{index}.ipynb"
        path.write_text(json.dumps(nb))
        paths.append(path)
    return paths


def _children(pid: int) -> set[int]:
    try:
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree in /proc")
@pytest.mark.parametrize("how", ["SIGTERM to the command", "Ctrl-C to its process group", "SIGKILL to the command"])
def test_a_stopped_batch_ends_at_once_and_leaves_no_grading_process(tmp_path, how):
    from graded_submissions import ROOT as COURSE

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _sleepy_batch(inbox, 6)
    errors = tmp_path / "stderr.txt"  # with every thread's stack, should the command not end (faulthandler, SIGABRT)
    with errors.open("wb") as sink:
        grade = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "coursekit", "grade", str(inbox),
                                  "--root", str(COURSE), "--gradebook", str(tmp_path / "book.sqlite"), "--no-keep-warm",
                                  "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True,
                                 preexec_fn=_as_a_shell_starts_it)
    deadline = time.monotonic() + 30
    while len(_children(grade.pid)) < 3 and time.monotonic() < deadline:  # the server and two graders
        time.sleep(0.05)
    time.sleep(1.0)
    spawned = _children(grade.pid)
    assert len(spawned) >= 3, "the batch never started its grading processes"
    stopped = time.monotonic()
    if how == "SIGTERM to the command":
        grade.send_signal(signal.SIGTERM)
    elif how == "SIGKILL to the command":  # nothing of its own runs: its server and graders end with it
        grade.send_signal(signal.SIGKILL)
    else:
        os.killpg(grade.pid, signal.SIGINT)
    try:
        grade.wait(20)  # the queue (6 submissions of 36 s) is dropped, not graded to its end
    except subprocess.TimeoutExpired:
        states = {pid: _state(pid) for pid in [grade.pid, *spawned, *_children(grade.pid)]}
        grade.send_signal(signal.SIGABRT)
        grade.wait(10)
        pytest.fail(f"the command did not end; processes: {states}\n{errors.read_text(errors='replace')[-6000:]}")
    assert time.monotonic() - stopped < 10
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in spawned) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in spawned if _alive(pid)]
    # the folder of the batch server's socket went with it (the server removes it; else the next server would)
    assert not list(Path(tempfile.gettempdir()).glob(f"coursekit-batch-{grade.pid}-*"))
