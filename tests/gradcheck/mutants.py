"""A catalogue of wrong backward passes (mutants) and of right ones written differently.

Each entry builds a check report. Mutants name the words their report must contain: the
targeted diagnosis for the common mistakes, at least "FAILED" (or the problem) for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coursekit import nn
from coursekit.gradcheck import check_gradient, check_layer

N, N_IN, N_OUT = 4, 3, 5  # batch, inputs, outputs: all different, so a wrong axis changes a shape
SIGN = "opposite sign"
TRANSPOSE = "transpose"
ZERO = "missing term"
MUTATED = "changed in place"
BIAS = "only the bias gradient is wrong"
LAYERS_2_TO_4 = "layer 4 are right and those of layer 2 are wrong"


@dataclass(frozen=True)
class Entry:
    """A named check; ``expect`` lists phrases its report must contain."""

    name: str
    run: Callable[[], object]
    expect: tuple[str, ...] = ()


def _inputs(shape, seed=1) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape)
    x[np.abs(x) < 0.05] = 0.3  # keep ReLU's kink out of the way of these checks
    return x


def layer_check(make: Callable, shape=(N, N_IN)) -> Callable:
    return lambda: check_layer(make(), _inputs(shape))


def loss_check(loss: Callable, y: np.ndarray, t: np.ndarray) -> Callable:
    return lambda: check_gradient(lambda v: loss(v, t)[0], lambda v: loss(v, t)[1], y, name="y")


def variant(base: type, backward: Callable) -> Callable:
    """A layer class like ``base`` whose backward is ``backward(self, dout)``."""
    return type(f"{base.__name__}Variant", (base,), {"backward": backward})


def linear(backward: Callable, n_in=N_IN, n_out=N_OUT) -> Callable:
    cls = variant(nn.Linear, backward)
    return lambda: cls(n_in, n_out, np.random.default_rng(0))


def _linear_grads(self, dout, dW=None, db=None):
    self.grads["W"] = dout.T @ self.x if dW is None else dW
    self.grads["b"] = dout.sum(axis=0) if db is None else db


def _sigmoid_in_place(self, dout):
    dout *= self.y * (1 - self.y)
    return dout


def _relu_in_place(self, dout):
    dout[~self.positive] = 0
    return dout


def _tanh_of_input(self, dout):
    x = np.arctanh(self.y)
    return dout * (1 - x**2)


def _sigmoid_of_input(self, dout):
    x = np.log(self.y / (1 - self.y))
    return dout * x * (1 - x)


def _mlp(hidden_backward: Callable | None = None, linear_backward: Callable | None = None,
         activation=nn.ReLU) -> Callable:
    """A 3-layer MLP 3-6-5-2 whose hidden activations (or linear layers) use the given backward."""
    def make():
        model = nn.mlp([N_IN, 6, 5, 2], activation, np.random.default_rng(0))
        for layer in model.layers:
            if hidden_backward and isinstance(layer, activation):
                layer.backward = hidden_backward.__get__(layer)
            if linear_backward and isinstance(layer, nn.Linear):
                layer.backward = linear_backward.__get__(layer)
        return model
    return make


def _labels(n, classes, seed=2):
    return np.random.default_rng(seed).integers(0, classes, size=n)


Y, T = _inputs((N, N_OUT), 3), _inputs((N, N_OUT), 4)
Z_BIN, T_BIN = _inputs((6,), 5), _labels(6, 2).astype(float)
Z_CLS, LABELS = _inputs((N, N_OUT), 6), _labels(N, N_OUT)
ONEHOT = np.eye(N_OUT)[LABELS]


def _mse(grad):
    return lambda y, t: (nn.mse_loss(y, t)[0], grad(y, t))


def _bce(grad):
    return lambda z, t: (nn.bce_with_logits(z, t)[0], grad(z, t, nn.sigmoid(z)))


def _softmax_ce(grad):
    return lambda z, labels: (nn.softmax_cross_entropy(z, labels)[0], grad(z, nn.softmax(z), np.eye(N_OUT)[labels]))


MUTANTS = [
    # sigmoid
    Entry("sigmoid' as x(1-x) of the input", layer_check(lambda: variant(nn.Sigmoid, _sigmoid_of_input)())),
    Entry("sigmoid' as y, (1-y) missing", layer_check(lambda: variant(nn.Sigmoid, lambda s, d: d * s.y)())),
    Entry("sigmoid ignores dout", layer_check(lambda: variant(nn.Sigmoid, lambda s, d: s.y * (1 - s.y))())),
    Entry("sigmoid sign", layer_check(lambda: variant(nn.Sigmoid, lambda s, d: -d * s.y * (1 - s.y))()), (SIGN,)),
    Entry("sigmoid writes into dout", layer_check(lambda: variant(nn.Sigmoid, _sigmoid_in_place)()), (MUTATED,)),
    Entry("sigmoid' doubled", layer_check(lambda: variant(nn.Sigmoid, lambda s, d: 2 * d * s.y * (1 - s.y))()),
          ("extra factor of 2",)),
    # tanh
    Entry("tanh' as 1 - x^2 of the input", layer_check(lambda: variant(nn.Tanh, _tanh_of_input)())),
    Entry("tanh' as 1 - y, square missing", layer_check(lambda: variant(nn.Tanh, lambda s, d: d * (1 - s.y))())),
    Entry("tanh' as 1 + y^2", layer_check(lambda: variant(nn.Tanh, lambda s, d: d * (1 + s.y**2))())),
    Entry("tanh sign", layer_check(lambda: variant(nn.Tanh, lambda s, d: d * (s.y**2 - 1))()), (SIGN,)),
    # ReLU
    Entry("relu dout[mask] = 0 in place", layer_check(lambda: variant(nn.ReLU, _relu_in_place)()), (MUTATED,)),
    Entry("relu mask from dout", layer_check(lambda: variant(nn.ReLU, lambda s, d: d * (d > 0))())),
    Entry("relu returns the mask", layer_check(lambda: variant(nn.ReLU, lambda s, d: s.positive * 1.0)())),
    Entry("relu inverted mask", layer_check(lambda: variant(nn.ReLU, lambda s, d: d * ~s.positive)())),
    Entry("relu passes everything", layer_check(lambda: variant(nn.ReLU, lambda s, d: d.copy())())),
    # linear layer
    Entry("linear dW = X^T dZ (transposed, non-square)",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, dW=s.x.T @ d), d @ s.params["W"])[1])),
          ("transposed shape",)),
    Entry("linear dW transposed (square)",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, dW=(d.T @ s.x).T), d @ s.params["W"])[1],
                             n_in=N_OUT), shape=(N, N_OUT)), (TRANSPOSE,)),
    Entry("linear db mean over the batch",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, db=d.mean(0)), d @ s.params["W"])[1])),
          (BIAS, f"missing factor of {N}", "axis 0")),
    Entry("linear db summed over the wrong axis",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, db=d.sum(1)), d @ s.params["W"])[1])),
          (BIAS, "shape")),
    Entry("linear db summed to a scalar",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, db=d.sum()), d @ s.params["W"])[1])), (BIAS,)),
    Entry("linear db not summed",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, db=d[0]), d @ s.params["W"])[1])), (BIAS,)),
    Entry("linear dx = dZ W^T (square)",
          layer_check(linear(lambda s, d: (_linear_grads(s, d), d @ s.params["W"].T)[1], n_in=N_OUT),
                      shape=(N, N_OUT)), ("FAILED",)),
    Entry("linear dW never filled",
          layer_check(linear(lambda s, d: d @ s.params["W"])), (ZERO,)),
    Entry("linear dW divided by N",
          layer_check(linear(lambda s, d: (_linear_grads(s, d, dW=d.T @ s.x / N), d @ s.params["W"])[1])),
          (f"missing factor of {N}",)),
    Entry("linear dx sign",
          layer_check(linear(lambda s, d: (_linear_grads(s, d), -d @ s.params["W"])[1])), (SIGN,)),
    Entry("linear returns None",
          layer_check(linear(lambda s, d: _linear_grads(s, d))), ("None",)),
    # squared error
    Entry("mse without 1/N", loss_check(_mse(lambda y, t: y - t), Y, T), (f"extra factor of {N}", "axis 0")),
    Entry("mse sign", loss_check(_mse(lambda y, t: (t - y) / N), Y, T), (SIGN,)),
    Entry("mse without the 1/2", loss_check(_mse(lambda y, t: 2 * (y - t) / N), Y, T), ("extra factor of 2",)),
    Entry("mse mean over every element", loss_check(_mse(lambda y, t: (y - t) / y.size), Y, T),
          (f"missing factor of {N_OUT}", "axis 1")),
    # sigmoid + binary cross-entropy, gradient in z
    Entry("bce without 1/N", loss_check(_bce(lambda z, t, y: y - t), Z_BIN, T_BIN), ("extra factor of 6",)),
    Entry("bce sign", loss_check(_bce(lambda z, t, y: (t - y) / 6), Z_BIN, T_BIN), (SIGN,)),
    Entry("bce times sigmoid' again", loss_check(_bce(lambda z, t, y: (y - t) * y * (1 - y) / 6), Z_BIN, T_BIN)),
    Entry("bce gradient in y, not z",
          loss_check(_bce(lambda z, t, y: -(t / y - (1 - t) / (1 - y)) / 6), Z_BIN, T_BIN)),
    # softmax + cross-entropy
    Entry("softmax-ce forgets the one-hot", loss_check(_softmax_ce(lambda z, p, h: p / N), Z_CLS, LABELS)),
    Entry("softmax-ce without 1/N", loss_check(_softmax_ce(lambda z, p, h: p - h), Z_CLS, LABELS),
          (f"extra factor of {N}", "axis 0")),
    Entry("softmax-ce sign", loss_check(_softmax_ce(lambda z, p, h: (h - p) / N), Z_CLS, LABELS), (SIGN,)),
    Entry("softmax-ce one-hot only", loss_check(_softmax_ce(lambda z, p, h: -h / N), Z_CLS, LABELS)),
    # a 3-layer MLP with one mistake inside
    Entry("mlp: relu with the inverted mask", layer_check(_mlp(lambda s, d: d * ~s.positive)), (LAYERS_2_TO_4,)),
    Entry("mlp: relu mask from dout", layer_check(_mlp(lambda s, d: d * (d > 0))), (LAYERS_2_TO_4,)),
    Entry("mlp: sigmoid' of the input", layer_check(_mlp(_sigmoid_of_input, activation=nn.Sigmoid)),
          (LAYERS_2_TO_4,)),
    Entry("mlp: every db a mean",
          layer_check(_mlp(linear_backward=lambda s, d: (_linear_grads(s, d, db=d.mean(0)), d @ s.params["W"])[1])),
          (BIAS,)),
    Entry("mlp: tanh' as 1 - y", layer_check(_mlp(lambda s, d: d * (1 - s.y), activation=nn.Tanh)),
          (LAYERS_2_TO_4,)),
    Entry("mlp: a hidden layer's dx has the wrong sign",
          layer_check(_mlp(linear_backward=lambda s, d: (_linear_grads(s, d), -(d @ s.params["W"]))[1])),
          (SIGN, LAYERS_2_TO_4)),
]


def _sigmoid_naive(self, dout):
    y = 1 / (1 + np.exp(-self.x_seen))
    return dout * y * (1 - y)


class _NaiveSigmoid(nn.Sigmoid):
    def forward(self, x):
        self.x_seen = x
        return 1 / (1 + np.exp(-x))

    backward = _sigmoid_naive


def _linear_einsum(self, dout):
    self.grads["W"] = np.einsum("no,ni->oi", dout, self.x)
    self.grads["b"] = np.einsum("no->o", dout)
    return np.einsum("no,oi->ni", dout, self.params["W"])


def _softmax_unshifted(z, labels):
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    onehot = np.eye(z.shape[1])[labels]
    return float(-np.sum(onehot * np.log(p)) / z.shape[0]), (p - onehot) / z.shape[0]


CORRECT = [
    Entry("stable sigmoid", layer_check(nn.Sigmoid)),
    Entry("naive sigmoid 1/(1+e^-x)", layer_check(_NaiveSigmoid)),
    Entry("tanh", layer_check(nn.Tanh)),
    Entry("tanh' from the input", layer_check(
        lambda: variant(nn.Tanh, lambda s, d: d / np.cosh(np.arctanh(s.y)) ** 2)())),
    Entry("relu with np.where", layer_check(nn.ReLU)),
    Entry("relu out of place with a mask product", layer_check(
        lambda: variant(nn.ReLU, lambda s, d: d * s.positive)())),
    Entry("linear with matmul", layer_check(lambda: nn.Linear(N_IN, N_OUT, np.random.default_rng(0)))),
    Entry("linear with einsum", layer_check(linear(_linear_einsum))),
    Entry("mse", loss_check(nn.mse_loss, Y, T)),
    Entry("bce with logits", loss_check(nn.bce_with_logits, Z_BIN, T_BIN)),
    Entry("softmax-ce, shifted", loss_check(nn.softmax_cross_entropy, Z_CLS, LABELS)),
    Entry("softmax-ce, unshifted", loss_check(_softmax_unshifted, Z_CLS, LABELS)),
    Entry("mlp relu", layer_check(_mlp())),
    Entry("mlp tanh", layer_check(_mlp(activation=nn.Tanh))),
    Entry("mlp sigmoid", layer_check(_mlp(activation=nn.Sigmoid))),
]
