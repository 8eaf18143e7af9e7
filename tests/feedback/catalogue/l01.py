"""Lesson 01: central differences, the chain rule, branches, SymPy checks, a derivative by hand."""

import functools

import numpy as np
import sympy as sp

from tests.feedback.catalogue import correct, wrong

L = "l01_chain_rule"


def _partials(x, y):
    u, v = x * y, x + y**2
    return np.cos(u) * v * y + np.sin(u), np.cos(u) * v * x + np.sin(u) * 2 * y


def _chain_reversed(functions, derivatives, x):
    slope, value = 1.0, x
    for f, d in zip(functions[::-1], derivatives[::-1], strict=False):
        slope *= d(value)
        value = f(value)
    return slope


def _chain_from_zero(functions, derivatives, x):
    slope, value = 0.0, x
    for f, d in zip(functions, derivatives, strict=False):
        slope *= d(value)
        value = f(value)
    return slope


def _chain_recursive(functions, derivatives, x):
    if not functions:
        return 1.0
    return derivatives[0](x) * _chain_recursive(functions[1:], derivatives[1:], functions[0](x))


def _chain_reduce(functions, derivatives, x):
    values = functools.reduce(lambda seen, f: [*seen, f(seen[-1])], functions[:-1], [x])
    return float(np.prod([d(v) for d, v in zip(derivatives, values, strict=False)]))


def _chain_forward_mode(functions, derivatives, x):
    """Forward mode with dual numbers (value, slope), as autodiff tutorials write it."""
    value, slope = x, 1.0
    for f, d in zip(functions, derivatives, strict=False):
        value, slope = f(value), d(value) * slope
    return slope


def _partials_by_graph(x, y):
    """A backward pass over u = x*y, v = x + y**2, f = sin(u) * v, node by node (cs231n's staged style)."""
    u, v = x * y, x + y**2
    df_du, df_dv = np.cos(u) * v, np.sin(u)
    return df_du * y + df_dv * 1.0, df_du * x + df_dv * 2 * y


s = sp.Symbol("s")
WRONG = [
    wrong(L, "central_difference", "forward step written with a temporary",
          lambda f, x, h=1e-5: (lambda up, here: (up - here) / h)(f(x + h), f(x)), registered="forward difference"),
    wrong(L, "central_difference", "run of h", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / h,
          registered="divided by h"),
    wrong(L, "central_difference", "points swapped", lambda f, x, h=1e-5: (f(x - h) - f(x + h)) / (2 * h),
          names=("negated",)),
    wrong(L, "central_difference", "divided by 4h", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / (4 * h),
          names=("half",)),
    wrong(L, "central_difference", "steps of 2h over 2h",
          lambda f, x, h=1e-5: (f(x + 2 * h) - f(x - 2 * h)) / (2 * h), names=("twice",)),
    wrong(L, "central_difference", "the value, not the slope", lambda f, x, h=1e-5: f(x),
          names=("value of f(x)",)),
    wrong(L, "central_difference", "h ignored: a fixed step", lambda f, x, h=1e-5: (f(x + 1e-5) - f(x - 1e-5)) / 2e-5,
          names=("h is not used",)),
    wrong(L, "chain_rule", "every slope at x, by a comprehension",
          lambda functions, derivatives, x: float(np.prod([d(x) for d in derivatives])), registered="derivatives at x"),
    wrong(L, "chain_rule", "slopes summed",
          lambda fs, ds, x: sum(d(v) for d, v in zip(ds, functools.reduce(lambda a, f: [*a, f(a[-1])], fs, [x]),
                                                     strict=False)),
          registered="added"),
    wrong(L, "chain_rule", "functions taken from the outside in", _chain_reversed,
          names=("reverse order",)),
    wrong(L, "chain_rule", "slope started at 0", _chain_from_zero, names=("zeros",)),
    wrong(L, "chain_rule", "sign flipped", lambda fs, ds, x: -_chain_recursive(fs, ds, x), names=("negated",)),
    wrong(L, "branch_gradient", "path through u only, in one line",
          lambda x, y: (np.cos(x * y) * y * (x + y**2), np.cos(x * y) * x * (x + y**2)), registered="u branch only"),
    wrong(L, "branch_gradient", "the two partials swapped", lambda x, y: _partials(x, y)[::-1],
          names=("holds the value of",)),
    wrong(L, "branch_gradient", "dv/dy = y", lambda x, y: (np.cos(x * y) * (x + y**2) * y + np.sin(x * y),
                                                          np.cos(x * y) * (x + y**2) * x + np.sin(x * y) * y)),
    wrong(L, "branch_gradient", "both negated", lambda x, y: tuple(-g for g in _partials(x, y)), names=("negated",)),
    wrong(L, "branch_gradient", "both doubled", lambda x, y: [2 * g for g in _partials(x, y)], names=("twice",)),
    wrong(L, "verify_derivative", "== on the trees", lambda e, c, v: sp.diff(e, v) == c, registered="structural =="),
    wrong(L, "verify_derivative", "compared at x = 1 only",
          lambda e, c, v: bool(abs(float((sp.diff(e, v) - c).subs(v, 1))) < 1e-12)),
    wrong(L, "verify_derivative", "numbers at one point, with a tolerance",
          lambda e, c, v: bool(abs(complex((sp.diff(e, v) - c).subs(v, 0.7).evalf())) < 1e-9),
          registered="compared at points"),
    wrong(L, "hand_derivative", "chain rule forgotten inside", lambda v: sp.sin(v**2) + v * sp.cos(v**2),
          registered="inner derivative missing"),
    wrong(L, "hand_derivative", "sign flipped", lambda v: -(sp.sin(v**2) + 2 * v**2 * sp.cos(v**2)),
          names=("negated",)),
    wrong(L, "hand_derivative", "doubled", lambda v: 2 * sp.sin(v**2) + 4 * v**2 * sp.cos(v**2), names=("twice",)),
    wrong(L, "hand_derivative", "SymPy's Derivative, left unevaluated", lambda v: sp.Derivative(v * sp.sin(v**2), v),
          names=("Derivative",)),
    wrong(L, "hand_derivative", "the inner derivative left to SymPy",
          lambda v: sp.sin(v**2) + v * sp.Derivative(sp.sin(v**2), v), names=("Derivative",)),
]

