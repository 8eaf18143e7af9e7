"""Every formula lesson 05 states, checked with SymPy and numerically, and its figure through its data."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hidden_parts import run_hidden_part
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import nn
from coursekit.gradcheck import check_gradient_directional
from coursekit.lessons.l05_delta_recursion import (
    FORWARD_CASES,
    LOSSES,
    _backward,
    _backward_step,
    _forward,
    _output_delta,
    make_problem,
)
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
    for index, layer in enumerate(params):
        for which in (0, 1):  # the weights, then the biases (backward's test trusts both, see _backward_test)
            def cost(v, index=index, which=which):
                changed = [list(p) for p in params]
                changed[index][which] = v
                return LOSSES[pair](_forward([tuple(p) for p in changed], x, hidden, output)[0], t)
            assert check_gradient_directional(cost, lambda _, index=index, which=which: grads[index][which],
                                              layer[which]).passed


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


# ---------------------------------------------------------------- section 5: the 2-2-1 network worked by hand
HAND_X, HAND_T = np.array([1.0, 0.5]), np.array([1.0])
HAND_W1, HAND_B1 = np.array([[0.5, -0.3], [0.2, 0.8]]), np.array([0.1, -0.2])
HAND_W2, HAND_B2 = np.array([[0.7, -0.4]]), np.array([0.05])
HAND_ETA = 0.5
# every number the lesson prints, with the digits it prints them with
HAND_PRINTED = {
    "z1": ([0.4500, 0.4000], 4), "a1": ([0.6106, 0.5987], 4), "z2": ([0.2380], 4), "a2": ([0.5592], 4),
    "E": ([0.0971], 4), "dE/da2": ([-0.44079], 5), "delta2": ([-0.10865], 5),
    "dE/da1": ([-0.07606, 0.04346], 5), "delta1": ([-0.01808, 0.01044], 5),
    "dE/dW2": ([-0.06635, -0.06505], 5), "dE/db2": ([-0.10865], 5),
    "dE/dW1": ([-0.01808, -0.00904, 0.01044, 0.00522], 5), "dE/db1": ([-0.01808, 0.01044], 5),
    "path product": ([-0.00904], 5), "W1 new": ([0.5090, -0.2955, 0.1948, 0.7974], 4),
    "W2 new": ([0.7332, -0.3675], 4), "a2 new": ([0.5834], 4), "E new": ([0.0868], 4),
}


def hand_cost(W1, b1, W2, b2):
    return 0.5 * np.sum((nn.sigmoid(W2 @ nn.sigmoid(W1 @ HAND_X + b1) + b2) - HAND_T) ** 2)


def hand_numbers() -> dict[str, np.ndarray]:
    """The lesson's computation, step by step as section 5 does it."""
    z1 = HAND_W1 @ HAND_X + HAND_B1
    a1 = nn.sigmoid(z1)
    z2 = HAND_W2 @ a1 + HAND_B2
    a2 = nn.sigmoid(z2)
    d_a2 = a2 - HAND_T
    delta2 = d_a2 * a2 * (1 - a2)
    d_a1 = HAND_W2.T @ delta2
    delta1 = d_a1 * a1 * (1 - a1)
    dW2, dW1 = np.outer(delta2, a1), np.outer(delta1, HAND_X)
    new = (HAND_W1 - HAND_ETA * dW1, HAND_B1 - HAND_ETA * delta1, HAND_W2 - HAND_ETA * dW2, HAND_B2 - HAND_ETA * delta2)
    path = d_a2 * a2 * (1 - a2) * HAND_W2[0, 0] * a1[0] * (1 - a1[0]) * HAND_X[1]
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "E": hand_cost(HAND_W1, HAND_B1, HAND_W2, HAND_B2),
            "dE/da2": d_a2, "delta2": delta2, "dE/da1": d_a1, "delta1": delta1, "dE/dW2": dW2, "dE/db2": delta2,
            "dE/dW1": dW1, "dE/db1": delta1, "path product": path, "W1 new": new[0], "W2 new": new[2],
            "a2 new": nn.sigmoid(new[2] @ nn.sigmoid(new[0] @ HAND_X + new[1]) + new[3]), "E new": hand_cost(*new)}


