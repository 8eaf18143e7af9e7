"""Lesson 05: forward with a cache, the output delta, one step back, the backward pass, an MLP of layers."""

import numpy as np

from tests.feedback.catalogue import correct, wrong
from tests.feedback.catalogue.library import nn

L = "l05_delta_recursion"
F = nn.ACTIVATIONS


def _forward(params, x, hidden, output, hidden_of=None):
    zs, acts = [], [x]
    for i, (W, b) in enumerate(params):
        z = acts[-1] @ W.T + b
        if i < len(params) - 1:
            a = F[hidden_of or hidden][0](z)
        else:
            a = nn.softmax(z) if output == "softmax" else F[output][0](z)
        zs.append(z)
        acts.append(a)
    return acts[-1], {"z": zs, "a": acts}


def _forward_hidden_by_width(params, x, hidden, output):
    """A mutation sweep's survivor: a layer taken as hidden when its index is below its own width minus 1."""
    zs, acts = [], [x]
    for i, (W, b) in enumerate(params):
        z = acts[-1] @ W.T + b
        a = F[hidden][0](z) if i < len(W) - 1 else nn.softmax(z) if output == "softmax" else F[output][0](z)
        zs.append(z)
        acts.append(a)
    return acts[-1], {"z": zs, "a": acts}


def _forward_z_is_a(params, x, hidden, output):
    out, cache = _forward(params, x, hidden, output)
    return out, {"z": cache["a"][1:], "a": cache["a"]}


def _delta(z_L, a_L, t, output, loss):
    n = len(z_L)
    if loss == "ce":
        t = np.eye(z_L.shape[1])[t]
    slope = F[output][1](z_L) if loss == "mse" else 1.0
    return slope * (a_L - t) / n


def _step(delta, W, z_prev, hidden):
    return (delta @ W) * F[hidden][1](z_prev)


def _backward(params, cache, delta_L, hidden, dW_of=None, db_of=None, step=_step):
    grads, delta = [], delta_L
    for i in range(len(params) - 1, -1, -1):
        a_prev = cache["a"][i]
        dW = dW_of(delta, a_prev) if dW_of else delta.T @ a_prev
        db = db_of(delta) if db_of else delta.sum(axis=0)
        grads.insert(0, (dW, db))
        if i:
            delta = step(delta, params[i][0], cache["z"][i - 1], hidden)
    return grads


class Mlp:
    """Layers in a list, Deep Learning from Scratch's MultiLayerNet in spirit (an OrderedDict there)."""

    def __init__(self, sizes, activation, rng, last=False):
        kind = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
            self.layers.append(nn.Linear(n_in, n_out, rng))
            if i < len(sizes) - 2 or last:
                self.layers.append(kind())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in self.layers[::-1]:
            dout = layer.backward(dout)
        return dout

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}


class MlpDoubledBackward(Mlp):
    def backward(self, dout):
        return super().backward(2 * dout)


class MlpParamsCopies(Mlp):
    @property
    def params(self):
        return {f"{i}.{k}": v.copy() for i, layer in enumerate(self.layers) for k, v in layer.params.items()}


class MlpNoActivations(Mlp):
    def __init__(self, sizes, activation, rng):
        super().__init__(sizes, activation, rng)
        self.layers = [layer for layer in self.layers if layer.params]


def _hand(W1, b1, W2, b2, x, t, out_slope=True, hidden_slope=True):
    a1 = 1 / (1 + np.exp(-(W1 @ x + b1)))
    a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
    delta_out = (a2 - t) * (a2 * (1 - a2) if out_slope else 1.0)
    return delta_out, (W2.T @ delta_out) * (a1 * (1 - a1) if hidden_slope else 1.0)


def _hand_by_units(W1, b1, W2, b2, x, t):
    """Unit by unit with loops, the way a hand calculation is written down."""
    a1 = [1 / (1 + np.exp(-(W1[i, 0] * x[0] + W1[i, 1] * x[1] + b1[i]))) for i in range(2)]
    a2 = 1 / (1 + np.exp(-(W2[0, 0] * a1[0] + W2[0, 1] * a1[1] + b2[0])))
    d_out = (a2 - t[0]) * a2 * (1 - a2)
    return np.array([d_out]), np.array([W2[0, i] * d_out * a1[i] * (1 - a1[i]) for i in range(2)])


def _hand_columns(W1, b1, W2, b2, x, t):
    """Column vectors throughout (the lesson's math), flattened at the end; the slope as sigmoid'(z)."""
    col = lambda v: np.reshape(v, (-1, 1))  # noqa: E731
    z1 = W1 @ col(x) + col(b1)
    z2 = W2 @ nn.sigmoid(z1) + col(b2)
    slope = nn.ACTIVATIONS["sigmoid"][1]
    delta_out = slope(z2) * (nn.sigmoid(z2) - col(t))
    return delta_out.ravel(), (slope(z1) * (W2.T @ delta_out)).ravel()


