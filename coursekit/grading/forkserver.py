"""The fork server: a warm process that imports everything once and forks a sandbox worker per session.

It imports NumPy, IPython, matplotlib (Agg), SymPy and the parts of coursekit a learner may use, then
waits. For every socket a grader sends it, it forks a worker, which puts its protections on itself
(coursekit.grading.protections) and then serves that grader (coursekit.grading.worker).

Run as ``python -m coursekit.grading.forkserver FD`` (FD: the control socket of the one grader it
serves), or with ``listen=PATH`` to serve every grader of this user that connects to PATH.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import secrets
import selectors
import signal
import socket
import struct
import sys
import tempfile
import time

from coursekit.grading import cores, protocol, sympy_text, wire
from coursekit.grading.lifetime import end_with_parent
from coursekit.grading.limits import Limits
from coursekit.grading.proc_stat import stat_fields
from coursekit.grading.protections import (
    apply_limits,
    drop_privileges,
    landlock,
    read_only_view,
    readable_roots,
    seccomp,
)
from coursekit.grading.sandbox_shell import install_stubs, new_shell
from coursekit.grading.server_folders import new_server_folder, remove_stale_folders, remove_tree
from coursekit.grading.withholding import remember_library_modules
from coursekit.grading.worker import Worker

_PR_SET_DUMPABLE = 4
FIRST_WORKER_UID, WORKER_UIDS = 60000, 5000  # as root, each running worker becomes a user of its own among these


PRELOAD = ("numpy", "sympy", "matplotlib.pyplot", "coursekit.datasets", "coursekit.engine", "coursekit.feedback",
           "coursekit.feedback.sample_functions", "coursekit.gradcheck",
           "coursekit.nn", "coursekit.training", "coursekit.viz.widgets")


def warm_up(modules: tuple[str, ...] = PRELOAD) -> None:
    """Import what student code is likely to use, once, before any fork."""
    import importlib

    os.environ["COURSEKIT_HEADLESS"] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    for name in modules:
        if not name.startswith("coursekit.lessons"):
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # a module the student imports but the machine lacks fails in the student's cell instead
    install_stubs()  # the lessons' oracles, coursekit.submit, a figure's fonts
    from coursekit import i18n

    for language in i18n.LANGUAGES:  # every catalogue read once here: a worker opens no file for them
        i18n.catalogue(language)
    lessons = [name for name in modules if name.startswith("coursekit.lessons.")]
    if modules == PRELOAD:  # every lesson's stub, found by file name (nothing of the real lessons is imported)
        import coursekit

        folder = os.path.join(os.path.dirname(coursekit.__file__), "lessons")
        lessons = [f"coursekit.lessons.{entry[:-3]}" for entry in os.listdir(folder) if entry.startswith("l")
                   and entry.endswith(".py")]
    for name in lessons:
        importlib.import_module(name)  # the stub, made once here rather than in every worker
    _warm_first_calls()
    readable_roots()  # the same for every worker: found here, once
    remember_library_modules()  # after the last import here
    # What is imported now is shared with every worker until written to; the cyclic garbage collector would
    # write to all of it (and so copy every page) on its first full pass in each worker. Frozen, it looks away.
    gc.collect()
    gc.freeze()


def _warm_first_calls() -> None:
    """Pay here, once, for what is slow the first time in a process and would otherwise be paid in every
    worker: IPython's first cell and first displayed value (5 ms), NumPy's first random generator (15 ms),
    SymPy's first simplifications (those of the public sample claims that lesson 01's visible check repeats, kept
    in SymPy's caches and in ``simplify``'s: see cache_simplify), those claims built from their text (5 ms), and
    what ``sp.init_printing()`` imports."""
    shell = new_shell()
    shell.run_cell("_ = 1", store_history=False)
    shell.display_formatter.format(1)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.default_rng(0).standard_normal(2)
    if "sympy" in sys.modules:  # preloaded: some lesson uses it
        from coursekit.feedback.sample_expressions import DERIVATIVE_CLAIMS, simplify_claims

        cache_simplify()
        simplify_claims()
        for claim in DERIVATIVE_CLAIMS:  # built from the text the grader sends them as, and kept (parse_sympy)
            for part in claim:
                sympy_text.parse_sympy(sys.modules["sympy"].srepr(part))
        with contextlib.suppress(ImportError):  # what sp.init_printing() imports to ask which shell it runs in (50 ms)
            import IPython.terminal.interactiveshell  # noqa: F401


def cache_simplify() -> None:
    """Give SymPy's ``simplify`` the cache SymPy gives its core functions (``cacheit``: equal arguments, the same
    immutable result), here and so in every worker forked from here.

    ``simplify`` caches nothing of its own: lesson 01's visible check hands every submission the same six public
    claims, and each worker spent 35 ms of CPU simplifying them again, though this server had simplified them before
    it forked (2 ms with the cache). A worker's own simplifications stay in its own process, as SymPy's caches do.
    ``from sympy import simplify``, ``sp.simplify`` and ``expr.simplify()`` all find the cached one."""
    import sympy
    from sympy.core.cache import cacheit

    module = sys.modules["sympy.simplify.simplify"]  # (``sympy.simplify`` names the function, not this module)
    if hasattr(module.simplify, "cache_info"):
        return
    cached = cacheit(module.simplify)
    for holder in (module, sys.modules["sympy.simplify"], sympy):
        holder.simplify = cached


def start_worker(limits: Limits, uid: int, folder: str) -> list[str]:
    """In the forked child: every protection, in order; returns the report's list of those active."""
    os.setpgid(0, 0)  # its own process group, so that everything it starts can be killed at once
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # writes that bypass sys.stdout go nowhere
    os.dup2(devnull, 2)
    os.chdir(folder)
    for name in ("HOME", "IPYTHONDIR", "TMPDIR", "MPLCONFIGDIR"):  # its own, empty (with Landlock, no writes there)
        os.environ[name] = folder
    os.environ.pop("PYTHONPATH", None)  # the grader's, for the server to import coursekit: done before the fork
    tempfile.tempdir = folder
    # an interrupt raises KeyboardInterrupt, whatever the server inherited: a cell stopped at its limit says where
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.nice(10)  # student code yields the CPU to the grader and to other submissions' honest work
    active = [f"limits: {', '.join(apply_limits(limits))}", "empty working folder", "lower priority"]
    # Its folder is read-only too: no lesson writes a file, and a worker that could wrote gigabytes past its
    # 16 MiB a file (fallocate), filled a tmpfs /tmp (memory no limit saw), or made a million folders whose removal
    # held up every other worker's start (red team M).
    if os.getuid() == 0:
        os.chown(folder, uid, uid)  # the user it becomes below, before the file systems turn read-only
    view = read_only_view()  # before Landlock, which forbids changing mounts
    if view:
        active.append(view)
    confined = landlock((*readable_roots(), folder), [])
    if confined:
        active.append(confined)
    # As root, a failure to become another user raises: the worker ends before any student code runs.
    user = drop_privileges(uid, keep_reading=confined is not None)
    if user:
        active.append(user)
    filtered = seccomp(os.getpid())
    if filtered:
        active.append(filtered)
    return active


