"""Proxies: what stands in the grader's process for a student object that stays in the sandbox.

Calling a proxy, reading or writing an attribute or an item is forwarded to the sandbox, and what
comes back is plain data, or another proxy. A proxy is never data itself: it answers no ``==``,
``<``, ``bool()``, ``hash()``, ``float()`` or NumPy conversion, so a student object cannot pretend
to be the expected answer. Arithmetic is forwarded only for the names a lesson declares (a ``Value``
class), and its result stays a proxy. Arguments are sent as copies: what the student's code changes
in them comes back only for the arguments its name is declared to change (see NameRules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from coursekit.feedback import messages as feedback_messages
from coursekit.feedback.batched import AGAIN, PERTURB_PARAMS, earlier, fresh_arguments
from coursekit.feedback.compare import rounded_only
from coursekit.feedback.exercise import NameRules
from coursekit.grading import messages, protocol
from coursekit.grading.limits import MAX_CALLS

if TYPE_CHECKING:
    from coursekit.grading.session import Session

NO_RULES = NameRules()


class NotPlainData(TypeError):
    """A test used a student object as if it were a value (compared it, converted it, computed with it)."""


class ChangedArgument(AssertionError):
    """Student code changed, in place, an argument it was not meant to change."""


class _Refusing:
    """What stands for student code here is never a value: every use of it as one fails with a plain message."""

    __slots__ = ()

    @staticmethod
    def _coursekit_type_name(stand_in) -> str:
        """The learner's type, as feedback names it (see ``feedback.compare.type_name``)."""
        return stand_in._type_name()

    def _type_name(self) -> str:
        return "object"

    def _kind(self) -> str:
        return "object"

    def _refuse(self, *_args, **_kwargs):
        raise NotPlainData(messages.NOT_PLAIN_DATA.format(kind=self._kind()))

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __bool__ = __float__ = __int__ = __index__ = __complex__ = __round__ = __array__ = _refuse
    __hash__ = _refuse  # type: ignore[assignment]


def _call(session: Session, args: tuple, kwargs: dict, rules: NameRules, what: str, owner: _Proxy | None = None,
          **fields):
    """Call student code in the sandbox (``fields`` say what: op, target, name); its value. ``rules`` say which
    arguments it may change: those come back into the grader's originals, a change to any other fails. ``owner``:
    the object whose method this is, which keeps what the worker read of it right after the call."""
    reply = session.request({**fields, protocol.ARGS: session.encode(list(args)),
                             protocol.KWARGS: session.encode(dict(kwargs)), protocol.ERRSTATE: np.geterr()})
    if owner is not None and isinstance(reply.get(protocol.READ_AFTER), dict):
        object.__getattribute__(owner, "_read")[0:2] = [session.sent, reply[protocol.READ_AFTER]]
    value = session.value_of(reply, rules.of_results())
    _write_back(session, args, reply, rules, what, kwargs)
    return value


def _call_many(session: Session, target: int, name: str, rules: NameRules, calls: list[tuple], what: str,
               params: list[dict] | None = None, as_collected: bool = False) -> list:
    """``target.name(*args)`` (or ``target(*args)`` when ``name`` is empty) for each args in ``calls``, up to MAX_CALLS
    calls a round trip; each call's changes to its arguments are handled as _call handles them. ``params``: for each
    call, the target's parameters to set first (``target.params[key] = value``), as a gradient check perturbs them.
    ``as_collected``: every value read once every call of the trip is made, as ``[f(*args) for args in calls]``
    holds them (a value that a later call changes, such as a list the function keeps and fills again, shows that)."""
    results = []
    for start in range(0, len(calls), MAX_CALLS):
        chunk = calls[start:start + MAX_CALLS]
        request = {protocol.OP: protocol.CALLMANY, protocol.TARGET: target, protocol.NAME: name,
                   protocol.CALLS: [session.encode(list(args)) for args in chunk], protocol.ERRSTATE: np.geterr()}
        if as_collected:
            request[protocol.AS_COLLECTED] = True
        if params is not None:
            request[protocol.SETS] = [[[str(key), session.encode(value)] for key, value in dict(values).items()]
                                      for values in params[start:start + MAX_CALLS]]
        for args, answer in zip(chunk, _batch_replies(session, request, len(chunk)), strict=True):
            results.append(session.value_of(answer, rules.of_results()))
            _write_back(session, args, answer, rules, what)
    return results