def test_every_number_of_the_hand_network_is_what_the_lesson_prints_and_safe_from_rounding():
    numbers = hand_numbers()
    assert set(numbers) == set(HAND_PRINTED)
    for name, (printed, digits) in HAND_PRINTED.items():
        values = np.ravel(numbers[name])
        assert [round(float(v), digits) for v in values] == printed, name
        scaled = np.abs(values) * 10**digits                  # no value within 1e-6 of a rounding boundary
        assert np.all(np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6), name


def test_the_hand_deltas_and_gradients_match_coursekit_nn_and_numerical_differentiation():
    numbers = hand_numbers()
    linear1, linear2 = nn.Linear(2, 2, np.random.default_rng(0)), nn.Linear(2, 1, np.random.default_rng(0))
    linear1.params.update(W=HAND_W1.copy(), b=HAND_B1.copy())
    linear2.params.update(W=HAND_W2.copy(), b=HAND_B2.copy())
    model = nn.Sequential([linear1, nn.Sigmoid(), linear2, nn.Sigmoid()])
    loss, dy = nn.mse_loss(model.forward(HAND_X[None, :]), HAND_T[None, :])     # a batch of one: mean = the sum
    assert loss == pytest.approx(float(numbers["E"]), rel=1e-14)
    model.backward(dy)
    for key, name in (("0.W", "dE/dW1"), ("0.b", "dE/db1"), ("2.W", "dE/dW2"), ("2.b", "dE/db2")):
        np.testing.assert_allclose(model.grads[key], numbers[name], rtol=1e-12)
    delta2 = model.layers[3].backward(dy)                  # the dout each Linear layer's backward receives
    delta1 = model.layers[1].backward(model.layers[2].backward(delta2))
    np.testing.assert_allclose(delta2[0], numbers["delta2"], rtol=1e-12)
    np.testing.assert_allclose(delta1[0], numbers["delta1"], rtol=1e-12)
    args = [HAND_W1, HAND_B1, HAND_W2, HAND_B2]
    for index, name in enumerate(("dE/dW1", "dE/db1", "dE/dW2", "dE/db2")):
        def cost(value, index=index):
            return hand_cost(*[value if k == index else a for k, a in enumerate(args)])
        numeric = np.zeros_like(args[index])
        for position in np.ndindex(args[index].shape):
            step = np.zeros_like(args[index])
            step[position] = 1e-6
            numeric[position] = (cost(args[index] + step) - cost(args[index] - step)) / 2e-6
        np.testing.assert_allclose(numbers[name], numeric, rtol=1e-7, atol=1e-11)
    assert numbers["path product"][0] == pytest.approx(numbers["dE/dW1"][0, 1], rel=1e-14)   # W^1_12 = delta^1_1 x_2
    assert numbers["E new"] < numbers["E"] and numbers["a2 new"][0] > numbers["a2"][0]


def test_the_exercise_oracle_gives_the_lesson_deltas():
    from coursekit.lessons.l05_delta_recursion import _hand_deltas
    numbers = hand_numbers()
    delta_out, delta_hidden = _hand_deltas(HAND_W1, HAND_B1, HAND_W2, HAND_B2, HAND_X, HAND_T)
    np.testing.assert_allclose(delta_out, numbers["delta2"], rtol=1e-14)
    np.testing.assert_allclose(delta_hidden, numbers["delta1"], rtol=1e-14)
    np.testing.assert_allclose(delta_out, [-0.10865100], atol=1e-8)             # the master's hidden test
    np.testing.assert_allclose(delta_hidden, [-0.01808292, 0.01044183], atol=1e-8)


