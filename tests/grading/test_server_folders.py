"""A sandbox server's folder goes when the server goes, however it ends: by itself, or killed outright (then the
process that started it removes it, or else the next server of the same user)."""

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from coursekit.grading import server_folders
from coursekit.grading.client import WarmServer
from coursekit.grading.session import SandboxCrashed, SandboxTimeout


def _folders_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{server_folders.FOLDER_PREFIX}{pid}-*"))


def test_a_private_server_killed_outright_leaves_no_folder_once_closed():
    server = WarmServer(preload=[])
    session = server.session(5.0)
    assert session.run_cell("x = 1", 5.0)["ok"]
    pid = server.process.pid
    [folder] = _folders_of(pid)
    [worker_folder] = folder.glob("worker-*")
    (worker_folder / "scratch.txt").write_text("x")  # what a worker without Landlock could leave
    os.kill(pid, signal.SIGKILL)  # no chance to clean up after itself
    server.process.wait()
    assert folder.exists()
    session.kill()
    server.close()
    assert not _folders_of(pid)


def test_the_next_server_removes_the_folder_of_one_that_ended_as_a_zombie():
    child = os.fork()
    if child == 0:  # a "server" that made its folder and died without removing it; left unreaped: a zombie
        server_folders.new_server_folder()
        os._exit(0)
    try:
        while not _folders_of(child):
            pass
        while not Path(f"/proc/{child}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] == b"Z":
            pass
        server_folders.remove_stale_folders()
        assert not _folders_of(child)
    finally:
        os.waitpid(child, 0)


def test_the_folder_of_a_server_still_running_is_left_alone():
    mine = Path(server_folders.new_server_folder())  # this process's: it runs
    try:
        server_folders.remove_stale_folders()
        assert mine.exists()
    finally:
        mine.rmdir()


def test_without_proc_a_running_servers_folder_is_still_left_alone(monkeypatch):
    real_isdir = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda path: path != "/proc" and real_isdir(path))  # as on macOS,

    def no_proc(pid):
        raise FileNotFoundError(f"/proc/{pid}/stat")

    monkeypatch.setattr(server_folders, "stat_fields", no_proc)  # where opening /proc/<pid>/stat finds no file
    mine = Path(server_folders.new_server_folder())
    try:
        server_folders.remove_stale_folders()
        assert mine.exists()
    finally:
        mine.rmdir()
    gone = os.fork()
    if gone == 0:
        server_folders.new_server_folder()
        os._exit(0)
    os.waitpid(gone, 0)
    server_folders.remove_stale_folders()
    assert not _folders_of(gone)


def _deep_tree(top: Path, depth: int) -> None:
    """``top`` with ``depth`` nested folders in it, made as a worker would (relative steps: no path gets long)."""
    here = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=here)
            deeper = os.open("d", os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = deeper
        with open(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=here), "w") as made:
            made.write("x")
    finally:
        os.close(here)


def test_a_tree_deeper_than_pythons_recursion_and_unreadable_in_parts_is_removed(tmp_path):
    top = tmp_path / "worker"
    top.mkdir()
    _deep_tree(top, 1500)  # shutil.rmtree of Python 3.11 raises RecursionError on it
    (top / "closed").mkdir()
    (top / "closed" / "inside").write_text("x")
    (top / "closed").chmod(0o300)  # not even listable by its owner
    try:
        server_folders.remove_tree(str(top))
        assert not top.exists()
        server_folders.remove_tree(str(top))  # gone already: nothing to do, no error
    finally:  # should it fail, pytest's own removal of old temporary folders (rmtree) would fail on what is left
        subprocess.run(["rm", "-rf", str(top)], check=False)


def _nest(folder: Path, depth: int) -> None:
    """Folders ``d`` inside each other, ``depth`` deep, in ``folder`` (deeper than a path may be long)."""
    fd = os.open(folder, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)


def test_a_worker_that_leaves_a_very_deep_folder_does_not_stop_its_server():
    server = WarmServer(preload=[])
    try:
        session = server.session(10.0)
        assert session.run_cell("x = 1", 10.0)["ok"]
        [folder] = _folders_of(server.process.pid)
        worker_folder = next(folder.glob("worker-*"))
        _nest(worker_folder, 1500)  # what a worker without Landlock could leave
        session.kill()
        after = server.session(10.0)  # the server reaped the worker and removed its folder, and serves on
        assert after.run_cell("x = 1", 5.0)["ok"]
        after.kill()
        deadline = time.monotonic() + 10
        while worker_folder.exists() and time.monotonic() < deadline:  # removed as the server reaps the worker
            time.sleep(0.05)
        assert server.process.poll() is None and not worker_folder.exists()
    finally:
        server.close()


def test_a_process_a_worker_forked_with_libcs_fork_does_not_outlive_it():
    """libc's fork, called through ctypes, runs none of Python's at-fork hooks: its child goes on as the student's
    code wrote it, in the worker's process group; the worker ends at once, so that no grader kills that group. The
    server does, as it reaps the worker."""
    server = WarmServer(preload=[])
    try:
        session = server.session(5.0)
        worker = session.pid
        cell = "import ctypes, os, time\nif ctypes.CDLL(None).fork() != 0:\n    os._exit(0)\ntime.sleep(60)\n"
        with pytest.raises((SandboxCrashed, SandboxTimeout)):
            session.run_cell(cell, 5.0)
        session.kill()
        deadline = time.monotonic() + 10
        while _group(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group(worker)
    finally:
        server.close()


def _group(pgid: int) -> list[int]:
    """The running processes of process group ``pgid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def test_no_two_running_workers_of_a_server_share_a_user_id():
    # it was 60000 + the worker's pid modulo 5,000: two at once could share a user, and its limit on processes
    from coursekit.grading.forkserver import FIRST_WORKER_UID, WORKER_UIDS, Workers
    from coursekit.grading.server_folders import remove_tree

    workers = Workers()
    try:
        for fake_pid in range(-1, -WORKER_UIDS - 1, -1):  # no process's number: nothing real is named
            workers.add(fake_pid, "", None, workers.new_uid())
        uids = {uid for _, _, uid in workers.running.values()}
        assert uids == set(range(FIRST_WORKER_UID, FIRST_WORKER_UID + WORKER_UIDS))
        with pytest.raises(RuntimeError, match="in use"):
            workers.new_uid()
        _, _, freed = workers.running.pop(-7)
        assert workers.new_uid() == freed
    finally:
        workers.running.clear()
        remove_tree(workers.folder)


def test_a_workers_user_id_tells_nothing_of_how_many_workers_started_before_it():
    # red team AB: taken in turn (62535, then 62543 after 7 replays, then 62544), the next submission read how many
    # workers had started since its own
    from coursekit.grading.forkserver import FIRST_WORKER_UID, WORKER_UIDS, Workers
    from coursekit.grading.server_folders import remove_tree

    workers = Workers()
    try:
        drawn = [workers.new_uid() for _ in range(40)]  # each worker ended before the next started
        assert all(FIRST_WORKER_UID <= uid < FIRST_WORKER_UID + WORKER_UIDS for uid in drawn)
        steps = {later - earlier for earlier, later in zip(drawn, drawn[1:], strict=False)}
        assert len(set(drawn)) > 30 and len(steps) > 30  # no counter: neither the same id nor the same step again
    finally:
        remove_tree(workers.folder)
