"""Every derivative lesson 04 states, with SymPy and numerically, and the lesson's figures through their data."""

import functools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hidden_parts import hidden_part, run_hidden_part
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit import nn
from coursekit.gradcheck import check_gradient, check_layer
from coursekit.lessons import l04_linear_losses as l04
from coursekit.viz import widgets
from coursekit.viz.linear import error_surface_figure, loss_curves_figure, outer_product_figure, trough_descent

M, N_IN = 2, 3


def same(p, q):
    return sp.simplify(p - q) == 0


def components():
    W = sp.Matrix(M, N_IN, lambda i, j: sp.Symbol(f"W{i}{j}"))
    x = sp.Matrix(N_IN, 1, lambda j, _: sp.Symbol(f"x{j}"))
    b = sp.Matrix(M, 1, lambda i, _: sp.Symbol(f"b{i}"))
    delta = sp.Matrix(M, 1, lambda i, _: sp.Symbol(f"d{i}"))
    loss = (delta.T * (W * x + b))[0]  # L = delta . z has dL/dz = delta
    return W, x, b, delta, loss


def test_component_gradients_of_the_linear_layer():
    W, x, b, delta, loss = components()
    for i in range(M):
        assert same(sp.diff(loss, b[i]), delta[i])
        for j in range(N_IN):
            assert same(sp.diff(loss, W[i, j]), delta[i] * x[j])
    for j in range(N_IN):
        assert same(sp.diff(loss, x[j]), sum(delta[i] * W[i, j] for i in range(M)))


def test_matrix_form_delta_x_transpose_and_w_transpose_delta():
    W, x, b, delta, loss = components()
    dW = sp.Matrix(M, N_IN, lambda i, j: sp.diff(loss, W[i, j]))
    dx = sp.Matrix(N_IN, 1, lambda j, _: sp.diff(loss, x[j]))
    assert dW == delta * x.T
    assert sp.simplify(dx - W.T * delta) == sp.zeros(N_IN, 1)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.integers(0, 1000))
