"""Reference layers and losses in the course's conventions (DESIGN.md section 4).

Layers have ``forward(x)``, ``backward(dout) -> dx`` (never writing into ``dout``) and the
dicts ``params`` and ``grads`` with the same keys. A batch is rows: X has shape (N, n).
Losses are functions ``loss(y, t) -> (value, dy)``, the mean over the examples of the batch.
These are what the exercises' learners rebuild; checks, benchmarks and later lessons use them.
"""

from __future__ import annotations

import numpy as np


class Linear:
    """z = W x + b for each row x of the batch: Z = X W^T + b, with W of shape (n_out, n_in)."""

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator):
        # LeCun's std 1/sqrt(n_in): the linear step keeps the mean square of the signal (lesson 06, section 6).
        self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Z = X W^T + b (caches X for backward)."""
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill grads (dW = dZ^T X, db = dZ summed over the batch) and return dX = dZ W."""
        self.grads["W"] = dout.T @ self.x
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"]


class Activation:
    """An elementwise nonlinearity: no parameters, backward multiplies by the local slope."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the function elementwise (caching what the slope needs)."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout times the local slope, elementwise."""
        raise NotImplementedError


class Sigmoid(Activation):
    """y = 1 / (1 + e^-x), computed without overflow; y' = y (1 - y)."""

    def forward(self, x):
        self.y = sigmoid(x)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1 - self.y)


class Tanh(Activation):
    """y = tanh x; y' = 1 - y^2."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2)


class ReLU(Activation):
    """y = max(0, x); y' = 1 where x > 0, else 0 (the kink at 0 takes slope 0)."""

    def forward(self, x):
        self.positive = x > 0
        return np.where(self.positive, x, 0.0)

    def backward(self, dout):
        return np.where(self.positive, dout, 0.0)


class Sequential:
    """Layers applied in order; parameters are named "<layer index>.<name>", e.g. "0.W"."""

    def __init__(self, layers: list):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each layer's forward, first to last."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Each layer's backward, last to first."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers) for key, value in layer.params.items()}

    @params.setter
    def params(self, values: dict[str, np.ndarray]) -> None:
        for name, value in values.items():
            index, key = name.split(".", 1)
            self.layers[int(index)].params[key] = value

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers) for key, value in layer.grads.items()}


def mlp(sizes: list[int], activation: type[Activation], rng: np.random.Generator) -> Sequential:
    """Linear layers of the given sizes with ``activation`` between them (none after the last)."""
    layers: list = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Linear(n_in, n_out, rng), activation()]
    return Sequential(layers[:-1])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^x / (1 + e^x) is used where x < 0."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# name -> (f, f') as functions of the pre-activation z, elementwise
# Each derivative written in terms of the activation's OUTPUT a = f(z): f'(z) = OUTPUT_SLOPES[name](f(z)).
OUTPUT_SLOPES = {
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a**2,
    "relu": lambda a: (np.asarray(a) > 0).astype(float),
    "identity": lambda a: np.ones_like(a),
}
ACTIVATIONS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (np.asarray(z) > 0).astype(float)),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def mse_loss(y: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """E = 1/2 ||y - t||^2 per example, averaged over the batch; dE/dy = (y - t) / N."""
    n = y.shape[0]
    return float(0.5 * np.sum((y - t) ** 2) / n), (y - t) / n


def bce_with_logits(z: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of y = sigmoid(z) against labels t in {0, 1}, mean over the batch.

    Written in z directly (log(1 + e^z) - t z) so that it never takes the log of 0; dL/dz = (y - t) / N.
    """
    n = z.shape[0]
    loss = np.sum(np.logaddexp(0.0, z) - t * z) / n
    return float(loss), (sigmoid(z) - t) / n


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that exp cannot overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """-log softmax(z)[label] averaged over the rows; dL/dz = (softmax(z) - onehot) / N."""
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    dz = np.exp(log_p)
    dz[rows, labels] -= 1
    return float(-log_p[rows, labels].sum() / n), dz / n
