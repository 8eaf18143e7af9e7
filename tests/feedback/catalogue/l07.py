"""Lesson 07: counting passes and multiplications, and a forward-mode pass through an MLP."""

import numpy as np

from tests.feedback.catalogue import correct, wrong
from tests.feedback.catalogue.library import nn

L = "l07_efficiency"


def _chain(dims, order):
    L_ = len(dims) - 1
    if order == "forward":
        return sum(dims[0] * dims[k - 1] * dims[k] for k in range(2, L_ + 1))
    return sum(dims[-1] * dims[k - 1] * dims[k] for k in range(1, L_))


def _jvp(params, tangents, x, hidden, slope=None, tangent_sign=1.0):
    f, df = nn.ACTIVATIONS[hidden]
    df = slope or df
    a, da = x, np.zeros_like(x)
    for i, ((W, b), (dW, db)) in enumerate(zip(params, tangents, strict=False)):
        z = a @ W.T + b
        dz = da @ W.T + a @ dW.T + db
        a, da = (f(z), df(z) * dz) if i < len(params) - 1 else (z, dz)
    return a, tangent_sign * da


def _products(dims, order):
    """Multiply the Jacobians one at a time, keeping the shape of the running product (cs231n's shape bookkeeping)."""
    shapes = [(dims[k], dims[k - 1]) for k in range(1, len(dims))]  # J_k maps layer k-1 to layer k
    count = 0
    if not shapes:  # no layer: nothing to multiply
        return 0
    if order == "forward":
        rows, cols = shapes[0]
        for r, c in shapes[1:]:
            count += r * c * cols
            rows = r
    else:
        rows, cols = shapes[-1]
        for r, c in shapes[-2::-1]:
            count += rows * r * c
            cols = c
    return count


WRONG = [
    wrong(L, "numerical_passes", "n + 1 for both", lambda n, method: n + 1, names=("ignores its argument `method`",)),
    wrong(L, "numerical_passes", "n per method", lambda n, method: n, registered="one per parameter"),
    wrong(L, "numerical_passes", "central 2n + 2", lambda n, m: 2 * n + 2 if m == "central" else n + 1),
    wrong(L, "chain_multiplications", "orders exchanged",
          lambda d, o: _chain(d, "reverse" if o == "forward" else "forward"), registered="orders swapped"),
    wrong(L, "chain_multiplications", "always forward", lambda d, o: _chain(d, "forward"),
          names=("ignores its argument `order`",)),
    wrong(L, "chain_multiplications", "one multiplication per entry",
          lambda d, o: sum(d[k] * d[k - 1] for k in range(1, len(d)))),
    wrong(L, "mlp_jvp", "output form of f' at z",
          lambda p, t, x, h: _jvp(p, t, x, h, slope=nn.OUTPUT_SLOPES[h]), names=("output form",)),
    wrong(L, "mlp_jvp", "tangent negated", lambda p, t, x, h: _jvp(p, t, x, h, tangent_sign=-1.0),
          names=("negated",)),
    wrong(L, "mlp_jvp", "slope left out", lambda p, t, x, h: _jvp(p, t, x, h, slope=np.ones_like),
          registered="f' missing"),
]

CORRECT = [
    correct(L, "numerical_passes", "a table", lambda n, method: {"central": 2 * n, "forward": n + 1}[method]),
    correct(L, "chain_multiplications", "by shapes, multiplied out", _chain),
    correct(L, "mlp_jvp", "dual numbers by hand", _jvp),
    correct(L, "numerical_passes", "an if", lambda n, method: 2 * n if method == "central" else n + 1),
    correct(L, "numerical_passes", "one base pass plus one or two per parameter",
            lambda n, method: (0 if method == "central" else 1) + n * (2 if method == "central" else 1)),
    correct(L, "chain_multiplications", "a running product of shapes, left to right or right to left",
            lambda dims, order: sum((dims[0] if order == "forward" else dims[-1]) * dims[k - 1] * dims[k]
                                    for k in (range(2, len(dims)) if order == "forward" else range(1, len(dims) - 1)))),
    correct(L, "mlp_jvp", "dual numbers, slope from the activation's output",
            lambda p, t, x, h: _jvp(p, t, x, h, slope={"tanh": lambda z: 1 - np.tanh(z) ** 2,
                                                      "sigmoid": lambda z: nn.sigmoid(z) * (1 - nn.sigmoid(z)),
                                                      "relu": lambda z: (z > 0).astype(float)}[h])),
    correct(L, "mlp_jvp", "jax.jvp's shape of answer: (primal, tangent) as a list",
            lambda p, t, x, h: list(_jvp(p, t, x, h))),
    correct(L, "chain_multiplications", "one (rows x inner x cols) count per matrix product, accumulated",
            lambda dims, order: _products(dims, order)),
]
