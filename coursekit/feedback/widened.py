"""Arrays that the grader widened on receipt, and the dtype the learner's code made each in.

A float32 array from the sandbox, compared with a Python float (``abs(got - 2.0) <= 1e-9``), is compared in
float32: NumPy keeps an array's type against a Python number, so the difference rounds to 0 and a wrong value
passes (a red team's one-element float32 arrays scored so against a hidden tolerance of 1e-9). The grader therefore
widens every narrow number array it receives (``coursekit.grading.wire``) and notes here what it was, so that the
checks which name a float32 result ("computed in float32: right to about 7 digits only") still can. In a learner's
own kernel nothing is widened, and an array's dtype is its own.
"""

from __future__ import annotations

import weakref

import numpy as np

_MADE_IN: dict[int, tuple[weakref.ref, np.dtype]] = {}  # id of a widened array -> (the array, the dtype it came in)


def widened(array: np.ndarray) -> np.ndarray:
    """``array`` at full width (float64, complex128, int64), noting the dtype it was made in; itself when it is."""
    kind, size = array.dtype.kind, array.dtype.itemsize
    if kind == "f" and size < 8:
        wide = array.astype(np.float64)
    elif kind == "c" and size < 16:
        wide = array.astype(np.complex128)
    elif kind in "iu" and size < 8:
        return array.astype(np.int64)  # no check names a narrow integer: nothing to note
    else:
        return array
    key = id(wide)
    _MADE_IN[key] = (weakref.ref(wide, lambda _, key=key: _MADE_IN.pop(key, None)), array.dtype)
    return wide


def made_dtype(value) -> np.dtype | None:
    """The dtype ``value`` (an array or a NumPy number) was made in: before the grader widened it, if it did."""
    dtype = getattr(value, "dtype", None)
    if isinstance(value, np.ndarray):
        known = _MADE_IN.get(id(value))
        if known is not None and known[0]() is value:
            return known[1]
    return dtype
