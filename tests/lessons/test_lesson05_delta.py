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
from coursekit.viz.deltas import SIZES, delta_factors, delta_figure, demo_deltas, demo_network


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
    a = sp.Symbol("a")                                          # the lesson's two factors, before they cancel
    grad_a = sp.diff(-t * sp.log(a) - (1 - t) * sp.log(1 - a), a)
    assert same(grad_a, (a - t) / (a * (1 - a)))
    assert same(grad_a * a * (1 - a), a - t)


def test_the_gradient_column_transposed_is_the_derivative_row():
    W, delta = sp.Matrix(2, 3, sp.symbols("w0:6")), sp.Matrix(2, 1, sp.symbols("d0:2"))
    assert (W.T * delta).T == delta.T * W                       # (W^T delta)^T = delta^T W


def test_softmax_jacobian_is_full_and_collapses_to_p_minus_t_with_cross_entropy():
    z = sp.Matrix(sp.symbols("z0:3"))
    t0, t1 = sp.symbols("t0 t1")
    t = sp.Matrix([t0, t1, 1 - t0 - t1])                        # any target that sums to 1, not only one-hot
    p = z.applyfunc(sp.exp) / sum(sp.exp(v) for v in z)
    jacobian = p.jacobian(z)
    assert sp.simplify(jacobian - (sp.diag(*p) - p * p.T)) == sp.zeros(3, 3)   # dp/dz = diag(p) - p p^T
    assert sp.simplify(jacobian[0, 1]) != 0                                   # not diagonal
    assert sp.simplify(jacobian - jacobian.T) == sp.zeros(3, 3)               # symmetric
    q = sp.symbols("q0:3", positive=True)                                     # cross-entropy as a function of p
    grad_p = sp.Matrix([sp.diff(-sum(t[i] * sp.log(q[i]) for i in range(3)), qi) for qi in q])
    assert sp.simplify(grad_p - sp.Matrix([-t[i] / q[i] for i in range(3)])) == sp.zeros(3, 1)   # -t / p
    grad_p = grad_p.subs(dict(zip(q, p, strict=True)))
    cost = -sum(t[i] * sp.log(p[i]) for i in range(3))
    delta = jacobian.T * grad_p
    assert sp.simplify(delta - (p - t)) == sp.zeros(3, 1)                     # the collapse
    assert sp.simplify(delta - sp.Matrix([sp.diff(cost, v) for v in z])) == sp.zeros(3, 1)
    logits, target = np.array([2.0, -1.0, 0.5]), np.array([0.0, 0.0, 1.0])   # the lesson's numbers
    probs = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose((np.diag(probs) - np.outer(probs, probs)).T @ (-target / probs), probs - target,
                               atol=1e-15)


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


def test_each_step_back_is_a_w_factor_times_an_f_prime_factor():
    steps = {activation: delta_factors(activation) for activation in ("sigmoid", "tanh", "relu")}
    for activation, factors in steps.items():
        weights, _, deltas = demo_network(activation)
        norms = [np.linalg.norm(d) for d in deltas]
        assert [layer for layer, _, _ in factors] == [4, 3, 2]
        for layer, w_factor, f_factor in factors:
            assert w_factor * f_factor == pytest.approx(norms[layer - 2] / norms[layer - 1], rel=1e-12)
            assert w_factor <= np.linalg.norm(weights[layer - 1], 2) + 1e-12     # at most the largest singular value
            assert 0.5 <= w_factor <= 1.1                                     # "0.5 to 1.1"
        if activation != "sigmoid":
            assert all(0.6 <= round(f, 2) <= 0.9 for _, _, f in factors)     # "0.6 to 0.9 for tanh and ReLU"
    sigmoid = {layer: (w, f) for layer, w, f in steps["sigmoid"]}
    assert all(f <= 0.25 for _, f in sigmoid.values())                       # the slope is at most 1/4
    assert np.prod([f for _, f in sigmoid.values()]) <= 1 / 64              # three steps: at least 4^3
    w, f = sigmoid[3]                                                         # delta^3 -> delta^2, as the lesson says
    assert w > 1 and round(w, 2) == 1.08 and round(f, 3) == 0.244 and round(w * f, 3) == 0.263 and w * f > 0.25
    norms = [np.linalg.norm(d) for d in demo_deltas("sigmoid")]
    assert (round(norms[1], 4), round(norms[2], 4)) == (0.0230, 0.0875)


def test_the_demonstration_network_applies_its_activation_and_the_recursion():
    weights, zs, deltas = demo_network("tanh")
    assert [W.shape for W in weights] == [(n_out, n_in) for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True)]
    np.testing.assert_allclose(zs[1], np.tanh(zs[0]) @ weights[1].T)
    np.testing.assert_allclose(deltas[0], (1 - np.tanh(zs[0]) ** 2) * (deltas[1] @ weights[1]))


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