def test_batched_forms_match_central_differences(batch, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(n_in, n_out, rng)
    layer.params["b"] = rng.standard_normal(n_out)
    x = rng.standard_normal((batch, n_in))
    assert check_layer(layer, x, seed=seed).passed
    delta = rng.standard_normal((batch, n_out))
    np.testing.assert_allclose(delta.T @ x, sum(np.outer(delta[k], x[k]) for k in range(batch)))


def test_squared_error_gradient_is_y_minus_t_and_the_mean_divides_by_n():
    y, t = sp.symbols("y t")
    assert same(sp.diff(sp.Rational(1, 2) * (t - y) ** 2, y), y - t)
    rng = np.random.default_rng(1)
    Y, T = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    assert check_gradient(lambda v: nn.mse_loss(v, T)[0], lambda v: (v - T) / 4, Y).passed


def test_binary_cross_entropy_collapses_to_prediction_minus_target():
    z, t, yh = sp.symbols("z t yhat")
    sigma = 1 / (1 + sp.exp(-z))
    loss_in_y = -t * sp.log(yh) - (1 - t) * sp.log(1 - yh)
    assert same(sp.diff(loss_in_y, yh), (yh - t) / (yh * (1 - yh)))
    assert same(sp.diff(sigma, z), sigma * (1 - sigma))
    loss_in_z = loss_in_y.subs(yh, sigma)
    assert same(sp.diff(loss_in_z, z), sigma - t)
    # the stable form log(1 + e^z) - t z is the same function (checked at points: log rules need care)
    stable = sp.log(1 + sp.exp(z)) - t * z
    for zv in (-3.0, 0.4, 2.5):
        for tv in (0, 1):
            assert abs(float((loss_in_z - stable).subs({z: zv, t: tv}))) < 1e-12


def test_softmax_cross_entropy_collapses_to_p_minus_onehot():
    z = sp.symbols("z0:3", real=True)
    total = sum(sp.exp(zk) for zk in z)
    p = [sp.exp(zk) / total for zk in z]
    for label in range(3):
        loss = -sp.log(p[label])
        assert same(sp.expand_log(loss, force=True), -(z[label] - sp.log(total)))
        for k in range(3):
            assert same(sp.diff(loss, z[k]), p[k] - (1 if k == label else 0))
    assert same(sp.diff(sp.log(total), z[1]), p[1])


def test_softmax_is_unchanged_by_a_shift():
    z, c = sp.symbols("z0:3"), sp.Symbol("c")
    p = [sp.exp(zk) / sum(sp.exp(zj) for zj in z) for zk in z]
    shifted = [sp.exp(zk - c) / sum(sp.exp(zj - c) for zj in z) for zk in z]
    assert all(same(a, b) for a, b in zip(p, shifted, strict=True))


def test_mean_and_sum_gradients_differ_by_the_batch_size():
    z = np.random.default_rng(2).standard_normal((6, 3))
    labels = np.array([0, 1, 2, 2, 1, 0])
    _, mean_grad = nn.softmax_cross_entropy(z, labels)
    sum_grad = check_gradient(lambda v: nn.softmax_cross_entropy(v, labels)[0] * 6, lambda v: mean_grad * 6, z)
    assert sum_grad.passed


@pytest.mark.parametrize("z", [-1000.0, -40.0, 40.0, 1000.0])
def test_reference_losses_are_stable_at_extreme_logits(z):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, grad = nn.bce_with_logits(np.array([z]), np.array([1.0]))
        ce, dz = nn.softmax_cross_entropy(np.array([[z, 0.0]]), np.array([0]))
    assert np.isfinite([loss, ce]).all() and np.isfinite(grad).all() and np.isfinite(dz).all()


def test_outer_product_figure_shows_delta_x_transpose():
    delta, x = np.array([1.0, -0.5]), np.array([0.2, 1.0, -1.5])
    figure = outer_product_figure(delta, x)
    heat = figure.axes[2].images[0].get_array()
    np.testing.assert_allclose(heat, np.outer(delta, x))
    plt.close(figure)


def test_loss_curves_show_the_loss_and_prediction_minus_target():
    z = np.linspace(-3, 3, 13)
    figure = loss_curves_figure(z)
    loss_lines, grad_lines = figure.axes[0].lines, figure.axes[1].lines
    np.testing.assert_allclose(loss_lines[0].get_ydata(), np.logaddexp(0, z) - z)      # t = 1
    np.testing.assert_allclose(grad_lines[1].get_ydata(), 1 / (1 + np.exp(-z)))        # t = 0
    plt.close(figure)


def test_the_widget_draws_a_static_figure_headless(monkeypatch):
    import ipywidgets

    monkeypatch.setenv("COURSEKIT_HEADLESS", "1")
    shown = widgets.interactive_figure(lambda d1: outer_product_figure(np.array([d1]), np.array([1.0, 2.0])),
                                       d1=ipywidgets.FloatSlider(value=0.5))
    np.testing.assert_allclose(shown.axes[2].images[0].get_array(), [[0.5, 1.0]])
    plt.close(shown)


def test_each_example_contributes_its_own_term_and_the_batch_gradients_are_their_sums():
    rng = np.random.default_rng(14)
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    X, Delta = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))

    def loss_of_example(k, Wv=W, bv=b, xk=None):   # L_k = delta^(k) . z^(k): depends on example k alone
        return float(Delta[k] @ (Wv @ (X[k] if xk is None else xk) + bv))

    for k in range(4):
        assert check_gradient(lambda v, k=k: loss_of_example(k, Wv=v), lambda v, k=k: np.outer(Delta[k], X[k]),
                              W).passed
        assert check_gradient(lambda v, k=k: loss_of_example(k, bv=v), lambda v, k=k: Delta[k], b).passed
        assert check_gradient(lambda v, k=k: loss_of_example(k, xk=v), lambda v, k=k: W.T @ Delta[k], X[k]).passed
    np.testing.assert_allclose(sum(np.outer(Delta[k], X[k]) for k in range(4)), Delta.T @ X)
    np.testing.assert_allclose(sum(Delta), Delta.sum(axis=0))
    np.testing.assert_allclose(np.stack([W.T @ Delta[k] for k in range(4)]), Delta @ W)


