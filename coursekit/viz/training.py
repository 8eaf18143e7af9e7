"""Figures for lesson 06: datasets, decision boundaries, loss curves, and gradient and delta norms per layer."""

from __future__ import annotations

import copy
import functools

import matplotlib.pyplot as plt
import numpy as np

from coursekit import datasets, nn, training
from coursekit.i18n import N_

LAYER_CLASSES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def datasets_figure(seed: int = 0) -> plt.Figure:
    """The three toy datasets side by side, coloured by label."""
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.3))
    for ax, make in zip(axes, (datasets.xor, datasets.moons, datasets.spirals), strict=True):
        x, y = make(seed=seed)
        ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    figure.tight_layout()
    return figure


def boundary_grid(x: np.ndarray, steps: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid covering the data with a margin: (xx, yy, points of shape (steps**2, 2))."""
    low, high = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps))
    return xx, yy, np.stack([xx.ravel(), yy.ravel()], axis=1)


def boundary_and_loss_figure(model, x: np.ndarray, y: np.ndarray, history: list[float]) -> plt.Figure:
    """Left: the probability of class 1 over the plane with the data; right: the loss per epoch (log scale)."""
    xx, yy, grid = boundary_grid(x)
    probability = nn.softmax(model.forward(grid))[:, 1].reshape(xx.shape)
    figure, (ax_map, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    ax_map.contourf(xx, yy, probability, levels=np.linspace(0, 1, 11), cmap="coolwarm", alpha=0.6)
    ax_map.contour(xx, yy, probability, levels=[0.5], colors="k", linewidths=1)
    ax_map.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.2)
    ax_map.set_aspect("equal")
    ax_map.set_xlabel("$x_1$")
    ax_map.set_ylabel("$x_2$")
    ax_loss.semilogy(np.arange(1, len(history) + 1), history)
    ax_loss.set_xlabel(N_("epoch"))
    ax_loss.set_ylabel(N_("training loss"))
    figure.tight_layout()
    return figure


def train_spirals(lr: float, width: int, depth: int, activation: str, epochs: int = 150, seed: int = 0):
    """A seeded MLP trained on the spirals: (model, x, y, history), a fresh copy the caller may change."""
    return copy.deepcopy(_trained_on_spirals(lr, width, depth, activation, epochs, seed))


@functools.lru_cache(maxsize=64)
def _trained_on_spirals(lr: float, width: int, depth: int, activation: str, epochs: int, seed: int):
    # Training is seeded, so the same settings give the same network: a widget moved back to a setting it has
    # shown, or a lesson that trains what its widget shows, does not train it again.
    x, y = datasets.spirals(seed=1)
    model = nn.mlp([2] + [width] * depth + [2], LAYER_CLASSES[activation], np.random.default_rng(seed))
    history = training.fit(model, x, y, epochs, lr, seed=seed)
    return model, x, y, history


def train_and_draw(lr: float, width: int, depth: int, activation: str) -> plt.Figure:
    """The widget's draw: retrain with these settings and show the boundary and the loss."""
    return boundary_and_loss_figure(*train_spirals(lr, width, depth, activation))


def gradient_norms_figure(depth: int, x: np.ndarray, y: np.ndarray, width: int = 32, seed: int = 0) -> plt.Figure:
    """||dL/dW|| per layer of a freshly initialised network, one line per activation (log scale)."""
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, layer in LAYER_CLASSES.items():
        model = nn.mlp([x.shape[1]] + [width] * depth + [2], layer, np.random.default_rng(seed))
        norms = training.gradient_norms(model, x, y)
        ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", label=name)
    ax.set_xlabel(N_("layer (1 = next to the input)"))
    ax.set_ylabel(r"$\|\partial L / \partial W^l\|$")
    ax.legend()
    figure.tight_layout()
    return figure


def delta_and_gradient_figure(x: np.ndarray, y: np.ndarray, factors=(0.5, 1.0, 2.0), depth: int = 10,
                              width: int = 32, seed: int = 0) -> plt.Figure:
    """||delta^l|| (left) beside ||dL/dW^l|| (right) per layer, for tanh (dashed) and ReLU (solid) networks whose
    initial weights are multiplied by each of ``factors`` (one colour per factor, log scale)."""
    figure, (ax_delta, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for name, style in (("tanh", "--"), ("relu", "-")):
        for factor, colour in zip(factors, colours, strict=False):
            model = nn.mlp([x.shape[1]] + [width] * depth + [2], LAYER_CLASSES[name], np.random.default_rng(seed))
            for key, value in model.params.items():
                if key.endswith("W"):
                    value *= factor
            norms = training.layer_norms(model, x, y)
            layers = np.arange(1, len(norms["delta"]) + 1)
            label = f"{name}, W x {factor:g}"
            ax_delta.semilogy(layers, norms["delta"], style, marker="o", ms=3, color=colour, label=label)
            ax_grad.semilogy(layers, norms["grad_W"], style, marker="o", ms=3, color=colour, label=label)
    ax_delta.set_ylabel(r"$\|\delta^l\|$")
    ax_grad.set_ylabel(r"$\|\partial L / \partial W^l\|$")
    for ax in (ax_delta, ax_grad):
        ax.set_xlabel(N_("layer (1 = next to the input)"))
    ax_delta.legend(fontsize=7, ncol=2, loc="lower right", handlelength=3)
    figure.tight_layout()
    return figure


def boundaries_figure(models: list, x: np.ndarray, y: np.ndarray, labels: list[str]) -> plt.Figure:
    """The data and the decision boundary (probability 1/2) of each model, one colour per model."""
    xx, yy, grid = boundary_grid(x)
    figure, ax = plt.subplots(figsize=(5, 4.6))
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.2)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for model, label, colour in zip(models, labels, colours, strict=False):
        probability = nn.softmax(model.forward(grid))[:, 1].reshape(xx.shape)
        ax.contour(xx, yy, probability, levels=[0.5], colors=[colour], linewidths=1.2)
        ax.plot([], [], color=colour, label=label)  # a legend entry for the contour
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    return figure