def _hand_dlfs(W1, b1, W2, b2, x, t):
    """Deep Learning from Scratch's layout: weights (in, out), a row times W, backward dout @ W.T."""
    Wa, Wb = W1.T, W2.T
    h = nn.sigmoid(x[None, :] @ Wa + b1)
    y = nn.sigmoid(h @ Wb + b2)
    dout = (y - t) * y * (1 - y)
    return dout[0], ((dout @ Wb.T) * h * (1 - h))[0]


def _forward_cs231n(params, x, hidden, output):
    """cs231n's style: a cache per layer, then the course's cache assembled from it."""
    caches, out = [], x
    for i, (W, b) in enumerate(params):
        z = out.dot(W.T) + b
        last = i == len(params) - 1
        if last:
            a = nn.softmax(z) if output == "softmax" else F[output][0](z)
        else:
            a = F[hidden][0](z)
        caches.append((out, z))
        out = a
    return out, {"z": [z for _, z in caches], "a": [a for a, _ in caches] + [out]}


def _delta_one_hot(z_L, a_L, t, output, loss):
    """Targets turned into one-hot rows first, whatever the loss (Nielsen's vectorized_result)."""
    if loss == "ce":
        targets = np.zeros_like(a_L)
        targets[np.arange(len(t)), np.asarray(t, dtype=int)] = 1.0
        return (a_L - targets) / len(z_L)
    if loss == "bce":  # sigmoid with binary cross-entropy: the slope cancels too
        return (a_L - t) / len(z_L)
    return F[output][1](z_L) * (a_L - t) / len(z_L)


def _backward_nielsen(params, cache, delta_L, hidden):
    """Nielsen's backprop: nabla lists filled from the end, with negative indices."""
    n = len(params)
    nabla = [None] * n
    delta = delta_L
    nabla[-1] = (delta.T @ cache["a"][-2], delta.sum(axis=0))
    for back in range(2, n + 1):
        delta = (delta @ params[-back + 1][0]) * F[hidden][1](cache["z"][-back])
        nabla[-back] = (delta.T @ cache["a"][-back - 1], delta.sum(axis=0))
    return nabla


class MlpOrderedDict(Mlp):
    """Deep Learning from Scratch's MultiLayerNet: layers in an OrderedDict, named Affine1, Activation1, ..."""

    def __init__(self, sizes, activation, rng):
        from collections import OrderedDict
        super().__init__(sizes, activation, rng)
        self.named = OrderedDict((f"{type(layer).__name__}{i}", layer) for i, layer in enumerate(self.layers))

    def forward(self, x):
        for layer in self.named.values():
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(list(self.named.values())):
            dout = layer.backward(dout)
        return dout