def test_a_layer_assigns_so_nothing_needs_clearing_and_accumulating_would_need_zero_grad():
    rng = np.random.default_rng(15)
    layer, x, dout = nn.Linear(3, 2, rng), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dout)
    first = layer.grads["W"].copy()
    layer.forward(x)
    layer.backward(dout)                          # a second step: the gradient is replaced, not doubled
    np.testing.assert_array_equal(layer.grads["W"], first)
    accumulated = np.zeros_like(first)
    for _ in range(2):                            # a framework's .grad += without zero_grad: the steps pile up
        accumulated += dout.T @ x
    np.testing.assert_allclose(accumulated, 2 * first)


def test_a_shared_weight_collects_the_sum_of_its_uses_and_a_layer_called_twice_keeps_only_the_last():
    rng = np.random.default_rng(16)
    layer, x, c = nn.Linear(3, 3, rng), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    W0 = layer.params["W"].copy()

    def loss(Wv):                                 # the same W used twice: L = c . (W (W x))
        return float(np.sum(c * ((x @ Wv.T) @ Wv.T)))

    h = x @ W0.T
    share_outer, share_inner = c.T @ h, (c @ W0).T @ x
    assert check_gradient(loss, lambda _: share_outer + share_inner, W0).passed   # += of both shares
    layer.forward(layer.forward(x))               # one layer object called twice in one forward pass
    np.testing.assert_array_equal(layer.x, h)     # it keeps only its last input
    layer.backward(layer.backward(c))
    assert not np.allclose(layer.grads["W"], share_outer + share_inner)          # and only its last gradient
    np.testing.assert_allclose(layer.grads["W"], (c @ W0).T @ h)


def test_the_bias_is_a_weight_on_a_constant_input_of_one():
    W, x, b, delta, loss = components()
    x1, W1 = x.col_join(sp.Matrix([[1]])), W.row_join(b)            # [x; 1] and [W b]
    assert sp.simplify(W1 * x1 - (W * x + b)) == sp.zeros(M, 1)
    rng = np.random.default_rng(17)
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    X, Delta = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    X1, W1 = np.hstack([X, np.ones((4, 1))]), np.hstack([W, b[:, None]])
    np.testing.assert_allclose(X1 @ W1.T, X @ W.T + b)
    dW1 = Delta.T @ X1                                                # the augmented layer's weight gradient
    assert check_gradient(lambda v: float(np.sum(Delta * (X1 @ v.T))), lambda v: dW1, W1).passed
    np.testing.assert_allclose(dW1[:, -1], Delta.sum(axis=0))        # Delta^T 1: the bias gradient
    np.testing.assert_allclose(dW1[:, :-1], Delta.T @ X)


def test_the_batch_gradient_is_the_mean_of_per_example_gradients():
    rng = np.random.default_rng(18)
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    X, T = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))

    def batch_loss(Wv):
        return float(0.5 * np.sum((X @ Wv.T + b - T) ** 2) / 4)

    per_example = [np.outer(W @ X[k] + b - T[k], X[k]) for k in range(4)]
    for k in range(4):                                # each is the gradient of example k's loss alone
        assert check_gradient(lambda v, k=k: float(0.5 * np.sum((v @ X[k] + b - T[k]) ** 2)),
                              lambda v, k=k: per_example[k], W).passed
    assert check_gradient(batch_loss, lambda v: np.mean(per_example, axis=0), W).passed
    # a function of the outputs: the weight gradient is dL/dY (from the loss alone) passed through the layer
    dY = (X @ W.T + b - T) / 4
    np.testing.assert_allclose(dY.T @ X, np.mean(per_example, axis=0))


def neuron():
    w1, w2 = sp.symbols("w1 w2", real=True)
    x1, x2, t = 1, 1, 0                                # the training case (1, 1, 0)
    seed_error = (t - (x1 * w1 + x2 * w2)) ** 2        # Wikipedia's E, without the 1/2
    return w1, w2, seed_error, seed_error / 2


