"""The checks: verdicts, shape strictness, kinks, mutation guard, directional localisation, reports."""

import contextlib

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit import nn
from coursekit.gradcheck import (
    Float32Warning,
    check_gradient,
    check_gradient_directional,
    check_gradient_sampled,
    check_layer,
    check_symbolic,
    same_gradient,
    value_and_gradient,
)
from coursekit.gradcheck.checks import screening


def quadratic(c):
    return (lambda x: float(np.sum(c * x**2))), (lambda x: 2 * c * x)


def relu_sum(x):
    return float(np.sum(np.maximum(x, 0.0)))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.floats(-3, 3)))
def test_a_right_gradient_passes_and_every_wrong_factor_fails(x):
    f, grad = quadratic(np.linspace(0.5, 1.5, x.size).reshape(x.shape))
    assert check_gradient(f, grad, x).passed
    if np.any(np.abs(x) > 1e-3):
        assert not check_gradient(f, lambda v: 1.01 * grad(v), x).passed


@pytest.mark.parametrize("analytic", [0.0, 0.25, 1.0])
def test_relu_at_exactly_zero_is_a_kink_and_any_slope_between_is_accepted(analytic):
    x = np.array([0.0, 1.5, -2.0])
    report = check_gradient(relu_sum, lambda v: np.array([analytic, 1.0, 0.0]), x)
    assert report.passed, str(report)
    assert "kink crossed" in str(report) and "x[0]" in str(report)


def test_relu_at_zero_with_the_average_slope_passes_outright():
    report = check_gradient(relu_sum, lambda v: np.array([0.5, 1.0, 0.0]), np.array([0.0, 1.5, -2.0]))
    assert report.passed and "kink" not in str(report)


def test_a_slope_outside_the_kink_is_still_wrong():
    report = check_gradient(relu_sum, lambda v: np.array([2.0, 1.0, 0.0]), np.array([0.0, 1.5, -2.0]))
    assert not report.passed
    assert "x[0]" in str(report)


def test_a_tie_in_max_is_a_kink():
    x = np.array([1.0, 3.0, 3.0])
    report = check_gradient(lambda v: float(np.max(v)), lambda v: np.array([0.0, 1.0, 0.0]), x)
    assert report.passed and "kink crossed" in str(report)


@pytest.mark.parametrize("wrong_shape", [(3,), (1, 3), (3, 3)])
def test_a_gradient_of_the_wrong_shape_fails_even_when_broadcasting_would_hide_it(wrong_shape):
    x = np.ones((3, 1))
    report = check_gradient(lambda v: float(np.sum(v)), lambda v: np.ones(wrong_shape), x)
    assert not report.passed
    assert str(wrong_shape) in str(report) and "(3, 1)" in str(report)


def test_a_gradient_that_writes_into_x_is_caught_and_x_is_restored():
    x = np.array([1.0, -2.0, 3.0])

    def grad_in_place(v):
        v *= 2
        return v

    report = check_gradient(lambda v: float(np.sum(v**2)), grad_in_place, x)
    assert not report.passed and "changed in place" in str(report)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])


def test_nan_and_none_in_the_gradient_are_named():
    f, _ = quadratic(1.0)
    nan_report = check_gradient(f, lambda v: np.array([0.0, np.nan]), np.array([1.0, 2.0]))
    assert not nan_report.passed and "NaN" in str(nan_report) and "[1]" in str(nan_report)
    none_report = check_gradient(f, lambda v: None, np.array([1.0, 2.0]))
    assert not none_report.passed and "None" in str(none_report)


def test_float32_gradients_warn():
    f, grad = quadratic(1.0)
    with pytest.warns(Float32Warning):
        report = check_gradient(f, lambda v: grad(v).astype(np.float32), np.array([1.0, 2.0]))
    assert not report.passed or report.passed  # the warning is the point; float32 may be close enough


def test_a_failure_report_names_the_worst_element_with_both_values_ratio_and_error():
    f, grad = quadratic(np.ones(5))
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])

    def one_wrong(v):
        g = grad(v)
        g[3] += 1.0
        return g

    text = str(check_gradient(f, one_wrong, x, name="w"))
    header, first_row = text.splitlines()[1:3]
    assert text.startswith("w: gradient check FAILED: 1 of 5 elements is wrong")
    assert header.split() == ["element", "analytic", "numerical", "ratio", "rel.", "error"]
    assert first_row.split() == ["w[3]", "9", "8", "1.125", "1.1e-01"]


def test_the_report_is_plain_text_and_html_and_assert_ok_raises_assertion_error():
    f, grad = quadratic(1.0)
    report = check_gradient(f, lambda v: -grad(v), np.array([1.0, 2.0]))
    assert "<div" in report._repr_html_() and "opposite sign" in report._repr_html_()
    with pytest.raises(AssertionError, match="opposite sign"):
        report.assert_ok()
    assert check_gradient(f, grad, np.array([1.0, 2.0])).assert_ok().passed


