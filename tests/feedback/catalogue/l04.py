"""Lesson 04: the Linear layer (Deep Learning from Scratch's Affine, cs231n's affine_forward/affine_backward) and
three losses."""

import numpy as np

from coursekit import nn
from tests.feedback.catalogue import correct, wrong

L = "l04_linear_losses"


class Affine:
    """Deep Learning from Scratch's Affine layer, with the course's W of shape (n_out, n_in)."""

    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
        self.grads = {"W": None, "b": None}
        self.x = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.params["W"].T) + self.params["b"]

    def backward(self, dout):
        dx = np.dot(dout, self.params["W"])
        self.grads["W"] = np.dot(dout.T, self.x)
        self.grads["b"] = np.sum(dout, axis=0)
        return dx


def affine_forward(x, w, b):
    """cs231n's affine_forward, for the course's W (n_out, n_in)."""
    return x @ w.T + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, _ = cache
    return dout @ w, dout.T @ x, dout.sum(axis=0)


class CachedAffine(Affine):
    def forward(self, x):
        out, self.cache = affine_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = affine_backward(dout, self.cache)
        return dx


def affine(name, backward=None, forward=None):
    methods = {k: v for k, v in (("backward", backward), ("forward", forward)) if v is not None}
    return type(name, (Affine,), methods)


def _keepdims_db(self, dout):
    self.grads["W"], self.grads["b"] = dout.T @ self.x, dout.sum(axis=0, keepdims=True)
    return dout @ self.params["W"]


def _dw_over_n(self, dout):
    self.grads["W"], self.grads["b"] = dout.T @ self.x / len(dout), dout.sum(axis=0)
    return dout @ self.params["W"]


def _dx_negated(self, dout):
    self.grads["W"], self.grads["b"] = dout.T @ self.x, dout.sum(axis=0)
    return -dout @ self.params["W"]


def _db_mean(self, dout):
    self.grads["W"], self.grads["b"] = dout.T @ self.x, np.mean(dout, axis=0)
    return dout @ self.params["W"]


def _accumulating(self, dout):
    for key, grad in (("W", dout.T @ self.x), ("b", dout.sum(axis=0))):
        if self.grads[key] is None:
            self.grads[key] = np.zeros_like(self.params[key])
        self.grads[key] += grad
    return dout @ self.params["W"]


def _softmax_ce_global_max(z, labels):
    shifted = z - z.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    batch = len(z)
    dz = np.exp(log_p)
    dz[np.arange(batch), labels] -= 1
    return float(-log_p[np.arange(batch), labels].mean()), dz / batch


def _float32_forward(self, x):
    self.x = x.astype(np.float32)
    return (self.x @ self.params["W"].T.astype(np.float32) + self.params["b"].astype(np.float32))


def _softmax_ce(z, labels):
    """Deep Learning from Scratch's SoftmaxWithLoss, as one function."""
    z = z - np.max(z, axis=-1, keepdims=True)
    y = np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)
    batch = z.shape[0]
    loss = -np.sum(z[np.arange(batch), labels] - np.log(np.sum(np.exp(z), axis=-1))) / batch
    dx = y.copy()
    dx[np.arange(batch), labels] -= 1
    return float(loss), dx / batch


def _mse(y, t):
    n = y.shape[0]
    return float(0.5 * np.sum((y - t) ** 2) / n), (y - t) / n


class EinsumLinear(Affine):
    """Written with np.einsum, as some courses teach the index notation."""

    def forward(self, x):
        self.x = x
        return np.einsum("ni,oi->no", x, self.params["W"]) + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = np.einsum("no,ni->oi", dout, self.x)
        self.grads["b"] = np.einsum("no->o", dout)
        return np.einsum("no,oi->ni", dout, self.params["W"])


def _mse_mean_form(y, t):
    diff = y - t
    return float(np.mean(np.sum(diff**2, axis=1)) / 2), diff / len(y)


def _bce_dlfs(z, t):
    """Deep Learning from Scratch's SigmoidWithLoss, made stable: log sigmoid by logaddexp."""
    y = np.exp(-np.logaddexp(0.0, -z))
    loss = np.mean(t * np.logaddexp(0.0, -z) + (1 - t) * np.logaddexp(0.0, z))
    return float(loss), (y - t) / z.shape[0]


def _softmax_ce_cs231n(z, labels):
    """cs231n's softmax_loss: log-probabilities, then the gradient from probs."""
    shifted = z - np.max(z, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = z.shape[0]
    labels = np.asarray(labels, dtype=int)
    loss = -np.sum(log_probs[np.arange(n), labels]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), labels] -= 1
    return float(loss), dx / n