class Workers:
    """The workers this server forked, each with its folder and the grader connection it serves.

    A worker's folder is removed as soon as it has ended (reaped); the workers of a grader that goes away
    are killed; at the server's end every worker is killed and the server's whole folder removed.
    """

    def __init__(self):
        self.folder = new_server_folder()
        self.running: dict[int, tuple[str, socket.socket, int]] = {}  # pid -> (folder, grader, uid)

    def new_folder(self) -> str:
        return tempfile.mkdtemp(prefix="worker-", dir=self.folder)

    def new_uid(self) -> int:
        """A user id for a new worker (as root) that no running worker of this server has (workers of one user
        would share its limit on processes), drawn at random: taken in turn, it told the next submission how many
        workers had started since its own (red team AB), as the process-id counter did."""
        taken = {uid for _, _, uid in self.running.values()}
        for _ in range(64):  # few are taken: a draw is almost always free
            uid = FIRST_WORKER_UID + secrets.randbelow(WORKER_UIDS)
            if uid not in taken:
                return uid
        free = [uid for uid in range(FIRST_WORKER_UID, FIRST_WORKER_UID + WORKER_UIDS) if uid not in taken]
        if not free:
            raise RuntimeError("every worker user id is in use")  # 5,000 workers at once: the process limit is first
        return free[secrets.randbelow(len(free))]

    def add(self, pid: int, folder: str, control: socket.socket, uid: int) -> None:
        self.running[pid] = (folder, control, uid)

    def reap(self) -> None:
        """Collect the workers that ended, kill what they left running, and remove their folders.

        A worker's code may fork a process that outlives it (with libc's fork, which no hook of Python's sees): it
        stays in the worker's process group, which is killed while the worker, ended but not yet reaped, still holds
        its number (so that no other process can have been given it)."""
        while self.running:
            try:
                pid, reaped = _ended_child()
            except ChildProcessError:
                return
            if pid == 0:
                return
            if not reaped:
                _kill_group(pid)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            folder, _, _ = self.running.pop(pid, (None, None, None))
            if folder:
                remove_tree(folder)

    def kill_of(self, control: socket.socket) -> None:
        """Kill the workers of a grader that has gone (their folders go when they are reaped)."""
        for pid, (_, owner, _) in list(self.running.items()):
            if owner is control:
                _kill_group(pid)

    def close(self) -> None:
        """Kill every worker still running, reap them, and remove the server's folder."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a stop that arrives now must not cut the cleaning short
        for pid in list(self.running):
            _kill_group(pid)
        for pid in list(self.running):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.running.clear()
        remove_tree(self.folder)


def _ended_child() -> tuple[int, bool]:
    """(the number of a child that has ended or 0 when none has, whether it was reaped); ChildProcessError when there
    are no children. It is left unreaped, except without waitid (not Linux): its group may then outlive it."""
    if hasattr(os, "waitid"):
        ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return (ended.si_pid if ended is not None else 0), False
    return os.waitpid(-1, os.WNOHANG)[0], True  # pragma: no cover -- macOS


def _kill_group(pid: int) -> None:
    # Safe: ``pid`` is an unreaped child of this process, so its number cannot have been reused.
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill()


def serve_forever(limits: Limits, controls: list[socket.socket], listener: socket.socket | None = None,
                  idle: float | None = None) -> None:
    """Fork a worker for every socket a grader sends over a control connection.

    A private server has one control connection and ends with it. A listening server (``listener``)
    accepts graders of its own user as they come (a batch's processes, or one command after another)
    and ends after ``idle`` seconds without any.
    """
    workers = Workers()
    selector = selectors.DefaultSelector()
    for control in controls:
        selector.register(control, selectors.EVENT_READ)
    if listener is not None:
        selector.register(listener, selectors.EVENT_READ)
    busy = time.monotonic()  # the last moment a grader was connected or a worker ran
    try:
        while controls or listener is not None:
            # While workers run, wake up now and then to reap those that ended (and remove their folders); with
            # nothing to do, wake up when the idle time is over.
            waiting = listener is not None and not controls and not workers.running and idle is not None
            wait = REAP_EVERY if workers.running else \
                (max(0.0, busy + idle - time.monotonic()) if waiting else None)
            events = selector.select(wait)
            workers.reap()
            if events or workers.running or controls:
                busy = time.monotonic()
            elif waiting and time.monotonic() - busy >= idle:
                return  # idle for long enough, counted from the last grader or worker (not from the last reap)
            for key, _ in events:
                if key.fileobj is listener:
                    _accept(listener, controls, selector)
                elif not _fork_worker(key.fileobj, limits, [*controls, listener, selector], workers):
                    selector.unregister(key.fileobj)
                    controls.remove(key.fileobj)
                    workers.kill_of(key.fileobj)
                    key.fileobj.close()
    finally:
        workers.close()


REAP_EVERY = 0.5  # seconds


def _accept(listener: socket.socket, controls: list[socket.socket], selector) -> None:
    """A new grader: welcome it when it is this user's and not a process of one of our own workers."""
    try:
        connection, _ = listener.accept()
    except OSError:
        return
    try:
        pid, uid, _ = peer_credentials(connection)
        if uid != os.geteuid() or _descends_from(pid, os.getpid()):
            raise PermissionError("student code reaching for the server gets nothing")
        connection.sendall(b"R")
    except OSError:  # refused, or a grader that has gone already
        connection.close()
        return
    controls.append(connection)
    selector.register(connection, selectors.EVENT_READ)


def peer_credentials(connection: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket, as the kernel vouches for them."""
    return struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))


def _descends_from(pid: int, ancestor: int) -> bool:
    """True when process ``pid`` is ``ancestor``'s child, grandchild, ... (or cannot be looked up)."""
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(stat_fields(pid)[1])  # its parent
        except (OSError, ValueError, IndexError):
            return True  # a grader that vanished while connecting, or no /proc: refuse
    return False


def _fork_worker(control: socket.socket, limits: Limits, servers_own: list, workers: Workers) -> bool:
    """Serve one request of a control connection: fork a worker on the socket it sent; False when it closed.
    ``servers_own``: what the worker must close (every grader's connection, the listener, the selector)."""
    try:
        message, fds, _, _ = socket.recv_fds(control, 4096, 1)
    except OSError:
        return False
    if not message or not fds:
        for fd in fds:
            os.close(fd)
        return False
    channel = socket.socket(fileno=fds[0])
    folder, uid = workers.new_folder(), workers.new_uid()
    try:
        graders_cores = cores.cores_of(peer_credentials(control)[0])  # the core a batch's grading process keeps to
    except OSError:
        graders_cores = None
    pid = os.fork()
    if pid == 0:
        cores.run_on(graders_cores)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for other in servers_own:
            if other is not None:
                other.close()  # the worker talks to its own grader only
        try:
            active = start_worker(limits, uid, folder)
            wire.send(channel, {protocol.READY: True, protocol.PROTECTIONS: active})
            Worker(channel).serve()
        finally:
            os._exit(0)
    channel.close()
    workers.add(pid, folder, control, uid)
    try:
        control.sendall(pid.to_bytes(8, "big"))
    except OSError:
        return False
    return True


def listen(path: str) -> socket.socket | None:
    """A listening socket at ``path``, only for this user; None when another server already listens there."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(path)
    except OSError:
        listener.close()
        return None
    finally:
        os.umask(old_mask)
    listener.listen(64)
    return listener


def _unlink_if_ours(path: str, listener: socket.socket, inode: int) -> None:
    """Remove the socket file, unless a newer server has since put its own there."""
    with contextlib.suppress(OSError):
        if os.stat(path).st_ino == inode:
            os.unlink(path)
    listener.close()


def main() -> None:
    """``python -m coursekit.grading.forkserver FD [options]``: a private server on control socket FD;
    ``python -m coursekit.grading.forkserver listen=PATH idle=SECONDS [options]``: a listening one.
    Options: ``preload=a,b`` and the Limits fields as ``name=value``."""
    arguments = sys.argv[1:]
    control = socket.socket(fileno=int(arguments.pop(0))) if arguments and arguments[0].isdigit() else None
    options = dict(arg.split("=", 1) for arg in arguments)
    preload = tuple(filter(None, options.pop("preload", ",".join(PRELOAD)).split(",")))
    path, idle = options.pop("listen", None), float(options.pop("idle", 600))
    parent = int(options.pop("parent", 0))  # a batch's server: it ends with the batch, however the batch ends
    limits = Limits(**{k: int(v) for k, v in options.items()})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `coursekit sandbox stop`: clean up on the way out
    if parent:
        end_with_parent(parent, signal.SIGTERM)
    # Not dumpable: a worker of the same user cannot ptrace this server or write its memory through /proc (and
    # so cannot change what later workers are forked from); the workers inherit it.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    listener, inode = None, 0
    try:
        if path:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # a stop waits until we know our socket
            listener = listen(path)
            inode = os.stat(path).st_ino if listener is not None else 0
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            if listener is None:
                return  # another server already listens at this address: the graders use that one
        remove_stale_folders()
        warm_up(preload)
        if control is not None:
            control.sendall(b"R")
        serve_forever(limits, [control] if control is not None else [], listener, idle)
    finally:
        if listener is not None:
            _unlink_if_ours(path, listener, inode)
            if parent:  # the batch's folder, which only held the socket (its batch may have been killed)
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.dirname(path))


if __name__ == "__main__":
    main()
