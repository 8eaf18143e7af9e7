"""Shape-strict, NaN-aware comparison of a learner's result with the expected one, reported NumPy's way."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coursekit.feedback import messages

# Any of these holds a sequence of results (a pair of partial derivatives, (loss, grad)), unless an exercise
# teaches the type and says so: then it passes its own ``sequences``.
ANY_SEQUENCE: tuple[type, ...] = (tuple, list, np.ndarray)
# How many float64 roundings of the array's largest value an element may be off by. An element far below the
# array's scale (sigmoid(-50) next to values near 1) is computed from numbers of that scale, so its absolute
# error is a few eps * scale, however small the element: its relative error says nothing.
_FLOOR_ULPS = 8
_SHOWN = 3  # indices listed in a mismatch report, as NumPy's assert_allclose lists a few


def rounded_only(before, after) -> bool:
    """Whether ``after``, which is not ``before`` (an argument as the caller gave it), differs from it by a few
    roundings only: a float array put back by x[i] += h, x[i] -= 2 * h, x[i] += h (red team Q: told only that it
    "changed an argument in place", an honest learner could not see what was wrong)."""
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)) and len(before) == len(after):
        pairs = [(b, a) for b, a in zip(before, after, strict=True) if not _equal_arrays(b, a)]
        return bool(pairs) and all(rounded_only(b, a) for b, a in pairs)
    if not (isinstance(before, np.ndarray) and isinstance(after, np.ndarray) and before.shape == after.shape
            and before.dtype.kind in "fc" and after.dtype.kind in "fc"):
        return False
    with np.errstate(all="ignore"):
        off = np.abs(after.astype(np.complex128) - before)
        near = (off <= _ROUNDED * np.maximum(1.0, np.abs(before))) | (np.isnan(before) & np.isnan(after))
    return bool(np.all(near))


# What "off by rounding" is: a step h moved and moved back leaves an element off by a few roundings of |x| + 2h, at
# most about 1e-15 where |x| and h are at most 1; a hint only, never a verdict, so it may be generous.
_ROUNDED = 1e-12


def _equal_arrays(a, b) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)


def type_name(value) -> str:
    """The name of ``value``'s type, as the learner's own kernel would say it: the grader's stand-in for a learner's
    object (``coursekit.grading.proxies``) names the learner's type, never its own class."""
    shown = getattr(type(value), "_coursekit_type_name", None)
    return shown(value) if callable(shown) else type(value).__name__


def _fmt(value) -> str:
    return np.array2string(np.asarray(value), precision=6, threshold=8) if np.ndim(value) else f"{value:.6g}"


def floor(expected: np.ndarray) -> float:
    """The absolute tolerance that the rounding of ``expected``'s own scale (its largest finite value) demands."""
    finite = np.abs(expected[np.isfinite(expected)])
    return float(_FLOOR_ULPS * np.finfo(np.float64).eps * finite.max()) if finite.size else 0.0


def tolerance(expected: np.ndarray, *, rtol: float, atol: float) -> np.ndarray:
    """Per element: ``atol + rtol * |expected|``, raised to the floor of the array's scale."""
    return np.maximum(atol + rtol * np.abs(expected), floor(expected))


def as_sequence(got, sequences: Sequence[type]):
    """``got`` as a list when it is one of the accepted sequence types (a 1-D or deeper array by its rows)."""
    if isinstance(got, np.ndarray):
        return list(got) if np.ndarray in sequences and got.ndim >= 1 else None
    if isinstance(got, (tuple, list)) and isinstance(got, tuple(t for t in sequences if t is not np.ndarray)):
        return list(got)
    return None