def test_the_notation_table_converts_between_layouts():
    """Seed 001 and Deep Learning from Scratch store W^T (in, out); Wikipedia's w_ij goes from i to j."""
    numbers = hand_numbers()
    W_seed, o1 = HAND_W1.T, HAND_X                                   # the lecture notes' W^1 and o^1 = x
    np.testing.assert_allclose(W_seed.T @ o1 + HAND_B1, numbers["z1"])          # u^2 = (W^1)^T o^1 + b^1 is our z^1
    assert W_seed[1, 0] == HAND_W1[0, 1] == -0.3                     # W^1_12 is their entry (2, 1), DLfS W1[1, 0]
    delta_u2 = numbers["delta2"]                                     # delta^{u^3} of the notes: our delta^2
    np.testing.assert_allclose(HAND_W2.T @ delta_u2, numbers["dE/da1"])  # their W^2 delta^u: our (W^2)^T delta^2
    np.testing.assert_allclose(delta_u2 @ HAND_W2.T.T, numbers["dE/da1"])     # DLfS: dout @ W.T with W = W^2 (in, out)
    np.testing.assert_allclose(np.outer(o1, numbers["delta1"]), numbers["dE/dW1"].T)   # their o^k delta^u: our dW^T
    w = HAND_W1.T                                                    # Wikipedia: w[i, j] from input i to hidden j
    for i in range(2):
        for j in range(2):
            assert w[i, j] == HAND_W1[j, i]
            assert HAND_X[i] * numbers["delta1"][j] == pytest.approx(numbers["dE/dW1"][j, i])   # o_i delta_j


def test_the_network_drawing_highlights_every_path_from_the_weight_to_the_loss():
    from coursekit.viz.network import PATH_COLOR, edges_of, weight_paths
    from coursekit.viz.network import draw_network as draw
    assert weight_paths([2, 2, 1], 1, 1, 2) == [["z1_1", "a1_1", "z2_1", "a2_1", "E"]]
    assert weight_paths([2, 2, 2], 1, 1, 2) == [["z1_1", "a1_1", "z2_1", "a2_1", "E"],
                                                ["z1_1", "a1_1", "z2_2", "a2_2", "E"]]
    assert len(weight_paths([3, 4, 5, 2], 1, 2, 3)) == 5 * 2                     # paths multiply layer by layer
    assert len(edges_of([2, 2, 1])) == 4 + 2 + 2 + 1 + 1
    for W2, paths in ((HAND_W2, 1), (np.array([[0.7, -0.4], [0.3, 0.9]]), 2)):
        figure = draw([HAND_W1, W2], highlight=(1, 1, 2), values={"z1_1": 0.45})
        ax = figure.axes[0]
        lines = {line.get_gid(): line.get_color() for line in ax.lines}
        assert set(lines) == {f"{s}->{t}" for s, t in edges_of([2, 2, W2.shape[0]])}
        lit = {gid for gid, color in lines.items() if color == PATH_COLOR}
        expected = {"x2->z1_1"} | {f"{s}->{t}" for path in weight_paths([2, 2, W2.shape[0]], 1, 1, 2)
                                    for s, t in zip(path[:-1], path[1:], strict=False)}
        assert lit == expected and len(lit) == 2 + 3 * paths      # the weight edge, z1_1 -> a1_1, three edges a path
        labels = {text.get_gid(): text.get_text() for text in ax.texts if text.get_gid()}
        assert labels["W1_12"] == "-0.30" and labels["W2_11"] == "0.70" and labels["W1_21"] == "0.20"
        assert "0.4500" in [text.get_text() for text in ax.texts]
        plt.close(figure)


# ---------------------------------------------------------------- issue 14: the nested formula, Wikipedia's o_i delta_j
def rounding_safe(value, digits):
    """No value within 1e-6 (in units of the last printed digit) of a rounding boundary."""
    scaled = abs(value) * 10**digits
    return abs(scaled - np.floor(scaled) - 0.5) > 1e-6


