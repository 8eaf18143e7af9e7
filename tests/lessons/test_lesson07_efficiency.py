"""What lesson 07 states about costs, checked exactly (counts, not timings), and its figures through their data."""

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import nn
from coursekit.gradcheck import check_gradient
from coursekit.gradcheck import jvp as numerical_jvp
from coursekit.lessons.l07_efficiency import _jvp, _network
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