def test_the_linear_neuron_error_surface_is_a_trough_with_minima_on_w1_equal_minus_w2():
    w1, w2, seed_error, E = neuron()
    assert same(seed_error, (w1 + w2) ** 2) and same(E, (w1 + w2) ** 2 / 2) and same(seed_error, 2 * E)
    gradient = [sp.diff(E, w) for w in (w1, w2)]
    assert all(same(g, w1 + w2) for g in gradient)                    # (w1 + w2) (1, 1)
    assert all(same(sp.diff(seed_error, w), 2 * (w1 + w2)) for w in (w1, w2))
    assert sp.solve(gradient, [w1, w2], dict=True) == [{w1: -w2}]     # zero exactly on the line
    assert same(E.subs(w1, -w2), 0)                                   # where E = 0, its least value (a square)
    hessian = sp.hessian(E, (w1, w2))
    assert hessian.eigenvals() == {2: 1, 0: 1}
    r = sp.Symbol("r")
    across = E.subs({w1: r / sp.sqrt(2), w2: r / sp.sqrt(2)})
    along = E.subs({w1: r / sp.sqrt(2), w2: -r / sp.sqrt(2)})
    assert same(sp.diff(across, r, 2), 2) and same(sp.diff(along, r, 2), 0)
    assert sorted(hessian.eigenvals(), reverse=True) == [2, 0]


@pytest.mark.parametrize("start, end", [((1.5, 1.0), (0.25, -0.25)), ((-1.5, 0.5), (-1.0, 1.0)),
                                        ((0.5, -1.5), (1.0, -1.0)), ((-1.0, -1.8), (0.4, -0.4))])
def test_descent_keeps_w1_minus_w2_and_reaches_the_nearest_point_of_the_line(start, end):
    lr = 0.25
    path = trough_descent(start, lr=lr, steps=30)
    assert path.shape == (31, 2)
    np.testing.assert_allclose(path[:, 0] - path[:, 1], start[0] - start[1], atol=1e-12)
    sums = path.sum(axis=1)
    np.testing.assert_allclose(sums[1:], (1 - 2 * lr) * sums[:-1], atol=1e-15)
    w1, w2, _, E = neuron()
    step = np.array([float(sp.diff(E, w).subs({w1: start[0], w2: start[1]})) for w in (w1, w2)])
    np.testing.assert_allclose(path[1], np.array(start) - lr * step)     # the first step is the SymPy gradient's
    d = start[0] - start[1]
    np.testing.assert_allclose(path[-1], [d / 2, -d / 2], atol=1e-8)      # the projection onto w1 = -w2
    np.testing.assert_allclose(path[-1], end, atol=1e-8)                  # the minimum the lesson prints
    np.testing.assert_allclose(path[-1].round(3), end)


def test_each_start_reaches_a_different_minimum_in_the_figure():
    starts = [(1.5, 1.0), (-1.5, 0.5), (0.5, -1.5), (-1.0, -1.8)]
    figure = error_surface_figure(starts, lr=0.25, steps=30)
    ax = figure.axes[0]
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), -line.get_xdata())       # the line of minima
    ends = []
    for k, start in enumerate(starts):
        path = trough_descent(start, lr=0.25, steps=30)
        np.testing.assert_allclose(ax.lines[k + 1].get_xydata(), path)
        np.testing.assert_allclose(ax.collections[-len(starts) + k].get_offsets()[0], path[-1])
        ends.append(path[-1])
    assert len({tuple(np.round(e, 6)) for e in ends}) == len(starts)
    plt.close(figure)


def test_our_linear_starts_its_bias_at_zero_and_its_weights_random():
    layer = nn.Linear(3, 2, np.random.default_rng(19))
    np.testing.assert_array_equal(layer.params["b"], np.zeros(2))
    assert np.all(layer.params["W"] != 0)


