"""Figures for lesson 04: the weight gradient as an outer product, losses with their gradients, and the error
surface of a linear neuron with one training case."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from coursekit.i18n import N_


def outer_product_figure(delta: np.ndarray, x: np.ndarray) -> plt.Figure:
    """Heat map of dL/dW = delta x^T, with delta drawn as a column on the left and x as a row on top.

    Entry (i, j) is delta_i * x_j: the gradient of weight W_ij is large only where both the
    error of output i and input j are large.
    """
    delta, x = np.asarray(delta, dtype=float), np.asarray(x, dtype=float)
    grad = np.outer(delta, x)
    limit = max(float(np.max(np.abs(grad))), float(np.max(np.abs(delta))), float(np.max(np.abs(x))), 1e-12)
    figure = plt.figure(figsize=(1.4 + 0.9 * x.size, 1.4 + 0.9 * delta.size))
    grid = figure.add_gridspec(2, 2, width_ratios=[1, x.size], height_ratios=[1, delta.size], wspace=0.08,
                               hspace=0.08)
    top = figure.add_subplot(grid[0, 1])
    left = figure.add_subplot(grid[1, 0])
    main = figure.add_subplot(grid[1, 1])
    style = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
    top.imshow(x[None, :], **style)
    left.imshow(delta[:, None], **style)
    image = main.imshow(grad, **style)
    for ax, values in ((top, x[None, :]), (left, delta[:, None]), (main, grad)):
        for (i, j), value in np.ndenumerate(values):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    top.set_title(r"$x^T$", fontsize=10)
    left.set_ylabel(r"$\delta$")
    main.set_xlabel(r"$\partial L / \partial W = \delta\, x^T$")
    figure.colorbar(image, ax=[main, left, top], shrink=0.8)
    return figure


def loss_curves_figure(z: np.ndarray | None = None) -> plt.Figure:
    """Binary cross-entropy on a logit z for both labels, with its gradient sigmoid(z) - t."""
    z = np.linspace(-6, 6, 241) if z is None else np.asarray(z, dtype=float)
    y_hat = 1 / (1 + np.exp(-z))
    figure, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.4))
    for t, colour in ((1, "C0"), (0, "C1")):
        loss = np.logaddexp(0.0, z) - t * z
        ax_loss.plot(z, loss, color=colour, label=f"t = {t}")
        ax_grad.plot(z, y_hat - t, color=colour, label=f"t = {t}")
    ax_loss.set_xlabel(N_("logit z"))
    ax_loss.set_ylabel(N_("loss L"))
    ax_grad.set_xlabel(N_("logit z"))
    ax_grad.set_ylabel(r"$\partial L / \partial z = \hat y - t$")
    ax_grad.axhline(0, color="0.7", lw=0.8)
    for ax in (ax_loss, ax_grad):
        ax.legend()
    figure.tight_layout()
    return figure


def trough_descent(start, lr: float = 0.25, steps: int = 30, case=(1.0, 1.0, 0.0)) -> np.ndarray:
    """Gradient descent on E(w) = 1/2 (t - w . x)^2 for one training case (x1, x2, t): the path, shape (steps + 1, 2).

    For the case (1, 1, 0), E = 1/2 (w1 + w2)^2 and its gradient is (w1 + w2) (1, 1): every step keeps w1 - w2 and
    multiplies w1 + w2 by 1 - 2 lr, so the path runs straight across the trough to the nearest point of w1 = -w2.
    """
    x, t = np.array(case[:2], dtype=float), float(case[2])
    path = [np.asarray(start, dtype=float)]
    for _ in range(steps):
        w = path[-1]
        path.append(w - lr * (w @ x - t) * x)
    return np.array(path)


def error_surface_figure(starts, lr: float = 0.25, steps: int = 30, limit: float = 2.0) -> plt.Figure:
    """Contours of E = 1/2 (w1 + w2)^2 over the weights, the line of minima w1 = -w2 (dashed, the first line) and a
    gradient-descent path from each start (the following lines, in the order of `starts`), its end marked."""
    grid = np.linspace(-limit, limit, 161)
    w1, w2 = np.meshgrid(grid, grid)
    figure, ax = plt.subplots(figsize=(4.6, 4.2))
    filled = ax.contourf(w1, w2, 0.5 * (w1 + w2) ** 2, levels=16, cmap="Blues")
    figure.colorbar(filled, ax=ax, label="E")
    ax.plot(grid, -grid, color="k", ls="--", lw=1.2)
    for k, start in enumerate(starts):
        path = trough_descent(start, lr, steps)
        ax.plot(path[:, 0], path[:, 1], color=f"C{k + 1}", marker=".", ms=4, lw=1.2)
        ax.scatter(*path[-1], color=f"C{k + 1}", s=50, zorder=3, edgecolor="k")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    figure.tight_layout()
    return figure