CORRECT = [
    correct(L, "central_difference", "cs231n's eval_numerical_gradient, for one number",
            lambda f, x, h=1e-5: (lambda fxph, fxmh: (fxph - fxmh) / (2 * h))(f(x + h), f(x - h))),
    correct(L, "central_difference", "Deep Learning from Scratch's numerical_diff",
            lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / (h * 2)),
    correct(L, "chain_rule", "recursive", _chain_recursive),
    correct(L, "chain_rule", "values first, then one product", _chain_reduce),
    correct(L, "branch_gradient", "a NumPy array", lambda x, y: np.array(_partials(x, y))),
    correct(L, "branch_gradient", "a list", lambda x, y: list(_partials(x, y))),
    correct(L, "verify_derivative", "SymPy's equals", lambda e, c, v: bool(sp.diff(e, v).equals(c))),
    correct(L, "hand_derivative", "product and chain rule, unsimplified",
            lambda v: 1 * sp.sin(v**2) + v * sp.cos(v**2) * 2 * v),
    correct(L, "central_difference", "a symmetric quotient around x, written with x_plus and x_minus",
            lambda f, x, h=1e-5: (lambda x_plus, x_minus: (f(x_plus) - f(x_minus)) / (x_plus - x_minus))(x + h, x - h)),
    correct(L, "chain_rule", "forward mode, dual numbers", _chain_forward_mode),
    correct(L, "branch_gradient", "a backward pass, staged", _partials_by_graph),
    correct(L, "verify_derivative", "simplify the difference to 0",
            lambda e, c, v: sp.simplify(sp.diff(e, v) - c) == 0),
    correct(L, "verify_derivative", "SymPy's equals on the derivative of the claim's antiderivative",
            lambda e, c, v: bool(sp.Eq(sp.diff(e, v), c).simplify() is sp.true)),
    correct(L, "hand_derivative", "SymPy's own diff", lambda v: sp.diff(v * sp.sin(v**2), v)),
    correct(L, "hand_derivative", "factored", lambda v: sp.sin(v**2) + 2 * v**2 * sp.cos(v**2)),
]