def test_linear_regression_by_hand():
    w, b, n = sp.symbols("w b N", real=True)
    xi, yi = sp.symbols("x_i y_i", real=True)
    term = (yi - (w * xi + b)) ** 2                                   # one point of L = 1/N sum (...)^2
    assert same(sp.diff(term, w), -2 * (yi - (w * xi + b)) * xi)
    assert same(sp.diff(term, b), -2 * (yi - (w * xi + b)))
    xs, ys = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.9, 5.1, 7.0])
    residual = ys - (1.5 * xs + 0.5)
    gradient = np.array([-2 * np.mean(residual * xs), -2 * np.mean(residual)])
    np.testing.assert_allclose(gradient, [-5.05, -2.5], rtol=1e-14)
    assert "dL/dw = {:.4f}, dL/db = {:.4f}".format(*gradient) == "dL/dw = -5.0500, dL/db = -2.5000"
    assert check_gradient(lambda p: float(np.mean((ys - (p[0] * xs + p[1])) ** 2)), lambda p: gradient,
                          np.array([1.5, 0.5])).passed


def test_the_softmax_jacobian_is_full_and_collapses_to_p_minus_t():
    z = sp.symbols("z0:3", real=True)
    total = sum(sp.exp(zk) for zk in z)
    p = [sp.exp(zk) / total for zk in z]
    for i, k in ((0, 0), (0, 1)):                                     # the quotient rule, on and off the diagonal
        quotient = ((1 if i == k else 0) * sp.exp(z[i]) * total - sp.exp(z[i]) * sp.exp(z[k])) / total**2
        assert same(sp.diff(p[i], z[k]), quotient) and same(quotient, p[i] * ((1 if i == k else 0) - p[k]))
    point = {zk: v for zk, v in zip(z, (0.3, -1.1, 0.7), strict=True)}
    for i in range(3):                                                # every entry: p_i ([i = k] - p_k)
        for k in range(3):
            stated = p[i] * ((1 if i == k else 0) - p[k])
            assert abs(float((sp.diff(p[i], z[k]) - stated).subs(point))) < 1e-15
    z3 = np.array([1.0, 2.0, 0.5])
    p3 = nn.softmax(z3[None, :])[0]
    J = np.diag(p3) - np.outer(p3, p3)
    numerical = np.column_stack([(nn.softmax((z3 + s)[None, :])[0] - nn.softmax((z3 - s)[None, :])[0]) / 2e-6
                                 for s in 1e-6 * np.eye(3)])
    np.testing.assert_allclose(J, numerical, rtol=0, atol=1e-9)
    assert np.all(J[~np.eye(3, dtype=bool)] < 0) and np.all(np.diag(J) > 0)     # not diagonal: all negative off it
    np.testing.assert_allclose(J, J.T)
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_array_equal(p3.round(4), [0.2312, 0.6285, 0.1402])           # what the lesson prints
    np.testing.assert_array_equal(J.round(4), [[0.1778, -0.1453, -0.0324], [-0.1453, 0.2335, -0.0881],
                                               [-0.0324, -0.0881, 0.1206]])
    t = np.array([0.0, 0.0, 1.0])
    collapsed = J.T @ (-t / p3)
    np.testing.assert_allclose(collapsed, p3 - t, atol=1e-15)
    np.testing.assert_array_equal((p3 - t).round(4), [0.2312, 0.6285, -0.8598])
    for shown in (p3, J, p3 - t):                                     # no printed digit sits on a rounding edge
        assert np.all(np.abs(np.abs(shown) * 1e4 % 1 - 0.5) > 0.01)
    _, dz = nn.softmax_cross_entropy(z3[None, :], np.array([2]))
    np.testing.assert_allclose(dz[0], collapsed, atol=1e-15)           # and it is what log-sum-exp gave


