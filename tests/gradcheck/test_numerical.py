"""Numerical derivatives: accuracy on smooth functions of any shape, the step rule, float32."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit.gradcheck import Float32Warning, jvp, numerical_derivative, numerical_gradient, step
from coursekit.gradcheck.numerical import EPS

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
moderate = st.floats(-3, 3, allow_nan=False, width=64)


def smooth(x):
    """A smooth scalar function of an array, with its gradient in closed form below."""
    return float(np.sum(np.sin(x) * x + 0.5 * x**2 + np.exp(0.3 * x)))


def smooth_grad(x):
    return np.cos(x) * x + np.sin(x) + x + 0.3 * np.exp(0.3 * x)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, shapes, elements=moderate))
def test_numerical_gradient_matches_the_closed_form_for_any_shape(x):
    numerical = numerical_gradient(smooth, x)
    assert numerical.shape == x.shape
    np.testing.assert_allclose(numerical, smooth_grad(x), rtol=1e-8, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, shapes, elements=moderate), st.integers(0, 2**32 - 1))
def test_jvp_equals_the_gradient_dotted_with_the_direction(x, seed):
    v = np.random.default_rng(seed).standard_normal(x.shape)
    np.testing.assert_allclose(jvp(smooth, x, v), np.sum(smooth_grad(x) * v), rtol=1e-7, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=3), elements=moderate))
def test_jvp_of_a_vector_function_is_the_jacobian_times_v(x):
    v = np.ones_like(x)
    np.testing.assert_allclose(jvp(np.sin, x, v), np.cos(x) * v, rtol=1e-8, atol=1e-9)


def test_jvp_refuses_results_of_two_shapes_rather_than_broadcast_them():
    # red team Z: a function answering (N, 1) at one point and (1, N) at the other made the grader subtract them into
    # an N x N array (2 GB for N = 16,000)
    calls = []

    def shifty(x):
        calls.append(x)
        return np.zeros((16_000, 1)) if len(calls) == 1 else np.zeros((1, 16_000))

    with pytest.raises(ValueError, match=r"two shapes, \(16000, 1\) and \(1, 16000\)"):
        jvp(shifty, np.ones(3), np.ones(3))


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_step_is_cube_root_of_eps_scaled_to_the_value(value):
    assert step(value) == pytest.approx(EPS ** (1 / 3) * max(1.0, abs(value)))


@pytest.mark.parametrize("x", [1.0, 1e3, 1e6])
def test_numerical_derivative_is_accurate_at_every_scale(x):
    # The step grows with |x|, so the relative error of log' stays near eps^(2/3) however large x is.
    assert numerical_derivative(np.log, x) == pytest.approx(1 / x, rel=1e-9)


def test_numerical_gradient_never_changes_its_input():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    numerical_gradient(smooth, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_only_some_elements_leaves_the_rest_nan():
    x = np.linspace(-1, 1, 5)
    grad = numerical_gradient(smooth, x, indices=[1, 3])
    assert np.isnan(grad[[0, 2, 4]]).all()
    np.testing.assert_allclose(grad[[1, 3]], smooth_grad(x)[[1, 3]], rtol=1e-8)


def test_float32_input_warns_with_the_reason_and_is_computed_in_float64():
    x = np.array([0.5, 1.5], dtype=np.float32)
    with pytest.warns(Float32Warning, match="float32.*1e-3"):
        grad = numerical_gradient(smooth, x)
    assert grad.dtype == np.float64


def test_float64_input_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numerical_gradient(smooth, np.array([0.5, 1.5]))


def test_a_function_that_is_not_scalar_gets_a_plain_error():
    with pytest.raises(ValueError, match="one number.*shape \\(2,\\)"):
        numerical_gradient(lambda x: x * 2, np.array([1.0, 2.0]))


def test_a_function_that_writes_into_its_input_gets_a_plain_error():
    def sneaky(x):
        x[0] = 0.0
        return float(np.sum(x))

    with pytest.raises(ValueError, match="changed its argument"):
        numerical_gradient(sneaky, np.array([1.0, 2.0]))
