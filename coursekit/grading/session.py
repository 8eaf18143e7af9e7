"""The grader's side of one sandbox worker: requests with time limits, and the student's values as data or proxies.

A session sends requests (run a cell, fetch a name, call a function) and waits for the answer,
serving the worker's callbacks meanwhile. What comes back is plain data, or a proxy for an object
that stays in the sandbox (coursekit.grading.proxies). A worker that runs too long is killed.
"""

from __future__ import annotations

import base64
import builtins
import os
import pickle
import re
import select
import signal
import socket
import sys
import time
import types
import warnings
from typing import NoReturn

import numpy as np

from coursekit.feedback.exercise import NameRules
from coursekit.grading import messages, protocol, wire
from coursekit.grading.limits import (
    INTERRUPT_GRACE,
    MAX_ERROR_TEXT,
    MAX_WARNINGS,
    POLL,
    POSTED_AT_ONCE,
    POSTED_BYTES,
    READY_TIMEOUT,
    SLOW,
    WALL_GRACE,
    wall_backstop,
)
from coursekit.grading.proc_stat import core_wait_seconds, stat_fields
from coursekit.grading.proxies import NO_RULES, _ClassProxy, _Method, _Proxy
from coursekit.grading.reasons import escaped_controls

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100



class SandboxTimeout(BaseException):
    """The student's code ran longer than allowed; the worker was killed.

    A BaseException, like KeyboardInterrupt, so that a check's ``except Exception`` (which turns the
    student's errors into verdicts) lets it through to the grader, which stops the test.
    """


class CpuTimeout(SandboxTimeout):
    """The student's code used up its CPU budget (rather than waiting past a wall-clock deadline)."""


class SandboxCrashed(BaseException):
    """The worker died (os._exit, a signal, a limit); a BaseException for the same reason."""


class ServerGone(SandboxCrashed):
    """The warm server itself stopped answering (killed, or never started): no new worker can be had from it."""


class ProtocolError(SandboxCrashed):
    """The worker sent something the grader cannot read: the submission's fault; the worker was killed."""


class StudentError(RuntimeError):
    """An exception raised by student code whose type is not a built-in one."""


def _watched(category: type[Warning], text: str) -> bool:
    """True when the warning filters in force make a warning of ``category`` saying ``text`` an error: a check that
    watches for the student's warnings (lesson 03's sigmoid fails on an overflow) sets ``simplefilter("error")``.

    Any other warning of the student's code is dropped, never printed: its text is the student's, and on the
    grader's terminal, Gradescope's output or the course server's log, it could pose as the grader's own lines (a red
    team's, wrapped to the terminal's width, read "upload 12: regrade of ada FAILED"). The filters are read, never
    changed: a course server grades in a thread."""
    for action, message, kind, module, lineno in warnings.filters:
        if (issubclass(category, kind) and (message is None or message.match(text)) and not lineno
                and (module is None or module.match("coursekit.students_code"))):
            return action == "error"
    return False


