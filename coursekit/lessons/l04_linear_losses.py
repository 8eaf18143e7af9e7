"""Lesson 04's exercise set: the Linear layer, and three losses with their gradients.

Expected results come from the reference implementations in coursekit.nn, which follow the
course conventions (DESIGN.md section 4): W of shape (n_out, n_in), a batch as rows, the loss
the mean over the batch.
"""

from __future__ import annotations

import numpy as np

from coursekit import nn
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.properties import dtype_kept, inputs_kept, layer_properties, row_wise
from coursekit.feedback.relations import Diagnosis
from coursekit.gradcheck import check_layer

exercises = ExerciseSet("04 The linear layer and losses")

# ---------------------------------------------------------------- 1. the Linear layer
N_IN, N_OUT, BATCH = 3, 4, 5  # all different, so that a wrong axis or a missing transpose changes a shape
_RNG = np.random.default_rng(40)
X = _RNG.standard_normal((BATCH, N_IN))
DOUT = _RNG.standard_normal((BATCH, N_OUT))


def _make(cls, n_in=N_IN, n_out=N_OUT, seed=0):
    return cls(n_in, n_out, np.random.default_rng(seed))


def _linear_test(cls) -> str | None:
    if not isinstance(cls, type):
        return f"pass your class itself, Linear, not {type(cls).__name__}"
    layer = _make(cls)
    for key, shape in (("W", (N_OUT, N_IN)), ("b", (N_OUT,))):
        got = np.shape(layer.params.get(key)) if key in layer.params else None
        if got != shape:
            return f"params[{key!r}] should have shape {shape}, not {got}"
    out = np.asarray(layer.forward(X.copy()))
    expected = X @ layer.params["W"].T + layer.params["b"]
    if out.shape != expected.shape:
        return f"forward returned shape {out.shape}; for a batch of shape {X.shape} it should be {expected.shape}"
    if not np.allclose(out, expected, rtol=1e-10, atol=1e-12):
        return "forward is not X @ W.T + b"
    report = check_layer(_make(cls), X)
    return None if report.passed else str(report)


def _linear_probe(cls):
    layer = _make(cls)
    out = layer.forward(X.copy())
    dx = layer.backward(DOUT.copy())
    return (out, dx, layer.grads.get("W"), layer.grads.get("b"))


def _linear_variant(name: str, backward) -> type:
    return type(name, (nn.Linear,), {"backward": backward})


def _grads(layer, dout, dW=None, db=None):
    layer.grads["W"] = dout.T @ layer.x if dW is None else dW
    layer.grads["b"] = dout.sum(axis=0) if db is None else db


def _dw_untransposed(self, dout):
    _grads(self, dout, dW=self.x.T @ dout)
    return dout @ self.params["W"]


def _db_mean(self, dout):
    _grads(self, dout, db=dout.mean(axis=0))
    return dout @ self.params["W"]


def _db_wrong_axis(self, dout):
    _grads(self, dout, db=dout.sum(axis=1))
    return dout @ self.params["W"]


def _dx_transposed(self, dout):
    _grads(self, dout)
    return self.params["W"].T @ dout.T  # the column form W^T delta, applied to a batch of rows


def _dw_per_example_only(self, dout):
    _grads(self, dout, dW=np.outer(dout[-1], self.x[-1]))
    return dout @ self.params["W"]


exercises.add(Exercise(
    "Linear",
    test=_linear_test,
    probe=_linear_probe,
    diagnosis=Diagnosis(reference=nn.Linear, batch=BATCH,
                        parts=("the output of your forward", "the dx of your backward", "your grads['W']",
                               "your grads['b']")),
    properties=layer_properties(_make, X, DOUT),
    mistakes=[
        Mistake("dW not transposed", _linear_variant("DwUntransposed", _dw_untransposed),
                "dW has the shape of W, (n_out, n_in): it is dout.T @ x (delta x^T per example), not x.T @ dout."),
        Mistake("db mean", _linear_variant("DbMean", _db_mean),
                "db is the SUM of dout over the batch (axis 0): the 1/N of the mean loss is already inside dout."),
        Mistake("db wrong axis", _linear_variant("DbWrongAxis", _db_wrong_axis),
                "db must have one entry per output: sum dout over the batch, axis 0, not over the outputs."),
        Mistake("dx transposed", _linear_variant("DxTransposed", _dx_transposed),
                "dx has the shape of x, (N, n_in): in a batch of rows, W^T delta becomes dout @ W."),
        Mistake("last example only", _linear_variant("LastExampleOnly", _dw_per_example_only),
                "dW must add the contributions delta x^T of EVERY example of the batch: dout.T @ x does that."),
    ],
    hints=[
        "Per example: dW = delta x^T, db = delta, dx = W^T delta. In a batch, each example is a row.",
        "Write the shapes: dout is (N, n_out), x is (N, n_in), W is (n_out, n_in). Which product has W's shape?",
        "self.grads['W'] = dout.T @ self.x; self.grads['b'] = dout.sum(axis=0); return dout @ self.params['W']",
    ],
))

