"""The sandbox: where student code runs, and nothing else does.

A *warm server* process imports NumPy, IPython, matplotlib (Agg), SymPy and the parts of
coursekit a learner may use, then waits. For every submission it forks a *worker*, which
limits itself (CPU seconds, address space, file size, processes, open files), moves into an
empty temporary folder, restricts file access with Landlock where the kernel offers it (the
course folder is not readable), drops to an unprivileged user when started as root, and then
serves requests from the grader over a socket: run a cell, hand over a name, call a function,
read an attribute. The worker never receives a test or a solution.

Run as ``python -m coursekit.grading.sandbox FD`` (FD: the control socket of the one grader it
serves), or with ``listen=PATH`` to serve every grader of this user that connects to PATH.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import tempfile
import traceback
import types
from dataclasses import dataclass

from coursekit.grading import wire

OUTPUT_LIMIT = 20_000  # characters of a cell's stdout/stderr kept


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker."""

    cpu_seconds: int = 60
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 16
    open_files: int = 64


# ---------------------------------------------------------------- protections
def apply_limits(limits: Limits) -> list[str]:
    """Set the rlimits; return the names of those that took effect."""
    applied = []
    for name, kind, value in (("cpu", resource.RLIMIT_CPU, limits.cpu_seconds),
                              ("memory", resource.RLIMIT_AS, limits.memory_bytes),
                              ("file size", resource.RLIMIT_FSIZE, limits.file_bytes),
                              ("processes", resource.RLIMIT_NPROC, limits.processes),
                              ("open files", resource.RLIMIT_NOFILE, limits.open_files)):
        try:
            resource.setrlimit(kind, (value, value))
            applied.append(name)
        except (ValueError, OSError):
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails instead of killing
    return applied


_LANDLOCK_CREATE, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT = 444, 445, 446
_PATH_BENEATH = 1
_READ = (1 << 0) | (1 << 2) | (1 << 3)           # execute, read file, read dir
_ALL_FS = (1 << 13) - 1                           # the 13 file-system rights of Landlock ABI 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_DUMPABLE = 4


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock(readable: list[str], writable: list[str]) -> bool:
    """Allow reading only under ``readable`` and writing only under ``writable``; False if unavailable."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _RulesetAttr(_ALL_FS)
    ruleset = libc.syscall(_LANDLOCK_CREATE, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        return False
    try:
        for paths, access in ((readable, _READ), (writable, _ALL_FS)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                # a file (not a folder) only takes the file rights: execute, write, read
                rule = _PathBeneathAttr(access if os.path.isdir(path) else access & 0b0111, fd)
                libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0)
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(_LANDLOCK_RESTRICT, ruleset, 0) == 0
    finally:
        os.close(ruleset)


def readable_roots() -> list[str]:
    """What student code may read: the Python installation, system files, and coursekit minus its lessons.

    Only folders that cannot contain the course: never "/" (a ``python -m`` run from there puts it on
    sys.path), never the course folder or one of its parents.
    """
    import coursekit

    package = os.path.dirname(os.path.abspath(coursekit.__file__))
    course = os.path.dirname(package)
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/lib", "/lib64", "/bin", "/etc",
             "/dev/null", "/dev/urandom", "/proc/self"}
    roots |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    roots |= {os.path.join(package, entry) for entry in os.listdir(package) if entry != "lessons"}
    return sorted(root for root in roots if not _contains(root, course))


def _contains(folder: str, path: str) -> bool:
    """True when ``path`` is ``folder`` or lies inside it."""
    folder, path = os.path.abspath(folder), os.path.abspath(path)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


_CAPSET, _PR_SET_KEEPCAPS, _CAP_VERSION_3 = 126, 8, 0x20080522
_CAP_SETGID, _CAP_SETUID = 6, 7


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _capset(libc, effective: int, permitted: int) -> bool:
    data = (_CapData * 2)(_CapData(effective, permitted, 0), _CapData(0, 0, 0))
    return libc.syscall(_CAPSET, ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) == 0


def drop_privileges(uid: int, folder: str) -> bool:
    """When root, become ``uid`` for everything but file access, and give up every capability.

    The real, effective and saved ids become ``uid``, so the worker cannot signal the grader or
    another worker, and its process limit is its own. File access keeps the root *file-system*
    id only so that a Python installed under /root stays importable; without any capability,
    and inside Landlock, that opens nothing beyond the readable roots.
    """
    if os.getuid() != 0:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    # ``folder`` stays owned by root: the worker writes there through its root file-system id.
    if libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        return False
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    keep = (1 << _CAP_SETUID) | (1 << _CAP_SETGID)
    if not _capset(libc, keep, keep):
        return False
    libc.setfsuid(0)
    libc.setfsgid(0)
    return _capset(libc, 0, 0)


# ---------------------------------------------------------------- the worker
class _NoExercises:
    """Stands in for a lesson's exercise set inside the sandbox: checks run in the grader, not here."""

    def check(self, *args, **kwargs):
        return None

    def hint(self, *args, **kwargs):
        return None


