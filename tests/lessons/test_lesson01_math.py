"""Every derivative lesson 01 states, checked with SymPy, and the lesson's figures through their data."""

import functools

import numpy as np
import pytest
import sympy as sp
from hidden_parts import hidden_part, run_hidden_part

from coursekit.viz import widgets
from coursekit.viz.chain_rule import tangent_panels, tangents
from coursekit.viz.numerical_error import EPS, step_error_curve

x, y, u, v, h = sp.symbols("x y u v h")


def same(a, b):
    return sp.simplify(a - b) == 0


def test_secant_slope_of_x_squared_is_6_plus_h_at_3():
    assert same(((3 + h) ** 2 - 9) / h, 6 + h)


def test_forward_and_central_difference_truncation_terms():
    f = sp.Function("f")
    forward = sp.series((f(x + h) - f(x)) / h, h, 0, 2).removeO().doit()
    central = sp.series((f(x + h) - f(x - h)) / (2 * h), h, 0, 3).removeO().doit()
    assert same(forward, sp.diff(f(x), x) + h / 2 * sp.diff(f(x), x, 2))
    assert same(central, sp.diff(f(x), x) + h**2 / 6 * sp.diff(f(x), x, 3))


def test_worked_example_by_chain_rule_and_by_expansion():
    expr = (x + 2) ** 2 + 5
    assert same(sp.expand(expr), x**2 + 4 * x + 9)
    assert same(sp.diff(expr, x), 2 * x + 4)
    assert same((2 * u).subs(u, x + 2) * 1, 2 * x + 4)  # dy/du * du/dx with u = x + 2


def test_tangent_widget_example_sin_of_x_squared():
    assert same(sp.diff(sp.sin(x**2), x), sp.cos(x**2) * 2 * x)


def test_two_paths_recover_the_product_rule():
    g, at = u * v, {u: x**2, v: sp.sin(x)}
    by_paths = sp.diff(g, u).subs(at) * 2 * x + sp.diff(g, v).subs(at) * sp.cos(x)
    assert same(by_paths, sp.diff(x**2 * sp.sin(x), x))
    assert same(by_paths, sp.sin(x) * 2 * x + x**2 * sp.cos(x))


def test_exercise_3_partials_sum_both_paths():
    f = sp.sin(x * y) * (x + y**2)
    uu, vv = x * y, x + y**2
    assert same(sp.diff(f, x), sp.cos(uu) * vv * y + sp.sin(uu))
    assert same(sp.diff(f, y), sp.cos(uu) * vv * x + sp.sin(uu) * 2 * y)


def test_exercise_2_and_5_derivatives():
    assert same(sp.diff(sp.exp(sp.sin(x**2)), x), sp.exp(sp.sin(x**2)) * sp.cos(x**2) * 2 * x)
    assert same(sp.diff(sp.sin(x) ** 2, x), 2 * sp.sin(x) * sp.cos(x))
    assert same(sp.diff(x * sp.sin(x**2), x), sp.sin(x**2) + 2 * x**2 * sp.cos(x**2))


def test_exercise_4_cases_are_labelled_correctly():
    from coursekit.lessons.l01_chain_rule import VERIFY_CASES, exercises

    truth = [bool(same(sp.diff(expr, var), claimed)) for expr, claimed, var in VERIFY_CASES]
    assert truth == list(exercises["verify_derivative"].expected)


def test_step_error_curve_has_slopes_one_and_two_where_truncation_dominates():
    steps = np.logspace(-3, -1, 9)
    errors = step_error_curve(np.sin, np.cos, 1.0, steps)
    slope_forward = np.polyfit(np.log10(steps), np.log10(errors.forward), 1)[0]
    slope_central = np.polyfit(np.log10(steps), np.log10(errors.central), 1)[0]
    assert slope_forward == pytest.approx(1.0, abs=0.05)
    assert slope_central == pytest.approx(2.0, abs=0.05)


