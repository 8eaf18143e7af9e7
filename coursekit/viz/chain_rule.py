"""Lesson 01's figure: f, g and f∘g with their tangent lines at a point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

Fn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Tangents:
    """The slopes at x of g, of f (at u = g(x)), and of f∘g, and the points they touch."""

    x: float
    u: float
    slope_g: float
    slope_f: float
    slope_fg: float


def tangents(f: Fn, df: Fn, g: Fn, dg: Fn, x: float) -> Tangents:
    """Slopes of the three curves; by the chain rule slope_fg = slope_f * slope_g."""
    u = float(g(x))
    slope_g, slope_f = float(dg(x)), float(df(u))
    return Tangents(x=x, u=u, slope_g=slope_g, slope_f=slope_f, slope_fg=slope_f * slope_g)


def tangent_panels(f: Fn, df: Fn, g: Fn, dg: Fn, x: float, span: float = 1.5) -> plt.Figure:
    """Three panels: g near x, f near g(x), f∘g near x, each with its tangent line."""
    t = tangents(f, df, g, dg, x)
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    panels = [
        (axes[0], g, t.x, t.slope_g, "x", "u = g(x)", f"g'(x) = {t.slope_g:.3f}"),
        (axes[1], f, t.u, t.slope_f, "u", "f(u)", f"f'(u) = {t.slope_f:.3f}"),
        (axes[2], lambda s: f(g(s)), t.x, t.slope_fg, "x", "f(g(x))", f"f'(u)·g'(x) = {t.slope_fg:.3f}"),
    ]
    for ax, fn, at, slope, xlabel, ylabel, title in panels:
        grid = np.linspace(at - span, at + span, 200)
        ax.plot(grid, fn(grid), color="C0")
        ax.plot(grid, fn(at) + slope * (grid - at), color="C3", ls="--")
        ax.plot([at], [fn(at)], "ko")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    figure.tight_layout()
    return figure
