"""Generic diagnoses: relate a learner's wrong result to the expected one, and name the relation as a likely cause.

Used by check() when no registered Mistake matches. Everything here works on returned data only (numbers,
arrays, tuples/lists/dicts of them), so that it runs the same in the grader, where the learner's objects are
proxies; the one relation that needs the learner's function again, an ignored argument, only calls it.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from coursekit.feedback import messages
from coursekit.feedback.compare import ANY_SEQUENCE, as_sequence, difference
from coursekit.feedback.widened import made_dtype

# A relation holds when the learner's result and the related value agree this closely: looser than an exercise's
# tolerance (the learner computed the wrong thing in their own order of operations), far tighter than chance.
_RTOL, _ATOL = 1e-6, 1e-9
_FLOAT32_RTOL = 1e-4  # float32 keeps about 7 digits; sums of a few hundred terms lose some of them


@dataclass(frozen=True)
class Diagnosis:
    """What an exercise tells the generic diagnoses about itself; every field is optional.

    ``reference``: the right implementation, with the exercise's signature (for an exercise checked by a test:
    the right object, which its probe is run on). ``arguments``: the names of the arguments, for "argument
    ignored". ``parts``: the names of the parts of a result (("loss", "dy")) or of a probe. ``points``: results
    evaluated at the wrong point, description -> function of the case's arguments (for a probe: of none).
    ``siblings``: quantities the result may be confused with, name -> function like a point. ``batch``: the
    batch size N, a number or a function of the case's arguments (by default the length of the first array).
    ``factors``: constant factors that have a known cause in this exercise, factor -> cause in words (the
    learning rate where a step is applied with lr twice).
    """

    reference: Callable | None = None
    arguments: Sequence[str] = ()
    parts: Sequence[str] = ()
    points: Mapping[str, Callable] = field(default_factory=dict)
    siblings: Mapping[str, Callable] = field(default_factory=dict)
    batch: int | Callable | None = None
    factors: Mapping[float, str] = field(default_factory=dict)


NOTHING = Diagnosis()


def close(got, expected, rtol: float = _RTOL, atol: float = _ATOL) -> bool:
    """True when ``got`` agrees with ``expected`` (any structure) to within a relation's tolerance."""
    try:
        return difference(got, expected, rtol=rtol, atol=atol) is None
    except Exception:  # noqa: BLE001 -- a value that cannot even be compared relates to nothing
        return False


def relate(got, expected, *, args: tuple = (), diagnosis: Diagnosis = NOTHING) -> str | None:
    """A sentence naming how ``got`` relates to ``expected`` ("Looks like ..."), or None when no relation holds."""
    try:
        found = _relate(got, expected, args, diagnosis)
    except Exception:  # noqa: BLE001 -- a diagnosis is a bonus: it never turns a verdict into a crash
        return None
    return messages.LOOKS_LIKE.format(what=found) if found else None


def _relate(got, expected, args: tuple, diagnosis: Diagnosis) -> str | None:
    for description, point in diagnosis.points.items():
        if _matches(point, args, got):
            return messages.AT_WRONG_POINT.format(what=description)
    n = _Scale(_batch_size(diagnosis, args), dict(diagnosis.factors))
    return (_structure(got, expected, n, args, diagnosis, list(diagnosis.parts), str(messages.YOUR_RESULT))
            or _elsewhere(got, expected, list(diagnosis.parts)))


class _Scale(int):
    """The batch size N (0: unknown), carrying the exercise's named ``factors`` along to _named_factor."""

    def __new__(cls, n, factors):
        self = super().__new__(cls, n or 0)
        self.factors = factors
        return self


def _leaves(value, label: str) -> list[tuple[str, object]]:
    """Every number or array inside ``value`` (tuples, lists, dicts), with where it sits."""
    if isinstance(value, dict):
        return [leaf for key, part in value.items() for leaf in _leaves(part, f"{label}[{key!r}]")]
    if isinstance(value, (tuple, list)):
        return [leaf for i, part in enumerate(value) for leaf in _leaves(part, f"{label}[{i}]")]
    return [(label, value)]