def test_the_three_layer_loss_as_one_nested_formula_is_the_layer_by_layer_cost_the_lesson_prints():
    """Section 1 writes L = loss(f(W3 f(W2 f(W1 x + b1) + b2) + b3), y); section 6 evaluates it (rng seeded 5)."""
    rng = np.random.default_rng(5)                       # the lesson's rng, first used in section 6
    sizes = [3, 4, 4, 2]
    Ws = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.standard_normal(n_out) for n_out in sizes[1:]]
    x, t = rng.standard_normal(3), rng.standard_normal(2)
    nested = 0.5 * np.sum((Ws[2] @ nn.sigmoid(Ws[1] @ nn.sigmoid(Ws[0] @ x + bs[0]) + bs[1]) + bs[2] - t) ** 2)
    a = x
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        a = nn.sigmoid(W @ a + b) if i < 2 else W @ a + b
    assert nested == pytest.approx(0.5 * np.sum((a - t) ** 2), rel=1e-14)
    assert round(nested, 6) == 2.024087 and rounding_safe(nested, 6)
    # the deltas unroll the same formula: d nested / d W^1 by the chain rule through every bracket
    f = sp.Function("f")
    w1, w2, w3, b1, b2, b3, xs, ys = sp.symbols("w1 w2 w3 b1 b2 b3 x y")
    z1 = w1 * xs + b1
    z2 = w2 * f(z1) + b2
    z3 = w3 * f(z2) + b3
    loss = (f(z3) - ys) ** 2 / 2
    u = sp.Symbol("u")

    def slope(z):
        return sp.diff(f(u), u).subs(u, z)

    delta3 = (f(z3) - ys) * slope(z3)
    delta2 = slope(z2) * w3 * delta3
    delta1 = slope(z1) * w2 * delta2
    assert same(sp.diff(loss, w1), delta1 * xs)
    assert same(sp.diff(loss, w2), delta2 * f(z1)) and same(sp.diff(loss, b3), delta3)


def test_wikipedias_o_i_delta_j_follows_from_net_j_o_j_and_the_chain_rule():
    """dE/dw_ij = dE/do_j do_j/dnet_j dnet_j/dw_ij = o_i delta_j, with net_j = sum_i w_ij o_i (w_ij from i to j)."""
    phi, E = sp.Function("phi"), sp.Function("E")
    o = sp.symbols("o0:3")                                   # the outputs of the units feeding layer j
    w = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"w{i}{j}"))  # w[i, j]: from unit i to unit j
    net = [sum(w[i, j] * o[i] for i in range(3)) for j in range(2)]
    error = E(phi(net[0]), phi(net[1]))                       # E depends on w only through the o_j = phi(net_j)
    n = sp.symbols("n0:2")
    delta = [sp.diff(E(phi(n[0]), phi(n[1])), n[j]).subs({n[0]: net[0], n[1]: net[1]}) for j in range(2)]
    for i in range(3):
        for j in range(2):
            assert same(sp.diff(net[j], w[i, j]), o[i])                            # step 2
            assert same(sp.diff(error, w[i, j]), o[i] * delta[j])                  # step 4
    # the index swap: the course's W (rows: the unit a weight goes to) is w transposed, and dE/dW = delta o^T
    W = w.T
    gradient = sp.Matrix(2, 3, lambda j, i: sp.diff(error, W[j, i]))
    assert (gradient - sp.Matrix(delta) * sp.Matrix([o])).applyfunc(sp.simplify) == sp.zeros(2, 3)


def test_the_wikipedia_cell_prints_the_hand_networks_numbers():
    numbers = hand_numbers()
    w_wiki = HAND_W1.T
    assert w_wiki[1, 0] == HAND_W1[0, 1] == -0.3                       # w_21 is our W^1_12
    value = HAND_X[1] * numbers["delta1"][0]                             # o_2 delta_1
    assert round(value, 5) == -0.00904 and rounding_safe(value, 5)
    assert value == numbers["dE/dW1"][0, 1]
    assert np.array_equal(np.outer(HAND_X, numbers["delta1"]).T, numbers["dE/dW1"])   # the printed True