class Session:
    """One worker: run cells, fetch names as proxies, forward operations; killed on timeout."""

    def __init__(self, sock: socket.socket, pid: int, call_timeout: float, deadline: float | None = None):
        self.sock, self.pid, self.call_timeout = sock, pid, call_timeout
        self.callbacks: dict[int, object] = {}
        self.unconfirmed = False  # requests were posted since the last answer (see ``post``)
        self.locating = False  # a cell is running that says where it was, if stopped (see ``run_cell``)
        self.posted: list[bytes] = []  # posted requests (JSON) not sent yet: they go with the next request
        self.posted_bytes = 0
        self.released: list[int] = []  # handles whose proxies were collected here: see release
        self.sending: list = []  # proxies made only to be sent (a bound method): kept until the next answer
        self.last_result_id = 0  # the handles of posted results are the grader's to choose: -1, -2, ...
        self.alive = True
        self.sent = 0  # requests sent so far, posted ones too: a value read before the last of them may be stale
        self.deadline = deadline  # the test's or the submission's wall-clock deadline (time.monotonic), if any
        self.test_cpu: tuple[float, float] | None = None  # (the worker's CPU time at the test's start, its budget)
        self.hidden = False  # a hidden test is running: the warnings of the student's code are not shown
        self.warned = 0  # the warnings of the student's code shown so far (see value_of)
        self.wall_grace = WALL_GRACE  # seconds a request may wait beyond its CPU budget's share (see wall_backstop)
        # What the arrays of the last message may take once widened, shared by every value decoded from it: the
        # answers of a batched request each had an allowance of their own, and four int8 ones of 16 MB took a grading
        # process to 1 GiB (red team Z)
        self.widening = wire.Widening()
        ready_by = time.monotonic() + READY_TIMEOUT
        try:
            hello = wire.receive(self.sock, ready_by if deadline is None else min(ready_by, deadline))
        except (TimeoutError, EOFError, OSError, wire.WireError) as error:
            self.kill()
            raise SandboxCrashed(messages.WORKER_NOT_STARTED.format(error=error)) from error
        self.protections = [str(item)[:200] for item in list(hello.get(protocol.PROTECTIONS) or [])[:20]]
        # A pid can be reused as soon as the worker dies; a pidfd cannot: it is how we signal the worker.
        self.pidfd = os.pidfd_open(pid)

    # -- plumbing
    def kill(self) -> None:
        """End the worker and everything it started.

        Only while the worker lives is its pid (and so its process group) certainly still its own: a
        process that died may see its number reused by any other process, such as a test's kernel.
        """
        if not self.alive:
            return
        self.alive = False
        pidfd = getattr(self, "pidfd", None)
        if pidfd is not None:
            if not select.select([pidfd], [], [], 0)[0]:  # not readable: still running
                for kill in (lambda: os.killpg(self.pid, signal.SIGKILL),
                             lambda: signal.pidfd_send_signal(pidfd, signal.SIGKILL)):
                    try:
                        kill()
                    except (ProcessLookupError, PermissionError):
                        pass
            os.close(pidfd)
        self.sock.close()

    def post(self, message: dict) -> None:
        """Send a request without waiting for it (a parameter write, a step of arithmetic): the worker answers it
        only through the next request, whose reply is its error if it failed. Nothing waits, nothing is owed."""
        if not self.alive:
            raise SandboxCrashed(str(messages.WORKER_GONE))
        self.sent += 1
        # Kept until the next request (a chain of 1,000 additions is one message, not 1,000), or sent once many wait.
        self.posted.append(wire.to_json(message))
        self.posted_bytes += len(self.posted[-1])
        self.unconfirmed = True
        if len(self.posted) >= POSTED_AT_ONCE or self.posted_bytes >= POSTED_BYTES:
            self._send_posted()

    def release(self, ident: int) -> None:
        """The grader holds the sandbox object ``ident`` no more (its proxy was collected): the worker drops it too,
        before the next request, so that it is freed when the learner's kernel would free it (and its memory and id
        used again: a backward() that kept the ids of nodes it had ordered passed here, and failed in the kernel,
        while the sandbox kept every graph a test had built: red team U). Called from a finalizer: it only notes."""
        self.released.append(ident)

    def _take_posted(self) -> bytes:
        """The posted requests as one framed message (nothing when there are none), and none kept any longer; the
        handles released since the last one go last (a posted request before them may still use one)."""
        if self.released:
            released, self.released = self.released, []
            self.posted.append(wire.to_json({protocol.OP: protocol.RELEASE, protocol.HANDLES: released}))
        posted, self.posted, self.posted_bytes = self.posted, [], 0
        return wire.frame_list(protocol.POSTED, protocol.REQUESTS, posted) if posted else b""

    def _send_posted(self) -> None:
        data = self._take_posted()
        try:
            wire.send_framed(self.sock, data,
                             self._cut_short(time.monotonic() + wall_backstop(self.call_timeout, self.wall_grace)))
        except TimeoutError as error:  # the worker has not read what was sent before: it is busy past its limits
            self.kill()
            raise SandboxTimeout(messages.WALL_TIMEOUT.format(seconds=self.call_timeout)) from error
        except OSError as error:
            self.kill()
            raise SandboxCrashed(str(messages.CRASHED)) from error

    def new_result_id(self) -> int:
        """A handle for the result of a posted operation (negative: the worker's own are positive)."""
        self.last_result_id -= 1
        return self.last_result_id

    def flush(self) -> None:
        """Wait until the posted requests have run, raising the error of the first that failed."""
        if self.unconfirmed:
            self.value_of(self.request({protocol.OP: protocol.PING}))

    def cpu_seconds(self) -> float:
        """The CPU time the worker has used so far (its own threads and the children it waited for)."""
        try:
            fields = stat_fields(self.pid)
        except (OSError, ValueError):
            return 0.0
        return sum(int(value) for value in fields[11:15]) / _TICK  # utime, stime, cutime, cstime

    def request(self, message: dict, cpu_limit: float | None = None) -> dict:
        """Send a request and wait for its answer, serving the worker's callbacks meanwhile.

        The request may use ``cpu_limit`` seconds of CPU (default: the call limit), and the test no more than its
        CPU budget (``test_cpu``). Its wall-clock backstop (see ``limits.wall_backstop``) is for code that sleeps or
        waits: no traffic extends it, but the time the worker waits for a core that other processes hold does, which
        is no fault of the student's. The test's or the submission's own deadline (``deadline``) is absolute. Past
        any, the worker is killed.
        """
        if not self.alive:
            raise SandboxCrashed(str(messages.WORKER_GONE))
        self.sent += 1
        limit = cpu_limit or self.call_timeout
        start = time.monotonic()
        backstop = start + wall_backstop(limit, self.wall_grace)
        if self.deadline is not None and self.deadline <= start:
            self.kill()
            raise SandboxTimeout(str(messages.DEADLINE_PASSED))
        budget = _CpuBudget(self, start, limit)
        try:
            data = self._take_posted() + wire.frame(message)  # the posted requests first, in the same write
            wire.send_framed(self.sock, data, self._cut_short(backstop))
            reply = self._answer(start, backstop, budget)
            self.widening = wire.Widening()  # a new message: a new allowance
            self.unconfirmed = False  # a posted request's error would have come as this reply
            self.sending.clear()
            return reply
        except TimeoutError as error:  # a message that did not come (or go) whole before the deadline
            self.kill()
            raise SandboxTimeout(messages.WALL_TIMEOUT.format(seconds=round(time.monotonic() - start, 1))) from error
        except (EOFError, OSError) as error:
            self.kill()
            raise SandboxCrashed(str(messages.CRASHED)) from error
        except wire.WireError as error:
            self._refuse(error)
        except Exception as error:  # noqa: BLE001 -- anything else the worker's messages caused: never the grader's
            # failure, whose words would be the worker's (red team R: a callback id of its choosing, "phase 8.933",
            # carried a hidden input into a rejection's reason), and never a worker left running
            self._refuse(type(error).__name__)

    def _cut_short(self, backstop: float) -> float:
        """``backstop`` or the test's or submission's deadline, whichever comes first."""
        return backstop if self.deadline is None else min(backstop, self.deadline)

    def _answer(self, start: float, backstop: float, budget: _CpuBudget) -> dict:
        """The next answer of the worker, serving the callbacks it makes first, within the request's limits.

        Its CPU is looked at every POLL of wall-clock time, whatever it sends meanwhile (red team X: a cell that wrote
        a callback every 20 ms was never looked at, and computed for 0.8 s within its 0.1 s), and once more after a
        message that took that long to come (one trickled while the worker computed). At each look, the time
        it has waited for a core since the last (the scheduler's count, see ``proc_stat.core_wait_seconds``) moves
        the wall-clock ``backstop`` on: a slow worker runs at the lowest priority (see ``_deprioritise``), so other
        submissions' workers come first, and beside two looping ones on a core a call of 0.15 s of CPU took 2 s,
        past its backstop of 1.2 s. Only waiting the kernel counted is credited: a worker seen runnable at each look
        may have run just then (red team X held a call 30 s so, on 2% of its CPU)."""
        deprioritised, looked, waited = False, start, None
        while True:
            now = time.monotonic()
            if now - looked >= POLL:
                budget.check()
                looked, waited_now = now, core_wait_seconds(self.pid)
                if waited is not None and waited_now is not None:
                    backstop += max(0.0, waited_now - waited)
                waited = waited_now
                if not deprioritised and now - start > SLOW:
                    self._deprioritise()
                    deprioritised = True
            deadline = self._cut_short(backstop)
            if now >= deadline:
                self.stop(SandboxTimeout(messages.WALL_TIMEOUT.format(seconds=round(now - start, 1))))
            if select.select([self.sock], [], [], max(0.0, min(looked + POLL, deadline) - now))[0]:
                reply = wire.receive(self.sock, deadline)
                if time.monotonic() - now >= POLL:  # a message that came slowly: no look while it came
                    budget.check()
                if reply.get(protocol.OP) != protocol.CALLBACK:
                    return reply
                wire.send(self.sock, self._callback(reply), deadline)

    def stop(self, timeout: SandboxTimeout) -> NoReturn:
        """Kill the worker and raise ``timeout``, with the line its cell was at when ``locating`` (else None)."""
        timeout.line = self._interrupted_at() if self.locating else None
        self.kill()
        raise timeout

    def _interrupted_at(self) -> int | None:
        """Interrupt the worker (KeyboardInterrupt in the student's cell) and give it INTERRUPT_GRACE to say where
        it was: the line of the cell's top-level statement, so that the cell, run again a statement at a time, need
        not run past its limit a second time there (a notebook of 45 experiments ran out of its budget so). None
        when it does not say (it caught the interrupt, or is in a long call of C code)."""
        pidfd = getattr(self, "pidfd", None)
        if pidfd is None or select.select([pidfd], [], [], 0)[0]:
            return None
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGINT)
        except OSError:
            return None
        end = time.monotonic() + INTERRUPT_GRACE
        if not select.select([self.sock], [], [], INTERRUPT_GRACE)[0]:
            return None
        try:
            reply = wire.receive(self.sock, end)
        except (TimeoutError, EOFError, OSError, wire.WireError):
            return None
        error = reply.get(protocol.ERROR)
        top = error.get("top") if isinstance(error, dict) and error.get("type") == "KeyboardInterrupt" else None
        return top if type(top) is int else None

    def _deprioritise(self) -> None:
        """Lower a slow worker's priority for the rest of its life.

        A cell that loops until its limit then takes the CPU only when honest work does not need it, so with
        more grading processes than cores the rest of a batch goes on at nearly full speed.
        """
        pidfd = getattr(self, "pidfd", None)
        if pidfd is not None and not select.select([pidfd], [], [], 0)[0]:  # alive: its group is its own
            try:
                os.setpriority(os.PRIO_PGRP, self.pid, 19)
            except (ProcessLookupError, PermissionError):
                pass

    def _callback(self, message: dict) -> dict:
        number = message.get(protocol.CALLBACK_ID, -1)
        if type(number) is not int:
            raise wire.WireError("a callback without the number of one")
        function = self.callbacks.get(number)
        if function is None:  # a callback the grader never handed out: what no worker sends
            raise wire.WireError("a callback of a number never handed out")
        try:
            args = self.decode(message.get(protocol.ARGS, []))
            kwargs = self.decode(message.get(protocol.KWARGS, {"__dict__": []}))
            return {protocol.OP: protocol.CALLBACK_RESULT, protocol.VALUE: self.encode(function(*args, **kwargs))}
        except Exception as error:  # noqa: BLE001 -- reported to the student's code as its own exception
            return {protocol.OP: protocol.CALLBACK_RESULT,
                    protocol.RAISED: {"type": type(error).__name__, "message": str(error)[:500]}}

    def encode(self, value):
        def reference(obj):
            if isinstance(obj, _Method):  # passed on as the bound method itself, which then needs a handle
                obj = obj.bound()
                self.sending.append(obj)  # alive until the request that carries its handle is answered
            if isinstance(obj, _Proxy):
                return {protocol.HANDLE: object.__getattribute__(obj, "_id")}
            if isinstance(obj, type) and isinstance(obj, _ClassProxy):
                return {protocol.HANDLE: obj._id}
            if goes_by_name(obj):
                return {protocol.PICKLED: base64.b64encode(pickle.dumps(obj)).decode("ascii")}
            if callable(obj) and not (hasattr(obj, "params") and hasattr(obj, "forward")):
                ident = len(self.callbacks) + 1
                self.callbacks[ident] = obj
                return {protocol.CALLBACK_REF: ident}
            # Any other grader object (a model, a random generator) goes by value: pickled HERE, unpickled in
            # the sandbox, never the other way round. A model's parameters come back after the call.
            try:
                return {protocol.PICKLED: base64.b64encode(pickle.dumps(obj)).decode("ascii")}
            except Exception as error:
                raise wire.WireError(f"a {type(obj).__name__} cannot be sent to the student's code") from error
        return wire.encode(value, reference)

    def decode(self, data, rules: NameRules = NO_RULES):
        """Data from the worker; its objects as proxies that follow ``rules`` (those of the name they came from)."""
        def resolve(ref):
            if protocol.PICKLED in ref:
                raise wire.WireError("the sandbox may not send objects by value")
            if protocol.CALLBACK_REF in ref:
                if int(ref[protocol.CALLBACK_REF]) not in self.callbacks:
                    raise wire.WireError("a callback the grader never gave")
                return self.callbacks[int(ref[protocol.CALLBACK_REF])]
            name = str(ref.get(protocol.REF_NAME) or "StudentClass")[:100]
            methods = ref.get(protocol.REF_METHODS)
            methods = {method for method in methods[:64] if isinstance(method, str) and method.isidentifier()
                       and not method.startswith("__")} if isinstance(methods, list) else set()
            if ref.get(protocol.REF_IS_CLASS):
                return _ClassProxy.make(self, int(ref[protocol.HANDLE]),
                                        name if name.isidentifier() else "StudentClass",
                                        rules, methods)
            kind = str(ref.get(protocol.REF_TYPE, "object"))[:100]
            return _Proxy(self, int(ref[protocol.HANDLE]), kind, methods, rules)
        try:
            return wire.decode(data, resolve, widen=self.widening)  # numbers at full width: see wire.widened
        except wire.WireError as error:  # a value past the wire's limits: the submission's fault, not its exception
            self._refuse(error)
        except Exception as error:  # noqa: BLE001 -- malformed data: the worker's doing, whatever broke on it
            self._refuse(type(error).__name__)

    def _refuse(self, problem) -> NoReturn:
        """Kill the worker and raise ProtocolError: it sent what the grader does not read (``problem``, in words)."""
        self.kill()
        raise ProtocolError(messages.PROTOCOL_ERROR.format(problem=str(problem)[:200]))

    def value_of(self, reply: dict, rules: NameRules = NO_RULES):
        """The value of a reply, or the student's exception raised here."""
        if protocol.RAISED in reply:
            raised = reply[protocol.RAISED]
            if isinstance(raised, dict) and raised.get("type") == protocol.UNSENDABLE:
                # the worker's words only when they are those its encoding says: student code can name its own
                # exception so, or write on the socket, and would put its words in the grader's sentence (red team R)
                words = str(raised.get("message"))
                self._refuse(words if _UNSENDABLE_WORDS.fullmatch(words) else messages.UNSENDABLE)
            raise _rebuilt(raised)
        # A hidden case's warnings are dropped: their text is the student's, and could carry the case's inputs into
        # the grader's output (which Gradescope shows the course's staff). The others, MAX_WARNINGS at most a worker.
        shown = [] if self.hidden else list(reply.get(protocol.WARNINGS) or [])[:5][:MAX_WARNINGS - self.warned]
        self.warned += len(shown)
        for kind, text in shown:
            category = getattr(builtins, str(kind), None)
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category = RuntimeWarning
            text = escaped_controls(str(text)[:500])
            if _watched(category, text):
                raise category(text)
        return self.decode(reply.get(protocol.VALUE), rules)

    # -- what the grader uses
    def run_cell(self, code: str, cpu_limit: float, locate: bool = False) -> dict:
        """Run one cell of student code; its outcome as data (ok, error, stdout). ``locate``: a cell stopped at its
        limit is first interrupted, and the SandboxTimeout raised carries, as ``line``, the line of the cell's
        top-level statement it was running (None when the worker did not say)."""
        self.locating = locate
        try:
            return self.request({protocol.OP: protocol.RUN, protocol.CODE: code}, cpu_limit)
        finally:
            self.locating = False

    def get(self, name: str, rules: NameRules | None = None):
        """The student's value for ``name`` (plain data or a proxy that follows ``rules``); NameError when it is
        not defined."""
        reply = self.request({protocol.OP: protocol.GET, protocol.NAME: name})
        if reply.get(protocol.MISSING):
            raise NameError(messages.NOT_DEFINED.format(name=name))
        return self.value_of(reply, rules or NameRules(name))

    def close(self) -> None:
        self.kill()