# ---------------------------------------------------------------- the losses' properties
def _mean_of_rows(rows: list, count: int) -> tuple:
    """(loss, gradient) of a batch from those of each row alone: the mean loss, each row's gradient over N."""
    return (float(np.mean([loss for loss, _ in rows])),
            np.concatenate([np.asarray(grad) for _, grad in rows]) / count)


def _loss_properties(*cases) -> list:
    """Arguments kept, the batch as the mean of its rows (each row alone), float64 kept."""
    return [inputs_kept(*cases), row_wise(_mean_of_rows, *cases, batched=(0, 1)), dtype_kept(*cases)]


# ---------------------------------------------------------------- 2. squared error
Y = _RNG.standard_normal((BATCH, 2))
T = _RNG.standard_normal((BATCH, 2))
MSE_CASES = [(Y, T), (Y[:1], T[:1]), (np.array([[3.0]]), np.array([[1.0]]))]

exercises.add(Exercise(
    "mse_loss",
    cases=MSE_CASES,
    expected=lambda y, t: nn.mse_loss(y, t),
    rtol=1e-9, atol=1e-12,
    diagnosis=Diagnosis(arguments=("y", "t"), parts=("your loss", "your dy")),
    properties=_loss_properties((Y, T)),
    mistakes=[
        Mistake("sum over the batch", lambda y, t: (float(0.5 * np.sum((y - t) ** 2)), y - t),
                "the loss is the MEAN over the N examples of the batch, so both it and its gradient carry a 1/N."),
        Mistake("no 1/2", lambda y, t: (float(np.sum((y - t) ** 2) / len(y)), 2 * (y - t) / len(y)),
                "E = 1/2 ||y - t||^2 per example: the 1/2 is there so that the gradient is y - t without a 2."),
        Mistake("sign", lambda y, t: (nn.mse_loss(y, t)[0], (t - y) / len(y)),
                "dE/dy = y - t: the gradient points from the target toward the prediction."),
        Mistake("mean over every number", lambda y, t: (float(0.5 * np.mean((y - t) ** 2)), (y - t) / y.size),
                "divide by the number of examples N = y.shape[0], not by the number of entries y.size."),
    ],
    hints=[
        "Return a tuple (loss, dy). The loss is a float, dy has the shape of y.",
        "Per example E = 1/2 sum_k (y_k - t_k)^2 and dE/dy = y - t. The batch loss averages over N = y.shape[0].",
        "n = y.shape[0]; return 0.5 * np.sum((y - t)**2) / n, (y - t) / n",
    ],
))

# ---------------------------------------------------------------- 3. binary cross-entropy on logits
Z_BIN = np.array([-2.0, -0.3, 0.0, 0.8, 3.0])
T_BIN = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
Z_BIG = np.array([-800.0, 800.0, -40.0, 40.0])
T_BIG = np.array([1.0, 0.0, 0.0, 1.0])
BCE_CASES = [(Z_BIN, T_BIN), (Z_BIG, T_BIG)]


def _bce_naive(z, t):
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        y = 1 / (1 + np.exp(-z))
        loss = -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
    return float(loss), (y - t) / len(z)