WRONG = [
    wrong(L, "Linear", "db with keepdims", affine("Keep", _keepdims_db), names=("keepdims",)),
    wrong(L, "Linear", "dW over N", affine("DwOverN", _dw_over_n), names=("1/N",)),
    wrong(L, "Linear", "dx negated", affine("DxNeg", _dx_negated), names=("negated", "opposite sign")),
    wrong(L, "Linear", "db averaged", affine("DbMean", _db_mean), registered="db mean"),
    wrong(L, "Linear", "grads accumulated with +=, never reset", affine("Accumulating", _accumulating),
          names=("kept between calls",)),
    wrong(L, "softmax_cross_entropy", "shifted by the global max", _softmax_ce_global_max,
          names=("each row of a batch",)),
    wrong(L, "Linear", "float32 forward", affine("F32", forward=_float32_forward), names=("float32",)),
    wrong(L, "mse_loss", "gradient 2(y - t)/N", lambda y, t: (_mse(y, t)[0], 2 * (y - t) / len(y)),
          names=("twice",)),
    wrong(L, "mse_loss", "loss summed, gradient averaged", lambda y, t: (_mse(y, t)[0] * len(y), _mse(y, t)[1]),
          names=("N = ",)),
    wrong(L, "mse_loss", "gradient transposed", lambda y, t: (_mse(y, t)[0], _mse(y, t)[1].T), names=("transpose",)),
    wrong(L, "mse_loss", "t - y", lambda y, t: (_mse(y, t)[0], (t - y) / y.shape[0]), registered="sign"),
    wrong(L, "bce_with_logits", "dz not averaged",
          lambda z, t: (nn.bce_with_logits(z, t)[0], nn.sigmoid(z) - t), names=("N = ",)),
    wrong(L, "bce_with_logits", "loss negated",
          lambda z, t: (-nn.bce_with_logits(z, t)[0], nn.bce_with_logits(z, t)[1]), names=("negated",)),
    wrong(L, "bce_with_logits", "ignores t", lambda z, t: nn.bce_with_logits(z, np.ones_like(z)),
          names=("ignores its argument `t`",)),
    wrong(L, "softmax_cross_entropy", "dz negated", lambda z, y: (_softmax_ce(z, y)[0], -_softmax_ce(z, y)[1]),
          names=("negated",)),
    wrong(L, "softmax_cross_entropy", "loss summed over the batch",
          lambda z, y: (_softmax_ce(z, y)[0] * len(z), _softmax_ce(z, y)[1]), names=("N = ",)),
    wrong(L, "softmax_cross_entropy", "probabilities as the gradient",
          lambda z, y: (_softmax_ce(z, y)[0], nn.softmax(z) / len(z)), registered="one-hot missing"),
    wrong(L, "softmax_cross_entropy", "one-hot added", lambda z, y: (_softmax_ce(z, y)[0],
                                                                     (nn.softmax(z) + np.eye(z.shape[1])[y]) / len(z))),
]

CORRECT = [
    correct(L, "Linear", "Deep Learning from Scratch's Affine", Affine),
    correct(L, "Linear", "cs231n's affine_forward/affine_backward", CachedAffine),
    correct(L, "mse_loss", "a list", lambda y, t: list(_mse(y, t))),
    correct(L, "bce_with_logits", "log-sigmoid form",
            lambda z, t: (float(np.mean(-t * -np.logaddexp(0, -z) - (1 - t) * -np.logaddexp(0, z))),
                          (np.exp(-np.logaddexp(0, -z)) - t) / len(z))),
    correct(L, "softmax_cross_entropy", "Deep Learning from Scratch's SoftmaxWithLoss", _softmax_ce),
    correct(L, "Linear", "np.einsum", EinsumLinear),
    correct(L, "mse_loss", "mean of the row sums", _mse_mean_form),
    correct(L, "mse_loss", "np.einsum for the squares",
            lambda y, t: (float(np.einsum("ij,ij->", y - t, y - t) / (2 * len(y))), (y - t) / len(y))),
    correct(L, "bce_with_logits", "Deep Learning from Scratch's SigmoidWithLoss, stable", _bce_dlfs),
    correct(L, "bce_with_logits", "max(z, 0) - z t + log(1 + exp(-|z|)), TensorFlow's form",
            lambda z, t: (float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))),
                          (np.exp(-np.logaddexp(0.0, -z)) - t) / len(z))),
    correct(L, "softmax_cross_entropy", "cs231n's softmax_loss", _softmax_ce_cs231n),
    correct(L, "softmax_cross_entropy", "one-hot matrix and a log-softmax", lambda z, y: (
        lambda log_p, onehot: (float(-np.sum(onehot * log_p) / len(z)), (np.exp(log_p) - onehot) / len(z)))(
            z - np.max(z, axis=1, keepdims=True) - np.log(np.sum(np.exp(z - np.max(z, axis=1, keepdims=True)),
                                                                 axis=1, keepdims=True)),
            np.eye(z.shape[1])[np.asarray(y, dtype=int)])),
]