def test_best_steps_sit_near_the_square_and_cube_roots_of_eps():
    """The lesson prints "within 30x of" each textbook step and bounds on the errors there (rounding moves both)."""
    errors = step_error_curve(np.sin, np.cos, 1.0)
    assert 1 / 30 < errors.best_step("forward") / EPS ** 0.5 < 30
    assert 1 / 30 < errors.best_step("central") / EPS ** (1 / 3) < 30
    assert errors.central.min() < 1e-10 < errors.forward.min() < 1e-7


def test_tangent_slope_of_composition_is_the_product_of_slopes():
    t = tangents(np.sin, np.cos, np.square, lambda s: 2 * s, 1.2)
    measured = (np.sin((1.2 + 1e-6) ** 2) - np.sin((1.2 - 1e-6) ** 2)) / 2e-6
    assert t.u == pytest.approx(1.44)
    assert t.slope_fg == pytest.approx(t.slope_f * t.slope_g)
    assert t.slope_fg == pytest.approx(measured, rel=1e-8)


def test_tangent_panels_draw_each_tangent_with_its_slope():
    figure = tangent_panels(np.sin, np.cos, np.square, lambda s: 2 * s, 0.5)
    t = tangents(np.sin, np.cos, np.square, lambda s: 2 * s, 0.5)
    for ax, slope in zip(figure.axes, (t.slope_g, t.slope_f, t.slope_fg), strict=True):
        xs, ys = ax.lines[1].get_data()  # the dashed tangent
        assert (ys[-1] - ys[0]) / (xs[-1] - xs[0]) == pytest.approx(slope)


def test_headless_follows_the_environment(monkeypatch):
    monkeypatch.setenv("COURSEKIT_HEADLESS", "1")
    assert widgets.is_headless()
    monkeypatch.setenv("COURSEKIT_HEADLESS", "0")
    assert widgets.is_headless()  # plain pytest: no kernel, so still no front end


def test_interactive_figure_draws_the_defaults_when_headless(monkeypatch):
    import ipywidgets

    monkeypatch.setenv("COURSEKIT_HEADLESS", "1")
    seen = {}

    def draw(a, b):
        seen.update(a=a, b=b)
        return tangent_panels(np.sin, np.cos, np.square, lambda s: 2 * s, a)

    figure = widgets.interactive_figure(draw, a=ipywidgets.FloatSlider(value=0.25),
                                        b=ipywidgets.Dropdown(options=["p", "q"]))
    assert seen == {"a": 0.25, "b": "p"}
    assert len(figure.axes) == 3


def test_prediction_answer_flat_tangents_of_sin_x_squared_on_the_sliders_range():
    slope = sp.diff(sp.sin(x**2), x)
    assert same(slope, 2 * x * sp.cos(x**2))
    for root in (0, sp.sqrt(sp.pi / 2), -sp.sqrt(sp.pi / 2)):
        assert same(slope.subs(x, root), 0)
    grid = np.linspace(-2, 2, 4000)                   # the slider's range; no other sign change on it
    values = 2 * grid * np.cos(grid**2)
    crossings = grid[:-1][np.sign(values[:-1]) != np.sign(values[1:])]
    assert crossings == pytest.approx([-np.sqrt(np.pi / 2), 0.0, np.sqrt(np.pi / 2)], abs=2e-3)
    assert f"{np.sqrt(np.pi / 2):.2f}" == "1.25" and np.sqrt(3 * np.pi / 2) > 2     # the next zero is off the range


def test_written_answer_a_chain_gives_the_same_product_from_either_end():
    functions, derivatives = [np.square, np.sin, np.exp], [lambda t: 2 * t, np.cos, np.exp]
    inputs = [0.7]
    for f in functions:
        inputs.append(f(inputs[-1]))                  # forward, keeping every intermediate value
    forward_order = derivatives[0](inputs[0]) * derivatives[1](inputs[1]) * derivatives[2](inputs[2])
    backward_order = 1.0
    for k in reversed(range(3)):
        backward_order *= derivatives[k](inputs[k])
    assert backward_order == pytest.approx(forward_order, rel=1e-15)
    assert backward_order == pytest.approx(float(sp.diff(sp.exp(sp.sin(x**2)), x).subs(x, 0.7)), rel=1e-12)


# ---------------------------------------------------------------- red team Z4: a verify_derivative that got through
def _verify_by_simplify(expr, claimed, var):
    return bool(sp.simplify(sp.diff(expr, var) - claimed) == 0)


