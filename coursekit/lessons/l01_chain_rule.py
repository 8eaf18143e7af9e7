"""Lesson 01's exercise set: cases, known mistakes with their hints, and tiered hints.

The expected results come from derivatives known in closed form for the test functions
used here (cos for sin, ...), never from an implementation of the exercise itself.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.compare import type_name
from coursekit.feedback.properties import honours, inputs_kept, repeatable
from coursekit.feedback.relations import Diagnosis
from coursekit.feedback.sample_expressions import DERIVATIVE_CLAIMS
from coursekit.feedback.sample_functions import cube, double, square
from coursekit.gradcheck import check_symbolic
from coursekit.i18n import N_

exercises = ExerciseSet(N_("01 The chain rule"))
# coursekit's own central difference and symbolic check answer central_difference and verify_derivative
# (numerical_gradient, central_differences and jvp too: each gives a central difference with the learner's h once x
# is rescaled)
exercises.withhold("coursekit.gradcheck:numerical_derivative", "coursekit.gradcheck:check_symbolic",
                   "coursekit.gradcheck:numerical_gradient", "coursekit.gradcheck.numerical:central_differences",
                   "coursekit.gradcheck:jvp")


# ---------------------------------------------------------------- 1. central difference
H = 1e-5  # the exercise's default step


exercises.add(Exercise(
    "central_difference",
    cases=[(np.sin, 1.0), (np.exp, 0.5), (cube, 2.0), (np.cos, -2.5)],
    expected=[np.cos(1.0), np.exp(0.5), 12.0, -np.sin(-2.5)],
    rtol=1e-8, atol=1e-10,
    diagnosis=Diagnosis(reference=lambda f, x, h=H: (f(x + h) - f(x - h)) / (2 * h), arguments=("f", "x", "h"),
                        siblings={N_("f(x) itself: the function's value, not its slope"): lambda f, x, h=H: f(x)}),
    # a step as large as 0.5 changes the estimate of a curved function: an h that is used shows it
    properties=[honours("h", 2, 0.5, (np.sin, 1.0, 1e-3), (cube, 2.0, 1e-4))],
    mistakes=[
        Mistake(N_("forward difference"), lambda f, x, h=H: (f(x + h) - f(x)) / h,
                N_("this is the forward difference (f(x+h) - f(x)) / h; its error shrinks only like h. "
                   "Step to both sides: f(x+h) and f(x-h).")),
        Mistake(N_("divided by h"), lambda f, x, h=H: (f(x + h) - f(x - h)) / h,
                N_("your result is twice the slope: the two points x-h and x+h are 2h apart, so divide by 2h.")),
        Mistake(N_("backward difference"), lambda f, x, h=H: (f(x) - f(x - h)) / h,
                N_("this is the backward difference (f(x) - f(x-h)) / h; use both sides of x.")),
    ],
    hints=[
        N_("The slope of the line through two points is (rise) / (run)."),
        N_("Take the two points x - h and x + h, one on each side of x."),
        N_("Its slope is the difference of the two function values divided by the distance between the two points, "
           "which is not h."),
    ],
))

# ---------------------------------------------------------------- 2. chain rule along a chain
LAYERS = ([square, np.sin, np.exp], [double, np.cos, np.exp])  # x -> x^2 -> sin -> exp
SHORT = ([np.sin, square], [np.cos, double])                       # x -> sin x -> (sin x)^2


def _exp_sin_square_slope(x):
    return np.exp(np.sin(x**2)) * np.cos(x**2) * 2 * x


def _square_sin_slope(x):
    return 2 * np.sin(x) * np.cos(x)


def _chain(functions, derivatives, x):
    slope, value = 1.0, x
    for f, d in zip(functions, derivatives, strict=True):
        slope *= d(value)
        value = f(value)
    return float(slope)


def _at_input(functions, derivatives, x):
    return float(np.prod([d(x) for d in derivatives]))


def _sum_of_slopes(functions, derivatives, x):
    total, value = 0.0, x
    for f, d in zip(functions, derivatives, strict=True):
        total += d(value)
        value = f(value)
    return total


def _outer_only(functions, derivatives, x):
    value = x
    for f in functions[:-1]:
        value = f(value)
    return float(derivatives[-1](value))


exercises.add(Exercise(
    "chain_rule",
    cases=[(*LAYERS, 0.7), (*LAYERS, -1.3), (*SHORT, 0.4), ([np.exp], [np.exp], 1.1)],
    expected=[_exp_sin_square_slope(0.7), _exp_sin_square_slope(-1.3), _square_sin_slope(0.4), np.exp(1.1)],
    diagnosis=Diagnosis(reference=_chain, arguments=("functions", "derivatives", "x"), points={
        N_("the functions were taken in reverse order: functions[0] is the innermost, applied to x first"):
            lambda functions, derivatives, x: _chain(functions[::-1], derivatives[::-1], x)}),
    properties=[inputs_kept((*LAYERS, 0.7)), repeatable((*LAYERS, 0.7), (*SHORT, 0.4))],
    mistakes=[
        Mistake(N_("derivatives at x"), _at_input,
                N_("every derivative was evaluated at x. Each one belongs at the input of its own function: "
                   "compute the intermediate values on the way forward and evaluate each derivative there.")),
        Mistake(N_("added"), _sum_of_slopes,
                N_("you added the local slopes. Along a chain they multiply: dz/dx = dz/dy * dy/du * du/dx.")),
        Mistake(N_("outer only"), _outer_only,
                N_("only the outermost derivative is there: multiply in the derivative of every inner function too.")),
    ],
    hints=[
        N_("Go forward first: keep the value that enters each function."),
        N_("The local slope of function k is derivatives[k] evaluated at the value entering function k."),
        N_("Start from slope = 1.0 and multiply in each local slope while you go forward."),
    ],
))

# ---------------------------------------------------------------- 3. branches add
# f(x, y) = sin(u) * v with u = x*y and v = x + y**2: x and y each reach f along two paths.


def _f_partials(x, y):
    u, v = x * y, x + y**2
    return (np.cos(u) * y * v + np.sin(u), np.cos(u) * x * v + np.sin(u) * 2 * y)


def _u_branch_only(x, y):
    u, v = x * y, x + y**2
    return (np.cos(u) * y * v, np.cos(u) * x * v)


def _branches_multiplied(x, y):
    u, v = x * y, x + y**2
    return ((np.cos(u) * y * v) * np.sin(u), (np.cos(u) * x * v) * (np.sin(u) * 2 * y))


def _v_branch_only(x, y):
    u = x * y
    return (np.sin(u), np.sin(u) * 2 * y)


BRANCH_POINTS = [(0.5, 1.5), (-1.2, 0.3), (2.0, -0.7), (0.0, 1.0)]

exercises.add(Exercise(
    "branch_gradient",
    cases=BRANCH_POINTS,
    expected=[_f_partials(x, y) for x, y in BRANCH_POINTS],
    diagnosis=Diagnosis(reference=_f_partials, arguments=("x", "y"), parts=(N_("your df/dx"), N_("your df/dy"))),
    mistakes=[
        Mistake(N_("u branch only"), _u_branch_only,
                N_("only the path through u is there. x and y also reach f through v = x + y**2: add that path.")),
        Mistake(N_("v branch only"), _v_branch_only,
                N_("only the path through v is there. x and y also reach f through u = x*y: add that path.")),
        Mistake(N_("multiplied"), _branches_multiplied,
                N_("you multiplied the two paths' contributions. Where a variable reaches the output along "
                   "several paths, the contributions add.")),
    ],
    hints=[
        N_("df/dx = df/du * du/dx + df/dv * dv/dx, and the same for y."),
        N_("df/du = cos(u) * v and df/dv = sin(u)."),
        N_("du/dx = y, du/dy = x, dv/dx = 1, dv/dy = 2y."),
    ],
))

# ---------------------------------------------------------------- 4. verify with SymPy
x = sp.Symbol("x")
VERIFY_CASES = DERIVATIVE_CLAIMS  # in a module the sandbox may import: see there


def _agree_at_points(expr, claimed, var) -> bool:
    """The numerical shortcut: the derivative and the claim agree, to 1e-9, at three points."""
    difference = sp.diff(expr, var) - claimed
    return all(abs(complex(difference.subs(var, point).evalf())) < 1e-9 for point in (0.3, 0.7, 1.9))

exercises.add(Exercise(
    "verify_derivative",
    cases=VERIFY_CASES,
    expected=[True, True, False, True, False, False],
    mistakes=[
        Mistake(N_("structural =="), lambda expr, claimed, var: bool(sp.diff(expr, var) == claimed),
                N_("`==` on SymPy expressions compares how they are written, not what they are worth: "
                   "6*x*(x**2+1)**2 and its expansion differ as trees. Simplify the difference and compare it with "
                   "0.")),
        Mistake(N_("forgot diff"), lambda expr, claimed, var: bool(sp.simplify(expr - claimed) == 0),
                N_("you compared the claim with the function itself; differentiate the function first (sp.diff).")),
        Mistake(N_("compared at points"), _agree_at_points,
                N_("numbers at a few points cannot prove two expressions equal: 1/x + e**-900 is not 1/x, yet no float "
                   "tells them apart. Compare them symbolically: simplify their difference and compare it with 0.")),
    ],
    hints=[
        N_("sp.diff(expr, var) is SymPy's derivative of expr."),
        N_("Two expressions are equal when their difference simplifies to 0."),
        N_("One line does it: differentiate, subtract the claim, simplify, and compare the result with 0 "
           "(as a Python bool)."),
    ],
))

# ---------------------------------------------------------------- 5. a derivative by hand
PROBE_POINTS = np.array([-1.7, -0.4, 0.3, 0.9, 2.2])


def _values(expression_of) -> np.ndarray:
    """The learner's expression, evaluated at a few points (how mistakes are recognised).

    Strictly a SymPy object or a number: SymPy would evaluate a string as Python code, here in the grader."""
    expression = sp.sympify(expression_of(x), strict=True)
    return np.asarray(sp.lambdify(x, expression, "numpy")(PROBE_POINTS), dtype=np.float64) * np.ones_like(PROBE_POINTS)


def _is_derivative_of_x_sin_x2(expression_of) -> str | None:
    expression = expression_of(x)
    if not isinstance(expression, sp.Basic):
        return N_("return a SymPy expression in x, not a {kind}").format(
            kind=type_name(expression))
    unevaluated = [kind.__name__ for kind in (sp.Derivative, sp.Subs, sp.Integral) if expression.has(kind)]
    if unevaluated:  # it names the derivative without working it out: SymPy's doit() would be doing the exercise
        return N_("your expression still holds SymPy's {kind}(...), which names a derivative without working it "
                  "out; apply the product and chain rules yourself and return the result").format(kind=unevaluated[0])
    report = check_symbolic(x * sp.sin(x**2), x, expression)
    return None if report.passed else str(report)


exercises.add(Exercise(
    "hand_derivative",
    test=_is_derivative_of_x_sin_x2,
    probe=_values,
    diagnosis=Diagnosis(reference=lambda v: sp.sin(v**2) + 2 * v**2 * sp.cos(v**2)),
    mistakes=[
        Mistake(N_("inner derivative missing"), lambda v: sp.sin(v**2) + v * sp.cos(v**2),
                N_("the derivative of sin(x**2) is cos(x**2) times the derivative of x**2, which is 2x.")),
        Mistake(N_("product rule missing"), lambda v: 2 * v**2 * sp.cos(v**2),
                N_("x*sin(x**2) is a product: (a*b)' = a'*b + a*b'. The term sin(x**2) (from x' = 1) is missing.")),
    ],
    hints=[
        N_("It is a product a*b with a = x and b = sin(x**2): use (ab)' = a'b + ab'."),
        N_("b = sin(x**2) is a composition: b' = cos(x**2) * 2x."),
    ],
))