def _elsewhere(got, expected, names: list[str]) -> str | None:
    """The first wrong piece of ``got`` that holds the value of another piece of the expected result (a cache's
    z holding the activations): a sibling anywhere in the structure, not only among one level's parts."""
    if isinstance(expected, (tuple, list)):
        parts = as_sequence(got, ANY_SEQUENCE)
        if parts is None or len(parts) != len(expected):
            return None
        result = str(messages.RESULT)
        labels = [_plain(names[i]) if i < len(names) else f"{result}[{i}]" for i in range(len(expected))]
        mine = dict(leaf for label, part in zip(labels, parts, strict=True) for leaf in _leaves(part, label))
        theirs = [leaf for label, part in zip(labels, expected, strict=True) for leaf in _leaves(part, label)]
    else:
        result = str(messages.RESULT)
        mine, theirs = dict(_leaves(got, result)), _leaves(expected, result)
    for where, value in theirs:
        if where not in mine or close(mine[where], value, rtol=1e-12, atol=0):
            continue
        for other, candidate in theirs:
            if other != where and not close(candidate, value) and close(mine[where], candidate):
                return messages.SIBLING.format(where=messages.YOURS.format(what=where),
                                               sibling=messages.EXPECTED.format(what=other))
        return None  # only the first wrong piece: the others often follow from it
    return None


def _matches(quantity: Callable, args: tuple, got) -> bool:
    try:
        value = quantity(*copy.deepcopy(args))
    except Exception:  # noqa: BLE001 -- a quantity that does not exist for this case matches nothing
        return False
    return close(got, value)


def _batch_size(diagnosis: Diagnosis, args: tuple) -> int | None:
    if isinstance(diagnosis.batch, int):
        return diagnosis.batch
    if callable(diagnosis.batch):
        try:
            return int(diagnosis.batch(*args))
        except Exception:  # noqa: BLE001
            return None
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.ndim >= 1 and arg.dtype.kind == "f":
            return int(arg.shape[0])
    return None


def _structure(got, expected, n, args, diagnosis: Diagnosis, names: list[str], where: str) -> str | None:
    """Relations of a whole result first (parts swapped, one layer off, one factor throughout), then of the
    first part that differs."""
    for name, sibling in diagnosis.siblings.items():
        if _matches(sibling, args, got):
            return messages.SIBLING.format(where=where, sibling=name)
    if isinstance(expected, dict) and isinstance(got, dict) and set(got) == set(expected):
        keys = list(expected)
        return _parts([got[k] for k in keys], [expected[k] for k in keys], n, args, diagnosis,
                      [f"{where}[{k!r}]" for k in keys])
    if isinstance(expected, (tuple, list)):
        parts = as_sequence(got, ANY_SEQUENCE)
        if parts is None or len(parts) != len(expected):
            return None
        labels = [names[i] if i < len(names) else f"{where}[{i}]" for i in range(len(expected))]
        return _parts(parts, list(expected), n, args, diagnosis, labels)
    return _leaf(got, expected, n, args, where)


def _parts(got: list, expected: list, n, args, diagnosis: Diagnosis, labels: list[str]) -> str | None:
    # which parts differ at all (a float32 part differs by less than a relation's tolerance)
    wrong = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not close(g, e, rtol=1e-12, atol=0)]
    if not wrong:
        return None
    count = len(expected)
    if count >= 3 and all(close(got[i], expected[count - 1 - i]) for i in range(count)):
        return str(messages.REVERSED)
    if count >= 3 and (all(close(got[i], expected[i + 1]) for i in range(count - 1))
                       or all(close(got[i + 1], expected[i]) for i in range(count - 1))):
        return str(messages.ONE_OFF)
    for i in wrong:  # a part holding another part's value: dW where dx is wanted
        for j in range(count):
            if j != i and not close(expected[i], expected[j]) and close(got[i], expected[j]):
                expected_part = messages.EXPECTED.format(what=_plain(labels[j]))
                return messages.SIBLING.format(where=labels[i], sibling=expected_part)
    if len(wrong) >= 2:
        factors = {_named_factor(_factor(got[i], expected[i]), n) for i in wrong}
        if len(factors) == 1 and None not in factors and not any(_low_precision(got[i]) for i in wrong):
            return messages.EVERY_PART.format(what=factors.pop())
    first = wrong[0]
    return _structure(got[first], expected[first], n, args, NOTHING, [], labels[first])


def _low_precision(value) -> bool:
    dtype = made_dtype(value)  # as the learner's code made it: the grader widens what it receives
    return dtype is not None and dtype.kind == "f" and dtype.itemsize < 8


def _plain(label) -> str:
    """A part's label without its "your" (as the expected result's part is named)."""
    label, yours = str(label), messages.YOURS.format(what="")
    return label[len(yours):] if yours and label.startswith(yours) else label