def _stub_attribute(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return _NoExercises()


def _stub_lessons() -> None:
    """``coursekit.lessons.*`` (the oracles) is replaced by modules with an inert ``exercises``."""
    for name in [name for name in sys.modules if name.startswith("coursekit.lessons")]:
        del sys.modules[name]

    class Finder:
        @staticmethod
        def find_spec(fullname, path=None, target=None):
            if fullname == "coursekit.lessons" or fullname.startswith("coursekit.lessons."):
                import importlib.machinery
                return importlib.machinery.ModuleSpec(fullname, Loader(), is_package=True)
            return None

    class Loader:
        @staticmethod
        def create_module(spec):
            module = types.ModuleType(spec.name)
            module.exercises = _NoExercises()
            module.__path__ = []
            module.__getattr__ = _stub_attribute
            return module

        @staticmethod
        def exec_module(module):
            return None

    sys.meta_path.insert(0, Finder())


def _new_shell():
    """The InteractiveShell student cells run in (created once in the warm server, inherited by each fork)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        return InteractiveShell.instance()
    config = Config()
    config.HistoryManager.enabled = False  # no sqlite file, no history thread
    shell = InteractiveShell.instance(config=config)
    shell.colors = "nocolor"
    return shell


class _LimitedText(io.TextIOBase):
    """A text sink that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self):
        self.parts, self.kept, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        return text + (f"\n[... {self.dropped:,} more characters]" if self.dropped else "")


