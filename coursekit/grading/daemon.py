"""A sandbox server that outlives one command, so that the next `coursekit grade` starts at once.

The first command starts it, detached; later commands of the same user connect to its socket,
and it forks a worker per submission exactly as a private server does. It ends by itself after
IDLE seconds without a grader, or with `coursekit sandbox stop`. Its address names the Python,
the coursekit sources and the limits it was started with, so that an updated installation starts
a fresh server instead of using a stale one. Only its own user can reach it: the socket lives in
a folder only that user may open, and the server checks who connects.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import coursekit
from coursekit.grading.client import WarmServer, server_env, server_options
from coursekit.grading.forkserver import peer_credentials
from coursekit.grading.limits import IDLE, READY_TIMEOUT, Limits
from coursekit.grading.session import SandboxCrashed

SOCKET_PATH_MAX = 108  # bytes of a Unix socket's path on Linux, its final NUL included
_STARTED: list[subprocess.Popen] = []  # kept so that Python does not warn about servers that outlive their Popen


class RuntimeFolderError(RuntimeError):
    """The folder for the server's socket cannot be used: others could reach it, or its path is too long."""


def runtime_dir() -> Path:
    """The folder for the servers' sockets: $COURSEKIT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/coursekit, else
    /tmp/coursekit-UID; created private (0700) and refused unless it is this user's and private."""
    folder = os.environ.get("COURSEKIT_RUNTIME_DIR")
    if not folder:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        folder = os.path.join(xdg, "coursekit") if xdg else os.path.join(tempfile.gettempdir(),
                                                                          f"coursekit-{os.geteuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    if not os.path.isdir(folder) or os.path.islink(folder) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise RuntimeFolderError(f"{folder} must be a folder of your own that only you can open (chmod 700 it), "
                                  "or set COURSEKIT_RUNTIME_DIR to one")
    return Path(folder)


def address(limits: Limits | None = None) -> Path:
    """The socket of the shared server for this Python, these coursekit sources and these limits."""
    package = Path(coursekit.__file__).parent
    digest = hashlib.sha256()
    for part in (sys.executable, coursekit.__version__, *server_options(limits, None)):
        digest.update(part.encode() + b"\0")
    for source in sorted(package.rglob("*.py")):
        info = source.stat()
        digest.update(f"{source.relative_to(package)}:{info.st_mtime_ns}:{info.st_size}\0".encode())
    path = runtime_dir() / f"sandbox-{digest.hexdigest()[:16]}.sock"
    if len(os.fsencode(path)) >= SOCKET_PATH_MAX:
        raise RuntimeFolderError(f"{path.parent} is too long a path for a socket (at most {SOCKET_PATH_MAX - 40} "
                                 "characters); set COURSEKIT_RUNTIME_DIR to a shorter one")
    return path


def start(path: str | os.PathLike, limits: Limits | None = None, idle: float = IDLE,
          preload: list[str] | None = None, with_parent: bool = False) -> subprocess.Popen:
    """Start a listening server at ``path`` (it warms up in the background; see ``attach``). ``with_parent``: it
    stops when this process ends, however it ends, and removes the folder of ``path`` if that is then empty."""
    process = subprocess.Popen(
        [sys.executable, "-m", "coursekit.grading.forkserver", f"listen={os.fspath(path)}", f"idle={idle}",
         *server_options(limits, preload), *([f"parent={os.getpid()}"] if with_parent else [])],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server_env(), cwd="/",
        start_new_session=True)
    _STARTED.append(process)
    return process


def attach(path: str | os.PathLike, process: subprocess.Popen | None = None,
           timeout: float = READY_TIMEOUT) -> WarmServer:
    """Connect to the server at ``path``, waiting for a server just ``start``ed to open its socket."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return WarmServer.attach(path)
        except (FileNotFoundError, ConnectionRefusedError):
            if process is None or process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def connect(limits: Limits | None = None, idle: float = IDLE) -> WarmServer:
    """A connection to this user's shared server, started first if none is running."""
    return _connect(address(limits), limits, idle)


def _connect(path: Path, limits: Limits | None, idle: float) -> WarmServer:
    with contextlib.suppress(FileNotFoundError, ConnectionRefusedError):
        return WarmServer.attach(path)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two commands at once start one server
        with contextlib.suppress(FileNotFoundError, ConnectionRefusedError):
            return WarmServer.attach(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a server that was killed
        process = start(path, limits, idle)
        try:
            return attach(path, process)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise SandboxCrashed(f"the sandbox server did not start (exit status {process.poll()})") from error


def ensure(limits: Limits | None = None, idle: float = IDLE) -> Path:
    """The socket of this user's shared server, started first if none is running."""
    path = address(limits)
    _connect(path, limits, idle).close()
    return path


def running() -> list[tuple[Path, int]]:
    """The shared servers that answer, as (socket, process id)."""
    found = []
    for path in sorted(runtime_dir().glob("sandbox-*.sock")):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(os.fspath(path))
                pid, _, _ = peer_credentials(probe)
        except OSError:
            continue
        found.append((path, pid))
    return found


def stop(timeout: float = 10.0) -> list[int]:
    """Stop every shared server of this user and wait until their sockets are gone; their process ids."""
    stopped = []
    for path, pid in running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            stopped.append((path, pid))
    deadline = time.monotonic() + timeout
    for path, _ in stopped:
        while path.exists() and time.monotonic() < deadline:  # it removes its socket on the way out
            time.sleep(0.01)
    ended = {pid for _, pid in stopped}
    for process in list(_STARTED):  # reap the ones this process started, so that none is left a zombie
        if process.pid in ended:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
        if process.poll() is not None:
            _STARTED.remove(process)
    return [pid for _, pid in stopped]
