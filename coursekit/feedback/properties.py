"""Properties: rules a correct implementation follows whatever the values, declared once per exercise.

An Exercise lists its properties (inputs kept, repeated calls agree, every argument used, rows
treated alone, float64 kept, ...), each with the visible inputs it is checked on. ``check()``
runs them after the value cases pass (``verdict``); the master's hidden tests run the same
declarations, on hidden inputs where the values matter (``hold``). A failed property is named
in fixed words (``Property.words``), which carry no value: that is all a hidden failure shows.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from coursekit.feedback import messages as feedback_messages
from coursekit.feedback.batched import (
    PERTURB_PARAMS,
    again,
    earlier,
    in_sandbox,
    is_again,
    made_from_fresh_arguments,
    offers_steps,
    run_step,
    steps_in_one_trip,
)
from coursekit.feedback.compare import difference, rounded_only, type_name
from coursekit.feedback.result import CheckResult
from coursekit.feedback.widened import made_dtype
from coursekit.i18n import N_, Message

# ---------------------------------------------------------------- every learner-facing sentence of this module
FAILED = N_("{name}: the value cases pass, but {words}\n{detail}")
# {checking}: the words of the mistake the check looks for ("your h is not used"), not of what it hopes to find
RAISED = N_("{name}: the value cases pass, but your code raised {error} in the check for this mistake: {checking}.")
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
LAYER_APART = N_("two layers of this class, in one network, change each other's backward: is something kept outside "
                  "self?")
LAYER_APART_DETAIL = N_("between a layer's forward and its backward, a second layer of the class ran its own forward "
                        "and backward, as in a network that uses the class twice: then {what} differed from what "
                        "the layer gives alone. Keep what backward needs on self (self.x, self.cache), never in a "
                        "variable every layer of the class shares.")
LAYER_LAST = N_("after a pass on another batch, forward and backward gave other results than a new layer: does each "
                "forward keep its own batch?")
LAYER_LAST_DETAIL = N_("the layer ran forward and backward on another batch first, as in training, then forward(x) and "
                       "backward(dout): {what} differed from what a new layer gives for the same x and dout. Each "
                       "forward must replace what the last one kept (self.x = x at every call, not only the first): "
                       "backward follows the last forward.")
LAYER_DTYPE = N_("a float64 input gave a float32 (or smaller) result")
LAYER_DTYPE_DETAIL = N_("{what} has dtype {dtype}. Keep float64: it is what the gradient checks need.")


# ---------------------------------------------------------------- the declaration
Judge = Callable[[Sequence], "str | None"]  # a planned property's verdict on the results of its steps


@dataclass(frozen=True)
class Property:
    """One property of an exercise.

    ``words`` name it without any value (all a hidden failure shows); ``rule(obj, *inputs)`` returns a detail in
    words when ``obj`` breaks it (the visible inputs may appear there), None otherwise. ``by_case``: its inputs are
    cases (argument tuples, or functions that make one) that a hidden test may replace with its own.

    ``plan``, instead of ``rule``, for a property whose calls are all known before any is made:
    ``plan(obj, *inputs)`` returns its steps (see ``batched.run_step``) and the judge of their results. The steps go
    to the grader's sandbox in one round trip, with those of the exercise's other planned properties (``verdict``,
    ``hold``); a judge reads the results in order, and a step is only made when it reads it when the steps go one
    at a time (a learner's kernel, or a step that raised).
    """

    words: Message | str
    rule: Callable[..., str | None] | None = None
    inputs: tuple = ()
    by_case: bool = False
    plan: Callable[..., tuple[list, Judge]] | None = None

    def __post_init__(self) -> None:
        if (self.rule is None) == (self.plan is None):
            raise TypeError(f"the property {self.words!r} needs a rule or a plan (one of them)")

    def on(self, *inputs) -> Property:
        """The same property, checked on other inputs (a hidden test's cases)."""
        return dataclasses.replace(self, inputs=tuple(inputs))

    def problem(self, obj) -> str | None:
        """The detail of how ``obj`` breaks this property on its inputs; None when it holds."""
        if self.plan is None:
            return self.rule(obj, *self.inputs)
        steps, judge = self.plan(obj, *self.inputs)
        if offers_steps(steps):
            results = steps_in_one_trip(steps)
            if results is not None:
                return judge(results)
            steps, judge = self.plan(obj, *self.inputs)  # a step raised: again from new objects, one at a time
        return judge(_OneByOne(steps))


class _OneByOne(Sequence):
    """The results of ``steps``, each step made when it is first read (in order: a judge that stops early leaves
    the rest unmade, as code that calls one by one would)."""

    def __init__(self, steps: list):
        self.steps, self.made = steps, []

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        # by position: Sequence's own iteration ends at the first IndexError, and a step of the learner's code that
        # raised one would end the judge's calls early, the property holding (red team U)
        for index in range(len(self.steps)):
            yield self[index]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.steps)))]
        index = index + len(self.steps) if index < 0 else index
        while len(self.made) <= index:
            position = len(self.made)
            step = self.steps[position]
            self.made.append(self.made[earlier(self.steps, position)] if is_again(step) else run_step(step))
        return self.made[index]


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
            parts.append(f"<{type_name(value)} of {len(value)}>")
        else:
            parts.append(repr(value) if isinstance(value, str) else f"<{type_name(value)}>")
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