def test_every_loss_of_the_lesson_sends_back_the_error_itself():
    rng = np.random.default_rng(20)
    y, t = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(nn.mse_loss(y, t)[1] * 3, y - t)                  # squared error: y - t
    z, labels = rng.standard_normal(4), np.array([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(nn.bce_with_logits(z, labels)[1] * 4, nn.sigmoid(z) - labels)   # y_hat - y
    Z, classes = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    np.testing.assert_allclose(nn.softmax_cross_entropy(Z, classes)[1] * 4, nn.softmax(Z) - np.eye(3)[classes])


# ---------------------------------------------------------------- the exercises added by issue 14
def test_the_layer_norm_backward_is_the_sum_over_its_full_jacobian():
    n = 3
    xs = sp.symbols(f"x0:{n}", real=True)
    eps = sp.Rational(1, 10**5)
    mean = sum(xs) / n
    var = sum((xj - mean) ** 2 for xj in xs) / n
    s = sp.sqrt(var + eps)
    y = [(xj - mean) / s for xj in xs]
    point = {xs[0]: sp.Rational(3, 10), xs[1]: sp.Rational(-12, 10), xs[2]: sp.Rational(8, 10)}
    yv = [yi.subs(point) for yi in y]
    sv = s.subs(point)
    for i in range(n):                                                # dy_i/dx_j = ([i = j] - 1/n - y_i y_j / n) / s
        for j in range(n):
            derived = sp.diff(y[i], xs[j]).subs(point)
            stated = ((1 if i == j else 0) - sp.Rational(1, n) - yv[i] * yv[j] / n) / sv
            assert abs(float(derived - stated)) < 1e-12
    from coursekit.lessons.l04_linear_losses import _LayerNorm
    rng = np.random.default_rng(21)
    x_, dout = rng.standard_normal((5, 4)) * 3 + 2, rng.standard_normal((5, 4))
    layer = _LayerNorm()
    out = layer.forward(x_)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), x_.var(axis=1) / (x_.var(axis=1) + 1e-5))
    dx = layer.backward(dout)
    for row in range(5):                                              # dx = dout J, with J the full row Jacobian
        yr, sr = out[row], np.sqrt(x_[row].var() + 1e-5)
        jac = (np.eye(4) - 1 / 4 - np.outer(yr, yr) / 4) / sr
        np.testing.assert_allclose(dx[row], dout[row] @ jac, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-12)      # the written question's answer
    shifted = _LayerNorm()
    np.testing.assert_allclose(shifted.forward(x_ + 7.0), out, atol=1e-12)
    assert check_layer(_LayerNorm(), x_).passed


def test_the_gradient_checker_reference_on_known_functions():
    for f, exact, x_, grad in l04.CHECK_CASES:
        assert check_gradient(f, exact, x_).passed                    # the known gradients are right
        numerical, error = l04._reference_check(f, x_, grad)
        np.testing.assert_allclose(numerical, exact(x_), rtol=1e-9, atol=1e-10)
        assert np.isclose(error, float(np.max(l04.relative_errors(grad, exact(x_)))), rtol=1e-8, atol=1e-9)
    assert [round(float(np.max(l04.relative_errors(g, e(x_)))), 12) for _, e, x_, g in l04.CHECK_CASES] == \
        [0.0, 0.0, 0.5, 2.0, round(0.1 / (l04.squares_times_sum_gradient(l04._M)[0, 1] + 0.1), 12), 0.0, 0.5,
         0.0, 0.0, 0.0]
    assert l04.relative_errors(np.array([0.0]), np.array([0.0]))[0] == 0.0   # tiny keeps 0/0 away
    # the slips it registers are caught by the tolerances: a one-sided step is off by about h
    f, exact, x_, grad = l04.CHECK_CASES[0]
    one_sided, _ = l04._one_sided(f, x_, grad)
    assert not np.allclose(one_sided, exact(x_), rtol=l04.CHECK_RTOL, atol=l04.CHECK_ATOL)
    not_restored, _ = l04._not_restored(f, x_, grad)
    assert not np.allclose(not_restored, exact(x_), rtol=l04.CHECK_RTOL, atol=l04.CHECK_ATOL)