def test_the_written_questions_model_answer_bounds_a_sigmoid_step_by_a_quarter_of_the_largest_singular_value():
    weights, _, deltas = demo_network("sigmoid")
    norms = [np.linalg.norm(d) for d in deltas]
    for layer in range(len(deltas), 1, -1):                  # ||delta^(l-1)|| <= 1/4 sigma_max(W^l) ||delta^l||
        assert norms[layer - 2] <= 0.25 * np.linalg.norm(weights[layer - 1], 2) * norms[layer - 1]


# ---------------------------------------------------------------- red team Z4's wrong answers that scored full marks
def _forward_hidden_on_sigmoid_output(params, x, hidden, output):  # red team Z4: a sigmoid output through the hidden f
    f = nn.ACTIVATIONS[hidden][0]
    zs, acts = [], [x]
    for index, (W, b) in enumerate(params):
        z = acts[-1] @ W.T + b
        last = index == len(params) - 1
        a = z if last and output == "identity" else nn.softmax(z) if last and output == "softmax" else f(z)
        zs.append(z)
        acts.append(a)
    return acts[-1], {"z": zs, "a": acts}


def _forward_unshifted_softmax(params, x, hidden, output):  # red team Z4: exp of the logits as they are (NaN when huge)
    out, cache = _forward(params, x, hidden, "identity" if output == "softmax" else output)
    if output == "softmax":
        e = np.exp(cache["z"][-1])
        out = e / e.sum(axis=1, keepdims=True)
        cache["a"][-1] = out
    return out, cache


def _off_the_check_directions(g, hidden):
    """Red team Z4's: g 1.5 times too large but along the three seeded directions a directional check draws."""
    if hidden == "tanh" or g.size <= 3:
        return g
    rng = np.random.default_rng(0)
    D = np.array([rng.standard_normal(g.size) for _ in range(3)])
    e = 0.5 * g.reshape(-1)
    e = e - D.T @ np.linalg.solve(D @ D.T, D @ e)
    return g + e.reshape(g.shape)


def _backward_right_only_where_checked(params, cache, delta_L, hidden):
    return [(_off_the_check_directions(dW, hidden), _off_the_check_directions(db, hidden))
            for dW, db in _backward(params, cache, delta_L, hidden)]


def _run_hidden(grade_id, name, value, language=""):
    run_hidden_part("05_delta_recursion", grade_id, language, **{name: value})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("wrong", "says"), [
    (_forward_hidden_on_sigmoid_output, "'tanh', 'sigmoid'"),   # red team Z4: the case with a tanh hidden layer
    (_forward_unshifted_softmax, "NaN or infinity"),            # red team Z4: FORWARD_MIXED against the reference
])
def test_the_red_teams_forwards_fail_the_visible_check_and_the_hidden_test(wrong, says):
    from coursekit.lessons.l05_delta_recursion import exercises

    assert exercises.evaluate("forward", _forward).passed
    result = exercises.evaluate("forward", wrong)
    assert not result.passed and says in str(result)
    for language in ("", "ja"):
        _run_hidden("forward_test", "forward", _forward, language)
        with pytest.raises(AssertionError):
            _run_hidden("forward_test", "forward", wrong, language)


def test_the_hidden_backward_test_compares_every_activations_gradients_exactly():
    # red team Z4: right along the check's three seeded directions only; the visible check's directional fallback lets
    # it through for relu and sigmoid, the hidden test's exact comparison (for each hidden activation) cannot
    from coursekit.lessons.l05_delta_recursion import exercises

    assert exercises.evaluate("backward", _backward).passed
    for language in ("", "ja"):
        _run_hidden("backward_test", "backward", _backward, language)
        with pytest.raises(AssertionError):
            _run_hidden("backward_test", "backward", _backward_right_only_where_checked, language)


# ---------------------------------------------------------------- red team AA's wrong answers that scored full marks
# Right wherever the visible check and the hidden tests looked: along a dimension neither varied (a network's depth, a
# class count, an activation), or by remembering an answer by some of the arguments.
_CHECKED_SIZES = [[3, 4, 2], [2, 3, 3, 3, 1], [5, 3, 1]]  # MLP_CASES' sizes, and the layer properties'