# ---------------------------------------------------------------- functions: generic properties on cases
def _calls(func, calls: list[tuple]) -> list[tuple]:
    return [(func, None, args) for args in calls]


def inputs_kept(*cases, positions: Sequence[int] | None = None) -> Property:
    """The function leaves its arguments (those at ``positions``, default all) as they were, nested arrays too."""
    def plan(func, *cases):
        calls = [_args(case) for case in cases]
        originals = copy.deepcopy(calls)

        def judge(results):
            list(results)  # every call made first (one at a time too), then what each did to its arguments
            for args, kept in zip(calls, originals, strict=True):
                for index, (before, after) in enumerate(zip(kept, args, strict=True)):
                    if (positions is None or index in positions) and not _same(before, after):
                        detail = INPUT_CHANGED_DETAIL.format(index=index + 1)
                        if rounded_only(before, after):
                            detail += f" {feedback_messages.ROUNDED_ONLY}"
                        return ON_CASE.format(case=_short(kept), detail=detail)
            return None
        return _calls(func, calls), judge
    return Property(INPUT_CHANGED, inputs=cases, by_case=True, plan=plan)


def repeatable(*cases) -> Property:
    """Calling again with the same arguments, after calls with the others, gives the same result."""
    def plan(func, *cases):
        calls = [_args(case) for case in cases] + [_args(case) for case in reversed(cases)]

        def judge(results):
            for index, case in enumerate(cases):
                if not _agree(results[index], results[len(calls) - 1 - index]):
                    return ON_CASE.format(case=_short(_args(case)), detail=REPEAT_DETAIL)
            return None
        return _calls(func, calls), judge
    return Property(REPEAT, inputs=cases, by_case=True, plan=plan)


@dataclass(frozen=True)
class ChangedBy:
    """For ``honours``: the argument's new value made from the case's arguments (``change(args)``), for cases whose
    arguments differ in shape (a hidden test's network of other sizes)."""

    change: Callable[[tuple], object]


def honours(argument: str, position: int, other, *cases) -> Property:
    """Changing the argument at ``position`` (named ``argument`` in messages) to ``other`` (a value, or a
    ``ChangedBy``) changes the result: the argument is used, and no result is kept from a call that differed only
    in it (code that remembers its results by the other arguments, or by their shapes, answers the first again)."""
    def plan(func, *cases):
        given = [_args(case) for case in cases]
        others = [other.change(copy.deepcopy(args)) if isinstance(other, ChangedBy) else other for args in given]
        calls = [call for args, new in zip(given, others, strict=True)
                 for call in (copy.deepcopy(args), args[:position] + (new,) + args[position + 1:])]

        def judge(results):
            for index, (args, new) in enumerate(zip(given, others, strict=True)):
                if _agree(results[2 * index], results[2 * index + 1]):
                    return ON_CASE.format(case=_short(args), detail=UNUSED_DETAIL.format(
                        argument=argument, before=_short((args[position],))[1:-1], after=_short((new,))[1:-1]))
            return None
        return _calls(func, calls), judge
    return Property(UNUSED.bind(argument=argument), inputs=cases, by_case=True, plan=plan)


