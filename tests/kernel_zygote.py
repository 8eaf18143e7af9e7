"""Notebook kernels forked from a warm process, for the test suite (Linux only).

A cold kernel spends most of its first cell importing: Python, ipykernel, IPython, NumPy, matplotlib, SymPy (about
0.7 s of CPU), and the suite starts 22 of them. The *zygote* imports these once per test process and forks a
kernel for every notebook. Each kernel is still a fresh process that has run no code of any notebook: it starts
its own IPKernelApp from the connection file jupyter_client wrote, runs the IPython startup files (the rounding
noise of tests/rounding_noise.py), and then the notebook imports what it uses, as in JupyterLab.

Two roles, both run as ``python -m tests.kernel_zygote``:

    serve SOCKET       the zygote: imports, then forks a kernel for every launcher that connects to SOCKET
    launch CONNECTION  the launcher, which the kernelspec names: jupyter_client starts and signals it as "the
                       kernel"; it asks the zygote for a kernel, forwards interrupts to it, and ends with it

The kernel holds the launcher's connection and ends as soon as the launcher does (killed by a shutdown), and the
launcher ends when the kernel does. Only the standard library is imported before the fork is needed.
"""

import json
import os
import signal
import socket
import sys
import threading
import time

SOCKET_ENV = "COURSEKIT_KERNEL_ZYGOTE"
# What every notebook of the course imports, or ipykernel itself; imported once, before any fork.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "numpy", "matplotlib",
           "matplotlib.pyplot", "ipywidgets", "sympy")
CONNECT_TIMEOUT = 60.0  # seconds a launcher waits for a zygote that is still importing


# ---------------------------------------------------------------- the zygote
def serve(path: str) -> None:
    """Listen at ``path``, import PRELOAD, then fork a kernel for every launcher that connects."""
    from coursekit.grading.lifetime import end_with_parent

    end_with_parent(os.getppid())  # a test process that dies takes its zygote along
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)  # first, so that early launchers wait in the backlog rather than fail
    listener.listen(16)
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # this script's folder: a kernel's path starts with its notebook's folder instead
    # Chosen as ipykernel would choose it at kernel start, but before matplotlib reads it at its import.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    # Kernels that end are reaped here, not discarded (SIG_IGN), so that their CPU time is counted in the zygote's
    # children and so in the test run's: `time python3 course.py test` then measures the whole suite.
    signal.signal(signal.SIGCHLD, _reap_kernels)
    while True:
        connection, _ = listener.accept()
        try:
            first, stdio, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            request = json.loads(_read_line(connection, first))
        except (OSError, ValueError):
            connection.close()
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            _become_kernel(connection, request, stdio)  # never returns
        for fd in stdio:
            os.close(fd)
        try:
            connection.sendall(f"{pid}\n".encode())
        except OSError:
            pass
        connection.close()  # the kernel and the launcher hold the only copies now


def _reap_kernels(signum, frame) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(connection: socket.socket, request: dict, stdio: list[int]) -> None:
    """In the forked child: take the launcher's standard streams, environment and folder; run an IPKernelApp."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the notebook's subprocesses need their exit statuses
    os.setsid()
    for target, fd in enumerate(stdio):  # where jupyter_client sent the kernel's own output (often nowhere)
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    # As jupyter_client would start it: with its parent's pid (here the launcher's), which also keeps ipykernel
    # from printing its "use --existing" banner for a kernel started by hand.
    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"],
                f"--IPKernelApp.parent_handle={int(request['launcher'])}"]

    def end_with_the_launcher() -> None:
        try:
            while connection.recv(1):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=end_with_the_launcher, daemon=True).start()
    try:
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=sys.argv[1:])
    finally:
        os._exit(0)


def _read_line(connection: socket.socket, data: bytes = b"") -> str:
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise OSError("the other side closed the connection")
        data += chunk
    return data.decode()


# ---------------------------------------------------------------- the launcher
def launch(connection_file: str) -> int:
    """Ask the zygote for a kernel on ``connection_file``; forward interrupts; return when the kernel ends."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            connection.connect(os.environ[SOCKET_ENV])
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    request = {"connection_file": os.path.abspath(connection_file), "cwd": os.getcwd(), "env": dict(os.environ),
               "launcher": os.getpid()}
    socket.send_fds(connection, [(json.dumps(request) + "\n").encode()], [0, 1, 2])
    kernel = int(_read_line(connection))

    def forward(signum, _frame):
        try:
            os.kill(kernel, signum)
        except ProcessLookupError:
            pass
        if signum == signal.SIGTERM:
            sys.exit(0)

    signal.signal(signal.SIGINT, forward)  # a cell's timeout interrupts the kernel through its launcher
    signal.signal(signal.SIGTERM, forward)
    try:
        while connection.recv(1):  # nothing is sent: the connection closes when the kernel ends
            pass
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    role, argument = sys.argv[1], sys.argv[2]
    if role == "serve":
        serve(argument)
    else:
        sys.exit(launch(argument))