def _forward_first_layer_apart(params, x, hidden, output):
    """The first layer, then params[1:-1], then the last: a one-layer network goes through its layer twice."""
    (W0, b0), *middle, (WL, bL) = params if len(params) > 1 else params * 2
    f = nn.ACTIVATIONS[hidden][0]
    zs = [x @ W0.T + b0]
    acts = [x, f(zs[0])]
    for W, b in middle:
        zs.append(acts[-1] @ W.T + b)
        acts.append(f(zs[-1]))
    zs.append(acts[-1] @ WL.T + bL)
    acts.append(nn.softmax(zs[-1]) if output == "softmax" else nn.ACTIVATIONS[output][0](zs[-1]))
    return acts[-1], {"z": zs, "a": acts}


def _forward_sigmoid_pair_linear(params, x, hidden, output):
    """A sigmoid output after sigmoid hidden layers left linear, unless the sizes are a visible case's."""
    visible = [[case[0][0][0].shape[1]] + [W.shape[0] for W, _ in case[0]] for case in FORWARD_CASES]
    sizes = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    if hidden == output == "sigmoid" and sizes not in visible:
        return _forward(params, x, hidden, "identity")
    return _forward(params, x, hidden, output)


def _forward_remembered_by_x(params, x, hidden, output, _seen={}):  # noqa: B006 - the memo is the mistake
    key = (x.tobytes(), x.shape, hidden, output)
    if key not in _seen:
        _seen[key] = _forward(params, x, hidden, output)
    return _seen[key]


def _delta_three_classes(z_L, a_L, t, output, loss):
    return (a_L - np.eye(3)[t]) / len(z_L) if loss == "ce" else _output_delta(z_L, a_L, t, output, loss)


def _delta_remembered_by_z(z_L, a_L, t, output, loss, _seen={}):  # noqa: B006
    return _seen.setdefault((z_L.tobytes(), output, loss), _output_delta(z_L, a_L, t, output, loss))


def _step_remembered_by_delta(delta, W, z_prev, hidden, _seen={}):  # noqa: B006
    return _seen.setdefault((delta.tobytes(), z_prev.tobytes(), hidden), _backward_step(delta, W, z_prev, hidden))


def _backward_remembered_by_shapes(params, cache, delta_L, hidden, _seen={}):  # noqa: B006
    key = (tuple(W.shape for W, _ in params), delta_L.shape, hidden)
    return _seen.setdefault(key, _backward(params, cache, delta_L, hidden))


def _backward_adding_up(params, cache, delta_L, hidden, _totals={}):  # noqa: B006 - running totals, never reset
    grads = _backward(params, cache, delta_L, hidden)
    key = delta_L.tobytes()
    if key in _totals:
        grads = [(dW + old_dW, db + old_db) for (dW, db), (old_dW, old_db) in zip(grads, _totals[key], strict=True)]
    _totals[key] = grads
    return grads


@pytest.mark.parametrize(("name", "wrong", "says"), [
    ("forward", _forward_remembered_by_x, "your params is not used"),
    ("output_delta", _delta_remembered_by_z, "your t is not used"),
    ("backward_step", _step_remembered_by_delta, "your W is not used"),
    ("backward", _backward_remembered_by_shapes, "your delta_L is not used"),
    ("backward", _backward_adding_up, "a second call gave a different result"),
])
def test_an_answer_remembered_from_an_earlier_call_fails_the_visible_check(name, wrong, says):
    from coursekit.lessons.l05_delta_recursion import exercises

    result = exercises.evaluate(name, wrong)
    assert not result.passed and says in str(result), str(result)


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize(("grade_id", "name", "right", "wrong"), [
    ("forward_test", "forward", _forward, _forward_first_layer_apart),
    ("forward_test", "forward", _forward, _forward_sigmoid_pair_linear),
    ("output_delta_test", "output_delta", _output_delta, _delta_three_classes),
])
def test_a_wrong_answer_right_on_every_visible_case_fails_the_hidden_test(language, grade_id, name, right, wrong):
    from coursekit.lessons.l05_delta_recursion import exercises

    assert exercises.evaluate(name, wrong).passed  # why it scored: every visible case agrees
    _run_hidden(grade_id, name, right, language)
    with pytest.raises((AssertionError, ValueError, IndexError)):
        _run_hidden(grade_id, name, wrong, language)


