"""The sandbox side of a session: a worker forked for one submission serves the grader's requests.

It runs the student's cells in an IPython InteractiveShell, keeps the objects it cannot send as data behind
handles, and answers requests on its socket: run a cell, hand over a name, call a function, read an
attribute. It never receives a test or a solution.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import os
import socket
import sys
import time
import traceback
import types
import warnings

import numpy as np

from coursekit.feedback.batched import perturbed
from coursekit.grading import protocol, wire
from coursekit.grading.limits import MAX_CALLS, MAX_CHAIN, MAX_CHAIN_STEPS, OUTPUT_LIMIT, READ_AFTER_ELEMENTS
from coursekit.grading.sandbox_shell import new_shell
from coursekit.grading.withholding import withhold


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
        self.shell = new_shell()
        self.objects: dict[int, object] = {}
        self.next_id = 1
        self.cells = 0  # cells run so far: each compiles under a name of its own
        self.deferred: dict | None = None  # the error of a posted request, owed to the next reply
        # A process that student code forks must never answer the grader, nor run: it closes its copy of the
        # socket and stops itself, keeping its place under the process limit until the session kills the
        # group. A fork bomb thus fills the limit and fails at once, instead of churning until the timeout.
        os.register_at_fork(after_in_child=self._forked_by_student)

    def _forked_by_student(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        while True:  # parked, not stopped by a signal: its own signals may be refused (seccomp)
            time.sleep(3600)

    # -- references
    def _reference(self, obj) -> dict:
        if isinstance(obj, _Callback):
            return {protocol.CALLBACK_REF: obj.ident}
        ident = self.next_id
        self.next_id += 1
        self.objects[ident] = obj
        is_class = isinstance(obj, type)
        reference = {protocol.HANDLE: ident, protocol.REF_TYPE: type(obj).__name__[:100],
                     protocol.REF_IS_CLASS: is_class,
                     protocol.REF_NAME: str(getattr(obj, "__name__", ""))[:100] if is_class or callable(obj) else ""}
        if is_class:  # what its instances answer as methods, for the grader to call them in one round trip
            reference[protocol.REF_METHODS] = _methods_of(obj)
        elif not callable(obj):  # so that the grader calls them in one round trip each
            try:
                own = set(object.__getattribute__(obj, "__dict__"))  # an attribute of its own hides a method
            except (AttributeError, TypeError):
                own = set()
            reference[protocol.REF_METHODS] = [name for name in _methods_of(type(obj)) if name not in own]
        return reference

    def _resolve(self, data: dict):
        if protocol.HANDLE in data:
            return self.objects[int(data[protocol.HANDLE])]
        if protocol.PICKLED in data:  # a grader object sent by value (data from the trusted side)
            import base64
            import pickle
            return pickle.loads(base64.b64decode(data[protocol.PICKLED]))  # noqa: S301 -- sent by the grader
        return _Callback(self, int(data[protocol.CALLBACK_REF]))

    def encode(self, value):
        return wire.encode(value, self._reference, plain=True)

    def decode(self, data):
        return wire.decode(data, self._resolve)

    # -- the loop
    def serve(self) -> None:
        while True:
            try:
                request = wire.receive(self.sock)
                reply = self.answer(request)
                if reply is not None:
                    self._send(reply)
            except (EOFError, OSError, wire.WireError):
                return

    def _send(self, reply: dict) -> None:
        """Send ``reply``; one past the size limit (a huge array returned) goes as the call's error instead."""
        try:
            data = wire.frame(reply)
        except wire.WireError as error:
            data = wire.frame({protocol.RAISED: _unsendable(error)})
        wire.send_framed(self.sock, data)

    def answer(self, request: dict) -> dict | None:
        """The reply to ``request``: None for posted requests (the first error among them, if any, replaces the next
        reply instead)."""
        if request.get(protocol.OP) == protocol.POSTED:
            for posted in request.get(protocol.REQUESTS) or []:
                failed = self.handle(posted if type(posted) is dict and posted.get(protocol.OP) != protocol.POSTED
                                     else {})
                if protocol.RAISED in failed and self.deferred is None:
                    self.deferred = failed[protocol.RAISED]
            return None
        reply = self.handle(request)
        if self.deferred is not None:
            reply, self.deferred = {protocol.RAISED: self.deferred}, None
        return reply

    def handle(self, request: dict) -> dict:
        op = request.get(protocol.OP)
        try:
            if op == protocol.RUN:
                return self.run_cell(str(request[protocol.CODE]))
            if op == protocol.GET:
                name = str(request[protocol.NAME])
                if name not in self.shell.user_ns:
                    return {protocol.MISSING: True}
                return {protocol.VALUE: self.encode(self.shell.user_ns[name])}
            if op == protocol.PING:
                return {protocol.VALUE: "pong"}
            if op == protocol.SEQUENCE:
                return self._sequence(request)
            if op == protocol.RELEASE:  # the grader holds these no more: nor does the worker (Session.release)
                for ident in list(request.get(protocol.HANDLES) or []):
                    self.objects.pop(int(ident), None)
                return {protocol.VALUE: None}
            if op == protocol.WITHHOLD:
                withhold([str(name) for name in request.get(protocol.NAMES) or []], str(request.get(protocol.VALUE)))
                return {protocol.VALUE: None}
            target = self.objects.get(int(request.get(protocol.TARGET, 0)))
            if target is None:
                return {protocol.RAISED: {"type": "LookupError", "message": "unknown object", "line": None}}
            return self._operate(op, target, request)
        except wire.WireError as error:  # what the student's code gave cannot be sent as data
            return {protocol.RAISED: _unsendable(error)}
        except BaseException as error:  # noqa: BLE001 -- the student's exception, reported as data
            return {protocol.RAISED: _describe(error)}

    def _call(self, target, request: dict) -> dict:
        """Call ``target``; its value, and what it did to the arguments it was given (copies of the grader's)."""
        with _calling(request) as caught:
            return self._call_once(target, request, caught)

    def _call_once(self, target, request: dict, caught: list, values: list | None = None) -> dict:
        """One call, inside ``_calling`` (``caught``: the warnings it records). The reply names only what happened:
        no key for arguments left as they were, nor for warnings when there were none. ``values``: where the value
        itself is kept, and left out of the reply (its caller reads it later, see AS_COLLECTED and AGAIN)."""
        args = self.decode(request.get(protocol.ARGS, []))
        kwargs = request.get(protocol.KWARGS)
        kwargs = self.decode(kwargs) if kwargs is not None else {}
        # per argument: its snapshot when it is data the grader sent (what the call does to it is reported), and
        # the identity of each entry of a dict (an entry replaced, not changed, is said so)
        before = [_snapshot(a) if type(a) in _PLAIN else None for a in args]
        identities = [{k: id(v) for k, v in a.items()} if type(a) is dict else None for a in args]
        keywords_before = {name: _snapshot(a) for name, a in kwargs.items() if type(a) in _PLAIN}
        seen = len(caught)
        value = target(*args, **kwargs)
        if values is None:
            reply = {protocol.VALUE: self.encode(value)}
        else:
            reply = {}
            values.append(value)
        if len(caught) > seen:
            reply[protocol.WARNINGS] = [[type(w.message).__name__, str(w.message)[:500]] for w in caught[seen:seen + 5]]
        changed, rebound, synced = {}, {}, {}
        for i, (a, b, ids) in enumerate(zip(args, before, identities, strict=True)):
            if b is not None and not _deep_equal(a, b):
                changed[str(i)] = self.encode(a)
            if ids is not None:
                rebound[str(i)] = [str(k) for k, v in a.items() if ids.get(k) != id(v)]
            if b is None and hasattr(a, "params") and hasattr(a, "forward"):
                synced[str(i)] = self.encode(dict(a.params))
        if changed:
            reply[protocol.CHANGED_ARGS] = changed
            reply[protocol.REBOUND_KEYS] = rebound
        if synced:
            reply[protocol.SYNCED_PARAMS] = synced
        changed_keywords = [str(name) for name, b in keywords_before.items() if not _deep_equal(kwargs[name], b)]
        if changed_keywords:  # no lesson lets a call change a keyword argument: the grader fails the call
            reply[protocol.CHANGED_KWARGS] = changed_keywords
        return reply

    def _sequence(self, request: dict) -> dict:
        """Each step of a SEQUENCE request in order (a property's calls and reads, on several objects), in one
        round trip; the first exception ends it, as the request's."""
        steps = list(request.get(protocol.STEPS) or [])[:MAX_CALLS]
        replies, values = [], []  # each step's reply, and the value it gave (for a step that reads it AGAIN)
        with _calling(request) as caught:  # set up once: most steps take microseconds
            for target_id, name, args in steps:
                if name == protocol.AGAIN and int(target_id) == 0:
                    index = int(list(args)[0])
                    if not 0 <= index < len(values):
                        raise LookupError("no such step")
                    values.append(values[index])
                elif (target := self.objects.get(int(target_id))) is None:
                    raise LookupError("unknown object")
                elif args is None:
                    values.append(getattr(target, str(name)))
                elif name == protocol.PERTURB_PARAMS:  # a layer made like another made other (see batched)
                    for key, value in list(dict(target.params).items()):
                        _write_param(target, str(key), perturbed(value))
                    values.append(None)
                else:
                    method = getattr(target, str(name)) if name else target
                    replies.append(self._call_once(method, {protocol.ARGS: args}, caught, values))
                    replies[-1][protocol.VALUE] = self.encode(values[-1])
                    continue
                replies.append({protocol.VALUE: self.encode(values[-1])})
        return {protocol.VALUE: None, protocol.REPLIES: replies}

    def _operate(self, op: str, target, request: dict) -> dict:
        name = str(request.get(protocol.NAME, ""))
        if op == protocol.CALL:
            if protocol.RESULT_ID in request:  # posted: a new object kept where the grader said (see _keep)
                with _Quiet():
                    return self._keep(request, target(*self.decode(request.get(protocol.ARGS, [])),
                                                       **self.decode(request.get(protocol.KWARGS, {"__dict__": []}))))
            return self._call(target, request)
        if op == protocol.CALLMETHOD:
            with _Quiet():
                method = getattr(target, name)
            reply = self._call(method, request)
            if name in protocol.READS_AFTER:
                self._read_after(target, protocol.READS_AFTER[name], reply)
            return reply
        if op == protocol.CALLMANY:  # a gradient check's evaluations of one method, in one round trip
            with _Quiet():
                method = getattr(target, name) if name else target
            common = {protocol.KWARGS: request.get(protocol.KWARGS, {"__dict__": []}),
                      protocol.ERRSTATE: request.get(protocol.ERRSTATE)}
            calls = list(request.get(protocol.CALLS) or [])[:MAX_CALLS]
            sets = list(request.get(protocol.SETS) or [])[:len(calls)]
            replies, values = [], [] if request.get(protocol.AS_COLLECTED) else None
            with _calling(request) as caught:  # set up once for the whole batch: most calls take microseconds
                for index, args in enumerate(calls):
                    for write in sets[index] if index < len(sets) and isinstance(sets[index], list) else []:
                        _write_param(target, str(write[0]), self.decode(write[1]))
                    replies.append(self._call_once(method, {**common, protocol.ARGS: args}, caught, values))
            for reply, value in zip(replies, values or [], strict=False):  # read once all are made (AS_COLLECTED)
                reply[protocol.VALUE] = self.encode(value)
            return {protocol.VALUE: None, protocol.REPLIES: replies}
        if op == protocol.ISINSTANCE:
            kind = self.objects.get(int(request.get(protocol.CLASS, 0)))
            # by the class's own MRO: not by a __class__ property or a metaclass's __instancecheck__, which would
            # answer what the student wants (a test judges behaviour too: the sandbox can always lie about itself)
            return {protocol.VALUE: isinstance(kind, type) and kind in type(target).__mro__}
        if op == protocol.GETATTR:
            with _Quiet():
                value = getattr(target, name)
            reply = {protocol.VALUE: self.encode(value)}
            if isinstance(value, types.MethodType) and value.__self__ is target:
                reply[protocol.IS_METHOD] = True  # the grader may call it with CALLMETHOD from now on
            return reply
        if op == protocol.SETATTR:
            with _Quiet():
                setattr(target, name, self.decode(request[protocol.VALUE]))
            return {protocol.VALUE: None}
        if op == protocol.GETITEM:
            with _Quiet():
                return {protocol.VALUE: self.encode(target[self.decode(request[protocol.KEY])])}
        if op == protocol.SETITEM:
            with _Quiet():
                target[self.decode(request[protocol.KEY])] = self.decode(request[protocol.VALUE])
            return {protocol.VALUE: None}
        if op in (protocol.BINOP, protocol.UNOP):
            if name not in (protocol.BINOPS if op == protocol.BINOP else protocol.UNOPS):
                raise TypeError(f"operation {name} is not forwarded")
            operands = [self.decode(request[protocol.OTHER])] if op == protocol.BINOP else []
            with _Quiet():
                value = getattr(target, name)(*operands)
            # Always a handle, even for a number: what a student's operator returns is never taken as a value.
            if protocol.RESULT_ID in request:
                return self._keep(request, value)
            return {protocol.VALUE: self._reference(value)}
        if op == protocol.REPEAT:
            return self._keep(request, self._chain(target, request))
        if op == protocol.LEN:
            return {protocol.VALUE: len(target)}
        if op == protocol.ITEMS:
            with _Quiet():
                return {protocol.VALUE: self.encode(list(target))}
        if op == protocol.WRITE_PARAM:
            _write_param(target, name, self.decode(request[protocol.VALUE]))
            return {protocol.VALUE: None}
        raise TypeError(f"unknown operation {op!r}")

    def _chain(self, value, request: dict):
        """The result of a REPEAT request's arithmetic: each step applied to the result of the one before."""
        steps = [(str(name), self.decode(other)) for name, other in list(request.get(protocol.STEPS) or [])]
        count = int(request.get(protocol.COUNT, 0))
        if any(name not in protocol.BINOPS for name, _ in steps):
            raise TypeError("only forwarded arithmetic repeats")
        if not 1 <= len(steps) <= MAX_CHAIN_STEPS or not 0 <= count <= MAX_CHAIN // len(steps):
            raise ValueError(f"a chain of 1 to {MAX_CHAIN_STEPS} steps and at most {MAX_CHAIN:,} operations")
        with _Quiet():
            for _ in range(count):
                for name, other in steps:
                    value = getattr(value, name)(other)
        return value

    def _read_after(self, target, attribute: str, reply: dict) -> None:
        """Add ``target.attribute`` to ``reply`` when it is a plain dict of a few arrays (a layer's grads): the grader
        reads it next. Anything else (missing, failing, large, objects) the grader reads for itself if it needs it."""
        try:
            with _Quiet():
                value = getattr(target, attribute)
                items = list(value.values()) if type(value) is dict else None
        except Exception:  # noqa: BLE001 -- the grader's own read will meet the same problem and report it
            return
        if items is not None and len(items) <= 64 and all(type(item) is np.ndarray for item in items) \
                and sum(item.size for item in items) <= READ_AFTER_ELEMENTS:
            reply[protocol.READ_AFTER] = {attribute: self.encode(value)}

    def _keep(self, request: dict, value) -> dict:
        """The answer to a posted operation: its result kept as the handle the grader chose, which it already uses."""
        result_id = int(request[protocol.RESULT_ID])
        if result_id >= 0:
            raise ValueError("a result the grader names must have a negative id")
        self.objects[result_id] = value
        return {protocol.VALUE: None}

    def run_cell(self, code: str) -> dict:
        """Run one cell of the student's in the shell's namespace: as plain Python when it compiles as such, else
        through IPython (magics, shell escapes, prompts, top-level await: what only IPython reads). IPython's own
        machinery costs about a millisecond a cell, and several for a worker's first."""
        sink = _LimitedText()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            compiled = self._compiled(code)
            if compiled is None:
                result = self.shell.run_cell(code, store_history=False, silent=False)
                error = result.error_before_exec or result.error_in_exec
            else:
                error = self._exec(compiled)
        pyplot = sys.modules.get("matplotlib.pyplot")  # only if the student's code drew something
        if pyplot is not None:
            pyplot.close("all")
        return {"ok": error is None, "error": _describe(error) if error is not None else None, "stdout": sink.value()}

    def _compiled(self, code: str) -> types.CodeType | None:
        """The cell compiled as plain Python, its lines where tracebacks find them; None when it is not plain
        Python (IPython then reads it, and reports a syntax error its own way)."""
        self.cells += 1
        name = f"<cell-{self.cells}>"  # "<...>": what _describe takes for the student's own frames
        try:
            compiled = compile(code, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
            return None
        linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)
        return compiled

    def _exec(self, compiled: types.CodeType) -> BaseException | None:
        """Run a compiled cell with IPython's builtins (get_ipython, display); what it raised, SystemExit included
        (IPython too reports that as the cell's error and goes on)."""
        with self.shell.builtin_trap:
            try:
                exec(compiled, self.shell.user_ns)  # noqa: S102 -- the student's cell, in the sandbox
            except BaseException as error:  # noqa: BLE001 -- the cell's outcome, whatever it raised
                return error
        return None


