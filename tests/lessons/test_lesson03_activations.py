"""Every derivative lesson 03 states, checked with SymPy, and the lesson's figures through their data."""

import functools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hidden_parts import run_hidden_part

from coursekit import nn
from coursekit.gradcheck import check_gradient, check_layer
from coursekit.viz import widgets
from coursekit.viz.activations import ACTIVATIONS, SATURATED, functions_figure, saturated_region, saturation_figure

x, u = sp.symbols("x u", real=True)
SIGMA = 1 / (1 + sp.exp(-x))


def same(p, q):
    return sp.simplify(p - q) == 0


def test_sigmoid_derivative_step_by_step():
    step1 = -(1 + sp.exp(-x)) ** -2 * (-sp.exp(-x))          # chain rule on u**-1, u = 1 + e^-x
    assert same(sp.diff(SIGMA, x), step1)
    step2 = sp.exp(-x) / (1 + sp.exp(-x)) ** 2
    assert same(step1, step2)
    first, second = 1 / (1 + sp.exp(-x)), sp.exp(-x) / (1 + sp.exp(-x))
    assert same(first * second, step2)
    assert same(second, ((1 + sp.exp(-x)) - 1) / (1 + sp.exp(-x))) and same(second, 1 - SIGMA)
    assert same(sp.diff(SIGMA, x), SIGMA * (1 - SIGMA))


def test_tanh_derivative_by_the_quotient_rule():
    tanh = (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x))
    quotient = ((sp.exp(x) + sp.exp(-x)) ** 2 - (sp.exp(x) - sp.exp(-x)) ** 2) / (sp.exp(x) + sp.exp(-x)) ** 2
    assert same(sp.diff(tanh, x), quotient)
    assert same(quotient, 1 - tanh**2)
    assert same(sp.diff(sp.tanh(x), x), 1 - sp.tanh(x) ** 2)


def test_relu_slopes_on_each_side_of_the_kink():
    relu = sp.Max(0, x)
    assert sp.diff(relu, x).subs(x, 2) == 1 and sp.diff(relu, x).subs(x, -2) == 0
    assert sp.limit((relu.subs(x, u) - 0) / u, u, 0, "+") == 1
    assert sp.limit((relu.subs(x, u) - 0) / u, u, 0, "-") == 0


def test_sigmoid_slope_is_at_most_a_quarter_and_small_far_away():
    slope = SIGMA * (1 - SIGMA)
    assert sp.solve(sp.diff(slope, x), x) == [0]
    assert slope.subs(x, 0) == sp.Rational(1, 4)
    assert float(slope.subs(x, 5)) < 0.007
    assert float(sp.Rational(1, 4) ** 10) < 1e-6
    assert float((1 - sp.tanh(x) ** 2).subs(x, 0)) == 1.0


def test_the_checker_reports_the_relu_kink_and_accepts_slope_zero():
    report = check_gradient(lambda v: float(np.sum(np.maximum(v, 0))), lambda v: (v > 0).astype(float),
                            np.array([-1.5, 0.0, 2.0]))
    assert report.passed and "kink crossed" in str(report)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_figure_panels_hold_each_function_and_its_derivative(name):
    grid = np.linspace(-3, 3, 31)
    figure = functions_figure(grid)
    ax = figure.axes[list(ACTIVATIONS).index(name)]
    f, df = ACTIVATIONS[name]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), f(grid))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), df(grid))
    plt.close(figure)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_table_derivatives_match_central_differences(name):
    f, df = ACTIVATIONS[name]
    points = np.array([-2.3, -0.4, 0.6, 1.9])
    central = (f(points + 1e-6) - f(points - 1e-6)) / 2e-6
    np.testing.assert_allclose(df(points), central, rtol=1e-7, atol=1e-9)


def test_saturated_region_is_where_the_slope_is_below_five_percent_of_its_peak():
    grid = np.linspace(-6, 6, 601)
    flat = saturated_region("sigmoid", 1.0, grid)
    slope = nn.sigmoid(grid) * (1 - nn.sigmoid(grid))
    np.testing.assert_array_equal(flat, slope < SATURATED * 0.25)
    assert saturated_region("sigmoid", 4.0, grid).mean() > flat.mean() > saturated_region("sigmoid", 0.5, grid).mean()


