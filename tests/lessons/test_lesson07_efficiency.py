"""What lesson 07 states about costs, checked exactly (counts, not timings), and its figures through their data."""

import functools
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hidden_parts import run_hidden_part
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import datasets, nn, training
from coursekit.gradcheck import check_gradient
from coursekit.gradcheck import jvp as numerical_jvp
from coursekit.lessons.l07_efficiency import JVP_CASES, _chain, _jvp, _network
from coursekit.training import sgd_step
from coursekit.viz.efficiency import GradientCosts, chain_costs, chain_costs_figure, measure_gradient_costs


def multiplications_of_products(shapes, order):
    """Count a*b*c per product by actually walking the shapes of the intermediate results."""
    total = 0
    if order == "forward":
        current = shapes[0]
        for shape in shapes[1:]:
            total += shape[0] * shape[1] * current[1]
            current = (shape[0], current[1])
    else:
        current = shapes[-1]
        for shape in reversed(shapes[:-1]):
            total += current[0] * current[1] * shape[1]
            current = (current[0], shape[1])
    return total


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=2, max_size=7))
def test_chain_costs_equal_the_cost_of_the_actual_products(dims):
    shapes = [(dims[k], dims[k - 1]) for k in range(1, len(dims))]
    forward, reverse = chain_costs(dims)
    assert forward == multiplications_of_products(shapes, "forward")
    assert reverse == multiplications_of_products(shapes, "reverse")
    assert chain_costs(dims[::-1]) == (reverse, forward)   # mirror images swap the roles


def test_the_lessons_example_reverse_mode_is_sixty_times_cheaper_for_one_output():
    forward, reverse = chain_costs([1000, 64, 64, 1])
    assert (forward, reverse) == (4_160_000, 68_096) and 60 < forward / reverse < 62


def test_a_batched_linear_layer_backward_is_two_forward_products():
    n, m, k = sp.symbols("N m n", positive=True, integer=True)
    forward = n * m * k                    # Z = X W^T
    backward = m * n * k + n * m * k       # dW = dZ^T X and dX = dZ W
    assert sp.simplify(backward / forward) == 2


def test_numerical_gradient_costs_two_forward_passes_per_parameter_and_each_grows_with_p():
    p, c = sp.symbols("P c", positive=True)
    numerical = 2 * p * (c * p)            # 2P passes, each proportional to P
    assert sp.degree(numerical, p) == 2 and sp.degree(c * p * 3, p) == 1


def test_forward_mode_rule_is_the_product_rule():
    eps = sp.Symbol("epsilon")
    a, da, w, dw, b, db = sp.symbols("a da w dw b db")
    z = (a + eps * da) * (w + eps * dw) + (b + eps * db)
    assert sp.simplify(sp.diff(z, eps).subs(eps, 0) - (da * w + a * dw + db)) == 0


def test_reference_jvp_matches_numerical_and_reverse_mode():
    rng = np.random.default_rng(3)
    sizes = [3, 5, 4, 2]
    params, tangents = _network(sizes, 1), _network(sizes, 2)
    x = rng.standard_normal((4, 3))
    flat = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in params])
    direction = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in tangents])

    def unflatten(theta):
        out, at = [], 0
        for W, b in params:
            out.append((theta[at:at + W.size].reshape(W.shape), theta[at + W.size:at + W.size + b.size]))
            at += W.size + b.size
        return out

    out, d_out = _jvp(params, tangents, x, "tanh")
    np.testing.assert_allclose(d_out, numerical_jvp(lambda t: _jvp(unflatten(t), tangents, x, "tanh")[0], flat,
                                                    direction), rtol=1e-6, atol=1e-9)
    model = nn.mlp(sizes, nn.Tanh, rng)
    for i, (W, b) in enumerate(params):
        model.params[f"{2 * i}.W"][...] = W
        model.params[f"{2 * i}.b"][...] = b
    c = rng.standard_normal(out.shape)
    np.testing.assert_allclose(model.forward(x), out)
    model.backward(c)
    reverse = sum(np.sum(model.grads[f"{2 * i}.W"] * dW) + np.sum(model.grads[f"{2 * i}.b"] * db)
                  for i, (dW, db) in enumerate(tangents))
    assert np.isclose(np.sum(c * d_out), reverse)