def _methods_of(kind: type) -> list[str]:
    """The names of the plain methods a class and its bases define (not dunders), at most 64."""
    names = []
    for klass in kind.__mro__[:-1]:  # not object
        names += [name for name, value in vars(klass).items()
                  if isinstance(value, types.FunctionType) and not name.startswith("__") and name not in names]
    return names[:64]


# What the grader sent by value: arrays and containers, tuples too (their arrays can be written), whose changes a call
# reports; its types by identity, as a subclass is never sent.
_PLAIN = (list, dict, tuple, np.ndarray)


def _snapshot(value):
    """A copy of the plain data in ``value`` (containers and arrays); any other object is kept as itself."""
    if type(value) is np.ndarray:
        return value.copy()
    if type(value) in (list, tuple):
        return type(value)(_snapshot(item) for item in value)
    if type(value) is dict:
        return {key: _snapshot(item) for key, item in value.items()}
    return value


def _deep_equal(a, b) -> bool:
    """True when ``a`` still equals its snapshot ``b``: the same plain data, and the very same other objects."""
    if type(a) is not type(b):
        return False
    if type(a) is np.ndarray:
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        # The same bytes: unchanged (at a thirtieth of array_equal's cost on a small array, paid for every array of
        # every call); other bytes may still be equal numbers (-0.0 written over 0.0, another NaN).
        return a.tobytes() == b.tobytes() or bool(np.array_equal(a, b, equal_nan=True))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if type(a) in (bool, int, float, complex, str, bytes, type(None)):
        return a == b or a != a and b != b  # NaN stays NaN
    return a is b  # a student object is never asked whether it equals anything


