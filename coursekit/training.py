"""Training a classifier with minibatch SGD, the course's reference protocol (lesson 06).

The protocol, which the lesson's exercise follows exactly: a generator seeded once, a fresh
permutation of the examples every epoch, minibatches in that order, the softmax cross-entropy
of each batch computed before its update, and the epoch's loss the mean of its batch losses.
"""

from __future__ import annotations

import numpy as np

from coursekit import nn


def sgd_step(params: dict, grads: dict, lr: float) -> None:
    """w <- w - lr * dL/dw for every parameter, in place (the model keeps its own arrays)."""
    for key, value in params.items():
        value -= lr * grads[key]


def fit(model, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, batch_size: int = 32,
        seed: int = 0) -> list[float]:
    """Train ``model`` (layer contract) on labels ``y`` with softmax cross-entropy; the loss of every epoch."""
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        losses = []
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, dz = nn.softmax_cross_entropy(model.forward(x[batch]), y[batch])
            model.backward(dz)
            sgd_step(model.params, model.grads, lr)
            losses.append(loss)
        history.append(float(np.mean(losses)))
    return history


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """The share of examples whose largest logit is the true class."""
    return float(np.mean(model.forward(x).argmax(axis=1) == y))


def gradient_norms(model, x: np.ndarray, y: np.ndarray) -> list[float]:
    """||dL/dW|| of every weight matrix, from the first layer to the last, for one batch."""
    _, dz = nn.softmax_cross_entropy(model.forward(x), y)
    model.backward(dz)
    return [float(np.linalg.norm(value)) for key, value in model.grads.items() if key.endswith("W")]


def layer_norms(model, x: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """What one forward and backward pass does layer by layer, for an MLP of alternating linear and activation layers.

    Lists over the linear layers l = 1..L, first to last:
    ``"z_rms"``, the root mean square of the pre-activations z^l over the batch and the units;
    ``"delta"``, ||delta^l|| = ||dL/dz^l||; ``"grad_W"``, ||dL/dW^l||.
    Lists over the steps of the delta recursion that land on the hidden layers 1..L-1, first to last, entry l
    describing the step from delta^(l+1) to delta^l = f'(z^l) * (W^(l+1))^T delta^(l+1), split into its factors:
    ``"W_factor"``, ||(W^(l+1))^T delta^(l+1)|| / ||delta^(l+1)||, and ``"slope_factor"``, ||delta^l|| over that norm.
    """
    norms: dict[str, list[float]] = {key: [] for key in ("z_rms", "delta", "grad_W", "W_factor", "slope_factor")}
    out = x
    for layer in model.layers:
        out = layer.forward(out)
        if isinstance(layer, nn.Linear):
            norms["z_rms"].append(float(np.sqrt(np.mean(out**2))))
    _, dout = nn.softmax_cross_entropy(out, y)
    for layer in reversed(model.layers):
        dx = layer.backward(dout)
        ratio = float(np.linalg.norm(dx) / np.linalg.norm(dout))
        if isinstance(layer, nn.Linear):
            norms["delta"].insert(0, float(np.linalg.norm(dout)))
            norms["grad_W"].insert(0, float(np.linalg.norm(layer.grads["W"])))
            norms["W_factor"].insert(0, ratio)
        else:
            norms["slope_factor"].insert(0, ratio)
        dout = dx
    del norms["W_factor"][0]  # the first layer's dL/dx: past the input, no longer part of the recursion
    return norms
