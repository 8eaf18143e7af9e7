"""The grader's way to a sandbox: a warm server, private or shared, from which each session forks a worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from coursekit.grading.limits import READY_TIMEOUT, Limits
from coursekit.grading.server_folders import remove_folders_of
from coursekit.grading.session import SandboxCrashed, ServerGone, Session


class WarmServer:
    """The process that imports everything once and forks a worker per session.

    ``WarmServer()`` starts a private one for this grader; ``WarmServer.attach(path)`` uses a listening
    one that other graders may share (see ``coursekit.grading.daemon``).
    """

    def __init__(self, limits: Limits | None = None, preload: list[str] | None = None):
        """``preload``: the modules to import before forking (default: all a lesson may use)."""
        self.control, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coursekit.grading.forkserver", str(theirs.fileno()),
             *server_options(limits, preload)],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=server_env(),
            cwd="/", start_new_session=True)
        theirs.close()
        self.ready = False  # it warms up while the grader prepares; the first session waits for it

    @classmethod
    def attach(cls, path: str | os.PathLike) -> WarmServer:
        """A connection to the listening server at ``path`` (closing it leaves the server running)."""
        server = cls.__new__(cls)
        server.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.control.connect(os.fspath(path))
        except OSError:
            server.control.close()
            raise
        server.process, server.ready = None, False
        return server

    def _wait_until_ready(self) -> None:
        self.control.settimeout(READY_TIMEOUT)
        try:
            welcome = self.control.recv(1)
        except OSError as error:
            raise ServerGone(f"the sandbox server did not start: {error}") from error
        if welcome != b"R":
            raise ServerGone("the sandbox server did not start, or did not accept this grader")
        self.control.settimeout(None)
        self.ready = True

    def wait_until_ready(self) -> None:
        """Wait, the first time, until the server has warmed up (a second or two after it started)."""
        if not self.ready:
            self._wait_until_ready()

    def session(self, call_timeout: float, deadline: float | None = None) -> Session:
        """A fresh worker, forked from the warm server, started before ``deadline`` (time.monotonic) if given."""
        self.wait_until_ready()
        mine, theirs = socket.socketpair()
        try:
            self.control.settimeout(READY_TIMEOUT)  # a server that stops answering must not hold the grader
            socket.send_fds(self.control, [b"F"], [theirs.fileno()])
            pid = int.from_bytes(_read(self.control, 8), "big")
        except (OSError, SandboxCrashed) as error:
            mine.close()
            raise ServerGone("the sandbox server stopped") from error
        finally:
            theirs.close()
        return Session(mine, pid, call_timeout, deadline)

    def close(self) -> None:
        """Stop a private server, or leave a shared one (it holds no state; sessions end their own workers)."""
        self.control.close()  # a private server ends with its control connection, removing its folders
        if self.process is not None:
            end_server(self.process)

    def __enter__(self) -> WarmServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def end_server(process: subprocess.Popen, grace: float = 5.0) -> None:
    """Ask a sandbox server to end (it kills its workers and removes their folders on the way); kill it if it
    has not within ``grace`` seconds. A server that ended without cleaning up (killed outright) leaves its
    folder behind: it is removed here, once the server is gone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
    remove_folders_of(process.pid)


def server_options(limits: Limits | None, preload: list[str] | None) -> list[str]:
    """The sandbox server's command-line options for these limits and modules."""
    options = [f"{key}={value}" for key, value in vars(limits or Limits()).items()]
    if preload is not None:
        options.append("preload=" + ",".join(preload))
    return options


# All that the sandbox inherits of the grader's environment: student code can read its environment, and the
# grader's may hold secrets (tokens, passwords) or point at the course (paths).
INHERITED_ENV = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "PYTHONPATH")
# One thread per worker: a forked worker would otherwise start a BLAS thread pool, which the process limit
# (counted per user, threads included) may refuse; and parallel grading already fills the cores.
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def server_env() -> dict[str, str]:
    """The sandbox server's environment: a few harmless variables of the grader's, one BLAS thread, headless,
    Agg plots, no bytecode written."""
    kept = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return {**kept, **SINGLE_THREADED, "PATH": os.defpath, "COURSEKIT_HEADLESS": "1", "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1"}


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise SandboxCrashed("the sandbox server stopped")
        data += chunk
    return data
