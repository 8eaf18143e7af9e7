"""SymPy expressions that exercises hand to a learner's code: functions, each with a derivative claimed for it.

They live here, not in ``coursekit.lessons``, for the reason ``sample_functions`` does: the grader's sandbox can
import this module (the lessons are stubbed there). Its server simplifies every claim once, before it forks (see
``coursekit.grading.forkserver``), so that every worker finds SymPy's caches, and the cache that server gives
``simplify``, warm for the work each submission's visible check repeats (without them, half the CPU a lesson-01
submission costs). Nothing here may be secret: a worker may read those caches.
"""

from __future__ import annotations

import sympy as sp

x = sp.Symbol("x")

# (function, claimed derivative, variable): right and wrong claims, for lesson 01's verify_derivative
DERIVATIVE_CLAIMS = [
    ((x + 2) ** 2 + 5, 2 * x + 4, x),
    ((x**2 + 1) ** 3, 6 * x**5 + 12 * x**3 + 6 * x, x),     # right, but written expanded
    ((x**2 + 1) ** 3, 3 * (x**2 + 1) ** 2, x),              # the inner derivative is missing
    (sp.sin(x) ** 2, sp.sin(2 * x), x),                      # right, by a trigonometric identity
    (sp.exp(-x**2), -2 * sp.exp(-x**2), x),                  # wrong
    (sp.log(x), 1 / x + sp.exp(-900), x),                    # wrong by e**-900, below any float: numbers cannot see it
]


def simplify_claims() -> None:
    """Simplify each claim's difference from the true derivative, as a check of it would (for the cache)."""
    for function, claimed, variable in DERIVATIVE_CLAIMS:
        sp.simplify(sp.diff(function, variable) - claimed)