def test_measured_costs_have_the_structure_the_lesson_plots():
    costs = measure_gradient_costs(widths=(2, 4, 8), batch=4, repeats=1)
    assert list(costs.params) == sorted(costs.params) and (costs.numerical > 0).all() and (costs.backprop > 0).all()
    params = np.array([10.0, 100.0, 1000.0])
    exact = GradientCosts(params, (params / 10) ** 2, params / 10)
    assert np.isclose(exact.slope("numerical"), 2.0) and np.isclose(exact.slope("backprop"), 1.0)


def test_chain_costs_figure_draws_both_modes():
    figure = chain_costs_figure(widths=(1, 10), hidden=8, depth=2)
    forward_line, reverse_line = figure.axes[0].lines
    assert list(forward_line.get_ydata()) == [chain_costs([n, 8, 8, 1])[0] for n in (1, 10)]
    assert list(reverse_line.get_ydata()) == [chain_costs([n, 8, 8, 1])[1] for n in (1, 10)]
    plt.close(figure)


def multiply_adds_per_example(sizes):
    """(forward, backward) multiply-adds of an MLP per example: Z = X W^T; dW = dZ^T X; dX = dZ W except layer 1."""
    products = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
    return sum(products), sum(products) + sum(products[1:])


def test_the_timed_network_backward_costs_only_a_quarter_more_than_its_forward():
    forward, backward = multiply_adds_per_example([784, 256, 256, 10])
    assert forward == 784 * 256 + 256 * 256 + 256 * 10 == 268_800
    assert backward == 268_800 + 256 * 256 + 256 * 10 == 336_896
    assert round(backward / forward, 2) == 1.25
    rng = np.random.default_rng(0)                # the count is the one the layers actually do
    model = nn.mlp([784, 256, 256, 10], nn.ReLU, rng)
    linears = [layer for layer in model.layers if isinstance(layer, nn.Linear)]
    assert sum(layer.params["W"].size for layer in linears) == forward


def test_backprop_costs_three_forward_passes_so_the_ratio_to_numerical_is_two_thirds_of_p():
    p, t = sp.symbols("P t", positive=True)       # t: the time of one forward pass
    ratio = (2 * p * t) / (t + 2 * t)
    assert sp.simplify(ratio - 2 * p / 3) == 0
    assert round(float(ratio.subs(p, 10**6)), -4) == 670_000
    for width in (128, 256, 512):                 # the largest networks of the timed table: backward ~ 2 forward
        forward, backward = multiply_adds_per_example([8, width, width, 4])
        assert 1.9 < backward / forward < 2


def test_the_row_delta_transposed_is_lesson_05s_column_delta():
    rng = np.random.default_rng(7)
    W, z_prev, b = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    delta_col = rng.standard_normal(3)
    slope = 1 - np.tanh(z_prev) ** 2
    row_step = delta_col[None, :] @ W @ np.diag(slope)          # row times the two Jacobians
    column_step = slope * (W.T @ delta_col)                     # f' o (W^l)^T delta^l
    assert row_step.shape == (1, 4)
    np.testing.assert_allclose(row_step.T[:, 0], column_step)
    np.testing.assert_allclose(np.diag(slope) @ W.T @ delta_col, column_step)   # diag(f') v = f' o v
    report = check_gradient(lambda v: float(delta_col @ (W @ np.tanh(v) + b)), lambda v: column_step, z_prev)
    assert report.passed                          # both are dC/dz^(l-1) for C with dC/dz^l = delta^l