def _batch_replies(session: Session, request: dict, count: int) -> list[dict]:
    """The ``count`` answers of a batched request (CALLMANY, SEQUENCE), one a call. One call's CPU budget for the whole
    batch: a loop in the first call must cost no more than it would alone. The student's exception is raised here;
    an answer the grader cannot read is NotPlainData."""
    reply = session.request(request, session.call_timeout)
    replies = reply.get(protocol.REPLIES) if protocol.RAISED not in reply else None
    if replies is None:
        session.value_of(reply)  # the student's exception, raised here
    if not isinstance(replies, list) or len(replies) != count or \
            not all(isinstance(answer, dict) for answer in replies):
        raise NotPlainData(messages.NOT_PLAIN_DATA.format(kind=messages.MALFORMED_ANSWER))
    return replies


_WIRE_NAMES = {PERTURB_PARAMS: protocol.PERTURB_PARAMS}  # a step batched names, as the worker knows it


def _steps(steps: list[tuple]) -> list:
    """The value of each step ``(target, name, args)`` (see ``batched.run_step``) on student objects of one session,
    up to MAX_CALLS steps a round trip; each call's changes to its arguments are handled as _call handles them. A
    step ``batched.again(earlier)`` reads again, in the sandbox, what that earlier step of its trip gave."""
    session = None
    for target, name, _ in steps:
        if name == AGAIN and target is None:
            continue
        if not isinstance(target, _Proxy) or session not in (None, object.__getattribute__(target, "_session")):
            raise TypeError("steps on student objects of one sandbox only")
        session = object.__getattribute__(target, "_session")
    results = []
    for start in range(0, len(steps), MAX_CALLS):
        chunk = steps[start:start + MAX_CALLS]
        # The steps the worker makes, and where each step of the chunk is among them; an again step of a step made
        # in an earlier trip is answered here, with what that trip read (the worker's values are per request).
        sent, place, local, again_of = [], {}, {}, {}
        for offset, (target, name, args) in enumerate(chunk):
            if name == AGAIN and target is None:
                index = again_of[offset] = earlier(steps, start + offset)
                if index < start or index - start in local:
                    local[offset] = local.get(index - start, index)
                    continue
                place[offset] = len(sent)
                sent.append([0, protocol.AGAIN, [place[index - start]]])
            else:
                place[offset] = len(sent)
                sent.append([object.__getattribute__(target, "_id"), _WIRE_NAMES.get(name, name or ""),
                             None if args is None else session.encode(list(args))])
        request = {protocol.OP: protocol.SEQUENCE, protocol.ERRSTATE: np.geterr(), protocol.STEPS: sent}
        answers = iter(_batch_replies(session, request, len(sent)))
        for offset, (target, name, args) in enumerate(chunk):
            if offset in local:
                results.append(results[local[offset]])
                continue
            answer = next(answers)
            if offset in again_of:
                target, name, args = steps[again_of[offset]]
                args = None if args is None else ()  # read again: no call, nothing of the arguments to write back
            rules = object.__getattribute__(target, "_rules")
            if args is None:  # an attribute read, as the proxy's own would decode it
                results.append(session.value_of(answer, rules))
                continue
            rules = rules.of_results() if name else rules  # a method's arguments are the call's, not the name's
            results.append(session.value_of(answer, rules.of_results()))
            _write_back(session, args, answer, rules, f"`{name or rules.name or 'it'}`")
    return results