class Worker:
    """Serves the grader's requests on one socket until it closes."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.shell = _new_shell()
        self.objects: dict[int, object] = {}
        self.next_id = 1
        # A process that student code forks must never answer the grader, nor run: it closes its copy of the
        # socket and stops itself, keeping its place under the process limit until the session kills the
        # group. A fork bomb thus fills the limit and fails at once, instead of churning until the timeout.
        os.register_at_fork(after_in_child=self._forked_by_student)

    def _forked_by_student(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGSTOP)

    # -- references
    def _reference(self, obj) -> dict:
        if isinstance(obj, _Callback):
            return {"__callback__": obj.ident}
        ident = self.next_id
        self.next_id += 1
        self.objects[ident] = obj
        is_class = isinstance(obj, type)
        reference = {"__handle__": ident, "type": type(obj).__name__, "is_class": is_class,
                     "name": str(getattr(obj, "__name__", ""))[:100] if is_class or callable(obj) else ""}
        if not is_class and not callable(obj):  # so that the grader calls them in one round trip each
            try:
                own = set(object.__getattribute__(obj, "__dict__"))  # an attribute of its own hides a method
            except (AttributeError, TypeError):
                own = set()
            reference["methods"] = [name for name in _methods_of(type(obj)) if name not in own]
        return reference

    def _resolve(self, data: dict):
        if "__handle__" in data:
            return self.objects[int(data["__handle__"])]
        if "__pickled__" in data:  # a grader object sent by value (data from the trusted side)
            import base64
            import pickle
            return pickle.loads(base64.b64decode(data["__pickled__"]))  # noqa: S301 -- sent by the grader
        return _Callback(self, int(data["__callback__"]))

    def encode(self, value):
        return wire.encode(value, self._reference)

    def decode(self, data):
        return wire.decode(data, self._resolve)

    # -- the loop
    def serve(self) -> None:
        while True:
            try:
                request = wire.receive(self.sock)
                wire.send(self.sock, self.handle(request))
            except (EOFError, OSError):
                return

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        try:
            if op == "run":
                return self.run_cell(str(request["code"]))
            if op == "get":
                name = str(request["name"])
                if name not in self.shell.user_ns:
                    return {"missing": True}
                return {"value": self.encode(self.shell.user_ns[name])}
            target = self.objects.get(int(request.get("target", 0)))
            if op == "release":
                for ident in request.get("ids", []):
                    self.objects.pop(int(ident), None)
                return {"value": None}
            if target is None and op != "ping":
                return {"raised": {"type": "LookupError", "message": "unknown object", "line": None}}
            if op == "ping":
                return {"value": "pong"}
            return self._operate(op, target, request)
        except BaseException as error:  # noqa: BLE001 -- the student's exception, reported as data
            return {"raised": _describe(error)}

    def _operate(self, op: str, target, request: dict) -> dict:
        if op == "call":
            import copy
            import warnings

            import numpy as np

            args = self.decode(request.get("args", []))
            kwargs = self.decode(request.get("kwargs", {"__dict__": []}))
            before = [copy.deepcopy(a) if _plain(a) else None for a in args]
            identities = [{k: id(v) for k, v in a.items()} if type(a) is dict else None for a in args]
            errstate = {k: v for k, v in dict(request.get("errstate") or {}).items()
                        if k in ("over", "under", "divide", "invalid") and v in ("ignore", "warn", "raise", "print")}
            with _captured(), np.errstate(**errstate), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = target(*args, **kwargs)
            raised_warnings = [[type(w.message).__name__, str(w.message)[:500]] for w in caught[:5]]
            changed = {str(i): self.encode(a) for i, (a, b) in enumerate(zip(args, before, strict=True))
                       if b is not None and not _deep_equal(a, b)}
            rebound = {str(i): [str(k) for k, v in a.items() if ids is not None and ids.get(k) != id(v)]
                       for i, (a, ids) in enumerate(zip(args, identities, strict=False)) if ids is not None}
            synced = {str(i): self.encode(dict(a.params)) for i, a in enumerate(args)
                      if before[i] is None and hasattr(a, "params") and hasattr(a, "forward")}
            return {"value": self.encode(value), "changed_args": changed, "rebound_keys": rebound,
                    "synced_params": synced,
                    "warnings": raised_warnings}
        if op == "isclass":
            return {"value": isinstance(target, type)}
        if op == "isinstance":
            kind = self.objects.get(int(request.get("cls", 0)))
            return {"value": isinstance(kind, type) and isinstance(target, kind)}
        if op == "callmethod":  # target.name(*args): one round trip instead of a getattr and a call
            with _captured():
                method = getattr(target, str(request["name"]))
            return self._operate("call", method, request)
        if op == "getattr":
            with _captured():
                value = getattr(target, str(request["name"]))
            reply = {"value": self.encode(value)}
            if isinstance(value, types.MethodType) and value.__self__ is target:
                reply["method"] = True  # the grader may call it with "callmethod" from now on
            return reply
        if op == "setattr":
            with _captured():
                setattr(target, str(request["name"]), self.decode(request["value"]))
            return {"value": None}
        if op == "getitem":
            with _captured():
                return {"value": self.encode(target[self.decode(request["key"])])}
        if op == "setitem":
            with _captured():
                target[self.decode(request["key"])] = self.decode(request["value"])
            return {"value": None}
        if op == "binop":
            name = str(request["name"])
            if name not in _BINOPS:
                raise TypeError(f"operation {name} is not forwarded")
            with _captured():
                value = getattr(target, name)(self.decode(request["other"]))
            return {"value": self.encode(value)}
        if op == "unop":
            name = str(request["name"])
            if name not in ("__neg__", "__pos__", "__abs__"):
                raise TypeError(f"operation {name} is not forwarded")
            with _captured():
                return {"value": self.encode(getattr(target, name)())}
        if op == "len":
            return {"value": len(target)}
        if op == "items":
            with _captured():
                return {"value": self.encode(list(target))}
        if op == "write_param":
            import numpy as np
            params = target.params
            current = params[str(request["name"])]
            value = self.decode(request["value"])
            if isinstance(current, np.ndarray) and current.shape == np.shape(value):
                current[...] = value
            else:
                params[str(request["name"])] = value
            return {"value": None}
        raise TypeError(f"unknown operation {op!r}")

    def run_cell(self, code: str) -> dict:
        sink = _LimitedText()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = self.shell.run_cell(code, store_history=False, silent=False)
        pyplot = sys.modules.get("matplotlib.pyplot")  # only if the student's code drew something
        if pyplot is not None:
            pyplot.close("all")
        error = result.error_before_exec or result.error_in_exec
        return {"ok": error is None, "error": _describe(error) if error is not None else None, "stdout": sink.value()}


_BINOPS = {f"__{name}__" for name in ("add", "sub", "mul", "truediv", "floordiv", "pow", "matmul", "mod",
                                       "radd", "rsub", "rmul", "rtruediv", "rfloordiv", "rpow", "rmatmul", "rmod")}


def _methods_of(kind: type) -> list[str]:
    """The names of the plain methods a class and its bases define (not dunders), at most 64."""
    names = []
    for klass in kind.__mro__[:-1]:  # not object
        names += [name for name, value in vars(klass).items()
                  if isinstance(value, types.FunctionType) and not name.startswith("__") and name not in names]
    return names[:64]


def _plain(value) -> bool:
    """Arrays and containers the grader sent by value (their changes are sent back)."""
    import numpy as np
    return type(value) in (list, dict, np.ndarray)


def _deep_equal(a, b) -> bool:
    import numpy as np
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


@contextlib.contextmanager
def _captured():
    sink = _LimitedText()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink


class _Callback:
    """A grader-side callable, called back over the socket (e.g. the function a learner differentiates)."""

    def __init__(self, worker: Worker, ident: int):
        self.worker, self.ident = worker, ident

    def __deepcopy__(self, memo):  # a reference, not data: copies share it
        return self

    def __call__(self, *args, **kwargs):
        wire.send(self.worker.sock, {"op": "callback", "id": self.ident, "args": self.worker.encode(list(args)),
                                     "kwargs": self.worker.encode(dict(kwargs))})
        while True:
            message = wire.receive(self.worker.sock)
            if "op" in message and message["op"] != "callback_result":
                wire.send(self.worker.sock, self.worker.handle(message))  # the grader asks us while we wait
                continue
            if "raised" in message:
                raise RuntimeError(f"{message['raised'].get('type')}: {message['raised'].get('message')}")
            return self.worker.decode(message.get("value"))


def _describe(error: BaseException) -> dict:
    """An exception as data: type, message (truncated) and the student's last line, if any."""
    frames = traceback.extract_tb(error.__traceback__)
    student = [f for f in frames if f.filename.startswith("<")]  # cells compile to "<ipython-input-...>"
    line = student[-1].line if student and student[-1].line else None
    return {"type": type(error).__name__, "message": str(error)[:2000], "line": line}


