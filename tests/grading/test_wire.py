"""The wire format: plain data round-trips exactly; nothing else crosses except as a reference; no eval, no pickle."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit.grading import wire


def roundtrip(value):
    return wire.decode(wire.encode(value, lambda obj: {"__handle__": 7}), lambda ref: ("ref", ref["__handle__"]))


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=5), inner,
                                                                                              max_size=4),
    max_leaves=20)


@given(plain)
def test_plain_python_data_round_trips_exactly(value):
    assert roundtrip(value) == value


@given(hnp.arrays(hnp.scalar_dtypes().filter(lambda d: d.kind in "biufc"), hnp.array_shapes(min_dims=0, max_dims=3)))
def test_numeric_arrays_round_trip_with_dtype_and_shape(array):
    back = roundtrip(array)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_numpy_scalars_stay_scalars():
    assert isinstance(roundtrip(np.float64(1.5)), np.float64) and roundtrip(np.array(2.0)).shape == ()


def test_other_objects_cross_only_as_references():
    class Sneaky:
        def __eq__(self, other):
            return True

    assert roundtrip([1, Sneaky()]) == [1, ("ref", 7)]
    assert roundtrip(np.array([object()], dtype=object)) == ("ref", 7)


@pytest.mark.parametrize("dtype", ["O", "V8", "[('a', 'O')]"])
def test_arrays_of_objects_or_raw_bytes_are_refused(dtype):
    message = {"__ndarray__": {"dtype": dtype, "shape": [1], "data": ""}}
    with pytest.raises((wire.WireError, TypeError)):
        wire.decode(message, lambda ref: None)


def test_array_data_must_match_its_shape():
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": {"dtype": "<f8", "shape": [3], "data": "AAAA"}}, lambda ref: None)


def test_sympy_expressions_are_rebuilt_by_parsing_not_evaluating():
    x = sp.Symbol("x", real=True)
    for expr in (x * sp.sin(x**2) + sp.Rational(1, 3), sp.exp(-x) * sp.Float(2.5), sp.pi * x, sp.Function("f")(x)):
        assert sp.simplify(roundtrip(expr) - expr) == 0


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "Symbol.__class__", "eval('1')",
                                  "Add(1, exec)", "(lambda: 1)()", "Symbol('x').__init__"])
def test_anything_but_sympy_constructors_is_refused(text):
    with pytest.raises(wire.WireError):
        wire.parse_sympy(text)
