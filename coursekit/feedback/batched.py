"""Calls to a learner's code in one round trip, where the grader's sandbox offers it.

In the grader a learner's function or object is a proxy whose class has ``_coursekit_many`` (a list of calls of one
function) and ``_coursekit_steps`` (steps on several objects: calls, method calls, attribute reads): they go to the
sandbox in one message, and each call's changes to its arguments come back as a single call's would. Elsewhere (a
learner's own kernel) there is nothing to save, and the callers call one by one.
"""

from __future__ import annotations

import contextlib
import contextvars
import operator
from collections.abc import Callable, Iterator, Sequence

import numpy as np


def in_one_trip(func: Callable, calls: Sequence[tuple]) -> list | None:
    """``[func(*args) for args in calls]`` in one round trip when ``func`` offers it; None when it does not, or when a
    call raised (the caller then runs them one by one, so that the failing call is found and reported alone)."""
    many = getattr(type(func), "_coursekit_many", None)
    if many is None:
        return None
    try:
        return list(many(func, list(calls)))
    except Exception:  # noqa: BLE001 -- found again by the caller, one call at a time
        return None


def chained(value, steps: Sequence[tuple[str, object]], count: int):
    """``value``, then for each of ``count`` rounds each ``(operator, operand)`` of ``steps`` applied to the result so
    far: ``chained(x, [("__mul__", 1.0001)], 1500)`` is a chain of 1,500 multiplications. A learner's object in the
    grader's sandbox makes the chain there, from one message; anywhere else, the operations run here."""
    chain = getattr(type(value), "_coursekit_chain", None)
    if chain is not None and steps and count > 0:
        return chain(value, list(steps), count)
    operations = [(_operator(name), other) for name, other in steps]
    for _ in range(count):
        for operation, other in operations:
            value = operation(value, other)
    return value


def _operator(name: str) -> Callable:
    """``"__mul__"`` -> ``a * b``, ``"__rsub__"`` -> ``b - a``: Python's own operators, reflected operands included."""
    plain = name.strip("_")
    if plain.startswith("r"):  # none of the forwarded operators' own names starts with r
        function = getattr(operator, plain[1:])
        return lambda a, b: function(b, a)
    return getattr(operator, plain)


_FRESH_ARGUMENTS = contextvars.ContextVar("coursekit_fresh_arguments", default=False)


@contextlib.contextmanager
def made_from_fresh_arguments() -> Iterator[None]:
    """While a check plans its steps: what it builds (a layer, ``make(cls)``) is built from arguments of its own,
    which nothing reads again (a literal list, a new random generator). In the grader's sandbox such an object is then
    built as one built from numbers is, without waiting for an answer: what its constructor did to those arguments
    matters to no one, and an error of the constructor comes with the steps' round trip."""
    token = _FRESH_ARGUMENTS.set(True)
    try:
        yield
    finally:
        _FRESH_ARGUMENTS.reset(token)


def fresh_arguments() -> bool:
    """Whether what is built now is built from arguments nothing reads again (``made_from_fresh_arguments``)."""
    return _FRESH_ARGUMENTS.get()


def in_sandbox(obj) -> bool:
    """Whether ``obj`` (an object, a function or a class) is a learner's, in the grader's sandbox: its steps can go in
    one round trip (``steps_in_one_trip``)."""
    return getattr(type(obj), "_coursekit_steps", None) is not None


def offers_steps(steps: Sequence[tuple]) -> bool:
    """Whether ``steps`` can go in one round trip (``steps_in_one_trip``): their objects are in the grader's sandbox."""
    return bool(steps) and not is_again(steps[0]) and in_sandbox(steps[0][0])


def steps_in_one_trip(steps: Sequence[tuple]) -> list | None:
    """``[run_step(step) for step in steps]`` in one round trip (a few, past the sandbox's batch size) when their
    objects offer it; None when they do not, or when a step raised (the caller then starts again, from new objects,
    one step at a time, so that the failing step is found and reported alone)."""
    if not offers_steps(steps):
        return None
    try:
        return run_steps(steps)
    except Exception:  # noqa: BLE001 -- found again by the caller, one step at a time
        return None


def run_steps(steps: Sequence[tuple]) -> list:
    """``[run_step(step) for step in steps]``: in one round trip when their objects offer it, where a step that raises
    raises here as it would alone (the steps before it made, those after it not)."""
    if offers_steps(steps):
        return list(type(steps[0][0])._coursekit_steps(list(steps)))
    results: list = []
    for index, step in enumerate(steps):
        results.append(results[earlier(steps, index)] if is_again(step) else run_step(step))
    return results


AGAIN = "again"


def again(step: tuple) -> tuple:
    """A step that gives what ``step``, an earlier step of the same list, gave, as it is at this point: here the very
    object; in the grader's sandbox, that object read again. A value that a later step changed (a list the function
    keeps and fills again at each call) so shows the change in both, where the step's own result, which the sandbox
    reads at once, would not (red team U: such a forward passed in the grader, and failed in the learner's kernel)."""
    return (None, AGAIN, (step,))


def is_again(step: tuple) -> bool:
    return step[0] is None and step[1] == AGAIN


def earlier(steps: Sequence[tuple], index: int) -> int:
    """Where, in ``steps``, is the earlier step that the again step ``steps[index]`` names."""
    named = steps[index][2][0]
    for position in range(index):
        if steps[position] is named:
            return position
    raise ValueError("an again step names no earlier step of its list")


def run_step(step: tuple):
    """One step ``(target, name, args)``: ``target(*args)`` when name is None, ``target.name(*args)``, or the
    attribute ``target.name`` when args is None; ``(layer, PERTURB_PARAMS, ())`` changes every parameter of a layer."""
    target, name, args = step
    if name is None:
        return target(*args)
    if name == PERTURB_PARAMS:
        return perturb_params(target)
    return getattr(target, name) if args is None else getattr(target, name)(*args)


PERTURB_PARAMS = "perturb_params"


def perturb_params(layer) -> None:
    """Write ``perturbed(x)`` into every parameter x of ``layer``, in place (a step, so that it runs in its turn: a
    layer made like another then holds other parameters, and a params dict the two share shows it). The grader's
    sandbox makes the same step with the same numbers (worker._sequence)."""
    from coursekit.gradcheck.checks import set_parameter  # (gradcheck builds on this package)

    for key, value in list(dict(layer.params).items()):
        set_parameter(layer, key, perturbed(value))


def perturbed(value) -> np.ndarray:
    """A parameter's value made other than it was (PERTURB_PARAMS): 1.5 x + 0.25, as float64."""
    return 1.5 * np.asarray(value, dtype=float) + 0.25