# ---------------------------------------------------------------- the warm server
PRELOAD = ("numpy", "sympy", "matplotlib.pyplot", "coursekit.datasets", "coursekit.feedback", "coursekit.gradcheck",
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
    _stub_lessons()
    lessons = [name for name in modules if name.startswith("coursekit.lessons.")]
    if modules == PRELOAD:  # every lesson's stub, found by file name (nothing of the real lessons is imported)
        import coursekit

        folder = os.path.join(os.path.dirname(coursekit.__file__), "lessons")
        lessons = [f"coursekit.lessons.{entry[:-3]}" for entry in os.listdir(folder) if entry.startswith("l")
                   and entry.endswith(".py")]
    for name in lessons:
        importlib.import_module(name)  # the stub, made once here rather than in every worker
    _warm_first_calls()
    # What is imported now is shared with every worker until written to; the cyclic garbage collector would
    # write to all of it (and so copy every page) on its first full pass in each worker. Frozen, it looks away.
    gc.collect()
    gc.freeze()


def _warm_first_calls() -> None:
    """Pay here, once, for what is slow the first time in a process and would otherwise be paid in every
    worker: IPython's first cell and first displayed value (5 ms), NumPy's first random generator (15 ms),
    SymPy's first simplification (30 ms)."""
    shell = _new_shell()
    shell.run_cell("_ = 1", store_history=False)
    shell.display_formatter.format(1)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.default_rng(0).standard_normal(2)
    sympy = sys.modules.get("sympy")
    if sympy is not None:
        x = sympy.Symbol("x")
        sympy.simplify(sympy.diff(x * sympy.sin(x**2), x) - sympy.sin(x**2))


def start_worker(channel: socket.socket, limits: Limits, uid: int) -> list[str]:
    """In the forked child: every protection, in order; returns the list of those active."""
    os.setpgid(0, 0)  # its own process group, so that everything it starts can be killed at once
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # writes that bypass sys.stdout go nowhere
    os.dup2(devnull, 2)
    folder = tempfile.mkdtemp(prefix="coursekit-sandbox-")
    os.chdir(folder)
    for name in ("HOME", "IPYTHONDIR", "TMPDIR", "MPLCONFIGDIR"):  # the only place it may write
        os.environ[name] = folder
    tempfile.tempdir = folder
    os.nice(10)  # student code yields the CPU to the grader and to other submissions' honest work
    active = [f"limits: {', '.join(apply_limits(limits))}", "empty working folder", "lower priority"]
    if landlock(readable_roots(), [folder]):
        active.append("landlock: the course folder is not readable")
    if drop_privileges(uid, folder):
        active.append(f"unprivileged user {uid}, no capabilities")
    return active


def serve_forever(limits: Limits, controls: list[socket.socket], listener: socket.socket | None = None,
                  idle: float | None = None) -> None:
    """Fork a worker for every socket a grader sends over a control connection.

    A private server has one control connection and ends with it. A listening server (``listener``)
    accepts graders of its own user as they come (a batch's processes, or one command after another)
    and ends after ``idle`` seconds without any.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    selector = selectors.DefaultSelector()
    for control in controls:
        selector.register(control, selectors.EVENT_READ)
    if listener is not None:
        selector.register(listener, selectors.EVENT_READ)
    while controls or listener is not None:
        events = selector.select(idle if listener is not None and not controls else None)
        if not events:
            return  # idle for long enough
        for key, _ in events:
            if key.fileobj is listener:
                _accept(listener, controls, selector)
            elif not _fork_worker(key.fileobj, limits, [*controls, listener, selector]):
                selector.unregister(key.fileobj)
                controls.remove(key.fileobj)
                key.fileobj.close()


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
            with open(f"/proc/{pid}/stat", "rb") as stat:
                pid = int(stat.read().rsplit(b")", 1)[1].split()[1])  # the field after the state: the parent
        except (OSError, ValueError, IndexError):
            return True  # a grader that vanished while connecting, or no /proc: refuse
    return False


def _fork_worker(control: socket.socket, limits: Limits, servers_own: list) -> bool:
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
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for other in servers_own:
            if other is not None:
                other.close()  # the worker talks to its own grader only
        try:
            active = start_worker(channel, limits, 60000 + os.getpid() % 5000)
            wire.send(channel, {"ready": True, "protections": active})
            Worker(channel).serve()
        finally:
            os._exit(0)
    channel.close()
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
    """``python -m coursekit.grading.sandbox FD [options]``: a private server on control socket FD;
    ``python -m coursekit.grading.sandbox listen=PATH idle=SECONDS [options]``: a listening one.
    Options: ``preload=a,b`` and the Limits fields as ``name=value``."""
    arguments = sys.argv[1:]
    control = socket.socket(fileno=int(arguments.pop(0))) if arguments and arguments[0].isdigit() else None
    options = dict(arg.split("=", 1) for arg in arguments)
    preload = tuple(filter(None, options.pop("preload", ",".join(PRELOAD)).split(",")))
    path, idle = options.pop("listen", None), float(options.pop("idle", 600))
    limits = Limits(**{k: int(v) for k, v in options.items()})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `coursekit sandbox stop`: clean up on the way out
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
        warm_up(preload)
        if control is not None:
            control.sendall(b"R")
        serve_forever(limits, [control] if control is not None else [], listener, idle)
    finally:
        if listener is not None:
            _unlink_if_ours(path, listener, inode)


if __name__ == "__main__":
    main()
