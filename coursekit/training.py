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
