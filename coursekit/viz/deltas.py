"""Figures for lesson 05: the deltas of a small network, layer by layer, as the backward pass reaches them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from coursekit import nn
from coursekit.i18n import N_

SIZES = (4, 6, 6, 6, 3)  # the demonstration network: 4 inputs, three hidden layers, 3 classes
BATCH = 5


def demo_network(activation: str, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The demonstration network (softmax + cross-entropy) on one seeded batch: its weights W^1 ... W^L, the
    pre-activations z^1 ... z^L and the deltas delta^1 ... delta^L (batches of rows)."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
               for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True)]
    x = rng.standard_normal((BATCH, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=BATCH)
    f, df = nn.ACTIVATIONS[activation]
    zs, a = [], x
    for index, W in enumerate(weights):                       # biases are zero
        zs.append(a @ W.T)
        a = f(zs[-1]) if index < len(weights) - 1 else zs[-1]
    _, delta = nn.softmax_cross_entropy(zs[-1], labels)
    deltas = [delta]
    for index in range(len(weights) - 1, 0, -1):
        delta = df(zs[index - 1]) * (delta @ weights[index])
        deltas.append(delta)
    return weights, zs, deltas[::-1]


def demo_deltas(activation: str, seed: int = 0) -> list[np.ndarray]:
    """delta^1 ... delta^L of the demonstration network (softmax + cross-entropy), for one seeded batch."""
    return demo_network(activation, seed)[2]


def delta_factors(activation: str, seed: int = 0) -> list[tuple[int, float, float]]:
    """For each step back from delta^l to delta^(l-1), l = L ... 2: (l, W factor, f' factor).

    W factor = |(W^l)^T delta^l| / |delta^l| and f' factor = |f'(z^(l-1)) o (W^l)^T delta^l| / |(W^l)^T delta^l|
    (Frobenius norms over the batch), so that their product is |delta^(l-1)| / |delta^l|.
    """
    weights, zs, deltas = demo_network(activation, seed)
    df = nn.ACTIVATIONS[activation][1]
    steps = []
    for layer in range(len(deltas), 1, -1):
        back = deltas[layer - 1] @ weights[layer - 1]         # (W^l)^T delta^l, one row per example
        w_factor = np.linalg.norm(back) / np.linalg.norm(deltas[layer - 1])
        f_factor = np.linalg.norm(df(zs[layer - 2]) * back) / np.linalg.norm(back)
        steps.append((layer, float(w_factor), float(f_factor)))
    return steps


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
        ax.set_xlabel(N_("unit"))
        ax.set_yticks([])
    axes[0].set_ylabel(N_("example"))
    figure.colorbar(image, ax=list(axes), shrink=0.8)
    return figure