def test_saturation_figure_draws_the_scaled_function_and_its_slope(monkeypatch):
    figure = saturation_figure("tanh", 0.5, 2.0)
    grid = figure.axes[0].lines[0].get_xdata()
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), np.tanh(2 * grid))
    np.testing.assert_allclose(figure.axes[1].lines[0].get_ydata(), 2 * (1 - np.tanh(2 * grid) ** 2))
    plt.close(figure)
    import ipywidgets

    monkeypatch.setenv("COURSEKIT_HEADLESS", "1")
    shown = widgets.interactive_figure(saturation_figure, name=ipywidgets.Dropdown(options=["relu"], value="relu"),
                                       x0=ipywidgets.FloatSlider(value=1.0), gain=ipywidgets.FloatSlider(value=1.0))
    assert isinstance(shown, plt.Figure)
    plt.close(shown)


@pytest.mark.parametrize("layer", [nn.Sigmoid, nn.Tanh, nn.ReLU])
def test_reference_activation_layers_pass_check_layer(layer):
    assert check_layer(layer(), np.random.default_rng(5).standard_normal((3, 4))).passed


def _sigmoid_stack_gradient_ratio(weights, biases, a0, upstream):
    """|dL/dz^1| / |dL/dz^L| through a stack of sigmoid layers z^l = W^l a^(l-1) + b^l, a^l = sigmoid(z^l)."""
    slopes, a = [], a0
    for W, b in zip(weights, biases, strict=True):
        a = nn.sigmoid(W @ a + b)
        slopes.append(a * (1 - a))
    delta = slopes[-1] * upstream
    for W, slope in zip(weights[:0:-1], slopes[-2::-1], strict=True):
        delta = slope * (W.T @ delta)          # f' factor times the (W^l)^T factor
    return np.linalg.norm(delta) / np.linalg.norm(upstream)


def test_the_quarter_bounds_the_f_prime_factors_not_the_gradient():
    # The f' factors alone, at best, over 10 sigmoid layers (what c8 and c9 state).
    assert f"{0.25**10:.2e}" == "9.54e-07" and round(np.log10(0.25**10)) == -6   # (1/4)^10 ~ 10^-6
    ones = np.ones(3)
    # Weights can stretch: every z = 0 (slope 1/4) and W = 8 I, so each layer doubles the gradient.
    stretched = _sigmoid_stack_gradient_ratio([8 * np.eye(3)] * 10, [-4 * ones] * 10, np.full(3, 0.5), ones)
    assert np.isclose(stretched, 0.25**10 * 8.0**9) and stretched > 100   # 10 slopes of 1/4, 9 factors of 8
    # ...or shrink further: W = I/2 at z = 0 scales by 1/8 per layer.
    shrunk = _sigmoid_stack_gradient_ratio([0.5 * np.eye(3)] * 10, [-0.25 * ones] * 10, np.full(3, 0.5), ones)
    assert np.isclose(shrunk, 0.25**10 * 0.5**9) and shrunk < 0.25**10
    # With weights of the usual starting size (std 1/sqrt(n)), the gradient all but vanishes.
    for seed in range(5):
        rng = np.random.default_rng(seed)
        weights = [rng.standard_normal((64, 64)) / 8 for _ in range(10)]
        ratio = _sigmoid_stack_gradient_ratio(weights, [np.zeros(64)] * 10, rng.standard_normal(64),
                                              rng.standard_normal(64))
        assert ratio < 1e-5


def test_an_add_node_hands_one_dout_to_both_paths_and_an_in_place_relu_corrupts_the_skip_path():
    x0 = np.array([[0.5, -1.0, -2.0]])
    dout = np.array([[1.0, -2.0, 3.0]])

    def loss(v):                                  # L = dout . (x + ReLU(x)), so dL/dy = dout
        return float(np.sum(dout * (v + np.maximum(v, 0.0))))

    correct = dout + dout * (x0 > 0)
    np.testing.assert_array_equal(correct, [[2.0, -2.0, 3.0]])
    assert check_gradient(loss, lambda v: correct, x0).passed
    relu = nn.ReLU()
    relu.forward(x0)
    np.testing.assert_array_equal(relu.backward(dout) + dout, correct)

    class LeakyMaskReLU(nn.ReLU):
        def backward(self, dout):
            dout[~self.positive] = 0
            return dout

    leaky, shared = LeakyMaskReLU(), dout.copy()
    leaky.forward(x0)
    np.testing.assert_array_equal(leaky.backward(shared) + shared, [[2.0, 0.0, 0.0]])