def test_sampled_check_uses_two_evaluations_per_sampled_element():
    f, grad = quadratic(1.0)
    report = check_gradient_sampled(f, grad, np.linspace(-1, 1, 1000), k=15)
    assert report.passed and report.evaluations == 30


def test_sampled_check_finds_a_factor_in_the_sample():
    f, grad = quadratic(1.0)
    report = check_gradient_sampled(f, lambda v: 0.5 * grad(v), np.linspace(0.1, 1, 1000), k=10)
    assert not report.passed and "missing factor of 2" in str(report)


def test_directional_check_costs_two_evaluations_per_direction_whatever_the_size():
    f, grad = quadratic(1.0)
    for size in (10, 100_000):
        report = check_gradient_directional(f, grad, np.linspace(-1, 1, size), directions=3)
        assert report.passed and report.evaluations == 6


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(0, 10**6), st.integers(0, 2**16))
@example(how_many=2, seed=107078, where=0)  # one error's weight is tiny along the first failing direction
def test_directional_check_locates_planted_errors_with_far_fewer_evaluations_than_n(how_many, seed, where):
    size = 50_000
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.5, 2.0, size)
    f, grad = quadratic(c)
    x = rng.standard_normal(size)
    planted = np.sort(rng.choice(size, size=how_many, replace=False))

    def wrong(v):
        g = grad(v)
        g[planted] += 0.5 + (where % 7)
        return g

    report = check_gradient_directional(f, wrong, x)
    assert not report.passed
    located = sorted(row.index[0] for row in report.rows)
    assert located == list(planted)
    # about 4 evaluations per halving per wrong element, plus the directions (each checked again once an element
    # is found), and the final check
    assert report.evaluations <= 4 * np.ceil(np.log2(size)) * how_many + 26 < size


def test_directional_check_diagnoses_a_constant_factor_from_the_directions():
    f, grad = quadratic(1.0)
    report = check_gradient_directional(f, lambda v: 3 * grad(v), np.linspace(-1, 1, 10_000))
    assert not report.passed and "extra factor of 3" in str(report)


def test_check_layer_checks_the_input_and_every_parameter():
    layer = nn.Linear(3, 2, np.random.default_rng(0))
    report = check_layer(layer, np.random.default_rng(1).standard_normal((4, 3)))
    assert report.passed and set(report.reports) == {"x", "W", "b"}
    assert layer.params["W"].shape == (2, 3)


@pytest.mark.parametrize("screened", [False, True])
def test_check_layer_refuses_an_output_whose_shape_changed_before_multiplying_it(screened):
    """A first forward of shape (1, N) sets dout's shape; a later one of shape (N, 1) would broadcast against it to
    N x N (from a sandbox, a reply of 100 kB made the grader allocate gigabytes so)."""
    class Turning(nn.Linear):
        calls = 0

        def forward(self, x):
            super().forward(x)  # what backward needs
            Turning.calls += 1
            return np.zeros((1, 4000)) if Turning.calls == 1 else np.zeros((4000, 1))

        def backward(self, dout):
            self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
            return np.zeros_like(self.x)

    layer = Turning(3, 2, np.random.default_rng(0))
    with (screening() if screened else contextlib.nullcontext()), \
            pytest.raises(ValueError, match=r"shape \(4000, 1\) where it gave one of shape \(1, 4000\)"):
        check_layer(layer, np.ones((2, 3)))


def test_check_layer_restores_the_parameters():
    layer = nn.Linear(3, 2, np.random.default_rng(0))
    before = {key: value.copy() for key, value in layer.params.items()}
    check_layer(layer, np.ones((2, 3)))
    for key, value in before.items():
        np.testing.assert_array_equal(layer.params[key], value)


class CopyingLayer(nn.Linear):
    """Hands out copies of its parameters (as a sandbox proxy does) and takes them back by assignment."""

    @property
    def params(self):
        return {key: value.copy() for key, value in self._params.items()}

    @params.setter
    def params(self, values):
        self._params = {key: np.array(value) for key, value in values.items()}


def test_check_layer_writes_parameters_back_through_a_layer_that_hands_out_copies():
    layer = CopyingLayer(3, 2, np.random.default_rng(0))
    assert check_layer(layer, np.random.default_rng(1).standard_normal((4, 3))).passed


def test_check_layer_uses_directions_for_large_parameters():
    layer = nn.Linear(100, 50, np.random.default_rng(0))
    report = check_layer(layer, np.random.default_rng(1).standard_normal((2, 100)))
    assert report.passed
    assert report.reports["W"].evaluations == 6 and "directional" in str(report.reports["W"])


