"""Every derivative lesson 02 states (SymPy and numerics), its tape and drawings, and its reference engine."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hidden_parts import run_hidden_part
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.lessons.l02_computation_graphs import (
    _backward_unsorted,
    _topological,
    _Value,
    neuron_gradients,
    neuron_numpy,
)
from coursekit.viz import widgets
from coursekit.viz.graphs import (
    OPERATIONS,
    difference_of_squares,
    draw_backward_step,
    draw_graph,
    from_value,
    layout,
    shifted_square,
    tape,
    with_constants,
)

x, y, a, b, u, k, w, bias = sp.symbols("x y a b u k w bias")


def same(p, q):
    return sp.simplify(p - q) == 0


def test_forward_values_of_the_worked_examples():
    assert same((x**2 + 3).subs(x, 2), 7)
    assert (x + y).subs({x: 3, y: 1}) == 4 and (x - y).subs({x: 3, y: 1}) == 2
    assert ((x + y) * (x - y)).subs({x: 3, y: 1}) == 8
    assert ((x + 2) ** 2 + 5).subs(x, 1) == 14


def test_the_tape_reproduces_the_worked_examples():
    graph = difference_of_squares()
    assert graph.forward(x=3, y=1) == 8 and graph["a"].value == 4 and graph["b"].value == 2
    graph.backward()
    assert (graph["x"].grad, graph["y"].grad) == (6.0, -2.0)
    shifted = with_constants(shifted_square(), two=2, five=5)
    assert shifted.forward(x=1.0) == 14.0
    shifted.backward()
    assert shifted["x"].grad == 6.0


def test_local_derivative_rules_of_the_table():
    assert same(sp.diff(a + b, a), 1) and same(sp.diff(a + b, b), 1)
    assert same(sp.diff(a - b, a), 1) and same(sp.diff(a - b, b), -1)
    assert same(sp.diff(a * b, a), b) and same(sp.diff(a * b, b), a)
    assert same(sp.diff(u**2, u), 2 * u)
    assert same(sp.diff(sp.exp(u), u), sp.exp(u))


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_the_tape_local_derivatives_match_sympy(op):
    compute, local = OPERATIONS[op]
    symbols = (a,) if op in ("square", "exp") else (a, b)
    expr = sp.exp(a) if op == "exp" else compute(*symbols)
    values = {a: 0.7, b: -1.3}
    numeric = local(*[values[s] for s in symbols])
    for symbol, slope in zip(symbols, numeric, strict=True):
        assert float(sp.diff(expr, symbol).subs(values)) == pytest.approx(slope)


def test_difference_of_squares_gradient_by_the_backward_rules():
    f = (x + y) * (x - y)
    df_da, df_db = b, a
    by_rules = {x: df_da * 1 + df_db * 1, y: df_da * 1 + df_db * -1}
    at = {a: x + y, b: x - y}
    assert same(by_rules[x].subs(at), 2 * x) and same(sp.diff(f, x), 2 * x)
    assert same(by_rules[y].subs(at), -2 * y) and same(sp.diff(f, y), -2 * y)


def test_shifted_square_gradient_is_2x_plus_4_and_x_times_x_is_2x():
    assert same(sp.diff((x + 2) ** 2 + 5, x), 2 * x + 4)
    assert same(sp.diff(x * x, x), 2 * x)


@settings(max_examples=30, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3))
def test_tape_backward_matches_central_differences(x0, y0):
    graph = difference_of_squares()
    graph.forward(x=x0, y=y0)
    graph.backward()
    assert graph["x"].grad == pytest.approx(2 * x0, abs=1e-12)
    assert graph["y"].grad == pytest.approx(-2 * y0, abs=1e-12)


def test_backward_steps_go_from_the_output_and_a_branch_is_complete_only_after_both():
    graph = difference_of_squares()
    graph.forward(x=3.0, y=1.0)
    assert graph.backward(steps=0) == [] and graph["f"].grad == 1.0 and graph["x"].grad is None
    assert graph.backward(steps=2) == ["f", "b"] and graph["x"].grad == 4.0
    assert graph.backward(steps=3) == ["f", "b", "a"] and graph["x"].grad == 6.0


def test_node_used_twice_accumulates():
    t = tape(("x", "input"), ("f", "mul", "x", "x"))
    t.forward(x=3.0)
    t.backward()
    assert t["x"].grad == 6.0


def test_layout_puts_each_node_right_of_its_inputs():
    graph = difference_of_squares()
    positions = layout(graph)
    for node in graph.nodes:
        for name in node.inputs:
            assert positions[name][0] < positions[node.name][0]


def test_drawing_shows_every_value_and_gradient():
    graph = difference_of_squares()
    graph.forward(x=3.0, y=1.0)
    graph.backward()
    figure = draw_graph(graph)
    texts = " ".join(t.get_text() for t in figure.axes[0].texts)
    for expected in ("value 8", "grad 6", "grad -2", "value 4", "grad 1"):
        assert expected in texts
    plt.close(figure)


def test_widget_step_highlights_the_node_just_processed_and_headless_gives_a_figure(monkeypatch):
    figure = draw_backward_step(difference_of_squares(), 2, x=3.0, y=1.0)
    highlighted = [p for p in figure.axes[0].patches if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert highlighted
    plt.close(figure)
    monkeypatch.setenv("COURSEKIT_HEADLESS", "1")
    import ipywidgets

    shown = widgets.interactive_figure(lambda step: draw_backward_step(difference_of_squares(), step, x=3.0, y=1.0),
                                       step=ipywidgets.IntSlider(value=5, min=0, max=5))
    assert isinstance(shown, plt.Figure)
    plt.close(shown)


def test_reference_engine_derivatives_match_sympy():
    rules = {
        "pow": (x**k, k * x ** (k - 1)),
        "exp": (sp.exp(x), sp.exp(x)),
        "tanh": (sp.tanh(x), 1 - sp.tanh(x) ** 2),
    }
    for expr, claimed in rules.values():
        assert same(sp.diff(expr, x), claimed)
    neuron = sp.tanh(w * x + bias)
    assert same(sp.diff(neuron, w), (1 - neuron**2) * x)
    assert same(sp.diff(neuron, bias), 1 - neuron**2)


def test_reference_engine_handles_a_chain_deeper_than_the_recursion_limit():
    v = _Value(1.0)
    out = v
    for _ in range(5000):
        out = out + 1.0
    out.backward()
    assert v.grad == 1.0 and len(_topological(out)) == 10001


def test_neuron_helpers_agree_with_the_closed_form():
    def neuron(xs, ws, b):
        total = b
        for wi, xi in zip(ws, xs, strict=True):
            total = total + wi * xi
        return total.tanh()

    out, dws, db = neuron_gradients(neuron, _Value)([1.0, -2.0], [0.5, 0.25], 0.1)
    s = 0.5 - 0.5 + 0.1
    assert out == pytest.approx(math.tanh(s)) == pytest.approx(neuron_numpy([1.0, -2.0], [0.5, 0.25], 0.1))
    np.testing.assert_allclose(dws, (1 - math.tanh(s) ** 2) * np.array([1.0, -2.0]))
    assert db == pytest.approx(1 - math.tanh(s) ** 2)


def test_from_value_draws_an_engine_graph():
    p, q = _Value(2.0), _Value(-1.0)
    out = (p * q).tanh()
    out.backward()
    drawn = from_value(out, {id(p): "p"})
    assert [node.name for node in drawn.nodes][-1] == "v3" and drawn["p"].grad == p.grad
    assert drawn["v3"].op == "value:tanh" and drawn["v3"].inputs == ("v2",)
    plt.close(draw_graph(drawn))


# ---------------------------------------------------------------- section 7: from the scalar engine to a framework
XOR_POINTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])


def _xor_init(seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((4, 2))
    return {"W1": W1, "b1": np.zeros(4), "W2": 0.5 * rng.standard_normal(4), "b2": 0.0}


def _xor_loss_and_grads(p):
    """The 2-4-1 tanh network of section 7 in NumPy, its gradients by hand (independent of the engine)."""
    H = np.tanh(XOR_POINTS @ p["W1"].T + p["b1"])
    Y = H @ p["W2"] + p["b2"]
    dY = 2 * (Y - XOR_TARGETS) / len(XOR_TARGETS)
    dZ = np.outer(dY, p["W2"]) * (1 - H**2)
    grads = {"W1": dZ.T @ XOR_POINTS, "b1": dZ.sum(axis=0), "W2": H.T @ dY, "b2": dY.sum()}
    return float(np.mean((Y - XOR_TARGETS) ** 2)), grads, Y, H, dY


def _xor_train(p, steps=100, lr=0.3):
    p = {k: np.copy(v) for k, v in p.items()}
    losses = []
    for _ in range(steps):
        loss, grads, *_ = _xor_loss_and_grads(p)
        losses.append(loss)
        for k in p:
            p[k] = p[k] - lr * grads[k]
    return losses, _xor_loss_and_grads(p)[2]


@pytest.fixture(scope="module")
def xor_run():
    return _xor_train(_xor_init())


def _engine_xor(seed=0):
    from coursekit.engine import Value

    init = _xor_init(seed)
    W1 = [[Value(w) for w in row] for row in init["W1"]]
    b1 = [Value(0.0) for _ in range(4)]
    W2 = [Value(w) for w in init["W2"]]
    b2 = Value(0.0)
    params = [w for row in W1 for w in row] + b1 + W2 + [b2]

    def net(point):
        hidden = [(row[0] * point[0] + row[1] * point[1] + bias).tanh() for row, bias in zip(W1, b1, strict=True)]
        return sum((w * h for w, h in zip(W2, hidden, strict=True)), b2)

    def loss():
        return sum(((net(p) - t) ** 2 for p, t in zip(XOR_POINTS.tolist(), XOR_TARGETS, strict=True)),
                   Value(0.0)) * (1 / 4)

    return params, loss


def test_xor_network_has_17_parameters_and_the_engine_gradients_match_numpy_and_central_differences():
    assert 2 * 4 + 4 + 4 + 1 == 17
    params, loss = _engine_xor()
    assert len(params) == 17
    L = loss()
    L.backward()
    value, grads, *_ = _xor_loss_and_grads(_xor_init())
    flat = np.concatenate([grads["W1"].ravel(), grads["b1"], grads["W2"], [grads["b2"]]])
    assert L.data == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose([p.grad for p in params], flat, rtol=1e-10, atol=1e-14)
    init = _xor_init()
    h = 1e-6
    for key, index in (("W1", (2, 1)), ("W2", 3), ("b1", 0)):
        up, down = ({k: np.copy(v) for k, v in init.items()} for _ in range(2))
        up[key][index] += h
        down[key][index] -= h
        numeric = (_xor_loss_and_grads(up)[0] - _xor_loss_and_grads(down)[0]) / (2 * h)
        assert grads[key][index] == pytest.approx(numeric, rel=1e-7)


def test_the_shares_of_the_last_output_weight_add_up_to_its_gradient_and_a_second_backward_doubles_it():
    _, grads, _, H, dY = _xor_loss_and_grads(_xor_init())
    shares = H[:, 3] * dY
    assert shares[0] == 0.0                         # at (0, 0) the untrained net already outputs its target 0
    assert [round(s, 4) for s in shares] == [0.0, -0.4108, -0.5311, -0.1584]
    assert f"{shares.sum():.6f}" == f"{grads['W2'][3]:.6f}" == "-1.100345"
    params, loss = _engine_xor()
    w = params[15]                                   # W2[3]: 8 weights and 4 biases of layer 1, then W2
    loss().backward()
    first = w.grad
    loss().backward()
    assert w.grad == 2 * first and f"{w.grad:.6f}" == "-2.200690"


def test_without_zero_grad_step_two_uses_the_old_plus_the_new_gradient_nearly_twice_when_steps_are_small():
    params, loss = _engine_xor()
    w = params[15]
    p, g = _xor_init(), []
    for _ in range(2):                                # the engine's loop with its reset forgotten
        loss().backward()
        for q in params:
            q.data -= 0.3 * q.grad
        _, grads, *_ = _xor_loss_and_grads(p)
        g.append(grads["W2"][3])
        p = {k: v - 0.3 * (grads[k] if not g[1:] else 0) for k, v in p.items()}
    assert w.grad == pytest.approx(g[0] + g[1], rel=1e-10)
    for lr in (0.01, 0.001):                          # small steps: the gradient hardly changes
        p, g = _xor_init(), []
        for _ in range(3):
            _, grads, *_ = _xor_loss_and_grads(p)
            g.append(grads["W2"][3])
            p = {k: v - lr * grads[k] for k, v in p.items()}
        assert 1.9 < (g[0] + g[1]) / g[0] < 2.1 and 2.8 < sum(g) / g[0] < 3.2


def test_xor_training_prints_these_losses_and_outputs(xor_run):
    losses, outputs = xor_run
    assert [f"{losses[s]:.4f}" for s in (0, 25, 50, 75, 99)] == ["0.7147", "0.1246", "0.0398", "0.0064", "0.0007"]
    assert np.all(np.diff(losses) < 0)
    assert [round(float(o), 2) for o in outputs] == [0.01, 0.97, 0.98, 0.03]


def test_xor_printed_digits_survive_rounding_noise_in_the_initial_weights(xor_run):
    losses, outputs = xor_run
    rng = np.random.default_rng(7)
    for _ in range(3):
        init = {k: v * (1 + 4e-16 * rng.standard_normal(np.shape(v))) for k, v in _xor_init().items()}
        other, other_outputs = _xor_train(init)
        assert [f"{other[s]:.4f}" for s in (0, 25, 50, 75, 99)] == [f"{losses[s]:.4f}" for s in (0, 25, 50, 75, 99)]
        assert np.array_equal(np.round(other_outputs, 2), np.round(outputs, 2))
    for s in (0, 25, 50, 75, 99):                    # away from a rounding boundary of the 4th decimal
        assert abs(losses[s] * 1e4 - np.floor(losses[s] * 1e4) - 0.5) > 0.01


def test_the_engine_loss_graph_has_188_nodes_and_central_differences_need_34_passes():
    from coursekit.engine import topological_order

    params, loss = _engine_xor()
    L = loss()
    # per point: 4 hidden units of (2 wrapped coordinates, 2 mul, 2 add, tanh) = 28; 4 mul and 4 add at the output;
    # "- t" is + (-t), with t and the -1 wrapped, a mul and an add = 4; the square; the add into the sum: 42.
    # Times 4 points, plus the 17 parameters, the starting Value(0.0), and "* (1 / 4)" (a wrapped 0.25 and a mul).
    assert 4 * (28 + 8 + 4 + 1 + 1) + 17 + 1 + 2 == len(topological_order(L)) == 188
    assert 2 * len(params) == 34


def test_convolution_as_a_dense_layer_with_zeros_and_shared_weights():
    from coursekit.engine import Value

    x = np.array([1.0, 2.0, -1.0, 3.0])
    t = np.array([1.0, 3.0, -4.0])

    def conv_loss(k):
        y = np.array([k[0] * x[i] + k[1] * x[i + 1] for i in range(3)])
        return 0.5 * np.sum((y - t) ** 2), y

    k0, k1 = Value(2.0), Value(-1.0)
    ys = [k0 * x[i] + k1 * x[i + 1] for i in range(3)]
    L = sum(((y_i - t_i) ** 2 for y_i, t_i in zip(ys, t, strict=True)), Value(0.0)) * 0.5
    L.backward()
    assert [y_i.data for y_i in ys] == [0.0, 5.0, -5.0] and (k0.grad, k1.grad) == (4.0, -7.0)
    h = 1e-6
    for i, expected in ((0, 4.0), (1, -7.0)):
        up, down = np.array([2.0, -1.0]), np.array([2.0, -1.0])
        up[i] += h
        down[i] -= h
        assert (conv_loss(up)[0] - conv_loss(down)[0]) / (2 * h) == pytest.approx(expected, rel=1e-8)
    W = np.array([[2.0, -1, 0, 0], [0, 2, -1, 0], [0, 0, 2, -1]])
    _, y = conv_loss([2.0, -1.0])
    np.testing.assert_array_equal(W @ x, y)
    delta = y - t
    np.testing.assert_array_equal(delta, [-1.0, 2.0, -1.0])
    dW = np.outer(delta, x)
    np.testing.assert_array_equal(dW, [[-1, -2, 1, -3], [2, 4, -2, 6], [-1, -2, 1, -3]])
    dense_numeric = np.zeros_like(W)                  # dL/dW of the dense layer, entry by entry
    for i in range(3):
        for j in range(4):
            up, down = W.copy(), W.copy()
            up[i, j] += h
            down[i, j] -= h
            dense_numeric[i, j] = (0.5 * np.sum((up @ x - t) ** 2) - 0.5 * np.sum((down @ x - t) ** 2)) / (2 * h)
    np.testing.assert_allclose(dense_numeric, dW, rtol=1e-7, atol=1e-7)
    assert np.trace(dW) == 4.0 and np.trace(dW, offset=1) == -7.0   # a shared weight: the sum over its positions


def test_seed_003_autograd_example_and_newtons_square_root():
    from coursekit.engine import Value

    assert same(sp.diff(x**2 + 3, x).subs(x, 2), 4) and (x**2 + 3).subs(x, 2) == 7
    v = Value(2.0)
    out = v**2 + 3
    out.backward()
    assert (out.data, v.grad) == (7.0, 4.0)
    a = Value(2.0)
    r = a
    for _ in range(6):
        r = (r + a / r) * 0.5
    r.backward()
    assert f"{r.data:.8f}" == f"{math.sqrt(2):.8f}" == "1.41421356"
    assert a.grad == pytest.approx(1 / (2 * math.sqrt(2)), rel=1e-12)
    assert f"{a.grad:.8f}" == "0.35355339" and same(sp.diff(sp.sqrt(x), x).subs(x, 2), 1 / (2 * sp.sqrt(2)))


# ---------------------------------------------------------------- red team Z4: wrong engines the tests let through
def _run_hidden(grade_id, value_class, language=""):
    run_hidden_part("02_computation_graphs", grade_id, language, Value=value_class)


def _walk(first_in_first_out, children_reversed):
    """backward() that runs each node's _backward when a walk from the output reaches it, not in topological order:
    level by level (a FIFO queue) or depth first (a stack), each node once."""
    from collections import deque

    def backward(self):
        self.grad = 1.0
        waiting, seen = deque([self]), {id(self)}
        while waiting:
            node = waiting.popleft() if first_in_first_out else waiting.pop()
            node._backward()
            for child in (reversed(node._prev) if children_reversed else node._prev):
                if id(child) not in seen:
                    seen.add(id(child))
                    waiting.append(child)
    return backward


@pytest.mark.parametrize(("first_in_first_out", "children_reversed"),
                         [(True, False), (True, True), (False, False), (False, True)],
                         ids=["breadth-first", "breadth-first, children reversed", "depth-first",
                              "depth-first, children reversed"])
def test_the_hidden_backward_test_refuses_a_walk_that_is_not_a_topological_order(first_in_first_out,
                                                                                  children_reversed):
    # red team Z4: breadth first gets the visible c = a*b + a right by the luck of its operand order; an
    # inner node reached along paths of lengths 1 and 3, in both operand orders, leaves no walk of this kind a chance
    from coursekit.lessons import l02_computation_graphs as l02

    walked = type("Walked", (_Value,), {"backward": _walk(first_in_first_out, children_reversed)})
    if (first_in_first_out, children_reversed) == (True, False):
        assert l02._diamond(walked) == l02._diamond(_Value)
    for language in ("", "ja"):
        _run_hidden("backward_test", _Value, language)
        with pytest.raises(AssertionError):
            _run_hidden("backward_test", walked, language)


def _tanh_by_exp(self):
    """micrograd's tanh, (e**2x - 1) / (e**2x + 1): math.exp overflows from x = 355 on."""
    e = math.exp(2 * self.data)
    return self._unary((e - 1) / (e + 1), lambda out: 1 - out.data**2, "tanh")