def test_swish_derivative_and_shape_as_the_lesson_states():
    swish = x * SIGMA
    stated = SIGMA + x * SIGMA * (1 - SIGMA)
    assert same(sp.diff(swish, x), stated) and same(stated, SIGMA * (1 + x * (1 - SIGMA)))
    assert sp.diff(swish, x).subs(x, 0) == sp.Rational(1, 2)
    points = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    formula = nn.sigmoid(points) * (1 + points * (1 - nn.sigmoid(points)))
    central = ((points + 1e-5) * nn.sigmoid(points + 1e-5) - (points - 1e-5) * nn.sigmoid(points - 1e-5)) / 2e-5
    np.testing.assert_allclose(formula, central, rtol=0, atol=1e-9)
    shown = [-0.090784, 0.260039, 0.5, 0.927671, 1.088104]            # what the lesson prints, 6 decimals
    np.testing.assert_array_equal(formula.round(6), shown)
    assert np.all(np.abs(formula * 1e6 % 1 - 0.5) > 0.01)              # no printed digit sits on a rounding edge
    far = np.array([-40.0, 40.0])
    for f in (lambda v: v * nn.sigmoid(v), lambda v: v * np.tanh(np.logaddexp(0.0, v))):   # swish, mish
        np.testing.assert_allclose(f(far), [0.0, 40.0], atol=1e-12)   # ReLU with its corner rounded off
        negative = np.linspace(-5, -0.1, 50)
        assert np.all(f(negative) < 0) and f(np.array([1.0]))[0] > 0  # below 0 for negative x, unlike ReLU


def test_the_max_gate_routes_the_gradient_and_a_tie_is_a_kink():
    a_, b_ = sp.symbols("a b", real=True)
    gate = sp.Max(a_, b_)
    assert sp.diff(gate, a_).subs({a_: 3, b_: 1}) == 1 and sp.diff(gate, b_).subs({a_: 3, b_: 1}) == 0
    assert sp.diff(gate, a_).subs({a_: -1, b_: 0.5}) == 0 and sp.diff(gate, b_).subs({a_: -1, b_: 0.5}) == 1
    u_ = sp.Symbol("u", positive=True)                                # at a tie: one-sided slopes 1 and 0
    assert sp.limit((gate.subs({a_: 2 + u_, b_: 2}) - 2) / u_, u_, 0) == 1
    assert sp.limit((gate.subs({a_: 2 - u_, b_: 2}) - 2) / -u_, u_, 0) == 0
    a, b = np.array([3.0, -1.0, 2.0]), np.array([1.0, 0.5, 2.0])
    a_wins = a > b
    da, db = np.where(a_wins, 2.0, 0.0), np.where(a_wins, 0.0, 2.0)
    np.testing.assert_array_equal(np.maximum(a, b), [3.0, 0.5, 2.0])
    np.testing.assert_array_equal(da, [2.0, 0.0, 0.0])
    np.testing.assert_array_equal(db, [0.0, 2.0, 2.0])
    np.testing.assert_array_equal(da + db, [2.0, 2.0, 2.0])           # the whole gradient goes one way
    report = check_gradient(lambda v: float(np.sum(2.0 * np.maximum(v, b))), lambda v: da, a, name="a")
    assert report.passed and "a[2]: kink crossed (left slope 0, right slope 2)" in str(report)
    for share in (0.0, 0.5, 1.0):                                     # any split at the tie is accepted
        assert check_gradient(lambda v: float(np.sum(2.0 * np.maximum(v, b))),
                              lambda v, s=share: np.array([2.0, 0.0, 2.0 * s]), a).passed
    # ReLU = max(x, 0) with the tie sent to the constant: this course's ReLU'(0) = 0
    relu = nn.ReLU()
    relu.forward(np.array([[0.0, 1.0]]))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 2))), np.where(np.array([[0.0, 1.0]]) > 0, 1.0, 0.0))


# ---------------------------------------------------------------- red team Z4's wrong code, and Z3's hostile shapes
_run_hidden_test = functools.partial(run_hidden_part, "03_activations")


def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class _Sigmoid:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.y = _stable_sigmoid(x)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1 - self.y)


class _Relu:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)


class _Tanh:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2)


def _first_batch_only(base, *kept):
    """``base`` keeping what backward needs from its FIRST forward only (``if not hasattr(self, "x")``): right for a
    layer used once, wrong from a training loop's second batch on (red team Z4)."""
    class FirstBatchOnly(base):
        def forward(self, x):
            earlier = {name: getattr(self, name) for name in kept if name in vars(self)}
            out = super().forward(x)
            vars(self).update(earlier)
            return out
    return FirstBatchOnly