def _verify_by_expand(expr, claimed, var):
    """Red team Z4's: expansion (trig=True expands sin(2x)) never combines fractions."""
    return bool(sp.expand(sp.diff(expr, var) - claimed, trig=True) == 0)


def test_the_hidden_verify_derivative_test_has_right_claims_that_expansion_cannot_see():
    from coursekit.lessons.l01_chain_rule import exercises

    assert exercises.evaluate("verify_derivative", _verify_by_simplify).passed
    assert exercises.evaluate("verify_derivative", _verify_by_expand).passed  # the visible claims cannot tell
    for language in ("", "ja"):
        exec(hidden_part("01_chain_rule", "verify_derivative_test", language),  # noqa: S102 - the master's asserts
             {"sp": sp, "verify_derivative": _verify_by_simplify})
        with pytest.raises(AssertionError):
            exec(hidden_part("01_chain_rule", "verify_derivative_test", language),  # noqa: S102
                 {"sp": sp, "verify_derivative": _verify_by_expand})


# ---------------------------------------------------------------- red team AC's wrong answers that scored full marks
_run_hidden_test = functools.partial(run_hidden_part, "01_chain_rule")


def _central_difference(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def _central_difference_relative_step(f, x, h=1e-5):
    step = h * max(1.0, abs(x))  # a step relative to x: another slope of a curved function far from 0
    return (f(x + step) - f(x - step)) / (2 * step)


def _chain_rule(functions, derivatives, x):
    slope = 1.0
    for f, df in zip(functions, derivatives, strict=True):
        slope, x = slope * df(x), f(x)
    return slope


def _chain_rule_by_complex_step(functions, derivatives, x):
    """The slope of the composition by a complex step: the derivatives given are never used."""
    z = x + 1e-30j
    for f in functions:
        z = f(z)
    return float(np.imag(z) / 1e-30) if functions else 1.0


def _verify_derivative(expr, claimed, var):
    return bool(sp.simplify(sp.diff(expr, var) - claimed) == 0)


def _verify_by_ratio(expr, claimed, var):
    return bool(sp.simplify(sp.diff(expr, var) / claimed) == 1)  # 0 / 0 where both are 0


def _verify_without_var(expr, claimed, var):
    return bool(sp.simplify(sp.diff(expr) - claimed) == 0)  # with two symbols, SymPy cannot tell which


@pytest.mark.parametrize("language", ["", "ja"])
@pytest.mark.parametrize(("grade_id", "name", "right", "wrong", "error"), [
    ("central_difference_test", "central_difference", _central_difference, _central_difference_relative_step,
     AssertionError),
    ("chain_rule_test", "chain_rule", _chain_rule, _chain_rule_by_complex_step, AssertionError),
    ("verify_derivative_test", "verify_derivative", _verify_derivative, _verify_by_ratio, AssertionError),
    ("verify_derivative_test", "verify_derivative", _verify_derivative, _verify_without_var, ValueError),
])
def test_a_function_right_on_every_visible_case_fails_the_hidden_test(language, grade_id, name, right, wrong, error):
    from coursekit.lessons.l01_chain_rule import exercises

    assert exercises.evaluate(name, wrong).passed  # why it scored
    _run_hidden_test(grade_id, language, **{name: right})
    with pytest.raises(error):
        _run_hidden_test(grade_id, language, **{name: wrong})


def _chain_rule_short_chains_only(functions, derivatives, x):
    """Right for up to four functions; beyond, every slope taken at x itself (red team AD)."""
    if len(functions) <= 4:
        return _chain_rule(functions, derivatives, x)
    return float(np.prod([df(x) for df in derivatives]))


@pytest.mark.parametrize("language", ["", "ja"])
def test_a_chain_rule_right_for_short_chains_only_fails_the_hidden_test(language):
    from coursekit.lessons.l01_chain_rule import exercises

    assert exercises.evaluate("chain_rule", _chain_rule_short_chains_only).passed  # why it scored
    with pytest.raises(AssertionError):
        _run_hidden_test("chain_rule_test", language, chain_rule=_chain_rule_short_chains_only)