@contextlib.contextmanager
def _calling(request: dict):
    """Around student calls: their output discarded, the grader's NumPy error settings (``errstate`` of the
    request), and every warning recorded (the list it yields)."""
    errstate = {k: v for k, v in dict(request.get(protocol.ERRSTATE) or {}).items()
                if k in ("over", "under", "divide", "invalid") and v in ("ignore", "warn", "raise", "print")}
    with _Quiet(), np.errstate(**errstate), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


class _Discard(io.TextIOBase):
    """Where the output of student code that a test calls goes: nowhere (only a cell's output is reported)."""

    def writable(self):
        return True

    def write(self, text):
        return len(text)


_DISCARD = _Discard()


class _Quiet:
    """Student code's output discarded for the time of an operation: sys.stdout and sys.stderr, whatever a cell set
    them to, point nowhere until it ends. A class, not a generator: it wraps each of thousands of operations."""

    __slots__ = ("saved",)

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = _DISCARD

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        return False


class _Callback:
    """A grader-side callable, called back over the socket (e.g. the function a learner differentiates)."""

    def __init__(self, worker: Worker, ident: int):
        self.worker, self.ident = worker, ident

    def __deepcopy__(self, memo):  # a reference, not data: copies share it
        return self

    def __call__(self, *args, **kwargs):
        wire.send(self.worker.sock, {protocol.OP: protocol.CALLBACK, protocol.CALLBACK_ID: self.ident,
                                     protocol.ARGS: self.worker.encode(list(args)),
                                     protocol.KWARGS: self.worker.encode(dict(kwargs))})
        while True:
            message = wire.receive(self.worker.sock)
            if protocol.OP in message and message[protocol.OP] != protocol.CALLBACK_RESULT:
                reply = self.worker.answer(message)  # the grader asks us while we wait
                if reply is not None:
                    self.worker._send(reply)
                continue
            if protocol.RAISED in message:
                raised = message[protocol.RAISED]
                raise RuntimeError(f"{raised.get('type')}: {raised.get('message')}")
            return self.worker.decode(message.get(protocol.VALUE))