def _buffered(base, name):
    """``base`` copying each forward's cache into a buffer the first forward made: a batch of another size breaks it."""
    class Buffered(base):
        def forward(self, x):
            buffer = vars(self).get(name)
            out = super().forward(x)
            if buffer is not None:
                buffer[...] = getattr(self, name)
                setattr(self, name, buffer)
            return out
    return Buffered


@pytest.mark.parametrize(("name", "layer", "cache"), [("Sigmoid", _Sigmoid, "y"), ("ReLU", _Relu, "mask"),
                                                        ("Tanh", _Tanh, "y")])
def test_a_layer_that_keeps_its_first_batch_for_backward_fails_its_check(name, layer, cache):
    from coursekit.feedback import properties
    from coursekit.lessons.l03_activations import exercises

    assert exercises.evaluate(name, layer).passed
    for wrong in (_first_batch_only(layer, cache), _buffered(layer, cache)):
        result = exercises.evaluate(name, wrong)
        assert result.status in ("failed", "error") and str(properties.LAYER_LAST) in result.message, result.message
    assert "differed from what a new layer gives" in exercises.evaluate(name, _first_batch_only(layer, cache)).message


def test_the_layers_of_lessons_04_and_05_must_follow_their_last_forward_too():
    from coursekit.feedback import properties
    from coursekit.lessons import l04_linear_losses as l04
    from coursekit.lessons import l05_delta_recursion as l05

    class Linear:
        def __init__(self, n_in, n_out, rng):
            self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
            self.grads = {"W": np.zeros((n_out, n_in)), "b": np.zeros(n_out)}

        def forward(self, x):
            self.x = x
            return x @ self.params["W"].T + self.params["b"]

        def backward(self, dout):
            self.grads["W"], self.grads["b"] = dout.T @ self.x, dout.sum(axis=0)
            return dout @ self.params["W"]

    class LayerNorm(l04._LayerNorm):
        pass

    for exercises, name, layer, cache in ((l04.exercises, "Linear", Linear, ("x",)),
                                          (l04.exercises, "LayerNorm", LayerNorm, ("y", "std"))):
        assert exercises.evaluate(name, layer).passed, name
        result = exercises.evaluate(name, _first_batch_only(layer, *cache))
        assert result.status == "failed" and str(properties.LAYER_LAST) in result.message, result.message
    assert any(prop.words == properties.LAYER_LAST for prop in l05.exercises["MLP"].properties)


def test_the_last_forward_property_on_a_layer_of_its_own():
    from coursekit.feedback import properties

    class Scale:
        def __init__(self):
            self.params, self.grads = {}, {}

        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, dout):
            return 2.0 * dout * self.x

    checks = [properties.layer_follows_last_forward(lambda cls: cls(), np.arange(6.0).reshape(3, 2) - 2.5,
                                                    np.ones((3, 2)))]
    assert properties.verdict("Scale", checks, Scale) is None
    failed = properties.verdict("Scale", checks, _first_batch_only(Scale, "x"))
    assert failed.status == "failed" and "dx differed" in failed.message
    # one row: no smaller batch, the other batch of its shape still tells
    one_row = [properties.layer_follows_last_forward(lambda cls: cls(), np.array([[1.5, -2.0]]), np.ones((1, 2)))]
    assert properties.verdict("Scale", one_row, Scale) is None
    assert properties.verdict("Scale", one_row, _first_batch_only(Scale, "x")).status == "failed"


class _ExpTanh(_Tanh):
    """red team Z4: tanh from exp(x) and exp(-x), nan for |x| >= 710 (inf / inf)."""

    def forward(self, x):
        e_pos, e_neg = np.exp(x), np.exp(-x)
        self.y = (e_pos - e_neg) / (e_pos + e_neg)
        return self.y


def _sigmoid_grad_from_exp(x):
    """red team Z4: e / (1 + e)**2 with e = exp(-x), nan for x <= -710."""
    e = np.exp(-x)
    return e / (1 + e) ** 2


def _sigmoid_in_x_dtype(x):
    """red team Z4: two masks written into np.empty_like(x): an integer x gives an integer result, all zeros."""
    out, positive = np.empty_like(x), x >= 0
    out[positive] = 1 / (1 + np.exp(-x[positive]))
    e = np.exp(x[~positive])
    out[~positive] = e / (1 + e)
    return out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("language", ["", "ja"])