class _Proxy(_Refusing):
    """A student object that stays in the sandbox."""

    __slots__ = ("_session", "_id", "_type", "_methods", "_rules", "_read")

    def __init__(self, session: Session, ident: int, type_name: str, methods: set[str] | None = None,
                 rules: NameRules = NO_RULES):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_type", type_name)
        # Attribute names known to be methods of this object (its class's, as the sandbox listed them, and those
        # a read found); calling one is a single round trip, and it is looked up in the sandbox at the call.
        object.__setattr__(self, "_methods", set(methods or ()))
        object.__setattr__(self, "_rules", rules)
        # [requests sent when read, {attribute: its data}]: what the worker read of this object right after a call
        # (protocol.READS_AFTER), good for one read while nothing else has been sent since
        object.__setattr__(self, "_read", [-1, {}])

    def __del__(self):
        try:
            object.__getattribute__(self, "_session").release(object.__getattribute__(self, "_id"))
        except Exception:  # noqa: BLE001 -- a proxy collected half built, or as the process ends
            pass

    def _kind(self) -> str:
        return f"`{object.__getattribute__(self, '_type')}` object"

    def _type_name(self) -> str:
        return object.__getattribute__(self, "_type")

    def _op(self, op: str, fields: dict | None = None):
        session = object.__getattribute__(self, "_session")
        reply = session.request({protocol.OP: op, protocol.TARGET: object.__getattribute__(self, "_id"),
                                 **(fields or {})})
        return session.value_of(reply, object.__getattribute__(self, "_rules"))

    def __call__(self, *args, **kwargs):
        rules = object.__getattribute__(self, "_rules")
        return _call(object.__getattribute__(self, "_session"), args, kwargs, rules, f"`{rules.name or 'it'}`",
                     op=protocol.CALL, target=object.__getattribute__(self, "_id"))

    def _coursekit_many(self, calls: list[tuple]) -> list:
        """The object (a student function) called with each tuple of arguments in ``calls``, 64 calls a round trip:
        a check's cases, whose values it holds until all are made (as_collected). Named so that no attribute of the
        student's object is hidden by it."""
        rules = object.__getattribute__(self, "_rules")
        return _call_many(object.__getattribute__(self, "_session"), object.__getattribute__(self, "_id"), "",
                          rules, calls, f"`{rules.name or 'it'}`", as_collected=True)

    _coursekit_steps = staticmethod(_steps)  # named so that no attribute of the student's object is hidden by it

    def _coursekit_chain(self, steps: list[tuple[str, object]], count: int) -> _Proxy:
        """``value = getattr(value, name)(other)`` for each (name, other) of ``steps``, ``count`` times over, from this
        object: posted as one message, the result a handle as for one operation (see batched.chained)."""
        rules = object.__getattribute__(self, "_rules")
        if not rules.arithmetic:
            self._refuse()
        if any(name not in protocol.BINOPS for name, _ in steps):
            raise TypeError("only the arithmetic a proxy forwards can be chained")
        session = object.__getattribute__(self, "_session")
        request = {protocol.OP: protocol.REPEAT, protocol.TARGET: object.__getattribute__(self, "_id"),
                   protocol.STEPS: [[name, session.encode(other)] for name, other in steps], protocol.COUNT: count}
        return _posted(session, request, object.__getattribute__(self, "_type"),
                       object.__getattribute__(self, "_methods"), rules)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        methods = object.__getattribute__(self, "_methods")
        if name in methods:  # looked up in the sandbox when called, as `layer.forward(x)` would be
            return _Method(self, name)
        session = object.__getattribute__(self, "_session")
        read = object.__getattribute__(self, "_read")
        if read[0] == session.sent and name in read[1]:  # read in the sandbox after the last request: as fresh
            data = read[1].pop(name)
            return session.decode(data, object.__getattribute__(self, "_rules"))
        reply = session.request({protocol.OP: protocol.GETATTR, protocol.TARGET: object.__getattribute__(self, "_id"),
                                 protocol.NAME: name})
        value = session.value_of(reply, object.__getattribute__(self, "_rules"))
        if reply.get(protocol.IS_METHOD):
            methods.add(name)
        return value

    def __setattr__(self, name: str, value) -> None:
        session = object.__getattribute__(self, "_session")
        object.__getattribute__(self, "_methods").discard(name)
        self._op(protocol.SETATTR, {protocol.NAME: name, protocol.VALUE: session.encode(value)})

    def __getitem__(self, key):
        session = object.__getattribute__(self, "_session")
        return self._op(protocol.GETITEM, {protocol.KEY: session.encode(key)})

    def __setitem__(self, key, value) -> None:
        session = object.__getattribute__(self, "_session")
        self._op(protocol.SETITEM, {protocol.KEY: session.encode(key), protocol.VALUE: session.encode(value)})

    def __len__(self) -> int:
        length = self._op(protocol.LEN)
        if type(length) is not int:
            raise NotPlainData(messages.NOT_PLAIN_DATA.format(kind="length"))
        return length

    def __iter__(self):
        return iter(self._op(protocol.ITEMS))

    def _coursekit_write_param(self, name: str, value) -> None:
        session = object.__getattribute__(self, "_session")
        session.post({protocol.OP: protocol.WRITE_PARAM, protocol.TARGET: object.__getattribute__(self, "_id"),
                      protocol.NAME: name, protocol.VALUE: session.encode(value)})

    def __repr__(self) -> str:
        return f"<student {object.__getattribute__(self, '_type')} object>"

    def _arithmetic(self, op: str, name: str, fields: dict | None = None):
        """Forwarded without waiting: the result is a handle the grader names, so a chain of operations (a graph of
        1,500 multiplications) costs no round trip until something is read; an error comes with the next read."""
        rules = object.__getattribute__(self, "_rules")
        if not rules.arithmetic:
            self._refuse()
        # Of the operand's class, as far as the grader can tell without asking: method calls are looked up in the
        # sandbox anyway.
        request = {protocol.OP: op, protocol.TARGET: object.__getattribute__(self, "_id"), protocol.NAME: name}
        if fields:
            request.update(fields)
        return _posted(object.__getattribute__(self, "_session"), request,
                       object.__getattribute__(self, "_type"), object.__getattribute__(self, "_methods"), rules)

    def __neg__(self):
        return self._arithmetic(protocol.UNOP, "__neg__")

    def __pos__(self):
        return self._arithmetic(protocol.UNOP, "__pos__")

    def __abs__(self):
        return self._arithmetic(protocol.UNOP, "__abs__")


