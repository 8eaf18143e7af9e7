"""Lesson 06: an SGD step, the training loop, gradient norms per layer."""

import numpy as np

from tests.feedback.catalogue import correct, wrong
from tests.feedback.catalogue.library import nn, training

L = "l06_training"


def _sgd(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]


def _sgd_step_twice(params, grads, lr):
    for key in params:
        params[key] -= 2 * lr * grads[key]


def _sgd_lr_squared(params, grads, lr):
    for key in params:
        params[key] -= lr**2 * grads[key]


def _sgd_ascent(params, grads, lr):
    for key, value in params.items():
        np.add(value, lr * grads[key], out=value)


def _fit(model, x, y, epochs, lr, batch_size=32, seed=0, summed=False, first=False):
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        losses = []
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            loss, dz = nn.softmax_cross_entropy(model.forward(x[idx]), y[idx])
            model.backward(dz)
            _sgd(model.params, model.grads, lr)
            losses.append(loss)
        history.append(float(losses[0] if first else (np.sum(losses) if summed else np.mean(losses))))
    return history


def _norms(model, x, y, power=1.0):
    _, dz = nn.softmax_cross_entropy(model.forward(x), y)
    model.backward(dz)
    return [float(np.linalg.norm(g)) ** power for k, g in model.grads.items() if k.endswith("W")]


def _sgd_items(params, grads, lr):
    """PyTorch's optimizer loop in spirit: for each parameter, p.data -= lr * p.grad."""
    for key, value in params.items():
        np.subtract(value, lr * grads[key], out=value)


def _sgd_slices(params, grads, lr):
    for key in params:
        params[key][...] = params[key] - lr * grads[key]


def _fit_batches(model, x, y, epochs, lr, batch_size=32, seed=0):
    """The loop with np.array_split-free index slices and a running total (Karpathy's style)."""
    rng = np.random.default_rng(seed)
    history = []
    for _epoch in range(epochs):
        perm = rng.permutation(len(x))
        total, count = 0.0, 0
        for i in range(0, len(perm), batch_size):
            xb, yb = x[perm[i:i + batch_size]], y[perm[i:i + batch_size]]
            loss, dz = nn.softmax_cross_entropy(model.forward(xb), yb)
            model.backward(dz)
            for key, value in model.params.items():
                value -= lr * model.grads[key]
            total, count = total + loss, count + 1
        history.append(total / count)
    return history


WRONG = [
    wrong(L, "sgd_step", "twice the learning rate", _sgd_step_twice, names=("twice",)),
    wrong(L, "sgd_step", "learning rate squared", _sgd_lr_squared, names=("learning rate applied twice",)),
    wrong(L, "sgd_step", "a step uphill", _sgd_ascent, registered="ascent"),
    wrong(L, "train", "epoch loss summed", lambda *a, **k: _fit(*a, **k, summed=True), names=("times the expected",)),
    wrong(L, "train", "first batch's loss", lambda *a, **k: _fit(*a, **k, first=True)),
    wrong(L, "train", "defaults of its own: batch_size=1, no seed",
          lambda model, x, y, epochs, lr, batch_size=1, seed=None: _fit(model, x, y, epochs, lr, batch_size, seed),
          names=("defaults",)),
    wrong(L, "layer_gradient_norms", "squared norms", lambda m, x, y: _norms(m, x, y, 2.0), names=("square",)),
    wrong(L, "layer_gradient_norms", "output layer first", lambda m, x, y: _norms(m, x, y)[::-1],
          registered="last layer first"),
]

CORRECT = [
    correct(L, "sgd_step", "an optimizer's update, in place", _sgd),
    correct(L, "train", "the reference protocol, written out", _fit),
    correct(L, "layer_gradient_norms", "sqrt of the sum of squares",
            lambda m, x, y: [float(np.sqrt((g**2).sum())) for g in
                             [m.grads[k] for k in (m.backward(nn.softmax_cross_entropy(m.forward(x), y)[1]),
                                                   m.grads)[1] if k.endswith("W")]]),
    correct(L, "sgd_step", "np.subtract with out=", _sgd_items),
    correct(L, "sgd_step", "written through [...]", _sgd_slices),
    correct(L, "train", "a running total, Karpathy's style", _fit_batches),
    correct(L, "train", "the loop of training.fit", lambda *a, **k: training.fit(*a, **k)),
    correct(L, "train", "the history as an array", lambda *a, **k: np.array(_fit(*a, **k))),
    correct(L, "layer_gradient_norms", "the course's gradient_norms", lambda m, x, y: training.gradient_norms(m, x, y)),
    correct(L, "layer_gradient_norms", "Frobenius norm by einsum", lambda m, x, y: (
        m.backward(nn.softmax_cross_entropy(m.forward(x), y)[1]),
        [float(np.sqrt(np.einsum("ij,ij->", g, g))) for k, g in m.grads.items() if k.endswith("W")])[1]),
]

