"""A sandbox server's folder goes when the server goes, however it ends: by itself, or killed outright (then the
process that started it removes it, or else the next server of the same user)."""

import os
import signal
import tempfile
from pathlib import Path

from coursekit.grading import server_folders
from coursekit.grading.client import WarmServer


def _folders_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{server_folders.FOLDER_PREFIX}{pid}-*"))


def test_a_private_server_killed_outright_leaves_no_folder_once_closed():
    server = WarmServer(preload=[])
    session = server.session(5.0)
    assert session.run_cell("open('scratch.txt', 'w').write('x')", 5.0)["ok"]
    pid = server.process.pid
    [folder] = _folders_of(pid)
    assert list(folder.glob("worker-*/scratch.txt"))
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