class _Method(_Refusing):
    """A method of a student object, called in the sandbox in one round trip (``callmethod``)."""

    __slots__ = ("_owner", "_name")

    def __init__(self, owner: _Proxy, name: str):
        self._owner, self._name = owner, name

    def _kind(self) -> str:
        return f"method `{self._name}`"

    def _type_name(self) -> str:
        return "method"

    def __call__(self, *args, **kwargs):
        owner = self._owner
        rules = object.__getattribute__(owner, "_rules")
        return _call(object.__getattribute__(owner, "_session"), args, kwargs, rules.of_results(),
                     f"`{self._name}`", owner, op=protocol.CALLMETHOD, target=object.__getattribute__(owner, "_id"),
                     name=self._name)

    def many(self, calls: list[tuple], params: list[dict] | None = None) -> list:
        """The method called with each tuple of arguments in ``calls``, 64 calls a round trip (a gradient check's
        evaluations); what each call changes in its arguments is handled as for one call. ``params``: for each call,
        the object's parameters to set before it (gradcheck's protocol for a layer's ``forward.many``)."""
        owner = self._owner
        return _call_many(object.__getattribute__(owner, "_session"), object.__getattribute__(owner, "_id"),
                          self._name, object.__getattribute__(owner, "_rules").of_results(), calls, f"`{self._name}`",
                          params)

    def __repr__(self) -> str:
        return f"<student method {self._name}>"

    def bound(self) -> _Proxy:
        """The bound method as a handle (for passing it on to student code)."""
        session = object.__getattribute__(self._owner, "_session")
        return session.value_of(session.request({protocol.OP: protocol.GETATTR, protocol.NAME: self._name,
                                                 protocol.TARGET: object.__getattribute__(self._owner, "_id")}))


def _binop(name: str):
    def method(self, other):
        # a number is its own encoding (most operands of a chain of arithmetic are)
        encoded = other if type(other) is float or type(other) is int and abs(other) < 2**63 \
            else object.__getattribute__(self, "_session").encode(other)
        return self._arithmetic(protocol.BINOP, name, {protocol.OTHER: encoded})
    method.__name__ = name
    return method


for _name in protocol.BINOPS:
    setattr(_Proxy, _name, _binop(_name))