# Red team Z4's checkers that scored full marks: each is now refused by the visible check (and, but for the one
# through reshape, by the hidden test too), while the reference passes.
def _checker_flat_copy(f, x, grad, h=1e-5):  # f only ever sees a 1-D copy of x
    flat = np.array(x, dtype=float).reshape(-1)
    numerical = np.zeros(flat.size)
    for i in range(flat.size):
        step = np.zeros(flat.size)
        step[i] = h
        numerical[i] = (f(flat + step) - f(flat - step)) / (2 * h)
    numerical = numerical.reshape(x.shape)
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.max(np.abs(grad - numerical) / scale))


def _checker_through_reshape(f, x, grad, h=1e-5):  # red team Z4: x.reshape(-1) is a copy when x is not C-contiguous
    flat = x.reshape(-1)
    numerical = np.zeros(flat.size)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        up = f(x)
        flat[i] = saved - h
        down = f(x)
        flat[i] = saved
        numerical[i] = (up - down) / (2 * h)
    numerical = numerical.reshape(x.shape)
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.max(np.abs(grad - numerical) / scale))


def _checker_nanmax(f, x, grad, h=1e-5):  # red team Z4: 0/0 dropped by nanmax instead of counted as 0
    numerical = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        up = f(x)
        x[index] = saved - h
        down = f(x)
        x[index] = saved
        numerical[index] = (up - down) / (2 * h)
    with np.errstate(invalid="ignore"):
        relative = np.abs(grad - numerical) / np.maximum(np.abs(grad), np.abs(numerical))
    return numerical, float(np.nanmax(relative))


def _checker_relative_step(f, x, grad, h=1e-5):  # red team Z4: a step h |x_i|, which is 0 where x_i is
    numerical = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved = x[index]
        step = h * abs(saved)
        x[index] = saved + step
        up = f(x)
        x[index] = saved - step
        down = f(x)
        x[index] = saved
        numerical[index] = (up - down) / (2 * step)
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.max(np.abs(grad - numerical) / scale))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("checker", "says"), [
    (_checker_flat_copy, "ValueError"),                       # f of a Linear weight needs W's shape
    (_checker_through_reshape, "x of shape (3, 2)"),          # the transposed x: every slope 0
    (_checker_nanmax, "relative error is nan"),               # at W = 0 every element is 0 / 0
    (_checker_relative_step, "numerical gradient at (0, 0) is nan"),  # W = 0: a step of 0
])
def test_the_red_teams_gradient_checkers_fail_the_visible_check(checker, says):
    assert l04.exercises.evaluate("gradient_check", l04._reference_check).passed
    result = l04.exercises.evaluate("gradient_check", checker)
    assert not result.passed and says in str(result)