def difference(got, expected, *, rtol: float, atol: float, where: str | None = None,
               sequences: Sequence[type] = ANY_SEQUENCE) -> str | None:
    """Plain-words description of how ``got`` differs from ``expected``; None when they agree.

    A tuple or list is matched by any of ``sequences`` of the same length; arrays must match in shape (no
    broadcasting hides a wrong shape), numbers within ``tolerance``. A mismatch is reported NumPy's way: how
    many elements differ of how many, a few of them with both values, the largest absolute and relative
    difference. ``where`` names ``got`` in the messages (default: "result", in the learner's language).
    """
    where = str(messages.RESULT) if where is None else where
    if isinstance(expected, (tuple, list)):
        parts = as_sequence(got, sequences)
        if parts is None:
            wanted = str(messages.OR).join(t.__name__.replace("ndarray", "1-D array") for t in sequences)
            return messages.WRONG_TYPE.format(got=type_name(got), expected=wanted)
        if len(parts) != len(expected):
            return messages.WRONG_LENGTH.format(got=len(parts), expected=len(expected))
        for index, (g, e) in enumerate(zip(parts, expected, strict=True)):
            found = difference(g, e, rtol=rtol, atol=atol, where=f"{where}[{index}]", sequences=sequences)
            if found:
                return found
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = sorted(got) if isinstance(got, dict) else type_name(got)
            wanted = messages.DICT_WITH_KEYS.format(keys=sorted(expected))
            return messages.WRONG_TYPE.format(got=f"{keys}", expected=wanted)
        for key in expected:
            found = difference(got[key], expected[key], rtol=rtol, atol=atol, where=f"{where}[{key!r}]",
                               sequences=sequences)
            if found:
                return found
        return None
    if isinstance(expected, (str, bool)) or expected is None:
        return None if got == expected else messages.MISMATCH_VALUE.format(
            where=where, expected=repr(expected), got=repr(got))
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return messages.WRONG_TYPE.format(got=type_name(got), expected=messages.NUMBER_OR_ARRAY)
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        return messages.WRONG_SHAPE.format(got=got_array.shape, expected=expected_array.shape)
    bad = ~np.isfinite(got_array) & np.isfinite(expected_array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return messages.NOT_FINITE.format(where=f"{where}{list(index) if index else ''}")
    return _report(got_array, expected_array, tolerance(expected_array, rtol=rtol, atol=atol), where)


def _report(got: np.ndarray, expected: np.ndarray, tol: np.ndarray, where: str) -> str | None:
    """The NumPy-style report of the elements of ``got`` further than ``tol`` from ``expected``; None if none."""
    with np.errstate(invalid="ignore", divide="ignore"):
        absolute = np.abs(got - expected)
        wrong = (absolute > tol) | (np.isnan(got) != np.isnan(expected))
        wrong &= ~(np.isinf(expected) & (got == expected))
    if not wrong.any():
        return None
    if not got.ndim:
        return messages.MISMATCH.format(where=where, expected=_fmt(expected), got=_fmt(got),
                                        diff=float(absolute), tol=float(tol))
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(expected != 0, absolute / np.abs(expected), np.inf)
    indices = [tuple(int(i) for i in index) for index in np.argwhere(wrong)]
    shown = "\n".join(messages.MISMATCH_ELEMENT.format(where=f"{where}{list(index)}", expected=_fmt(expected[index]),
                                                       got=_fmt(got[index])) for index in indices[:_SHOWN])
    more = messages.MISMATCH_MORE.format(count=len(indices) - _SHOWN) if len(indices) > _SHOWN else ""
    largest = np.where(wrong, absolute, -np.inf)
    at_abs = np.unravel_index(int(np.argmax(largest)), got.shape)
    at_rel = np.unravel_index(int(np.argmax(np.where(wrong, np.nan_to_num(relative, nan=np.inf), -np.inf))),
                              got.shape)
    return messages.MISMATCH_ARRAY.format(
        where=where, count=len(indices), size=got.size, shown=shown, more=more,
        max_abs=float(absolute[at_abs]), at_abs=list(map(int, at_abs)),
        max_rel=float(relative[at_rel]), at_rel=list(map(int, at_rel)))
