"""Shape-strict, NaN-aware comparison of a learner's result with the expected one."""

from __future__ import annotations

import numpy as np

from coursekit.feedback import messages


def _fmt(value) -> str:
    return np.array2string(np.asarray(value), precision=6, threshold=8) if np.ndim(value) else f"{value:.6g}"


def difference(got, expected, *, rtol: float, atol: float, where: str = "result") -> str | None:
    """Plain-words description of how ``got`` differs from ``expected``; None when they agree.

    Containers must match in type and length, arrays in shape (no broadcasting hides a wrong
    shape), numbers within ``atol + rtol * |expected|``.
    """
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return messages.WRONG_TYPE.format(got=type(got).__name__, expected=type(expected).__name__)
        if len(got) != len(expected):
            return messages.WRONG_LENGTH.format(got=len(got), expected=len(expected))
        for index, (g, e) in enumerate(zip(got, expected, strict=True)):
            found = difference(g, e, rtol=rtol, atol=atol, where=f"{where}[{index}]")
            if found:
                return found
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return messages.WRONG_TYPE.format(got=f"{keys}", expected=f"dict with keys {sorted(expected)}")
        for key in expected:
            found = difference(got[key], expected[key], rtol=rtol, atol=atol, where=f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(expected, (str, bool)) or expected is None:
        return None if got == expected else messages.MISMATCH.format(
            where=where, expected=repr(expected), got=repr(got), diff=float("nan"), tol=0.0)
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return messages.WRONG_TYPE.format(got=type(got).__name__, expected="number or array")
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        return messages.WRONG_SHAPE.format(got=got_array.shape, expected=expected_array.shape)
    bad = ~np.isfinite(got_array) & np.isfinite(expected_array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return messages.NOT_FINITE.format(where=f"{where}{list(index) if index else ''}")
    tolerance = atol + rtol * np.abs(expected_array)
    excess = np.abs(got_array - expected_array) - tolerance
    if not (excess > 0).any():
        return None
    index = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
    pos = f"{where}{list(map(int, index))}" if index else where
    return messages.MISMATCH.format(where=pos, expected=_fmt(expected_array[index]), got=_fmt(got_array[index]),
                                    diff=float(abs(got_array[index] - expected_array[index])),
                                    tol=float(tolerance[index]))