def row_wise(join: Callable[[list, int], object], *cases, batched: Sequence[int] = (0,)) -> Property:
    """The result for a batch is ``join(results of each row alone, number of rows)``: the arguments at ``batched``
    are split along their first axis, the others are passed whole."""
    def plan(func, *cases):
        calls, groups = [], []  # groups: (the case's arguments, its rows, where its calls start)
        for case in cases:
            args = _args(case)
            rows = len(args[batched[0]])
            groups.append((args, rows, len(calls)))
            calls += [tuple(arg[i:i + 1] if index in batched else copy.deepcopy(arg)
                            for index, arg in enumerate(args)) for i in range(rows)] + [args]

        steps = _calls(func, calls)
        # each row's result read again once its case's calls are all made: a result the function changes at a later
        # call (a buffer it keeps and returns again) is joined as the caller holding it would find it
        read_again = len(steps)
        steps += [again(steps[start + i]) for _, rows, start in groups for i in range(rows)]

        def judge(results):
            position = read_again
            for args, rows, start in groups:
                alone, whole = [results[position + i] for i in range(rows)], results[start + rows]
                position += rows
                found = difference(whole, join(alone, rows), rtol=1e-9, atol=1e-12)
                if found:
                    return ON_CASE.format(case=_short(args), detail=ROWS_DETAIL.format(difference=found))
            return None
        return steps, judge
    return Property(ROWS, inputs=cases, by_case=True, plan=plan)


def _narrow_dtype(value) -> str | None:
    """The dtype of the first floating array in ``value`` narrower than float64, if any (as the learner's code made
    it: the grader widens what it receives, see ``coursekit.feedback.widened``)."""
    if isinstance(value, np.ndarray):
        dtype = made_dtype(value)
        return str(dtype) if dtype.kind == "f" and dtype.itemsize < 8 else None
    if isinstance(value, np.floating):
        return str(value.dtype) if value.dtype.itemsize < 8 else None
    if isinstance(value, (list, tuple)):
        return next((found for found in map(_narrow_dtype, value) if found), None)
    if isinstance(value, dict):
        return next((found for found in map(_narrow_dtype, value.values()) if found), None)
    return None


def dtype_kept(*cases) -> Property:
    """With float64 inputs, no result is a narrower float."""
    def plan(func, *cases):
        def judge(results):
            for index, case in enumerate(cases):
                narrow = _narrow_dtype(results[index])
                if narrow:
                    return ON_CASE.format(case=_short(_args(case)), detail=DTYPE_DETAIL.format(dtype=narrow))
            return None
        return _calls(func, [_args(case) for case in cases]), judge
    return Property(DTYPE, inputs=cases, by_case=True, plan=plan)


# ---------------------------------------------------------------- layers: forward(x) and backward(dout)
def _as_grads(grads) -> dict:
    return {key: np.array(value, dtype=np.float64, copy=True) for key, value in dict(grads).items()}


def _as_float64(value) -> np.ndarray:
    return np.array(value, dtype=np.float64)


