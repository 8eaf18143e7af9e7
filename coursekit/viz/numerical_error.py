"""The error of finite differences against the step: the V-shaped curve of lesson 01."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from coursekit.i18n import N_

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class StepErrors:
    """Absolute errors of forward and central differences at each step h."""

    steps: np.ndarray
    forward: np.ndarray
    central: np.ndarray

    def best_step(self, which: str) -> float:
        """The step with the smallest error for ``which`` ("forward" or "central")."""
        errors = getattr(self, which)
        return float(self.steps[np.argmin(errors)])


def step_error_curve(f: Callable[[float], float], df: Callable[[float], float], x: float,
                     steps: np.ndarray | None = None) -> StepErrors:
    """Errors of (f(x+h)-f(x))/h and (f(x+h)-f(x-h))/(2h) against the true f'(x), in float64."""
    steps = np.logspace(-15, -1, 57) if steps is None else np.asarray(steps, dtype=np.float64)
    exact = df(x)
    forward = np.array([abs((f(x + h) - f(x)) / h - exact) for h in steps])
    central = np.array([abs((f(x + h) - f(x - h)) / (2 * h) - exact) for h in steps])
    # An exact zero error (a lucky rounding) cannot be drawn on a log axis.
    tiny = np.finfo(np.float64).tiny
    return StepErrors(steps, np.maximum(forward, tiny), np.maximum(central, tiny))


def plot_step_error(errors: StepErrors) -> plt.Figure:
    """Log-log plot of both errors against h, with the textbook best steps eps^(1/2) and eps^(1/3)."""
    figure, ax = plt.subplots(figsize=(6.5, 4))
    ax.loglog(errors.steps, errors.forward, "o-", ms=3, label=N_("forward difference"))
    ax.loglog(errors.steps, errors.central, "s-", ms=3, label=N_("central difference"))
    ax.axvline(EPS ** 0.5, color="C0", ls=":", label=r"$\varepsilon^{1/2}$")
    ax.axvline(EPS ** (1 / 3), color="C1", ls=":", label=r"$\varepsilon^{1/3}$")
    ax.set_xlabel(N_("step h"))
    ax.set_ylabel(N_("absolute error"))
    ax.legend()
    figure.tight_layout()
    return figure