def test_a_tanh_from_exp_fails_the_hidden_tanh_test_far_from_zero(language):
    from coursekit.lessons.l03_activations import exercises

    _run_hidden_test("Tanh_test", language, Tanh=_Tanh)
    assert exercises.evaluate("Tanh", _ExpTanh).passed  # the visible inputs are all near 0
    with pytest.raises(AssertionError):
        _run_hidden_test("Tanh_test", language, Tanh=_ExpTanh)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("language", ["", "ja"])
def test_a_sigmoid_grad_from_exp_of_minus_x_fails_visibly_and_hidden(language):
    from coursekit.lessons.l03_activations import exercises

    result = exercises.evaluate("sigmoid_grad", _sigmoid_grad_from_exp)
    assert result.status == "failed" and "-1000" in result.message and "NaN" in result.message, result.message
    _run_hidden_test("sigmoid_grad_test", language, sigmoid_grad=lambda x: _sigmoid_grad_from_exp(np.abs(x)))
    with pytest.raises(AssertionError):
        _run_hidden_test("sigmoid_grad_test", language, sigmoid_grad=_sigmoid_grad_from_exp)


def test_a_sigmoid_made_in_the_dtype_of_x_fails_on_an_integer_array_and_is_not_called_naive():
    from coursekit.lessons.l03_activations import exercises

    assert exercises.evaluate("stable_sigmoid", _stable_sigmoid).passed
    result = exercises.evaluate("stable_sigmoid", _sigmoid_in_x_dtype)
    assert result.status == "failed" and "integer array" in result.message and result.mistake is None, result


@pytest.mark.parametrize("language", ["", "ja"])
def test_the_hidden_sigmoid_test_checks_each_shape_before_it_adds_two_results(language):
    # red team Z3: results of shapes (N, 1) and (1, N) added first would make an N x N array (8 TB here)
    def hostile(x):
        x = np.asarray(x)
        if x.shape == (61,):
            return np.zeros((10**6, 1)) if x[0] < 0 else np.zeros((1, 10**6))
        return _stable_sigmoid(x)

    _run_hidden_test("stable_sigmoid_test", language, stable_sigmoid=_stable_sigmoid)
    with pytest.raises(AssertionError):
        _run_hidden_test("stable_sigmoid_test", language, stable_sigmoid=hostile)


# ---------------------------------------------------------------- red team AC's wrong answers that scored full marks
def _sigmoid_grad(x):
    s = _stable_sigmoid(x)
    return s * (1 - s)


def _sigmoid_grad_in_the_dtype_of_x(x):
    out = np.empty_like(x)  # an integer x gives an integer result: every slope rounded to 0
    out[...] = _sigmoid_grad(x)
    return out


class _OwnSigmoid:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.out = _stable_sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class _SigmoidInTheDtypeOfX(_OwnSigmoid):
    def forward(self, x):
        self.out = np.empty_like(x)
        self.out[...] = _stable_sigmoid(x)
        return self.out


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize(("grade_id", "name", "right", "wrong"), [
    ("sigmoid_grad_test", "sigmoid_grad", _sigmoid_grad, _sigmoid_grad_in_the_dtype_of_x),
    ("Sigmoid_test", "Sigmoid", _OwnSigmoid, _SigmoidInTheDtypeOfX),
])
def test_a_result_made_in_the_dtype_of_an_integer_input_fails_the_hidden_test(language, grade_id, name, right, wrong):
    from coursekit.lessons.l03_activations import exercises

    assert exercises.evaluate(name, wrong).passed  # why it scored: every visible input is of floats
    _run_hidden_test(grade_id, language, **{name: right})
    with pytest.raises(AssertionError):
        _run_hidden_test(grade_id, language, **{name: wrong})


class _SigmoidForSmallBatches(_OwnSigmoid):
    def backward(self, dout):  # red team AD: right up to the largest batch a check used, then dout * y
        return super().backward(dout) if len(dout) < 8 else dout * self.out


@pytest.mark.parametrize("language", ["", "ja"])
def test_a_layer_right_for_small_batches_only_fails_the_hidden_test(language):
    from coursekit.lessons.l03_activations import exercises

    assert exercises.evaluate("Sigmoid", _SigmoidForSmallBatches).passed  # why it scored
    with pytest.raises(AssertionError):
        _run_hidden_test("Sigmoid_test", language, Sigmoid=_SigmoidForSmallBatches)