def _write_back(session: Session, args: tuple, reply: dict, rules: NameRules, what: str,
                kwargs: dict | None = None) -> None:
    """What the student's code changed in arguments it received: copied into the grader's originals for the
    arguments ``rules`` say it changes; for any other, the test fails (the caller's data stays as it was). A grader
    model it was given counts as changed when its parameters did (red team U: a layer_gradient_norms that zeroed
    the caller's weights scored 2/2); a keyword argument may never change."""
    changed, synced = reply.get(protocol.CHANGED_ARGS), reply.get(protocol.SYNCED_PARAMS)
    keywords = reply.get(protocol.CHANGED_KWARGS)
    if not changed and not synced and not keywords:  # most calls: the worker names no argument
        return
    from coursekit.gradcheck import set_parameter

    named = set(map(str, keywords)) if isinstance(keywords, list) else set()
    for name in (kwargs or {}):  # the grader's own names, never the worker's text
        if name in named:
            raise ChangedArgument(messages.CHANGED_ARGUMENT.format(what=what, position=name))

    rebound = dict(reply.get(protocol.REBOUND_KEYS) or {})
    for index, data in dict(changed or {}).items():
        position = int(index)
        if not 0 <= position < len(args):
            continue
        if position not in rules.mutates:
            said = messages.CHANGED_ARGUMENT.format(what=what, position=position + 1)
            if rounded_only(args[position], session.decode(data)):  # a hidden case's words are fixed (master_tests)
                said += f" ({feedback_messages.ROUNDED_ONLY})"
            raise ChangedArgument(said)
        try:
            _update(args[position], session.decode(data), set(map(str, rebound.get(index, []))))
        except _CannotMirror:
            raise ChangedArgument(messages.RESHAPED_ARGUMENT.format(what=what, position=position + 1)) from None
    for index, data in dict(synced or {}).items():
        position = int(index)
        if not 0 <= position < len(args) or isinstance(args[position], (_Refusing, _ClassProxy)):  # the student's
            continue
        model, params = args[position], session.decode(data)
        if position in rules.mutates:  # a grader model that the student trains
            for key, value in (params.items() if isinstance(params, dict) else ()):
                if isinstance(value, np.ndarray) and key in model.params \
                        and np.shape(model.params[key]) == value.shape:
                    set_parameter(model, key, value)
        elif _params_changed(model, params):
            raise ChangedArgument(messages.CHANGED_ARGUMENT.format(what=what, position=position + 1))


def _params_changed(model, params) -> bool:
    """Whether ``params`` (a model's, as the worker read them after a call) differ from ``model``'s own here."""
    own = dict(getattr(model, "params", None) or {})
    if not isinstance(params, dict) or params.keys() != own.keys():
        return True
    return not all(isinstance(value, np.ndarray) and np.shape(own[key]) == value.shape
                   and np.array_equal(np.asarray(own[key]), value, equal_nan=True) for key, value in params.items())


class _CannotMirror(Exception):
    """A change made in the student's process that no write into the grader's same array can make."""


def _update(original, changed, rebound: set[str] = frozenset()) -> None:
    """Apply the student's changes as they happened in its own process: arrays written in place stay the same arrays;
    entries the student replaced (``rebound``) are replaced in the dict only, entries it removed are removed; a list
    that grew or shrank does so here. An array whose shape the code changed in place (``x.shape = ...``,
    ``x.resize``), or that came back as something else, raises _CannotMirror: the caller's array would no longer be
    the one the test goes on checking (red team U: a gradient_check that left x flattened passed, since the grader,
    unable to copy that back, still saw x as it was)."""
    if isinstance(original, np.ndarray):
        if not isinstance(changed, np.ndarray) or changed.shape != original.shape:
            raise _CannotMirror
        original[...] = changed
    elif isinstance(original, dict) and isinstance(changed, dict):
        for key in [key for key in original if key not in changed]:
            del original[key]
        for key, value in changed.items():
            kept = str(key) not in rebound and isinstance(original.get(key), np.ndarray)
            if kept and isinstance(value, np.ndarray) and value.shape == original[key].shape:
                original[key][...] = value
            else:
                original[key] = value
    elif isinstance(original, tuple) and isinstance(changed, tuple) and len(original) == len(changed):
        for inner, value in zip(original, changed, strict=True):  # a tuple's own entries cannot be replaced: the
            if isinstance(inner, (np.ndarray, dict, list, tuple)):     # arrays and containers in it can change
                _update(inner, value)
    elif isinstance(original, list) and isinstance(changed, list):
        shared = min(len(original), len(changed))
        for index, value in enumerate(changed[:shared]):
            inner = original[index]
            same_array = isinstance(inner, np.ndarray) and isinstance(value, np.ndarray) and inner.shape == value.shape
            if same_array or isinstance(inner, (dict, list)) and type(value) is type(inner):
                _update(inner, value)
            else:
                original[index] = value
        del original[shared:]
        original.extend(changed[shared:])
    else:
        raise _CannotMirror


