"""Lesson 03: a stable sigmoid, its derivative, and activation layers (Deep Learning from Scratch's layer classes,
cs231n's cached layer functions)."""

import numpy as np

from tests.feedback.catalogue import correct, wrong
from tests.feedback.catalogue.library import nn

L = "l03_activations"


def _sigmoid_both_branches(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


class DlfsSigmoid:
    """Deep Learning from Scratch's Sigmoid layer, with the course's params and grads."""

    def __init__(self):
        self.params, self.grads, self.out = {}, {}, None

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        self.out = out
        return out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class DlfsRelu:
    """Deep Learning from Scratch's Relu layer (its mask is x <= 0: the slope at 0 is 0, as this course takes)."""

    def __init__(self):
        self.params, self.grads, self.mask = {}, {}, None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


def tanh_forward(x):
    """cs231n-style: (out, cache)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache**2)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx


def cached(forward, backward):
    """A course layer around cs231n's pair of functions."""

    class Cached:
        def __init__(self):
            self.params, self.grads = {}, {}

        def forward(self, x):
            out, self.cache = forward(x)
            return out

        def backward(self, dout):
            return backward(dout, self.cache)

    return Cached


def layer(base, **methods):
    return type(f"My{base.__name__}", (base,), methods)


class TanhFloat32(nn.Tanh):
    def forward(self, x):
        self.y = np.tanh(x.astype(np.float32))
        return self.y


class ReluInPlace(DlfsRelu):
    """Deep Learning from Scratch's Relu without its copy: the caller's x is zeroed."""

    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0
        return x


class SigmoidFloat32(nn.Sigmoid):
    def forward(self, x):
        self.y = nn.sigmoid(x).astype(np.float32)
        return self.y


def _sigmoid_into_input(x):
    e = np.exp(-np.abs(x))
    x[...] = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return x


class ReluMaskFromDout(nn.ReLU):
    def backward(self, dout):
        return np.where(dout > 0, dout, 0.0)


def sigmoid_forward(x):
    """cs231n-style: (out, cache), the cache the output."""
    out = np.exp(-np.logaddexp(0.0, -x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1.0 - cache)


class DlfsTanh:
    """A Tanh layer in Deep Learning from Scratch's manner (forward keeps out, backward uses it)."""

    def __init__(self):
        self.params, self.grads, self.out = {}, {}, None

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out**2)


WRONG = [
    wrong(L, "stable_sigmoid", "exp(-|x|) without the branch", lambda x: 1 / (1 + np.exp(-np.abs(x))),
          names=("sigmoid(|x|)",)),
    wrong(L, "stable_sigmoid", "np.where computes both branches", _sigmoid_both_branches, names=("overflow",)),
    wrong(L, "stable_sigmoid", "the plain formula", lambda x: 1.0 / (1.0 + np.exp(-x)), registered="naive"),
    wrong(L, "stable_sigmoid", "tanh instead", lambda x: np.tanh(x), names=("tanh(x)",)),
    wrong(L, "stable_sigmoid", "written into its input", _sigmoid_into_input,
          names=("changed an argument", "in place")),
    wrong(L, "sigmoid_grad", "sigmoid' of the output",
          lambda x: nn.sigmoid(nn.sigmoid(x)) * (1 - nn.sigmoid(nn.sigmoid(x))), names=("applied to the output",)),
    wrong(L, "sigmoid_grad", "the slope of the input", lambda x: x * (1.0 - x), registered="x(1-x)"),
    wrong(L, "sigmoid_grad", "negated", lambda x: nn.sigmoid(x) * (nn.sigmoid(x) - 1), names=("negated",)),
    wrong(L, "sigmoid_grad", "in float32", lambda x: (nn.sigmoid(x) * (1 - nn.sigmoid(x))).astype(np.float32),
          names=("float32",)),
    wrong(L, "Sigmoid", "backward negated", layer(nn.Sigmoid, backward=lambda self, d: -d * self.y * (1 - self.y)),
          names=("negated", "opposite sign")),
    wrong(L, "Sigmoid", "backward doubled", layer(nn.Sigmoid, backward=lambda self, d: 2 * d * self.y * (1 - self.y)),
          names=("twice",)),
    wrong(L, "Sigmoid", "dout left out", layer(nn.Sigmoid, backward=lambda self, d: self.y - self.y**2),
          registered="dout forgotten"),
    wrong(L, "ReLU", "mask taken from dout", ReluMaskFromDout, names=("built from dout",)),
    wrong(L, "ReLU", "forward zeroes the caller's x in place", ReluInPlace, names=("wrote into x", "in place")),
    wrong(L, "Sigmoid", "float32 cache", SigmoidFloat32, names=("float32",)),
    wrong(L, "ReLU", "gradient passed everywhere", layer(nn.ReLU, backward=lambda self, d: d.copy()),
          names=("holds the value of the expected dout",)),
    wrong(L, "ReLU", "mask with >=", type("Geq", (DlfsRelu,), {"forward": lambda self, x: (
        setattr(self, "mask", x < 0), np.where(x < 0, 0.0, x))[1]}), registered=">= at 0"),
    wrong(L, "Tanh", "float32 cache", TanhFloat32, names=("float32",)),
    wrong(L, "Tanh", "slope 1 - x^2 from a cs231n cache of x",
          cached(lambda x: (np.tanh(x), x), lambda d, x: d * (1 - x**2)), registered="1 - x^2"),
    wrong(L, "Tanh", "backward halved", layer(nn.Tanh, backward=lambda self, d: 0.5 * d * (1 - self.y**2)),
          names=("half",)),
]

CORRECT = [
    correct(L, "stable_sigmoid", "0.5 * (1 + tanh(x / 2))", lambda x: 0.5 * (1 + np.tanh(x / 2))),
    correct(L, "stable_sigmoid", "the exponent clipped at 700 (exact to far below the sigmoid's scale)",
            lambda x: 1 / (1 + np.exp(np.minimum(-x, 700.0)))),
    correct(L, "stable_sigmoid", "exp(-logaddexp(0, -x))", lambda x: np.exp(-np.logaddexp(0.0, -x))),
    correct(L, "sigmoid_grad", "from the tanh form", lambda x: 0.25 * (1 - np.tanh(x / 2) ** 2)),
    correct(L, "Sigmoid", "Deep Learning from Scratch's Sigmoid", DlfsSigmoid),
    correct(L, "ReLU", "Deep Learning from Scratch's Relu", DlfsRelu),
    correct(L, "ReLU", "cs231n's relu_forward/relu_backward", cached(relu_forward, relu_backward)),
    correct(L, "Tanh", "cs231n-style tanh_forward/tanh_backward", cached(tanh_forward, tanh_backward)),
    correct(L, "sigmoid_grad", "Deep Learning from Scratch: y * (1 - y) of its sigmoid",
            lambda x: (lambda y: y * (1.0 - y))(np.exp(-np.logaddexp(0.0, -x)))),
    correct(L, "sigmoid_grad", "exp(-|x|) / (1 + exp(-|x|))**2",
            lambda x: np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2),
    correct(L, "Sigmoid", "cs231n's sigmoid_forward/sigmoid_backward", cached(sigmoid_forward, sigmoid_backward)),
    correct(L, "Sigmoid", "the slope kept at forward", type("SlopeKept", (nn.Sigmoid,), {
        "forward": lambda self, x: (setattr(self, "y", nn.sigmoid(x)), setattr(self, "slope", self.y * (1 - self.y)),
                                    self.y)[2],
        "backward": lambda self, dout: dout * self.slope})),
    correct(L, "ReLU", "a mask of floats, multiplied", type("MaskTimes", (nn.ReLU,), {
        "forward": lambda self, x: (setattr(self, "m", (x > 0).astype(float)), x * self.m)[1],
        "backward": lambda self, dout: dout * self.m})),
    correct(L, "Tanh", "Deep Learning from Scratch's manner", DlfsTanh),
    correct(L, "Tanh", "the slope kept at forward", type("TanhSlope", (nn.Tanh,), {
        "forward": lambda self, x: (setattr(self, "slope", 1 - np.tanh(x) ** 2), np.tanh(x))[1],
        "backward": lambda self, dout: dout * self.slope})),
]