# Functions the sandbox holds itself go by name (a pickle is only their module and name): the student's code calls
# its own copy, with no round trip per evaluation. NumPy's ufuncs, and the public sample functions exercises use;
# any other function, a test's own above all, stays here and is called back.
BY_NAME_MODULES = frozenset({"coursekit.feedback.sample_functions"})


def goes_by_name(obj) -> bool:
    """True for a function the sandbox can import for itself: a NumPy ufunc, or a top-level function of a module in
    BY_NAME_MODULES (the very one that module holds under that name)."""
    if isinstance(obj, np.ufunc):
        return True
    module = getattr(obj, "__module__", None)
    return (isinstance(obj, types.FunctionType) and module in BY_NAME_MODULES
            and getattr(sys.modules.get(module), obj.__qualname__, None) is obj)


class _CpuBudget:
    """A request's CPU limit, and the test's, checked whenever the worker is slow to answer.

    /proc is read only then, not for every request (most answer within a millisecond): the CPU the worker used
    before the first look is at most the wall-clock time that had passed, and is counted as that.
    """

    def __init__(self, session: Session, start: float, limit: float):
        self.session, self.start, self.limit = session, start, limit
        self.first: tuple[float, float] | None = None  # (the worker's CPU time, seconds since the start) at first look

    def check(self) -> None:
        """Kill the worker and raise SandboxTimeout when the request or the test has used up its CPU."""
        cpu = self.session.cpu_seconds()
        if self.first is None:
            self.first = (cpu, time.monotonic() - self.start)
        used = cpu - self.first[0] + self.first[1]
        test = self.session.test_cpu
        over = used > self.limit or (test is not None and cpu - test[0] > test[1])
        if over:
            limit = self.limit if used > self.limit else test[1]
            self.session.stop(CpuTimeout(messages.TIMEOUT.format(seconds=round(limit, 2))))


_UNSENDABLE_WORDS = re.compile(r"data nested too deeply|message of [\d,]+ bytes exceeds the limit of [\d,]+")


def _rebuilt(raised: dict) -> BaseException:
    """The student's exception, as a built-in type when it is one (so that NotImplementedError still reads
    "not attempted"), else as StudentError; BaseExceptions like SystemExit become StudentError too."""
    kind, message = str(raised.get("type", "Exception"))[:100], str(raised.get("message", ""))[:MAX_ERROR_TEXT]
    builtin = getattr(builtins, kind, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin.__module__ == "builtins":
        try:
            error = builtin(message)
        except Exception:  # noqa: BLE001 -- exotic constructors (UnicodeError ...)
            error = StudentError(f"{kind}: {message}")
    else:
        error = StudentError(f"{kind}: {message}")
    error.student_line = raised.get("line")
    error.from_student = True  # raised by the student's code, not by a test here
    return error