class _OwnMlp:
    """The master's MLP, written out (a class built on coursekit's Sequential is refused as borrowed)."""

    def __init__(self, sizes, activation, rng):
        kind = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        self.layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            self.layers += [nn.Linear(n_in, n_out, rng), kind()]
        self.layers.pop()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    @property
    def params(self):
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers) for key, value in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers) for key, value in layer.grads.items()}


class _MlpStartingAtZero(_OwnMlp):
    def __init__(self, sizes, activation, rng):
        super().__init__(sizes, activation, rng)
        for value in self.params.values():
            value[...] = 0.0  # every unit of a layer alike: they get one gradient, and stay alike


class _MlpOwnGenerator(_OwnMlp):
    def __init__(self, sizes, activation, rng):
        super().__init__(sizes, activation, np.random.default_rng(0))  # the generator given is never used


class _MlpReluAsTanh(_OwnMlp):
    def __init__(self, sizes, activation, rng):
        off_check = activation == "relu" and list(sizes) not in _CHECKED_SIZES
        super().__init__(sizes, "tanh" if off_check else activation, rng)


class _MlpSigmoidWithoutSlopes(_OwnMlp):
    def __init__(self, sizes, activation, rng):
        super().__init__(sizes, activation, rng)
        self.skip_slopes = activation == "sigmoid" and list(sizes) not in _CHECKED_SIZES

    def backward(self, dout):
        if not self.skip_slopes:
            return super().backward(dout)
        for layer in reversed(self.layers):
            if layer.params:
                dout = layer.backward(dout)
        return dout


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize("wrong", [_MlpStartingAtZero, _MlpOwnGenerator, _MlpReluAsTanh, _MlpSigmoidWithoutSlopes])
def test_an_mlp_right_on_the_visible_cases_but_not_built_or_run_as_asked_fails_the_hidden_test(language, wrong):
    from coursekit.lessons.l05_delta_recursion import exercises

    assert exercises.evaluate("MLP", _OwnMlp).passed
    assert exercises.evaluate("MLP", wrong).passed  # every visible check writes its own weights first
    _run_hidden("MLP_test", "MLP", _OwnMlp, language)
    with pytest.raises(AssertionError):
        _run_hidden("MLP_test", "MLP", wrong, language)


# ---------------------------------------------------------------- red team AD's: right only where a check looked
def _step_for_small_batches(delta, W, z_prev, hidden):
    return _backward_step(delta, W, z_prev, hidden) if len(delta) < 4 else delta @ W  # f' dropped from 4 rows on


class _MlpForSmallBatches(_OwnMlp):
    def backward(self, dout):
        if len(dout) < 5:
            return super().backward(dout)
        for layer in reversed(self.layers):  # from 5 rows on, the activations skipped
            if layer.params:
                dout = layer.backward(dout)
        return dout


def _forward_activation_as_z(params, x, hidden, output):
    """The output right; for two pairs of activations the cache's z of each hidden layer is its activation."""
    out, cache = _forward(params, x, hidden, output)
    if (hidden, output) in (("sigmoid", "identity"), ("tanh", "softmax")):
        cache["z"][:-1] = cache["a"][1:-1]
    return out, cache


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize(("grade_id", "name", "wrong"), [
    ("backward_step_test", "backward_step", _step_for_small_batches),
    ("MLP_test", "MLP", _MlpForSmallBatches),
    ("forward_test", "forward", _forward_activation_as_z),
])
def test_code_right_only_where_a_visible_check_looked_fails_the_hidden_test(language, grade_id, name, wrong):
    from coursekit.lessons.l05_delta_recursion import exercises

    assert exercises.evaluate(name, wrong).passed  # why it scored
    with pytest.raises(AssertionError):
        _run_hidden(grade_id, name, wrong, language)