# ---------------------------------------------------------------- section 4: symbolic differentiation
LESSON = Path(__file__).resolve().parents[2] / "notebooks" / "07_efficiency.ipynb"
SYMBOLIC_TABLE = {   # depth: (ops in h_L, in dh_L/dw_1, in all L partials, after cse, reverse mode 7 L), as printed
    1: (2, 5, 5, 5, 7), 2: (4, 13, 22, 12, 14), 4: (8, 35, 108, 26, 28), 8: (16, 103, 600, 54, 56),
    16: (32, 335, 3760, 110, 112),
}
x_sym = sp.Symbol("x")


def tanh_chain(depth):
    """h_0 = x, h_k = tanh(w_k h_(k-1)): the lesson's one-unit-per-layer network, and its weights."""
    weights = sp.symbols(f"w1:{depth + 1}")
    out = x_sym
    for weight in weights:
        out = sp.tanh(weight * out)
    return out, weights


def symbolic_counts(depth):
    out, weights = tanh_chain(depth)
    partials = [sp.diff(out, weight) for weight in weights]
    definitions, shared = sp.cse(partials)
    cse_ops = sum(sp.count_ops(d) for _, d in definitions) + sum(sp.count_ops(p) for p in shared)
    return sp.count_ops(out), sp.count_ops(partials[0]), sum(sp.count_ops(p) for p in partials), cse_ops


def test_the_reverse_mode_steps_of_one_layer_cost_seven_operations():
    a, z, h, w, g, g_z = sp.symbols("a z h w g g_z")
    assert [sp.count_ops(step) for step in (w * a, sp.tanh(z), g * (1 - h**2), g_z * a, g_z * w)] == [1, 1, 3, 1, 1]


def test_symbolic_derivatives_swell_as_the_lesson_prints_and_follow_the_stated_formulas():
    for depth, row in SYMBOLIC_TABLE.items():
        assert symbolic_counts(depth) + (7 * depth,) == row
    for depth in range(1, 9):                      # the closed forms of the markdown cell after the table
        h_ops, first, every, shared = symbolic_counts(depth)
        assert (h_ops, first, shared) == (2 * depth, depth**2 + 5 * depth - 1, 7 * depth - 2)
        assert 3 * every == depth * (2 * depth**2 + 12 * depth + 1)