def layer_inputs_kept(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """forward leaves x as it was, backward leaves dout (``make(cls)`` builds a layer)."""
    def plan(cls, make, x, dout):
        layer, given_x, given_dout = make(cls), x.copy(), dout.copy()

        def judge(results):
            results[0]  # forward made (one step at a time: backward not yet)
            if not np.array_equal(given_x, x):
                return LAYER_INPUT_DETAIL.format(method="forward", argument="x")
            results[1]  # backward made
            if not np.array_equal(given_dout, dout):
                return LAYER_INPUT_DETAIL.format(method="backward", argument="dout")
            return None
        return [(layer, "forward", (given_x,)), (layer, "backward", (given_dout,))], judge
    return Property(LAYER_INPUT, inputs=(make, x, dout), plan=plan)


def layer_repeatable(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """A second backward, and a second forward and backward, on the same layer and data give the same results."""
    def plan(cls, make, x, dout):
        layer = make(cls)
        forward, backward, grads = (layer, "forward", (x.copy(),)), (layer, "backward", (dout.copy(),)), \
            (layer, "grads", None)
        steps = [forward, backward, grads,                                          # 0 1 2: the first pass
                 (layer, "backward", (dout.copy(),)), grads,                         # 3 4: backward again
                 (layer, "forward", (x.copy(),)), (layer, "backward", (dout.copy(),)), grads]  # 5 6 7: both again

        def judge(results):
            out, dx, first = _as_float64(results[0]), _as_float64(results[1]), _as_grads(results[2])
            for forward_again, dx_again, grads_again in ((None, 3, 4), (5, 6, 7)):
                if forward_again is not None and not _agree(out, _as_float64(results[forward_again])):
                    return LAYER_REPEAT_DETAIL.format(what=THE_OUTPUT_OF_FORWARD)
                if not _agree(dx, _as_float64(results[dx_again])):
                    return LAYER_REPEAT_DETAIL.format(what="dx")
                now = _as_grads(results[grads_again])
                if now.keys() != first.keys() or any(not _agree(first[key], now[key]) for key in first):
                    return LAYER_REPEAT_DETAIL.format(what="grads")
            return None
        return steps, judge
    return Property(LAYER_REPEAT, inputs=(make, x, dout), plan=plan)


def layer_instances_apart(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """Two layers of the class keep apart what forward keeps for backward: a layer's backward, with a second layer's
    forward and backward run between (as a network that uses the class twice runs them), gives what it gives alone.
    (A cache at module level, or on the class, passes every check of one layer at a time, and is wrong in any
    network: red team U's Sigmoid, Linear and LayerNorm scored full marks so.)"""
    def plan(cls, make, x, dout):
        first, second = make(cls), make(cls)  # the first alone, then again with the second's pass between
        other_x, other_dout = 0.5 - 0.75 * x[::-1], 1.5 * dout[::-1]  # another batch of the same shape, other signs
        # The second's parameters are then made other than the first's: a params dict the two share (a mutable
        # default argument: red team W) changes the first's too, which two layers made alike would hide.
        steps = [(first, "params", None), (first, "forward", (x.copy(),)), (first, "backward", (dout.copy(),)),  # 0-2
                 (first, "grads", None), (second, PERTURB_PARAMS, ()),                                           # 3 4
                 (first, "forward", (x.copy(),)), (second, "forward", (other_x,)),                              # 5 6
                 (second, "backward", (other_dout,)), (second, "grads", None),                                  # 7 8
                 (first, "backward", (dout.copy(),)), (first, "grads", None), (second, "grads", None),          # 9-11
                 (first, "params", None)]                                                                        # 12

        def judge(results):
            # each copied as it is read: one step at a time (a learner's kernel), the later ones are not made yet
            own, dx, grads = _as_grads(results[0]), _as_float64(results[2]), _as_grads(results[3])
            second_own = _as_grads(results[8])
            if not _agree(dx, _as_float64(results[9])):
                return LAYER_APART_DETAIL.format(what="dx")
            # the first's grads as alone; the second's as its own backward left them (a grads dict both share holds
            # whichever ran last); the first's params as they were
            for what, before, after in (("grads", grads, _as_grads(results[10])),
                                        ("grads", second_own, _as_grads(results[11])),
                                        ("params", own, _as_grads(results[12]))):
                if after.keys() != before.keys() or any(not _agree(before[key], after[key]) for key in before):
                    return LAYER_APART_DETAIL.format(what=what)
            return None
        return steps, judge
    return Property(LAYER_APART, inputs=(make, x, dout), plan=plan)


def layer_follows_last_forward(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """backward follows the last forward: a layer that ran forward and backward on another batch first (of x's shape,
    other values; then, again, on a smaller one) gives for x and dout what a new layer gives. (A layer that keeps
    only its first forward's input, ``if not hasattr(self, "x")``, passes every check that uses one batch per layer,
    and is wrong from a training loop's second batch on: red team Z4.)"""
    def plan(cls, make, x, dout):
        fresh, used = make(cls), make(cls)
        other_x, other_dout = 0.5 - 0.75 * x[::-1], 1.5 * dout[::-1]  # x's shape, other values and signs
        again = [(used, "forward", (x.copy(),)), (used, "backward", (dout.copy(),)), (used, "grads", None)]
        steps = [(fresh, "forward", (x.copy(),)), (fresh, "backward", (dout.copy(),)), (fresh, "grads", None),  # 0-2
                 (used, "forward", (other_x,)), (used, "backward", (other_dout,)), *again]                     # 3-7
        if len(x) > 1:  # then a batch of another size (a buffer that the first forward made cannot take it)
            steps += [(used, "forward", (1.25 * x[1:] - 0.25,)), (used, "backward", (-dout[1:],)), *again]  # 8-12

        def judge(results):
            out, dx, grads = _as_float64(results[0]), _as_float64(results[1]), _as_grads(results[2])
            for start in range(5, len(steps), 5):  # in order: one step at a time, a failure found is reported first
                if not _agree(out, _as_float64(results[start])):
                    return LAYER_LAST_DETAIL.format(what=THE_OUTPUT_OF_FORWARD)
                if not _agree(dx, _as_float64(results[start + 1])):
                    return LAYER_LAST_DETAIL.format(what="dx")
                now = _as_grads(results[start + 2])
                if now.keys() != grads.keys() or any(not _agree(grads[key], now[key]) for key in grads):
                    return LAYER_LAST_DETAIL.format(what="grads")
            return None
        return steps, judge
    return Property(LAYER_LAST, inputs=(make, x, dout), plan=plan)


def layer_dtype_kept(make: Callable, x: np.ndarray, dout: np.ndarray) -> Property:
    """With float64 x and dout, forward's output, dx and every gradient stay float64."""
    def plan(cls, make, x, dout):
        layer = make(cls)

        def judge(results):
            for what, index in ((THE_OUTPUT_OF_FORWARD, 0), ("dx", 1), ("grads", 2)):
                narrow = _narrow_dtype(dict(results[index]) if index == 2 else results[index])
                if narrow:
                    return LAYER_DTYPE_DETAIL.format(what=what, dtype=narrow)
            return None
        return [(layer, "forward", (x.copy(),)), (layer, "backward", (dout.copy(),)), (layer, "grads", None)], judge
    return Property(LAYER_DTYPE, inputs=(make, x, dout), plan=plan)


def layer_properties(make: Callable, x: np.ndarray, dout: np.ndarray) -> list[Property]:
    """Every property a layer follows: its inputs kept, repeated passes agree, float64 kept, two layers apart,
    backward following the last forward."""
    return [layer_inputs_kept(make, x, dout), layer_repeatable(make, x, dout), layer_dtype_kept(make, x, dout),
            layer_instances_apart(make, x, dout), layer_follows_last_forward(make, x, dout)]


# ---------------------------------------------------------------- applying them
def _kind(error: BaseException) -> str:
    name = type(error).__name__
    return f"`{name}`" if getattr(builtins, name, None) is type(error) else OWN_EXCEPTION


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without NumPy's warnings: an overflow a property provokes is judged, not shown."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _checks(properties: Sequence[Property], obj) -> list[Callable[[], str | None]]:
    """For each of ``properties``, what finds the detail of how ``obj`` breaks it (None when it holds), to be called
    in order. The steps of the planned ones are made first, all in one round trip to the grader's sandbox, and each
    is then only judged; the others, or all of them should a step raise, are checked alone."""
    checks = [functools.partial(_checked, prop, obj) for prop in properties]
    if not in_sandbox(obj):  # a learner's kernel: nothing to save, nothing made before it is checked
        return checks
    planned = []
    for index, prop in enumerate(properties):
        if prop.plan is not None:
            try:
                with made_from_fresh_arguments():  # a plan's layers: built without a round trip each
                    planned.append((index, *prop.plan(obj, *prop.inputs)))
            except Exception:  # noqa: BLE001 -- raised again when this property is checked alone, and reported then
                pass
    steps = [step for _, some, _ in planned for step in some]
    if len(planned) < 2 or not offers_steps(steps):  # one alone goes in one trip anyway
        return checks
    with _quiet():
        results = steps_in_one_trip(steps)
    if results is not None:
        start = 0
        for index, some, judge in planned:
            checks[index] = functools.partial(_judged, judge, results[start:start + len(some)])
            start += len(some)
    return checks


def _checked(prop: Property, obj) -> str | None:
    with _quiet():
        return prop.problem(obj)


def _judged(judge: Judge, results: list) -> str | None:
    with _quiet():
        return judge(results)


def verdict(name: str, properties: Sequence[Property], obj) -> CheckResult | None:
    """check()'s verdict on the first property ``obj`` breaks, on the visible inputs; None when all hold.

    An AssertionError is the property's failure (the grader raises one when student code changes an argument it
    was sent); any other exception of the learner's code is an error, named with the property being checked.
    """
    for prop, check in zip(properties, _checks(properties, obj), strict=True):
        try:
            detail = check()
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
    checked = [prop.on(*cases) if cases is not None and prop.by_case else prop for prop in exercise.properties]
    for prop, check in zip(exercise.properties, _checks(checked, obj), strict=True):
        try:
            detail = check()
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