def _tanh_by_exp_of_minus(self):
    """The same from e**-2x, which overflows from x = -355 down."""
    e = math.exp(-2 * self.data)
    return self._unary((1 - e) / (1 + e), lambda out: 1 - out.data**2, "tanh")


@pytest.mark.parametrize("tanh", [_tanh_by_exp, _tanh_by_exp_of_minus])
def test_the_hidden_more_operations_test_takes_tanh_far_from_0(tanh):
    # red team Z4: every scenario and the rest of the hidden test take tanh at |x| < 2, where exp's forms are right
    from coursekit.lessons import l02_computation_graphs as l02

    by_exp = type("TanhByExp", (_Value,), {"tanh": tanh})
    assert l02._exp_tanh(by_exp) == pytest.approx(l02._exp_tanh(_Value), rel=1e-12)
    for language in ("", "ja"):
        _run_hidden("more_operations_test", _Value, language)
        with pytest.raises(OverflowError):
            _run_hidden("more_operations_test", by_exp, language)


# ---------------------------------------------------------------- red team AC's wrong answers that scored full marks
def _mul_slope_out_over_operand(self, other):
    """other's slope as out.data / other.data: right, but for an operand of 0 (ZeroDivisionError)."""
    other = self._wrap(other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += out.data / other.data * out.grad
    out._backward = _backward
    return out


def _pow_slope_out_over_self(self, k):
    """k out / x, the lesson's 'form that reuses the output': right, but at x = 0."""
    out = type(self)(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * out.data / self.data * out.grad
    out._backward = _backward
    return out


def _tanh_of_sinh_and_cosh(self):
    """(e^x - e^-x) / (e^x + e^-x) with math.exp: OverflowError past |x| = 709.8."""
    up, down = math.exp(self.data), math.exp(-self.data)
    return self._unary((up - down) / (up + down), lambda out: 1 - out.data**2, "tanh")


def _backward_counting_users_once(self):
    """Kahn's order, with each node's users counted once per user node but released once per edge: r*r releases r
    twice, so r runs before its last user has given it its share."""
    users, seen, stack = {}, {id(self)}, [self]
    while stack:
        node = stack.pop()
        for child in set(node._prev):
            users[id(child)] = users.get(id(child), 0) + 1
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    self.grad, ready = 1.0, [self]
    while ready:
        node = ready.pop()
        node._backward()
        for child in node._prev:
            users[id(child)] -= 1
            if users[id(child)] == 0:
                ready.append(child)


@pytest.mark.parametrize(("grade_id", "method", "wrong", "error"), [
    ("value_add_mul_test", "__mul__", _mul_slope_out_over_operand, ZeroDivisionError),
    ("more_operations_test", "__pow__", _pow_slope_out_over_self, ZeroDivisionError),
    ("more_operations_test", "tanh", _tanh_of_sinh_and_cosh, OverflowError),
    ("backward_test", "backward", _backward_counting_users_once, AssertionError),
])
def test_a_value_right_on_every_visible_case_fails_the_hidden_test(grade_id, method, wrong, error):
    from coursekit.lessons import l02_computation_graphs as l02

    # the course's Value, copied into a class of the learner's own (one built on it is refused as borrowed)
    own = {name: value for name, value in vars(_Value).items() if name not in ("__dict__", "__weakref__")}
    variant = type("Variant", (), {**own, method: wrong, **({"__rmul__": wrong} if method == "__mul__" else {})})
    assert l02.exercises.evaluate(grade_id.removesuffix("_test"), variant).passed  # why it scored
    for language in ("", "ja"):
        _run_hidden(grade_id, _Value, language)
        with pytest.raises(error):
            _run_hidden(grade_id, variant, language)


def _backward_ordered_for_small_graphs_only(self):
    """A topological order up to 100 nodes; beyond, each node's _backward as a depth-first walk reaches it (the
    lesson's own known mistake), right on a chain (the deep graph check() builds) and wrong wherever an inner node is
    shared (red team AD)."""
    order = _topological(self)
    if len(order) > 100:
        return _backward_unsorted(self)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()


def _backward_zeroing_first(self):
    """Every grad of the graph set to 0 before the pass: a second backward, or another graph of the same leaf, no
    longer adds to what the first gave (red team AD)."""
    order = _topological(self)
    for node in order:
        node.grad = 0.0
    self.grad = 1.0
    for node in reversed(order):
        node._backward()


@pytest.mark.parametrize("wrong", [_backward_ordered_for_small_graphs_only, _backward_zeroing_first])
def test_a_backward_right_on_every_graph_check_builds_fails_the_hidden_test(wrong):
    from coursekit.lessons import l02_computation_graphs as l02

    own = {name: value for name, value in vars(_Value).items() if name not in ("__dict__", "__weakref__")}
    variant = type("Variant", (), {**own, "backward": wrong})
    assert l02.exercises.evaluate("backward", variant).passed  # why it scored
    for language in ("", "ja"):
        with pytest.raises(AssertionError):
            _run_hidden("backward_test", variant, language)
