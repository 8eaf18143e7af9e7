"""What lesson 07 states about costs, checked exactly (counts, not timings), and its figures through their data."""

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import nn
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
