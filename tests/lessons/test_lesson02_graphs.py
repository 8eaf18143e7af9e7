"""Every derivative lesson 02 states (SymPy and numerics), its tape and drawings, and its reference engine."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.lessons.l02_computation_graphs import _topological, _Value, neuron_gradients, neuron_numpy
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