def _posted(session: Session, request: dict, type_name: str, methods: set[str], rules: NameRules) -> _Proxy:
    """Post ``request`` (no waiting), its result kept in the sandbox under a handle the grader names; that handle.
    ``request`` is the caller's own new dict: the handle is added to it."""
    result = request[protocol.RESULT_ID] = session.new_result_id()
    session.post(request)
    return _Proxy(session, result, type_name, methods, rules)


def _posts(value) -> bool:
    """True for an argument that a call cannot change in place: a number, a string, None, or a student object."""
    return type(value) in (bool, int, float, str, type(None)) or isinstance(value, _Proxy)


class _ClassProxy(type):
    """A student class: a real ``type`` (so ``isinstance(x, type)`` holds) whose calls go to the sandbox."""

    _coursekit_steps = staticmethod(_steps)  # for steps on the objects it makes (see batched.in_sandbox)

    @classmethod
    def make(mcs, session: Session, ident: int, name: str, rules: NameRules = NO_RULES,
             methods: set[str] | None = None) -> _ClassProxy:
        """``methods``: what the class's instances answer as methods, as the sandbox listed them."""
        proxy = mcs(name, (), {})
        type.__setattr__(proxy, "_session", session)
        type.__setattr__(proxy, "_id", ident)
        type.__setattr__(proxy, "_rules", rules)
        type.__setattr__(proxy, "_methods", set(methods or ()))
        return proxy

    def __call__(cls, *args, **kwargs):
        """A new instance. Built from numbers, strings and student objects only (a ``Value(2.0)``, a ``Sigmoid()``),
        it is posted as arithmetic is: a graph of a hundred nodes costs no round trip until something is read, and
        an error of the constructor comes with that read (with the line of the learner's code that raised it).
        So is one a check's plan builds from arguments nothing reads again (``batched.made_from_fresh_arguments``).
        Built from arrays or containers otherwise, it is called, and what it did to them is reported at once."""
        if fresh_arguments() or all(_posts(value) for value in (*args, *kwargs.values())):
            session = cls._session
            # Its methods are its class's as far as the grader can tell; each is looked up in the sandbox when called.
            return _posted(session, {protocol.OP: protocol.CALL, protocol.TARGET: cls._id,
                                     protocol.ARGS: session.encode(list(args)),
                                     protocol.KWARGS: session.encode(dict(kwargs))},
                           cls.__name__, cls._methods, cls._rules.of_results())
        return _call(cls._session, args, kwargs, cls._rules, f"`{cls.__name__}`", op=protocol.CALL, target=cls._id)

    def __getattr__(cls, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return cls._session.value_of(cls._session.request(
            {protocol.OP: protocol.GETATTR, protocol.TARGET: cls._id, protocol.NAME: name}), cls._rules)

    def __setattr__(cls, name: str, value) -> None:
        cls._session.value_of(cls._session.request({protocol.OP: protocol.SETATTR, protocol.TARGET: cls._id,
                                                    protocol.NAME: name, protocol.VALUE: cls._session.encode(value)}))

    def __repr__(cls) -> str:
        return f"<student class {cls.__name__}>"

    def __instancecheck__(cls, obj) -> bool:
        if not isinstance(obj, _Proxy):
            return False
        session = cls._session
        reply = session.request({protocol.OP: protocol.ISINSTANCE, protocol.TARGET: object.__getattribute__(obj, "_id"),
                                 protocol.CLASS: cls._id})
        return session.value_of(reply) is True