exercises.add(Exercise(
    "bce_with_logits",
    cases=BCE_CASES,
    expected=lambda z, t: nn.bce_with_logits(z, t),
    rtol=1e-9, atol=1e-12,
    diagnosis=Diagnosis(arguments=("z", "t"), parts=("your loss", "your dz")),
    properties=_loss_properties((np.concatenate([Z_BIN, Z_BIG]), np.concatenate([T_BIN, T_BIG]))),
    mistakes=[
        Mistake("log of a sigmoid", _bce_naive,
                "for large |z| the sigmoid rounds to exactly 0 or 1 and its log is -inf. Write the loss in z: "
                "-t log y - (1-t) log(1-y) = log(1 + e^z) - t z, and compute log(1 + e^z) with np.logaddexp(0, z)."),
        Mistake("sum over the batch", lambda z, t: (nn.bce_with_logits(z, t)[0] * len(z), nn.sigmoid(z) - t),
                "the loss is the mean over the batch: both it and dz carry a 1/N."),
        Mistake("gradient in y", lambda z, t: (nn.bce_with_logits(z, t)[0],
                                               (nn.sigmoid(z) - t) * nn.sigmoid(z) * (1 - nn.sigmoid(z)) / len(z)),
                "the sigmoid's slope y(1-y) cancels against the loss's 1/(y(1-y)): dL/dz is simply (y - t)/N."),
        Mistake("sign", lambda z, t: (nn.bce_with_logits(z, t)[0], (t - nn.sigmoid(z)) / len(z)),
                "dL/dz = y_hat - t: positive when the prediction is above the target."),
    ],
    hints=[
        "Return (loss, dz). y_hat = sigmoid(z); the loss per example is -t log y_hat - (1 - t) log(1 - y_hat).",
        "Rewrite that in z: log(1 + e^z) - t z, and use np.logaddexp(0, z) for log(1 + e^z): it never overflows.",
        "dz = (sigmoid(z) - t) / N with a sigmoid that does not overflow either (exp of -|z| only).",
    ],
))

# ---------------------------------------------------------------- 4. softmax cross-entropy
Z_CLS = _RNG.standard_normal((BATCH, 3))
LABELS = np.array([0, 2, 1, 1, 0])
Z_HUGE = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 5]])
LABELS_HUGE = np.array([0, 2])
SOFTMAX_CASES = [(Z_CLS, LABELS), (Z_HUGE, LABELS_HUGE), (Z_CLS[:1], LABELS[:1])]
# a row of huge logits above ordinary rows: a shift by the batch's maximum, not each row's, loses the others
Z_MIXED = np.vstack([Z_HUGE[:1], Z_CLS[:3]])
LABELS_MIXED = np.array([0, 2, 1, 1])


def _softmax_unshifted(z, labels):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        n = z.shape[0]
        loss = -np.mean(np.log(p[np.arange(n), labels]))
        dz = p.copy()
    dz[np.arange(n), labels] -= 1
    return float(loss), dz / n


def _softmax_without_onehot(z, labels):
    return nn.softmax_cross_entropy(z, labels)[0], nn.softmax(z) / z.shape[0]


def _softmax_summed(z, labels):
    loss, dz = nn.softmax_cross_entropy(z, labels)
    return loss * z.shape[0], dz * z.shape[0]


exercises.add(Exercise(
    "softmax_cross_entropy",
    cases=SOFTMAX_CASES,
    expected=lambda z, labels: nn.softmax_cross_entropy(z, labels),
    rtol=1e-9, atol=1e-12,
    diagnosis=Diagnosis(arguments=("z", "labels"), parts=("your loss", "your dz")),
    properties=_loss_properties((Z_MIXED, LABELS_MIXED)),
    mistakes=[
        Mistake("no shift", _softmax_unshifted,
                "exp(1e4) overflows to inf. Subtract each row's maximum before exp: softmax does not change, "
                "and log-softmax becomes z - max - log(sum(exp(z - max)))."),
        Mistake("one-hot missing", _softmax_without_onehot,
                "dL/dz = softmax(z) - onehot(label): subtract 1 at each row's true class."),
        Mistake("sum over the batch", _softmax_summed,
                "the loss is the mean over the batch: both it and dz carry a 1/N."),
    ],
    hints=[
        "Return (loss, dz). p = softmax(z) row by row; the loss per row is -log p[label].",
        "Shift each row by its maximum, then log p = shifted - log(sum(exp(shifted))) (log-sum-exp): no overflow.",
        "dz = p with 1 subtracted at [row, label], all divided by N = z.shape[0].",
    ],
))