def test_check_layer_names_a_missing_grad_entry():
    class NoBiasGrad(nn.Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            del self.grads["b"]
            return dx

    report = check_layer(NoBiasGrad(3, 2, np.random.default_rng(0)), np.ones((2, 3)))
    assert not report.passed and "grads has no entry 'b'" in str(report)


def test_symbolic_check_confirms_equal_expressions_written_differently():
    x = sp.Symbol("x")
    assert check_symbolic(sp.sin(x) ** 2, x, sp.sin(2 * x)).passed
    assert check_symbolic((x + 2) ** 2 + 5, x, 2 * x + 4).passed


def test_symbolic_check_shows_values_not_the_answer_unless_asked():
    x = sp.Symbol("x")
    hidden = str(check_symbolic(x**3, x, x**2))
    assert "at x = 0.7" in hidden and "3*x**2" not in hidden
    assert "3*x**2" in str(check_symbolic(x**3, x, x**2, reveal=True))


class _OneElementOff(nn.Linear):
    """A linear layer whose dW is wrong in one element, by ``relative`` times that element's size."""

    def __init__(self, n_in, n_out, rng, where, relative):
        super().__init__(n_in, n_out, rng)
        self.where, self.relative = where, relative

    def backward(self, dout):
        dx = super().backward(dout)
        index = np.unravel_index(self.where % self.grads["W"].size, self.grads["W"].shape)
        self.grads["W"][index] += self.relative * max(abs(self.grads["W"][index]), 1e-3)
        return dx


@settings(max_examples=60, deadline=None)
@given(n_in=st.integers(1, 8), n_out=st.integers(1, 8), batch=st.integers(1, 6), where=st.integers(0, 63),
       relative=st.floats(1e-3, 10.0) | st.floats(-10.0, -1e-3), seed=st.integers(0, 2**16))
def test_screening_still_finds_one_wrong_element(n_in, n_out, batch, where, relative, seed):
    from coursekit.gradcheck.checks import screening

    rng = np.random.default_rng(seed)
    layer = _OneElementOff(n_in, n_out, rng, where, relative)
    with screening():
        report = check_layer(layer, rng.standard_normal((batch, n_in)), seed=seed)
    assert not report.reports["W"].passed and report.reports["x"].passed and report.reports["b"].passed


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4), which=st.integers(0, 99), where=st.integers(0, 99),
       relative=st.floats(1e-3, 10.0) | st.floats(-10.0, -1e-3), batch=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_screening_a_whole_network_at_once_still_finds_one_wrong_element(sizes, which, where, relative, batch, seed):
    from coursekit.gradcheck.checks import screening

    model = nn.mlp(sizes, nn.Tanh, np.random.default_rng(seed))
    key = list(model.params)[which % len(model.params)]
    right_backward = model.backward

    def backward(dout):
        dx = right_backward(dout)
        grad = model.grads[key]
        index = np.unravel_index(where % grad.size, grad.shape)
        grad[index] += relative * max(abs(grad[index]), 1e-3)
        return dx

    model.backward = backward
    with screening():
        report = check_layer(model, np.random.default_rng(seed + 1).standard_normal((batch, sizes[0])), seed=seed)
    assert not report.reports[key].passed
    assert all(part.passed for name, part in report.reports.items() if name != key)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                  elements=st.floats(-3, 3, allow_nan=False)))
def test_value_and_gradient_splits_a_loss_returning_both_and_its_check_passes_only_when_the_gradient_is_right(y):
    target = 5.0 + np.linspace(-1.0, 1.0, y.size).reshape(y.shape)  # away from every y: no gradient is zero

    def half_square(v, t):
        return 0.5 * float(np.sum((v - t) ** 2)), v - t

    def twice_the_gradient(v, t):
        return 0.5 * float(np.sum((v - t) ** 2)), 2 * (v - t)

    value, gradient = value_and_gradient(half_square, target)
    assert value.many([y, target]) == [value(y), 0.0]
    assert check_gradient(value, gradient, y).passed
    assert not check_gradient(*value_and_gradient(twice_the_gradient, target), y).passed


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=st.floats(-1e3, 1e3)),
       st.floats(1e-7, 1.0))
def test_same_gradient_accepts_only_the_reference_itself_and_never_a_gradient_a_numerical_check_would_refuse(
        reference, relative):
    assert same_gradient(reference.copy(), reference)
    off = reference.copy()
    # moved by relative * (1 + |value|), away from it whatever its sign (x * (1 + r) + r cancels near x = -1):
    # more than any rounding, so a numerical check would look
    off.flat[0] = off.flat[0] + relative * (1 + abs(off.flat[0]))
    assert not same_gradient(off, reference)


class HandleLike:
    """Stands for what is not plain data (a proxy of a sandbox object)."""

    shape, dtype = (2,), np.float64

    def __array__(self, dtype=None, copy=None):
        return np.zeros(2)


@pytest.mark.parametrize("got", [[0.0, 0.0], np.zeros(2, np.float32), np.zeros((2, 1)), np.zeros(3),
                                 np.array([0.0, np.nan]), HandleLike(), 0.0, None])
def test_same_gradient_is_false_for_anything_but_a_float64_array_of_the_reference_shape(got):
    assert not same_gradient(got, np.zeros(2))