def _as_float(value) -> np.ndarray | None:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _leaf(got, expected, n, args, where: str) -> str | None:
    g, e = _as_float(got), _as_float(expected)
    if g is None or e is None or not np.isfinite(e).all() or not np.isfinite(g).all():
        return None
    if g.shape == e.shape:
        return _same_shape(got, g, e, n, args, where)
    if g.shape == e.shape[::-1] and close(g, e.T):
        return messages.TRANSPOSED.format(where=where)
    if g.squeeze().shape == e.squeeze().shape and close(g.squeeze(), e.squeeze()):
        return messages.KEEPDIMS.format(where=where, got=g.shape, expected=e.shape)
    if g.ndim == e.ndim + 1:
        for axis in range(g.ndim):
            if close(g.sum(axis=axis), e):
                return messages.NOT_SUMMED.format(where=where, axis=axis)
            if close(g.mean(axis=axis), e):
                return messages.NOT_SUMMED.format(where=where, axis=axis) + messages.AND_MEAN
    if g.ndim == e.ndim == 1 and g.size != e.size and g.size > 1:
        if math.isclose(g.sum(), e.sum(), rel_tol=_RTOL, abs_tol=_ATOL):
            return messages.WRONG_AXIS.format(where=where)
        if n and math.isclose(g.sum(), e.sum() * g.size / n, rel_tol=_RTOL, abs_tol=_ATOL):
            return messages.WRONG_AXIS.format(where=where) + messages.AND_MEAN
    if g.size == 1 and e.size > 1:
        if close(float(g.ravel()[0]), float(e.sum())):
            return messages.SUMMED_ALL.format(where=where)
        if close(float(g.ravel()[0]), float(e.mean())):
            return messages.AVERAGED_ALL.format(where=where)
    return None


def _same_shape(raw, g: np.ndarray, e: np.ndarray, n, args, where: str) -> str | None:
    if _low_precision(raw) and close(g, e, rtol=_FLOAT32_RTOL):
        return messages.FLOAT32.format(where=where, dtype=made_dtype(raw))
    if not np.any(g) and np.any(e):
        return messages.ZEROS.format(where=where)
    # One number is always some multiple of another: only a simple factor names a cause there.
    named = _named_factor(_factor(g, e), n, generic=g.size >= 3 and np.ptp(e) > 0)
    if named:
        return messages.FACTOR.format(where=where, what=named)
    if np.all(e >= 0) and close(g, e**2):
        return messages.SQUARED.format(where=where)
    if np.all(g >= 0) and close(g**2, e):
        return messages.SQUARE_ROOT.format(where=where)
    if e.ndim == 2 and e.shape[0] == e.shape[1] > 1 and close(g, e.T):
        return messages.TRANSPOSED.format(where=where)
    for index, arg in enumerate(args):
        if isinstance(arg, np.ndarray) and arg.shape == g.shape and arg.dtype.kind == "f" and close(g, arg):
            return messages.RETURNED_INPUT.format(where=where, index=index + 1)
    if g.size >= 2:  # only some elements wrong: what the wrong ones have in common
        wrong = ~np.isclose(g, e, rtol=_RTOL, atol=_ATOL)
        if wrong.any() and not wrong.all():
            if not np.any(g[wrong]):
                return messages.SOME_ZERO.format(where=where, count=int(wrong.sum()), size=g.size)
            named = _named_factor(_factor(g[wrong], e[wrong]), n, generic=False) or _compounded(g[wrong], e[wrong], n)
            if named:
                return messages.SOME_FACTOR.format(where=where, count=int(wrong.sum()), size=g.size, what=named)
    return None


def _compounded(got: np.ndarray, expected: np.ndarray, n) -> str | None:
    """A simple factor that every wrong element carries once or more (a doubled local slope doubles again along
    a chain of products), named with that note; None when there is none."""
    if not np.all(expected):
        return None
    ratios = got / expected
    for base in (2.0, 0.5, -1.0, *((float(n), 1.0 / n) if n and n > 2 else ())):
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero ratio has no power: -inf, never whole
            powers = np.log(np.abs(ratios)) / np.log(abs(base)) if abs(base) != 1 else np.zeros_like(ratios)
        whole = np.round(powers)
        if abs(base) == 1:
            if np.allclose(ratios, -1.0, rtol=_RTOL):
                return _named_factor(-1.0, n)
            continue
        if (np.allclose(powers, whole, atol=1e-6) and np.all(whole >= 1) and np.all(ratios > 0)):
            return _named_factor(base, n) + messages.COMPOUNDED
    return None


def _factor(got, expected) -> float | None:
    """The c with got = c * expected (least squares), when that holds; None otherwise."""
    g, e = _as_float(got), _as_float(expected)
    if g is None or e is None or g.shape != e.shape or not np.any(e):
        return None
    c = float(np.vdot(g.ravel(), e.ravel()) / np.vdot(e.ravel(), e.ravel()))
    if c == 1.0 or not math.isfinite(c) or not close(g, c * e):
        return None
    return c


