"""Every formula lesson 05 states, checked with SymPy and numerically, and its figure through its data."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import nn
from coursekit.gradcheck import check_gradient_directional
from coursekit.lessons.l05_delta_recursion import LOSSES, _backward, _forward, _output_delta, make_problem
from coursekit.viz.deltas import SIZES, delta_figure, demo_deltas


def same(p, q):
    return sp.simplify(p - q) == 0


def symbolic_network(sizes=(2, 3, 2)):
    """A two-layer network with sigmoid hidden units and identity output, fully symbolic."""
    f = sp.Function("f")
    x = sp.Matrix(sizes[0], 1, lambda j, _: sp.Symbol(f"x{j}"))
    Ws = [sp.Matrix(n_out, n_in, lambda i, j, k=k: sp.Symbol(f"W{k}_{i}{j}"))
          for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1)]
    z1 = Ws[0] * x
    a1 = z1.applyfunc(f)
    z2 = Ws[1] * a1
    t = sp.Matrix(sizes[2], 1, lambda i, _: sp.Symbol(f"t{i}"))
    cost = sum((z2[i] - t[i]) ** 2 for i in range(sizes[2])) / 2
    return f, x, Ws, z1, a1, z2, t, cost


def test_output_delta_and_one_step_back_match_the_chain_rule():
    f, x, Ws, z1, a1, z2, t, cost = symbolic_network()
    delta2 = z2 - t                                                   # identity output: f'(z^L) = 1
    for i in range(2):
        assert same(sp.diff(cost, Ws[1][i, 0]), delta2[i] * a1[0])   # dC/dW^2_ij = delta^2_i a^1_j
    u = sp.Symbol("u")
    slopes = sp.Matrix([sp.diff(f(u), u).subs(u, z1[j]) for j in range(3)])     # f'(z^1), elementwise
    delta1 = slopes.multiply_elementwise(Ws[1].T * delta2)
    for i in range(3):
        for j in range(2):
            assert same(sp.diff(cost, Ws[0][i, j]), delta1[i] * x[j])   # delta^1 = f'(z^1) o (W^2)^T delta^2


def test_output_delta_keeps_the_sigmoid_slope_with_squared_error_and_loses_it_with_bce():
    z, t = sp.symbols("z t")
    s = 1 / (1 + sp.exp(-z))
    assert same(sp.diff((s - t) ** 2 / 2, z), s * (1 - s) * (s - t))
    assert same(sp.diff(-t * sp.log(s) - (1 - t) * sp.log(1 - s), z), s - t)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5), st.sampled_from(["sigmoid", "tanh", "relu"]),
       st.sampled_from([("identity", "mse"), ("sigmoid", "mse"), ("sigmoid", "bce"), ("softmax", "ce")]),
       st.integers(0, 10_000))
def test_reference_backprop_matches_numerical_gradients_at_any_depth(depth, hidden, pair, seed):
    output, loss = pair
    rng = np.random.default_rng(seed)
    sizes = list(rng.integers(1, 5, size=depth + 1))
    if loss == "ce":
        sizes[-1] = max(sizes[-1], 2)
    params, x, t = make_problem(sizes, hidden, output, loss, seed)
    a_L, cache = _forward(params, x, hidden, output)
    grads = _backward(params, cache, _output_delta(cache["z"][-1], a_L, t, output, loss), hidden)
    for index, (W, _) in enumerate(params):
        def cost(v, index=index):
            changed = [list(p) for p in params]
            changed[index][0] = v
            return LOSSES[pair](_forward([tuple(p) for p in changed], x, hidden, output)[0], t)
        assert check_gradient_directional(cost, lambda _, index=index: grads[index][0], W).passed


def test_recomputing_each_delta_costs_quadratically_and_the_recursion_linearly():
    depth, layer = sp.symbols("L layer", integer=True, positive=True)
    assert same(sp.summation(depth - layer, (layer, 1, depth)), depth * (depth - 1) / 2)


def test_demo_deltas_follow_the_recursion_and_fade_through_sigmoids():
    deltas = demo_deltas("sigmoid")
    assert [d.shape for d in deltas] == [(5, n) for n in SIZES[1:]]
    norms = [np.linalg.norm(d) for d in deltas]
    assert norms == sorted(norms)                      # smaller and smaller toward the input
    relu_norms = [np.linalg.norm(d) for d in demo_deltas("relu")]
    assert relu_norms[0] / relu_norms[-1] > 10 * norms[0] / norms[-1]


@pytest.mark.parametrize("reached", [1, 4])
def test_delta_figure_shows_the_layers_reached(reached):
    deltas = demo_deltas("tanh")
    figure = delta_figure(deltas, reached)
    shown = [not np.isnan(np.ma.filled(ax.images[0].get_array(), np.nan)).all() for ax in figure.axes[:4]]
    assert shown == [index >= 4 - reached for index in range(4)]
    np.testing.assert_allclose(figure.axes[3].images[0].get_array(), deltas[3])
    plt.close(figure)


def test_the_lesson_output_pairs_are_consistent_with_coursekit_nn():
    rng = np.random.default_rng(3)
    z, labels = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    np.testing.assert_allclose(_output_delta(z, nn.softmax(z), labels, "softmax", "ce"),
                               nn.softmax_cross_entropy(z, labels)[1])