def test_the_visible_transposed_case_reaches_the_checker_as_a_view():
    # the wire keeps the layout too (tests/grading/test_wire.py): the grader hands the checker a transposed x as well
    f, _, x_, grad = l04.CHECK_CASES[-1]
    assert not x_.flags["C_CONTIGUOUS"] and not x_.copy(order="K").flags["C_CONTIGUOUS"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_hidden_checker_test_refuses_the_red_teams_checkers_and_passes_the_reference():
    hidden = hidden_part("04_linear_and_losses", "gradient_check_test").split("hold(")[0]
    for checker, passes in [(l04._reference_check, True), (_checker_flat_copy, False), (_checker_nanmax, False),
                            (_checker_relative_step, False)]:
        try:
            exec(hidden, {"np": np, "gradient_check": checker})  # noqa: S102 - the master's own hidden asserts
        except (AssertionError, ValueError):
            assert not passes, checker.__name__
        else:
            assert passes, checker.__name__


def test_the_hidden_layer_norm_test_refuses_a_one_pass_variance():
    # red team Z4: var = E[x^2] - E[x]^2 cancels at an offset of 1e8 (21% off there); the two-pass reference is exact
    class OnePass(l04._LayerNorm):
        def forward(self, x):
            mean = x.mean(axis=1, keepdims=True)
            self.std = np.sqrt((x**2).mean(axis=1, keepdims=True) - mean**2 + self.eps)
            self.y = (x - mean) / self.std
            return self.y

    hidden = hidden_part("04_linear_and_losses", "LayerNorm_test")
    exec(hidden, {"np": np, "LayerNorm": l04._LayerNorm})  # noqa: S102 - the master's own hidden asserts
    assert l04.exercises.evaluate("LayerNorm", OnePass).passed  # the visible rows are too near 0 to tell
    with pytest.raises(AssertionError):
        exec(hidden, {"np": np, "LayerNorm": OnePass})  # noqa: S102


# ---------------------------------------------------------------- red team AC's wrong answers that scored full marks
_run_hidden_test = functools.partial(run_hidden_part, "04_linear_and_losses")


def _checker_step_relative_to_entry(f, x, grad, h=1e-5):
    numerical = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = h * max(1.0, abs(float(x[index])))  # the same as h wherever |x| <= 1, as in every visible case
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        numerical[index] = (f(up) - f(down)) / (2 * step)
    return numerical, float(np.max(l04.relative_errors(grad, numerical)))


def _checker_vectors_and_matrices(f, x, grad, h=1e-5):
    """A loop for a vector and one for a matrix: a third axis is stepped a whole row at a time, and no axis fails."""
    numerical = np.zeros(x.shape)
    indices = ([(i,) for i in range(x.shape[0])] if x.ndim == 1 else
               [(i, j) for i in range(x.shape[0]) for j in range(x.shape[1])])
    for index in indices:
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        numerical[index] = (f(up) - f(down)) / (2 * h)
    return numerical, float(np.max(l04.relative_errors(grad, numerical)))


class _OwnLinear:
    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": dout.T @ self.x, "b": self.bias_gradient(dout)}
        return dout @ self.params["W"]

    def bias_gradient(self, dout):
        return dout.sum(axis=0)


class _LinearBiasSqueezed(_OwnLinear):
    def bias_gradient(self, dout):
        return np.squeeze(dout.sum(axis=0, keepdims=True))  # shape () for a layer of one output


class _LayerNormNumericalBackward(l04._LayerNorm):
    """dx by central differences of sum(dout * y), one element at a time: about 1e-7 off."""

    def backward(self, dout):
        x, h = self.x, 1e-5
        dx = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[index] += h
            down[index] -= h
            dx[index] = (np.sum(dout * l04._ln_forward(up, self.eps)[0]) -
                         np.sum(dout * l04._ln_forward(down, self.eps)[0])) / (2 * h)
        return dx

    def forward(self, x):
        self.x = x
        return super().forward(x)


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize(("grade_id", "name", "right", "wrong", "error"), [
    ("gradient_check_test", "gradient_check", l04._reference_check, _checker_step_relative_to_entry, AssertionError),
    ("gradient_check_test", "gradient_check", l04._reference_check, _checker_vectors_and_matrices, AssertionError),
    ("Linear_test", "Linear", _OwnLinear, _LinearBiasSqueezed, AssertionError),
    ("LayerNorm_test", "LayerNorm", l04._LayerNorm, _LayerNormNumericalBackward, AssertionError),
])
def test_an_answer_right_on_every_visible_case_fails_the_hidden_test(language, grade_id, name, right, wrong, error):
    assert l04.exercises.evaluate(name, wrong).passed  # why it scored
    _run_hidden_test(grade_id, language, **{name: right})
    with pytest.raises(error):
        _run_hidden_test(grade_id, language, **{name: wrong})


class _LinearForSmallBatches(_OwnLinear):
    def bias_gradient(self, dout):  # red team AD: right up to the largest batch a check used, then a mean
        return dout.sum(axis=0) if len(dout) < 10 else dout.mean(axis=0)


@pytest.mark.parametrize("language", ["", "ja"])
def test_a_linear_right_for_small_batches_only_fails_the_hidden_test(language):
    assert l04.exercises.evaluate("Linear", _LinearForSmallBatches).passed  # why it scored
    with pytest.raises(AssertionError):
        _run_hidden_test("Linear_test", language, Linear=_LinearForSmallBatches)