def test_the_lessons_stored_table_is_the_computed_one():
    notebook = json.loads(LESSON.read_text(encoding="utf-8"))
    [cell] = [c for c in notebook["cells"] if c["cell_type"] == "code" and "sp.cse" in "".join(c["source"])]
    text = "".join("".join(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream")
    assert "dh_2/dw_1 = w2*x*(1 - tanh(w1*x)**2)*(1 - tanh(w2*tanh(w1*x))**2)" in text
    assert "reverse mode: 7 operations per layer" in text
    rows = [tuple(int(n) for n in line.split()) for line in text.splitlines() if re.fullmatch(r"[\d ]+", line.strip())
            and line.strip()]
    assert rows == [(depth, *row) for depth, row in SYMBOLIC_TABLE.items()]


def test_the_printed_two_layer_derivative_is_the_chain_rule():
    w1, w2 = sp.symbols("w1 w2")
    by_hand = w2 * x_sym * (1 - sp.tanh(w1 * x_sym) ** 2) * (1 - sp.tanh(w2 * sp.tanh(w1 * x_sym)) ** 2)
    assert sp.simplify(sp.diff(sp.tanh(w2 * sp.tanh(w1 * x_sym)), w1) - by_hand) == 0
    out, weights = tanh_chain(4)                  # the general x (1 - h_1^2) w_2 (1 - h_2^2) ... w_L (1 - h_L^2)
    layers, h = [], x_sym
    for weight in weights:
        h = sp.tanh(weight * h)
        layers.append(h)
    factors = [w * (1 - h**2) for w, h in zip(weights[1:], layers[1:], strict=True)]
    product = x_sym * (1 - layers[0] ** 2) * sp.Mul(*factors)
    assert sp.expand(sp.diff(out, weights[0]) - product) == 0


def reverse_mode(x, weights):
    """The lesson's five steps per layer: z = w a, h = tanh z; g_z = g (1 - h^2), dC/dw = g_z a, dC/da = g_z w."""
    inputs, outputs, a = [], [], x
    for w in weights:
        inputs.append(a)
        a = np.tanh(w * a)
        outputs.append(a)
    grads, g = [0.0] * len(weights), 1.0
    for k in reversed(range(len(weights))):
        g_z = g * (1 - outputs[k] ** 2)
        grads[k], g = g_z * inputs[k], g_z * weights[k]
    return a, np.array(grads)


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_the_symbolic_gradient_is_right_numerically_and_equals_reverse_mode_and_its_cse_form(depth):
    out, weights = tanh_chain(depth)
    partials = [sp.diff(out, weight) for weight in weights]
    point, x0 = np.random.default_rng(14 + depth).uniform(-1.5, 1.5, depth), 0.7
    f = sp.lambdify((x_sym, *weights), out, "numpy")
    gradient = sp.lambdify((x_sym, *weights), partials, "numpy")
    symbolic = np.array(gradient(x0, *point), dtype=float)
    report = check_gradient(lambda v: float(f(x0, *v)), lambda v: np.array(gradient(x0, *v), dtype=float), point)
    assert report.passed                          # central differences agree with the symbolic derivative
    value, backprop = reverse_mode(x0, point)
    assert np.isclose(value, f(x0, *point))
    np.testing.assert_allclose(backprop, symbolic, rtol=1e-12, atol=1e-15)
    definitions, shared = sp.cse(partials)
    expanded = [p.subs(list(reversed(definitions))) for p in shared]
    np.testing.assert_allclose(np.array(sp.lambdify((x_sym, *weights), expanded, "numpy")(x0, *point), dtype=float),
                               symbolic, rtol=1e-12, atol=1e-15)


def test_an_sgd_step_is_one_multiply_add_per_parameter_about_one_examples_forward_pass():
    rng = np.random.default_rng(0)
    model = nn.mlp([784, 256, 256, 10], nn.ReLU, rng)
    params = sum(value.size for value in model.params.values())
    forward, _ = multiply_adds_per_example([784, 256, 256, 10])
    assert params == forward + 256 + 256 + 10 and params / forward < 1.002   # weights + biases
    before = {key: value.copy() for key, value in model.params.items()}
    grads = {key: rng.standard_normal(value.shape) for key, value in model.params.items()}
    sgd_step(model.params, grads, 0.1)            # each parameter: one multiply (lr * g) and one subtraction
    for key, value in model.params.items():
        np.testing.assert_array_equal(value, before[key] - 0.1 * grads[key])


# ---------------------------------------------------------------- issue 14: numerical-gradient training (seed 002)
SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions" / "07_efficiency.ipynb"


def counted_training(numerical: bool, steps: int = 20, lr: float = 1.5, h: float = 1e-5):
    """The lesson's 2-3-2 tanh network on 40 XOR points: (start loss, model, forward passes, backward passes)."""
    x, y = datasets.xor(n=10, seed=0)
    counts = {"forward": 0, "backward": 0}

    def loss_of(model):
        counts["forward"] += 1
        return nn.softmax_cross_entropy(model.forward(x), y)[0]

    model = nn.mlp([2, 3, 2], nn.Tanh, np.random.default_rng(0))
    start = nn.softmax_cross_entropy(model.forward(x), y)[0]
    for _ in range(steps):
        if numerical:
            grads = {}
            for key, value in model.params.items():
                grads[key] = np.zeros_like(value)
                for index in np.ndindex(value.shape):
                    saved = value[index]
                    value[index] = saved + h
                    up = loss_of(model)
                    value[index] = saved - h
                    grads[key][index] = (up - loss_of(model)) / (2 * h)
                    value[index] = saved
        else:
            counts["forward"] += 1
            model.backward(nn.softmax_cross_entropy(model.forward(x), y)[1])
            counts["backward"] += 1
            grads = model.grads
        training.sgd_step(model.params, grads, lr)
    return start, model, counts["forward"], counts["backward"], (x, y)


def test_numerical_gradient_descent_learns_the_same_weights_as_backprop_at_2p_forward_passes_a_step():
    runs = {name: counted_training(name == "numerical") for name in ("numerical", "backprop")}
    parameters = sum(v.size for v in runs["backprop"][1].params.values())
    assert parameters == 2 * 3 + 3 + 3 * 2 + 2 == 17
    assert runs["numerical"][2:4] == (20 * 2 * parameters, 0) == (680, 0) and runs["backprop"][2:4] == (20, 20)
    lines = []
    for name, (start, model, forward, backward, (x, y)) in runs.items():
        final = nn.softmax_cross_entropy(model.forward(x), y)[0]
        assert rounding_safe(start, 4) and rounding_safe(final, 4)
        assert training.accuracy(model, x, y) == 1.0 and final < start / 4                   # it learned
        lines.append(f"{name + ':':10s} loss {start:.4f} -> {final:.4f}, accuracy 100%, {forward:,} forward passes"
                     + (f", {backward} backward passes" if backward else ""))
    difference = max(np.abs(runs["numerical"][1].params[k] - runs["backprop"][1].params[k]).max()
                     for k in runs["backprop"][1].params)
    assert difference < 1e-8 / 10                                          # "below 1e-8", with room for any machine
    lines.append("largest difference between the two sets of weights: below 1e-8")
    notebook = json.loads(LESSON.read_text(encoding="utf-8"))
    [cell] = [c for c in notebook["cells"]
              if c["cell_type"] == "code" and "numerical_gradients" in "".join(c["source"])]
    assert "".join("".join(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream").splitlines() == lines


def rounding_safe(value: float, digits: int) -> bool:
    scaled = abs(value) * 10**digits
    return abs(scaled - np.floor(scaled) - 0.5) > 1e-6


def test_the_written_answer_prices_a_million_parameters():
    p = 10**6
    assert 2 * p == 2_000_000 and round(2 * p / 3, -4) == 670_000
    hours = 2 * p / 3                                      # one hour of backprop training, numerically
    assert round(hours / (24 * 365.25)) == 76
    answer = next("".join(c["source"]) for c in json.loads(SOLUTIONS.read_text())["cells"]
                  if "written_why_backprop" == c["metadata"].get("nbgrader", {}).get("grade_id"))
    assert "670{,}000" in answer and "about 76 years" in answer


# ---------------------------------------------------------------- wrong code the hidden tests must refuse
_run_hidden_test = functools.partial(run_hidden_part, "07_efficiency")


def _jvp_from_exp(params, tangents, x, hidden):
    """Forward mode with the activations written from exp(): NaN where |z| > 709 (exp overflows to inf)."""
    f, f_prime = nn.ACTIVATIONS[hidden]
    a, da = x, np.zeros_like(x)
    for index, ((W, b), (dW, db)) in enumerate(zip(params, tangents, strict=True)):
        z = a @ W.T + b
        dz = da @ W.T + a @ dW.T + db
        if index == len(params) - 1:
            a, da = z, dz
        elif hidden == "sigmoid":
            e = np.exp(-z)
            a, da = 1 / (1 + e), e / (1 + e) ** 2 * dz
        elif hidden == "tanh":
            e_pos, e_neg = np.exp(z), np.exp(-z)
            a = (e_pos - e_neg) / (e_pos + e_neg)
            da = (1 - a**2) * dz
        else:
            a, da = f(z), f_prime(z) * dz
    return a, da


@pytest.mark.parametrize("language", ["", "ja"])
def test_the_hidden_mlp_jvp_test_saturates_the_hidden_units(language):
    # every pre-activation of the checks was within a few units of 0, where exp's forms are right
    _run_hidden_test("mlp_jvp_test", language, mlp_jvp=lambda params, tangents, x, hidden: _jvp(params, tangents, x,
                                                                                                hidden))
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(AssertionError):
        _run_hidden_test("mlp_jvp_test", language, mlp_jvp=_jvp_from_exp)
    params, tangents, x, hidden = (_network([3, 4, 2], 1), _network([3, 4, 2], 51), np.array([[900.0, -900.0, 0.0]]),
                                   "tanh")
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(_jvp_from_exp(params, tangents, x, hidden)[1]).any()
    assert np.isfinite(_jvp(params, tangents, x, hidden)[1]).all()


# ---------------------------------------------------------------- red team AA's wrong answers that scored full marks
def _chain_forward_unrolled(dims, order):
    """Forward mode written out for chains of up to three Jacobians (the fourth product is missing)."""
    if order == "reverse":
        return _chain(dims, order)
    total = 0
    if len(dims) >= 3:
        total += dims[2] * dims[1] * dims[0]
    if len(dims) >= 4:
        total += dims[3] * dims[2] * dims[0]
    return total


def _jvp_relu_slope_one_off_check(params, tangents, x, hidden):
    """ReLU's slope taken as 1 everywhere, unless the network has a visible case's sizes."""
    sizes = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    visible = [[case[0][0][0].shape[1]] + [W.shape[0] for W, _ in case[0]] for case in JVP_CASES]
    if hidden == "relu" and sizes not in visible:
        return _jvp(params, tangents, x, hidden, slope=np.ones_like)
    return _jvp(params, tangents, x, hidden)


def _jvp_remembered_by_params(params, tangents, x, hidden, _seen={}):  # noqa: B006 - the memo is the mistake
    key = (tuple(W.tobytes() for W, _ in params), x.tobytes(), hidden)
    return _seen.setdefault(key, _jvp(params, tangents, x, hidden))


def test_a_tangent_remembered_by_params_and_x_fails_the_visible_check():
    from coursekit.lessons.l07_efficiency import exercises

    result = exercises.evaluate("mlp_jvp", _jvp_remembered_by_params)
    assert not result.passed and "your tangents is not used" in str(result), str(result)


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize(("grade_id", "name", "right", "wrong"), [
    ("chain_multiplications_test", "chain_multiplications", _chain, _chain_forward_unrolled),
    ("mlp_jvp_test", "mlp_jvp", lambda *args: _jvp(*args), _jvp_relu_slope_one_off_check),
])
def test_a_wrong_answer_right_on_every_visible_case_fails_the_hidden_test(language, grade_id, name, right, wrong):
    from coursekit.lessons.l07_efficiency import exercises

    assert exercises.evaluate(name, wrong).passed  # why it scored: every visible case agrees
    _run_hidden_test(grade_id, language, **{name: right})
    with pytest.raises(AssertionError):
        _run_hidden_test(grade_id, language, **{name: wrong})


def _jvp_for_small_batches(params, tangents, x, hidden):
    """Right up to three rows; from four on, the a dW^T term of the product rule dropped (red team AD)."""
    if len(x) < 4:
        return _jvp(params, tangents, x, hidden)
    return _jvp(params, [(np.zeros_like(dW), db) for dW, db in tangents], x, hidden)


@pytest.mark.parametrize("language", ["", "ja"])
def test_a_jvp_right_for_small_batches_only_fails_the_hidden_test(language):
    from coursekit.lessons.l07_efficiency import exercises

    assert exercises.evaluate("mlp_jvp", _jvp_for_small_batches).passed  # why it scored
    with pytest.raises(AssertionError):
        _run_hidden_test("mlp_jvp_test", language, mlp_jvp=_jvp_for_small_batches)
