"""Figures for lesson 03: activation functions with their derivatives, and where they saturate."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np

from coursekit import nn
from coursekit.i18n import N_

# name -> (function, derivative as a function of the input), the three of the lesson
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {name: nn.ACTIVATIONS[name] for name in ("sigmoid", "tanh", "relu")}
SATURATED = 0.05  # a slope below 5% of the function's largest slope counts as saturated


def functions_figure(x: np.ndarray | None = None) -> plt.Figure:
    """One panel per activation: the function and its derivative."""
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=float)
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharex=True)
    for ax, (name, (f, df)) in zip(axes, ACTIVATIONS.items(), strict=True):
        ax.plot(x, f(x), label=name)
        ax.plot(x, df(x), "--", label=f"{name}'")
        ax.axhline(0, color="0.8", lw=0.8)
        ax.set_xlabel("x")
        ax.legend(loc="upper left")
    figure.tight_layout()
    return figure


def saturated_region(name: str, gain: float, x: np.ndarray) -> np.ndarray:
    """Where the slope of f(gain * x) is below SATURATED times its largest value (a boolean mask)."""
    _, df = ACTIVATIONS[name]
    slope = np.abs(gain * df(gain * x))
    return slope < SATURATED * np.max(slope)


def saturation_figure(name: str = "sigmoid", x0: float = 1.0, gain: float = 1.0) -> plt.Figure:
    """f(gain·x) and its slope gain·f'(gain·x), the tangent at x0, and the saturated region shaded."""
    f, df = ACTIVATIONS[name]
    x = np.linspace(-6, 6, 601)
    y, slope = f(gain * x), gain * df(gain * x)
    figure, (ax_f, ax_d) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    ax_f.plot(x, y, color="C0", label=f"{name}(a x)")
    y0, s0 = float(f(gain * x0)), float(gain * df(gain * x0))
    ax_f.plot(x, y0 + s0 * (x - x0), color="C3", lw=1, label=N_("tangent at x"))
    ax_f.plot([x0], [y0], "o", color="C3")
    ax_f.set_ylim(float(np.min(y)) - 0.3, float(np.max(y)) + 0.3)
    ax_d.plot(x, slope, color="C1", label=N_("slope"))
    ax_d.plot([x0], [s0], "o", color="C3")
    flat = saturated_region(name, gain, x)
    for ax in (ax_f, ax_d):
        ax.fill_between(x, 0, 1, where=flat, transform=ax.get_xaxis_transform(), color="0.85", label=N_("saturated"))
        ax.axvline(x0, color="C3", ls=":", lw=1)
    ax_f.legend(loc="upper left")
    ax_d.legend(loc="upper left")
    ax_d.set_xlabel("x")
    figure.tight_layout()
    return figure