WRONG = [
    wrong(L, "hand_deltas", "a^2 - t as delta_out", lambda *a: _hand(*a, out_slope=False),
          registered="f' missing at the output"),
    wrong(L, "hand_deltas", "no slope in the hidden layer", lambda *a: _hand(*a, hidden_slope=False),
          registered="f' missing in the hidden layer"),
    wrong(L, "hand_deltas", "t - a", lambda *a: tuple(-d for d in _hand(*a)), registered="sign"),
    wrong(L, "hand_deltas", "the hidden slope as z(1 - z)", lambda W1, b1, W2, b2, x, t: (
        _hand(W1, b1, W2, b2, x, t)[0],
        (W2.T @ _hand(W1, b1, W2, b2, x, t)[0]) * (W1 @ x + b1) * (1 - (W1 @ x + b1))),
          names=("evaluated at the sum z",)),
    wrong(L, "forward", "relu hidden whatever `hidden` says",
          lambda p, x, hidden, output: _forward(p, x, hidden, output, hidden_of="relu"),
          names=("ignores its argument `hidden`",)),
    wrong(L, "forward", "cache['z'] holds the activations", _forward_z_is_a,
          names=("holds the value of the expected cache['a']",)),
    wrong(L, "forward", "no output activation", lambda p, x, hidden, output: _forward(p, x, hidden, "identity"),
          registered="output activation missing"),
    wrong(L, "forward", "a layer hidden by its width, not its place", _forward_hidden_by_width),
    wrong(L, "output_delta", "f' at a^L", lambda z, a, t, out, loss: _delta(a, a, t, out, loss),
          names=("evaluated at the output",)),
    wrong(L, "output_delta", "t - a", lambda z, a, t, out, loss: -_delta(z, a, t, out, loss), registered="sign"),
    wrong(L, "output_delta", "summed over the batch", lambda z, a, t, out, loss: _delta(z, a, t, out, loss) * len(z),
          registered="sum instead of mean"),
    wrong(L, "output_delta", "one-hot shifted by one class", lambda z, a, t, out, loss: _delta(z, a, t, out, loss)
          if loss != "ce" else (a - np.eye(z.shape[1])[(t + 1) % z.shape[1]]) / len(z)),
    wrong(L, "backward_step", "output form of f' at z",
          lambda d, W, z, h: (d @ W) * nn.OUTPUT_SLOPES[h](z), names=("output form",)),
    wrong(L, "backward_step", "tanh' whatever `hidden` says", lambda d, W, z, h: (d @ W) * (1 - np.tanh(z) ** 2),
          names=("ignores its argument `hidden`",)),
    wrong(L, "backward_step", "slope forgotten", lambda d, W, z, h: np.dot(d, W), registered="f' missing"),
    wrong(L, "backward_step", "negated", lambda d, W, z, h: -_step(d, W, z, h), names=("negated",)),
    wrong(L, "backward", "dW transposed", lambda p, c, d, h: _backward(p, c, d, h, dW_of=lambda dl, a: a.T @ dl),
          names=("transpose",)),
    wrong(L, "backward", "dW doubled", lambda p, c, d, h: _backward(p, c, d, h, dW_of=lambda dl, a: 2 * dl.T @ a),
          names=("twice",)),
    wrong(L, "backward", "db averaged", lambda p, c, d, h: _backward(p, c, d, h, db_of=lambda dl: dl.mean(axis=0)),
          registered="bias gradient a mean"),
    wrong(L, "backward", "db over the wrong axis",
          lambda p, c, d, h: _backward(p, c, d, h, db_of=lambda dl: dl.sum(axis=1)), names=("wrong axis",)),
    wrong(L, "MLP", "activation after the output layer", lambda sizes, act, rng: Mlp(sizes, act, rng, last=True),
          registered="activation after the last layer"),
    wrong(L, "MLP", "backward doubles dout", MlpDoubledBackward, names=("twice",)),
    wrong(L, "MLP", "no activations at all", MlpNoActivations),
    wrong(L, "MLP", "params returns copies", MlpParamsCopies, names=("copies",)),
]
# check() wants the class itself: the MLP entry above with last=True is a function, so give it a class.
WRONG[-4] = wrong(L, "MLP", "activation after the output layer",
                  type("MlpLast", (Mlp,), {"__init__": lambda self, s, a, r: Mlp.__init__(self, s, a, r, last=True)}),
                  registered="activation after the last layer")

CORRECT = [
    correct(L, "hand_deltas", "unit by unit, with loops", _hand_by_units),
    correct(L, "hand_deltas", "column vectors, sigmoid'(z)", _hand_columns),
    correct(L, "hand_deltas", "Deep Learning from Scratch's (in, out) weights", _hand_dlfs),
    correct(L, "forward", "a loop with an if for the last layer", _forward),
    correct(L, "output_delta", "slope 1 for the matched pairs", _delta),
    correct(L, "backward_step", "slope after the product", _step),
    correct(L, "backward", "grads built from the first layer", _backward),
    correct(L, "MLP", "a list of layers", Mlp),
    correct(L, "forward", "cs231n's caches per layer", _forward_cs231n),
    correct(L, "forward", "a list comprehension of layers is not needed: a while loop",
            lambda p, x, hidden, output: _forward(p, x, hidden, output)),
    correct(L, "output_delta", "Nielsen's one-hot targets", _delta_one_hot),
    correct(L, "output_delta", "matched pairs by name", lambda z, a, t, out, loss: (
        (a - np.eye(z.shape[1])[np.asarray(t, dtype=int)]) / len(z) if loss == "ce" else
        (a - t) / len(z) if loss == "bce" else nn.ACTIVATIONS[out][1](z) * (a - t) / len(z))),
    correct(L, "backward_step", "np.dot and np.multiply", lambda d, W, z, h: np.multiply(np.dot(d, W), F[h][1](z))),
    correct(L, "backward_step", "Nielsen's form, transposed twice", lambda d, W, z, h: ((W.T @ d.T) * F[h][1](z).T).T),
    correct(L, "backward", "Nielsen's nabla lists", _backward_nielsen),
    correct(L, "backward", "db as ones @ delta", lambda p, c, d, h: _backward(
        p, c, d, h, db_of=lambda dl: np.ones(len(dl)) @ dl)),
    correct(L, "MLP", "Deep Learning from Scratch's OrderedDict of layers", MlpOrderedDict),
    correct(L, "MLP", "nn.Sequential underneath", type("SeqMlp", (nn.Sequential,), {
        "__init__": lambda self, sizes, act, rng: nn.Sequential.__init__(
            self, nn.mlp(sizes, {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[act], rng).layers)})),
]
