"""Figures for lesson 05: the deltas of a small network, layer by layer, as the backward pass reaches them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from coursekit import nn

SIZES = (4, 6, 6, 6, 3)  # the demonstration network: 4 inputs, three hidden layers, 3 classes
BATCH = 5


def demo_deltas(activation: str, seed: int = 0) -> list[np.ndarray]:
    """delta^1 ... delta^L of the demonstration network (softmax + cross-entropy), for one seeded batch."""
    rng = np.random.default_rng(seed)
    weights = [(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out))
               for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True)]
    x = rng.standard_normal((BATCH, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=BATCH)
    f, df = nn.ACTIVATIONS[activation]
    zs, a = [], x
    for index, (W, b) in enumerate(weights):
        zs.append(a @ W.T + b)
        a = f(zs[-1]) if index < len(weights) - 1 else zs[-1]
    _, delta = nn.softmax_cross_entropy(zs[-1], labels)
    deltas = [delta]
    for index in range(len(weights) - 1, 0, -1):
        delta = df(zs[index - 1]) * (delta @ weights[index][0])
        deltas.append(delta)
    return deltas[::-1]


def delta_figure(deltas: list[np.ndarray], reached: int | None = None) -> plt.Figure:
    """One heat map per layer (rows: examples, columns: units); layers the pass has not reached are blank.

    ``reached`` counts layers from the output: 1 shows only delta^L, len(deltas) shows all.
    """
    layers = len(deltas)
    reached = layers if reached is None else reached
    limit = max(float(np.max(np.abs(d))) for d in deltas[layers - reached:]) or 1.0
    figure, axes = plt.subplots(1, layers, figsize=(2.3 * layers, 2.8))
    for index, (ax, delta) in enumerate(zip(axes, deltas, strict=True), start=1):
        shown = index > layers - reached
        data = delta if shown else np.full_like(delta, np.nan)
        image = ax.imshow(data, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_title(rf"$\delta^{{{index}}}$" + (rf"  $\|\cdot\| = {np.linalg.norm(delta):.3f}$" if shown else ""),
                     fontsize=9)
        ax.set_xlabel("unit")
        ax.set_yticks([])
    axes[0].set_ylabel("example")
    figure.colorbar(image, ax=list(axes), shrink=0.8)
    return figure
