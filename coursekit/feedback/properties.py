"""Properties: rules a correct implementation follows whatever the values, declared once per exercise.

An Exercise lists its properties (inputs kept, repeated calls agree, every argument used, rows
treated alone, float64 kept, ...), each with the visible inputs it is checked on. ``check()``
runs them after the value cases pass (``verdict``); the master's hidden tests run the same
declarations, on hidden inputs where the values matter (``hold``). A failed property is named
in fixed words (``Property.words``), which carry no value: that is all a hidden failure shows.
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coursekit.feedback.batched import in_one_trip
from coursekit.feedback.compare import difference
from coursekit.feedback.result import CheckResult
from coursekit.i18n import N_, Message

# ---------------------------------------------------------------- every learner-facing sentence of this module
FAILED = N_("{name}: the value cases pass, but {words}\n{detail}")
RAISED = N_("{name}: the value cases pass, but your code raised {error} while checking that {checking}.")
HIDDEN = N_("a hidden test found that {words}")  # fixed words only: never a hidden value
HIDDEN_RAISED = N_("a hidden test found that {words}: your code raised {kind}")
OWN_EXCEPTION = N_("an exception of your own")
ON_CASE = N_("On the case {case}: {detail}")
SENTENCE = N_("{words}.")  # a property's words closing a sentence (unless they end in a question mark)
ARRAY_OF_SHAPE = N_("array of shape {shape}")
THE_OUTPUT_OF_FORWARD = N_("the output of forward")

INPUT_CHANGED = N_("your code changed an argument you were given")
INPUT_CHANGED_DETAIL = N_("argument {index} was changed in place. The caller still needs it: work on a copy.")
REPEAT = N_("a second call gave a different result: is something kept between calls?")
REPEAT_DETAIL = N_("called again with the same arguments, after other calls, it gave another result. Keep nothing "
                   "between calls (a list or a total at module level, a value added up across calls).")
UNUSED = N_("your {argument} is not used")
UNUSED_DETAIL = N_("changing {argument} from {before} to {after} did not change the result.")
ROWS = N_("each row of a batch should be treated on its own")
ROWS_DETAIL = N_("the result for the batch differs from the results of its rows computed one by one ({difference}) "
                 "Compute per row (reduce with axis=..., keepdims=True), not over the whole batch: a row with large "
                 "values must not change the others.")
DTYPE = N_("float64 input gave a float32 (or smaller) result")
DTYPE_DETAIL = N_("a result array has dtype {dtype}. Keep float64 (no astype(np.float32), no float32 arrays).")
LAYER_INPUT = N_("forward or backward changed the array you passed in")
LAYER_INPUT_DETAIL = N_("{method}({argument}) wrote into {argument}. Build a new array (np.where, or an expression).")
LAYER_REPEAT = N_("a second forward and backward gave different results: is something kept between calls?")
LAYER_REPEAT_DETAIL = N_("with the same x and dout, a second pass changed {what}. Each backward must set "
                         "grads afresh (=, not +=) and leave the cache that forward kept as it was.")
LAYER_DTYPE = N_("a float64 input gave a float32 (or smaller) result")
LAYER_DTYPE_DETAIL = N_("{what} has dtype {dtype}. Keep float64: it is what the gradient checks need.")


# ---------------------------------------------------------------- the declaration
@dataclass(frozen=True)
class Property:
    """One property of an exercise.

    ``words`` name it without any value (all a hidden failure shows); ``rule(obj, *inputs)`` returns a detail in
    words when ``obj`` breaks it (the visible inputs may appear there), None otherwise. ``by_case``: its inputs are
    cases (argument tuples, or functions that make one) that a hidden test may replace with its own.
    """

    words: Message | str
    rule: Callable[..., str | None]
    inputs: tuple = ()
    by_case: bool = False

    def on(self, *inputs) -> Property:
        """The same property, checked on other inputs (a hidden test's cases)."""
        return dataclasses.replace(self, inputs=tuple(inputs))

    def problem(self, obj) -> str | None:
        """The detail of how ``obj`` breaks this property on its inputs; None when it holds."""
        return self.rule(obj, *self.inputs)


def _args(case) -> tuple:
    """Fresh arguments of one case (a tuple, or a function that makes them: a model that a call trains); a copy, so
    that code that writes into them never changes the declared inputs."""
    return tuple(case()) if callable(case) else copy.deepcopy(tuple(case))


def _short(args: tuple) -> str:
    parts = []
    for value in args:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{value:g}")
        elif getattr(value, "__name__", None):
            parts.append(value.__name__)
        elif isinstance(value, np.ndarray):
            parts.append(ARRAY_OF_SHAPE.format(shape=value.shape))
        elif isinstance(value, (list, tuple, dict)):
            parts.append(f"<{type(value).__name__} of {len(value)}>")
        else:
            parts.append(repr(value) if isinstance(value, str) else f"<{type(value).__name__}>")
    return "(" + ", ".join(parts) + ")"


def _same(before, after) -> bool:
    """Whether ``after`` still equals ``before``: arrays exactly, containers part by part, other objects as they are."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and \
            np.array_equal(before, after, equal_nan=True)
    if isinstance(before, (list, tuple)):
        return type(before) is type(after) and len(before) == len(after) and \
            all(_same(b, a) for b, a in zip(before, after, strict=True))
    if isinstance(before, dict):
        return isinstance(after, dict) and before.keys() == after.keys() and all(_same(before[k], after[k])
                                                                                  for k in before)
    if isinstance(before, (int, float, str, bool, complex)) or before is None:
        return type(before) is type(after) and (before == after or before != before)
    if callable(before):  # a function given in a list: the same one must still be there
        return before is after
    return True  # a model, a generator: not data whose change this compares


def _agree(first, second) -> bool:
    return difference(second, first, rtol=1e-12, atol=1e-300) is None if not isinstance(first, str) else first == second


def _each(func, calls: list[tuple]) -> list:
    """``func(*args)`` for each ``args`` of ``calls``, in order: in one round trip where the grader's sandbox offers it
    (argument changes come back as a single call's do), one by one otherwise or should one raise, so that its
    exception is raised as a single call raises it."""
    results = in_one_trip(func, calls)
    return results if results is not None else [func(*args) for args in calls]


# ---------------------------------------------------------------- functions: generic properties on cases
def inputs_kept(*cases, positions: Sequence[int] | None = None) -> Property:
    """The function leaves its arguments (those at ``positions``, default all) as they were, nested arrays too."""
    def rule(func, *cases):
        calls = [_args(case) for case in cases]
        originals = copy.deepcopy(calls)
        _each(func, calls)
        for args, kept in zip(calls, originals, strict=True):
            for index, (before, after) in enumerate(zip(kept, args, strict=True)):
                if (positions is None or index in positions) and not _same(before, after):
                    return ON_CASE.format(case=_short(kept), detail=INPUT_CHANGED_DETAIL.format(index=index + 1))
        return None
    return Property(INPUT_CHANGED, rule, cases, by_case=True)


def repeatable(*cases) -> Property:
    """Calling again with the same arguments, after calls with the others, gives the same result."""
    def rule(func, *cases):
        if not cases:
            return None
        results = _each(func, [_args(case) for case in cases] + [_args(case) for case in reversed(cases)])
        first, again = results[:len(cases)], results[len(cases):][::-1]
        for case, one, two in zip(cases, first, again, strict=True):
            if not _agree(one, two):
                return ON_CASE.format(case=_short(_args(case)), detail=REPEAT_DETAIL)
        return None
    return Property(REPEAT, rule, cases, by_case=True)


def honours(argument: str, position: int, other, *cases) -> Property:
    """Changing the argument at ``position`` (named ``argument`` in messages) to ``other`` changes the result."""
    def rule(func, *cases):
        for case in cases:
            args = _args(case)
            changed = args[:position] + (other,) + args[position + 1:]
            if _agree(*_each(func, [copy.deepcopy(args), changed])):
                return ON_CASE.format(case=_short(args), detail=UNUSED_DETAIL.format(
                    argument=argument, before=_short((args[position],))[1:-1], after=_short((other,))[1:-1]))
        return None
    return Property(UNUSED.bind(argument=argument), rule, cases, by_case=True)


def row_wise(join: Callable[[list, int], object], *cases, batched: Sequence[int] = (0,)) -> Property:
    """The result for a batch is ``join(results of each row alone, number of rows)``: the arguments at ``batched``
    are split along their first axis, the others are passed whole."""
    def rule(func, *cases):
        for case in cases:
            args = _args(case)
            rows = len(args[batched[0]])
            *alone, whole = _each(func, [tuple(arg[i:i + 1] if index in batched else copy.deepcopy(arg)
                                               for index, arg in enumerate(args)) for i in range(rows)] + [args])
            found = difference(whole, join(alone, rows), rtol=1e-9, atol=1e-12)
            if found:
                return ON_CASE.format(case=_short(args), detail=ROWS_DETAIL.format(difference=found))
        return None
    return Property(ROWS, rule, cases, by_case=True)


def _narrow_dtype(value) -> str | None:
    """The dtype of the first floating array in ``value`` narrower than float64, if any."""
    if isinstance(value, np.ndarray):
        return str(value.dtype) if value.dtype.kind == "f" and value.dtype.itemsize < 8 else None
    if isinstance(value, np.floating):
        return str(value.dtype) if value.dtype.itemsize < 8 else None
    if isinstance(value, (list, tuple)):
        return next((found for found in map(_narrow_dtype, value) if found), None)
    if isinstance(value, dict):
        return next((found for found in map(_narrow_dtype, value.values()) if found), None)
    return None


def dtype_kept(*cases) -> Property:
    """With float64 inputs, no result is a narrower float."""
    def rule(func, *cases):
        for case in cases:
            narrow = _narrow_dtype(func(*_args(case)))
            if narrow:
                return ON_CASE.format(case=_short(_args(case)), detail=DTYPE_DETAIL.format(dtype=narrow))
        return None
    return Property(DTYPE, rule, cases, by_case=True)


# ---------------------------------------------------------------- layers: forward(x) and backward(dout)
def _grads_of(layer) -> dict:
    return {key: np.array(value, dtype=np.float64, copy=True) for key, value in dict(layer.grads).items()}


def layer_inputs_kept(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """forward leaves x as it was, backward leaves dout (``make(cls)`` builds a layer)."""
    def rule(cls, make, x, dout):
        layer, given = make(cls), x.copy()
        layer.forward(given)
        if not np.array_equal(given, x):
            return LAYER_INPUT_DETAIL.format(method="forward", argument="x")
        given = dout.copy()
        layer.backward(given)
        if not np.array_equal(given, dout):
            return LAYER_INPUT_DETAIL.format(method="backward", argument="dout")
        return None
    return Property(LAYER_INPUT, rule, (make, x, dout))


def layer_repeatable(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """A second backward, and a second forward and backward, on the same layer and data give the same results."""
    def rule(cls, make, x, dout):
        layer = make(cls)
        out = np.array(layer.forward(x.copy()), dtype=np.float64)
        dx = np.array(layer.backward(dout.copy()), dtype=np.float64)
        grads = _grads_of(layer)
        for step in ("backward", "forward"):
            if step == "forward":
                if not _agree(out, np.array(layer.forward(x.copy()), dtype=np.float64)):
                    return LAYER_REPEAT_DETAIL.format(what=THE_OUTPUT_OF_FORWARD)
            again = np.array(layer.backward(dout.copy()), dtype=np.float64)
            if not _agree(dx, again):
                return LAYER_REPEAT_DETAIL.format(what="dx")
            now = _grads_of(layer)
            if now.keys() != grads.keys() or any(not _agree(grads[key], now[key]) for key in grads):
                return LAYER_REPEAT_DETAIL.format(what="grads")
        return None
    return Property(LAYER_REPEAT, rule, (make, x, dout))


def layer_dtype_kept(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """With float64 x and dout, forward's output, dx and every gradient stay float64."""
    def rule(cls, make, x, dout):
        layer = make(cls)
        for what, value in ((THE_OUTPUT_OF_FORWARD, layer.forward(x.copy())),
                            ("dx", layer.backward(dout.copy())), ("grads", dict(layer.grads))):
            narrow = _narrow_dtype(value)
            if narrow:
                return LAYER_DTYPE_DETAIL.format(what=what, dtype=narrow)
        return None
    return Property(LAYER_DTYPE, rule, (make, x, dout))


def layer_properties(make: Callable, x: np.ndarray, dout: np.ndarray) -> list[Property]:
    """Every property a layer follows: its inputs kept, repeated passes agree, float64 kept."""
    return [layer_inputs_kept(make, x, dout), layer_repeatable(make, x, dout), layer_dtype_kept(make, x, dout)]


# ---------------------------------------------------------------- applying them
def _kind(error: BaseException) -> str:
    name = type(error).__name__
    return f"`{name}`" if getattr(builtins, name, None) is type(error) else OWN_EXCEPTION


def _quietly(prop: Property, obj) -> str | None:
    """``prop.problem(obj)`` without NumPy's warnings: an overflow the property provokes is judged, not shown."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return prop.problem(obj)


def verdict(name: str, properties: Sequence[Property], obj) -> CheckResult | None:
    """check()'s verdict on the first property ``obj`` breaks, on the visible inputs; None when all hold.

    An AssertionError is the property's failure (the grader raises one when student code changes an argument it
    was sent); any other exception of the learner's code is an error, named with the property being checked.
    """
    for prop in properties:
        try:
            detail = _quietly(prop, obj)
        except AssertionError as failure:
            if getattr(failure, "from_student", False):
                return CheckResult(name, "error", RAISED.format(name=name, error=f"AssertionError: {failure}",
                                                                checking=prop.words))
            detail = str(failure)
        except Exception as error:  # noqa: BLE001 -- the learner's code failed on a visible input: say so
            return CheckResult(name, "error", RAISED.format(name=name, error=f"{type(error).__name__}: {error}",
                                                            checking=prop.words))
        if detail:
            words = str(prop.words)
            words = words if words.endswith(("?", "？")) else SENTENCE.format(words=words)
            return CheckResult(name, "failed", FAILED.format(name=name, words=words, detail=detail))
    return None


def hold(exercise, obj, cases: Sequence | None = None) -> None:
    """For a master's hidden test: raise AssertionError, naming the property in words and no value, unless ``obj``
    has every property ``exercise`` declares; ``cases`` (hidden) replace the visible cases of properties on cases.

    An exception of the student's code (one the grader marks ``from_student``) is reported by its kind only.
    """
    for prop in exercise.properties:
        checked = prop.on(*cases) if cases is not None and prop.by_case else prop
        try:
            detail = _quietly(checked, obj)
        except AssertionError as failure:
            if getattr(failure, "from_student", False):
                raise AssertionError(HIDDEN_RAISED.format(words=prop.words, kind="`AssertionError`")) from None
            raise AssertionError(HIDDEN.format(words=prop.words)) from None
        except Exception as error:
            if getattr(error, "from_student", False):
                raise AssertionError(HIDDEN_RAISED.format(words=prop.words, kind=_kind(error))) from None
            raise
        if detail:
            raise AssertionError(HIDDEN.format(words=prop.words))