def _named_factor(c: float | None, n: int | None, generic: bool = True) -> str | None:
    """The factor ``c`` in words, with its likely cause; a factor that is no simple number is named only when
    ``generic`` (for several numbers at once: a single number is always some multiple of another)."""
    if c is None or c == 0:
        return None
    sign, size = (-1.0 if c < 0 else 1.0), abs(c)
    causes = []
    if n and n > 2:
        causes += [(n, messages.FACTOR_N.format(n=n)), (1 / n, messages.FACTOR_ONE_OVER_N.format(n=n))]
    causes += [(1.0, ""), (2.0, messages.FACTOR_2), (0.5, messages.FACTOR_HALF)]
    causes += [(abs(value), cause) for value, cause in getattr(n, "factors", {}).items()]
    for value, cause in causes:
        if math.isclose(size, value, rel_tol=1e-6):
            if sign > 0:
                return str(cause) if cause else None  # the expected value itself: no factor to name
            return messages.NEGATED + (messages.AND + str(cause) if cause else "")
    if generic:
        return messages.FACTOR_OTHER.format(c=c)
    return None


def name_of_argument(diagnosis: Diagnosis, func: Callable, index: int) -> str:
    """The name of argument ``index`` of ``func``: declared by the exercise, read from the signature, or by place."""
    if index < len(diagnosis.arguments):
        return diagnosis.arguments[index]
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return named[index] if index < len(named) else messages.NUMBER.format(index=index + 1)


def ignored_argument(call: Callable[[tuple], object], cases: Sequence[tuple], index: int, got,
                     expected_of: Callable[[tuple], object]) -> int | None:
    """The position of an argument the learner's function ignores, found on case ``index``: changing it (to the
    value another case gives it, or a nudged copy) changes the expected result but not the learner's.

    ``call(args)`` runs the learner's function (raising on any problem), ``expected_of(args)`` the right one.
    """
    args = cases[index]
    for position, value in enumerate(args):
        for changed in _other_values(cases, index, position, value):
            trial = (*args[:position], changed, *args[position + 1:])
            try:
                if close(expected_of(trial), expected_of(args)):
                    continue  # this change does not matter to the right answer either
                mine = call(trial)
            except Exception:  # noqa: BLE001 -- the change made no sense for this case: try another
                continue
            if close(mine, got):  # the right answer moved, the learner's did not
                return position
            break  # the learner's function did react to this argument
    return None


def _other_values(cases: Sequence[tuple], index: int, position: int, value) -> list:
    """Values to put in place of ``value``: what other cases pass there (same kind), else a nudged copy."""
    others = []
    for number, case in enumerate(cases):
        if number == index or position >= len(case):
            continue
        other = case[position]
        if type(other) is not type(value) or (isinstance(value, np.ndarray) and other.shape != value.shape):
            continue
        if isinstance(value, (np.ndarray, int, float)) and close(other, value):
            continue
        if not isinstance(value, (np.ndarray, int, float)) and _same(other, value):
            continue
        others.append(other)
    if isinstance(value, float):
        others.append(value * 1.25 + 0.5)
    elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
        others.append(value * 1.25 + 0.5)
    return others[:2]


def _same(a, b) -> bool:
    """``a is b or a == b``, False where == cannot say (lists of arrays compare their arrays, which may raise)."""
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):
        return False


def _only_zeros(value) -> bool:
    leaves = [_as_float(leaf) for _, leaf in _leaves(value, "")]
    return all(leaf is not None and not np.any(leaf) for leaf in leaves)


def diagnose_case(call: Callable[[tuple], object], cases: Sequence[tuple], index: int, got, expected,
                  oracle: Callable | None, diagnosis: Diagnosis, func: Callable) -> str | None:
    """The diagnosis of a wrong result ``got`` on case ``index``: a relation to ``expected``, else an ignored
    argument (found by calling the learner's function through ``call`` and the right one, ``oracle``)."""
    args = cases[index]
    found = relate(got, expected, args=args, diagnosis=diagnosis)
    # A part that is all zeros says what it looks like, an ignored argument why: the second names the mistake
    # better. A result that is nothing but zeros ignores every argument, trivially: "all zeros" stays.
    all_zeros = messages.ZEROS.format(where="") + messages.LOOKS_LIKE.format(what="\0").split("\0")[1]  # its end
    if oracle is None or (found and (not found.endswith(all_zeros) or _only_zeros(got))):
        return found
    try:
        position = ignored_argument(call, cases, index, got, lambda trial: oracle(*copy.deepcopy(trial)))
    except Exception:  # noqa: BLE001 -- as in relate: a bonus, never a crash
        return found
    if position is None:
        return found
    return messages.ARGUMENT_IGNORED.format(name=name_of_argument(diagnosis, func, position))


def diagnose_probe(mine, theirs, diagnosis: Diagnosis) -> str | None:
    """The diagnosis of an object checked by a test: how its probe data ``mine`` relates to the right ``theirs``."""
    return relate(mine, theirs, diagnosis=diagnosis)