def _write_param(target, name: str, value) -> None:
    """target.params[name] = value, into the array itself when the shapes agree (as the layer holds it)."""
    params = target.params
    current = params[name]
    if isinstance(current, np.ndarray) and current.shape == np.shape(value):
        current[...] = value
    else:
        params[name] = value


def _unsendable(error: wire.WireError) -> dict:
    """An answer that cannot be sent (a value too large or nested too deeply), as the grader reads it."""
    return {"type": protocol.UNSENDABLE, "message": str(error)[:200], "line": None}


def _describe(error: BaseException) -> dict:
    """An exception as data: type, message (truncated), the student's last line, if any, and the line number in the
    cell of the top-level statement it came through."""
    try:
        frames = traceback.extract_tb(error.__traceback__)
        student = [f for f in frames if f.filename.startswith("<")]  # cells compile to "<ipython-input-...>"
        line = student[-1].line if student and student[-1].line else None
        top = student[0].lineno if student else None  # the cell's own frame: the top-level statement it was in
    except Exception:  # noqa: BLE001 -- a traceback that cannot be read: no line
        line = top = None
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 -- an exception whose __str__ raises (red team R): it has no message
        message = "(its message could not be read)"
    return {"type": str(type(error).__name__)[:100], "message": message, "line": line, "top": top}
