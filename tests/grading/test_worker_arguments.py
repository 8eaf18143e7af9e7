"""What a call did to the arrays it was given: the worker compares each with its snapshot, by bytes first (fast) and
as numbers when the bytes differ, so an array counts as changed exactly when NumPy's array_equal (NaN equal to NaN)
says it differs."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from coursekit.grading.worker import _deep_equal, _snapshot

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.sampled_from([0.0, -0.0]))


@given(arrays(np.float64, array_shapes(max_dims=3, max_side=4), elements=values), st.data())
def test_an_array_is_unchanged_exactly_when_its_numbers_are(original, data):
    snapshot = _snapshot(original)
    written = original.copy()
    if written.size and data.draw(st.booleans()):  # the call writes some elements (maybe the same numbers)
        flat = written.reshape(-1)
        for index in data.draw(st.lists(st.integers(0, flat.size - 1), max_size=3)):
            flat[index] = data.draw(values)
    assert _deep_equal(written, snapshot) == np.array_equal(written, original, equal_nan=True)


def test_same_numbers_in_other_bytes_are_no_change_and_shape_or_dtype_is():
    zeros, nans = np.zeros(3), np.array([np.nan, 1.0])
    assert _deep_equal(-zeros, _snapshot(zeros))                     # -0.0 written over 0.0
    assert _deep_equal(np.array([-np.nan, 1.0]), _snapshot(nans))    # another NaN
    assert not _deep_equal(zeros.reshape(3, 1), _snapshot(zeros))
    assert not _deep_equal(zeros.astype(np.float32), _snapshot(zeros))
    assert _deep_equal([zeros, (nans, 2.0)], _snapshot([zeros, (nans, 2.0)]))
