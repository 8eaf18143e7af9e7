"""Lesson 04's exercise set: the Linear layer, and three losses with their gradients.

Expected results come from the reference implementations in coursekit.nn, which follow the
course conventions (DESIGN.md section 4): W of shape (n_out, n_in), a batch as rows, the loss
the mean over the batch.
"""

from __future__ import annotations

import numpy as np

from coursekit import nn
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.batched import in_one_trip
from coursekit.feedback.compare import type_name
from coursekit.feedback.properties import dtype_kept, honours, inputs_kept, layer_properties, row_wise
from coursekit.feedback.relations import Diagnosis
from coursekit.feedback.sample_functions import (
    batch_outputs_squared,
    batch_outputs_squared_gradient,
    cubed_sum,
    cubed_sum_gradient,
    leading_squares,
    leading_squares_gradient,
    log_sum_exp,
    log_sum_exp_gradient,
    sines_times_sum,
    sines_times_sum_gradient,
    squares_times_sum,
    squares_times_sum_gradient,
)
from coursekit.gradcheck import check_layer
from coursekit.i18n import N_

exercises = ExerciseSet(N_("04 The linear layer and losses"))
exercises.withhold("coursekit.nn:Linear", "coursekit.nn:mse_loss", "coursekit.nn:bce_with_logits",
                   "coursekit.nn:softmax_cross_entropy",  # the library's layer and losses,
                   "coursekit.gradcheck:numerical_gradient")  # and its central differences over an array

# ---------------------------------------------------------------- 1. the Linear layer
N_IN, N_OUT, BATCH = 3, 4, 5  # all different, so that a wrong axis or a missing transpose changes a shape
_RNG = np.random.default_rng(40)
X = _RNG.standard_normal((BATCH, N_IN))
DOUT = _RNG.standard_normal((BATCH, N_OUT))


def _make(cls, n_in=N_IN, n_out=N_OUT, seed=0):
    return cls(n_in, n_out, np.random.default_rng(seed))


def _linear_test(cls) -> str | None:
    if not isinstance(cls, type):
        return N_("pass your class itself, Linear, not {kind}").format(kind=type_name(cls))
    layer = _make(cls)
    params = dict(layer.params)  # read once (in the grader, each read is a round trip to the learner's code)
    for key, shape in (("W", (N_OUT, N_IN)), ("b", (N_OUT,))):
        got = np.shape(params.get(key)) if key in params else None
        if got != shape:
            return N_("params[{key!r}] should have shape {shape}, not {got}").format(key=key, shape=shape, got=got)
    out = np.asarray(layer.forward(X.copy()))
    params = dict(layer.params)  # as forward left them
    expected = X @ params["W"].T + params["b"]
    if out.shape != expected.shape:
        return N_("forward returned shape {out_shape}; for a batch of shape {x_shape} it should be "
                  "{expected_shape}").format(
            out_shape=out.shape, x_shape=X.shape, expected_shape=expected.shape)
    if not np.allclose(out, expected, rtol=1e-10, atol=1e-12):
        return N_("forward is not X @ W.T + b")
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
                        parts=(N_("the output of your forward"), N_("the dx of your backward"), N_("your grads['W']"),
                               N_("your grads['b']"))),
    properties=layer_properties(_make, X, DOUT),
    mistakes=[
        Mistake(N_("dW not transposed"), _linear_variant("DwUntransposed", _dw_untransposed),
                N_("dW has the shape of W, (n_out, n_in): it is dout.T @ x (delta x^T per example), not x.T @ dout.")),
        Mistake(N_("db mean"), _linear_variant("DbMean", _db_mean),
                N_("db is the SUM of dout over the batch (axis 0): the 1/N of the mean loss is already inside dout.")),
        Mistake(N_("db wrong axis"), _linear_variant("DbWrongAxis", _db_wrong_axis),
                N_("db must have one entry per output: sum dout over the batch, axis 0, not over the outputs.")),
        Mistake(N_("dx transposed"), _linear_variant("DxTransposed", _dx_transposed),
                N_("dx has the shape of x, (N, n_in): in a batch of rows, W^T delta becomes dout @ W.")),
        Mistake(N_("last example only"), _linear_variant("LastExampleOnly", _dw_per_example_only),
                N_("dW must add the contributions delta x^T of EVERY example of the batch: dout.T @ x does that.")),
    ],
    hints=[
        N_("forward is the batched form of lesson 04, section 3: Z = X W^T + b. Per example, backward gives "
           "dW = delta x^T, db = delta, dx = W^T delta; in a batch, each example is a row."),
        N_("Write the shapes: dout is (N, n_out), x is (N, n_in), W is (n_out, n_in). Which product has W's shape?"),
        N_("forward: one product with W.T plus b, and keep x. backward: three lines, each one product or sum of dout "
           "with the kept x or with W; check each result's shape against W, b and x."),
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
    diagnosis=Diagnosis(arguments=("y", "t"), parts=(N_("your loss"), N_("your dy"))),
    properties=_loss_properties((Y, T)),
    mistakes=[
        Mistake(N_("sum over the batch"), lambda y, t: (float(0.5 * np.sum((y - t) ** 2)), y - t),
                N_("the loss is the MEAN over the N examples of the batch, so both it and its gradient carry a 1/N.")),
        Mistake(N_("no 1/2"), lambda y, t: (float(np.sum((y - t) ** 2) / len(y)), 2 * (y - t) / len(y)),
                N_("E = 1/2 ||y - t||^2 per example: the 1/2 is there so that the gradient is y - t without a 2.")),
        Mistake(N_("sign"), lambda y, t: (nn.mse_loss(y, t)[0], (t - y) / len(y)),
                N_("dE/dy = y - t: the gradient points from the target toward the prediction.")),
        Mistake(N_("mean over every number"), lambda y, t: (float(0.5 * np.mean((y - t) ** 2)), (y - t) / y.size),
                N_("divide by the number of examples N = y.shape[0], not by the number of entries y.size.")),
    ],
    hints=[
        N_("Return a tuple (loss, dy). The loss is the mean over the N rows of E = 1/2 ||y - t||^2, a float; dy has "
           "the shape of y."),
        N_("Per example, differentiate E = 1/2 sum_k (y_k - t_k)^2 with respect to y_k. The batch loss averages over "
           "N = y.shape[0]: what does that do to each row's gradient?"),
        N_("Two expressions, both divided by N: the half sum of squares, and the per-example gradient of hint 2."),
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
    diagnosis=Diagnosis(arguments=("z", "t"), parts=(N_("your loss"), N_("your dz"))),
    properties=_loss_properties((np.concatenate([Z_BIN, Z_BIG]), np.concatenate([T_BIN, T_BIG]))),
    mistakes=[
        Mistake(N_("log of a sigmoid"), _bce_naive,
                N_("for large |z| the sigmoid rounds to exactly 0 or 1 and its log is -inf. Write the loss in z: "
                   "-t log y - (1-t) log(1-y) = log(1 + e^z) - t z, and compute log(1 + e^z) with np.logaddexp(0, "
                   "z).")),
        Mistake(N_("sum over the batch"), lambda z, t: (nn.bce_with_logits(z, t)[0] * len(z), nn.sigmoid(z) - t),
                N_("the loss is the mean over the batch: both it and dz carry a 1/N.")),
        Mistake(N_("gradient in y"), lambda z, t: (nn.bce_with_logits(z, t)[0],
                                               (nn.sigmoid(z) - t) * nn.sigmoid(z) * (1 - nn.sigmoid(z)) / len(z)),
                N_("the sigmoid's slope y(1-y) cancels against the loss's 1/(y(1-y)): dL/dz is simply (y - t)/N.")),
        Mistake(N_("sign"), lambda z, t: (nn.bce_with_logits(z, t)[0], (t - nn.sigmoid(z)) / len(z)),
                N_("dL/dz = y_hat - t: positive when the prediction is above the target.")),
    ],
    hints=[
        N_("Return (loss, dz). y_hat = sigmoid(z); the loss per example is -t log y_hat - (1 - t) log(1 - y_hat)."),
        N_("Rewrite that in z: log(1 + e^z) - t z, and use np.logaddexp(0, z) for log(1 + e^z): it never overflows."),
        N_("dz is the per-example gradient of lesson 04, section 5 (the factor y_hat (1 - y_hat) cancels), over N, "
           "with a sigmoid that does not overflow either (exp of -|z| only)."),
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
    diagnosis=Diagnosis(arguments=("z", "labels"), parts=(N_("your loss"), N_("your dz"))),
    properties=_loss_properties((Z_MIXED, LABELS_MIXED)),
    mistakes=[
        Mistake(N_("no shift"), _softmax_unshifted,
                N_("exp(1e4) overflows to inf. Subtract each row's maximum before exp: softmax does not change, "
                   "and log-softmax becomes z - max - log(sum(exp(z - max))).")),
        Mistake(N_("one-hot missing"), _softmax_without_onehot,
                N_("dL/dz = softmax(z) - onehot(label): subtract 1 at each row's true class.")),
        Mistake(N_("sum over the batch"), _softmax_summed,
                N_("the loss is the mean over the batch: both it and dz carry a 1/N.")),
    ],
    hints=[
        N_("Return (loss, dz). p = softmax(z) row by row; the loss per row is -log p[label]."),
        N_("Shift each row by its maximum, then log p = shifted - log(sum(exp(shifted))) (log-sum-exp): no overflow."),
        N_("dz starts from p: what changes at each row's true class (lesson 04, section 6)? Then divide by N."),
    ],
))

# ---------------------------------------------------------------- 5. an array gradient checker
# The checker perturbs x, so the grader lets changes to x come back to the test (which then sees whether x was put
# back exactly: the inputs_kept property below); a change to grad still fails at once.
exercises.declare("gradient_check", mutates=(1,))
TINY = np.finfo(np.float64).tiny
CHECK_STEP = 1e-5  # the exercise's default h


def relative_errors(a, b):
    """|a - b| / max(|a|, |b|, tiny), element by element."""
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), TINY)


def _reference_check(f, x, grad, h=CHECK_STEP):
    numerical = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        numerical[index] = (f(up) - f(down)) / (2 * h)
    return numerical, float(np.max(relative_errors(grad, numerical)))


_V = np.array([0.4, -0.3, 0.9, 0.5])
_M = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.6]])
# (f, its exact gradient, x, the gradient handed to the checker): right ones and wrong ones (a factor, a sign,
# one element)
CHECK_CASES = [
    (cubed_sum, cubed_sum_gradient, _V, cubed_sum_gradient(_V)),
    (log_sum_exp, log_sum_exp_gradient, _M, log_sum_exp_gradient(_M)),
    (squares_times_sum, squares_times_sum_gradient, _M, 0.5 * squares_times_sum_gradient(_M)),
    (log_sum_exp, log_sum_exp_gradient, _V, -log_sum_exp_gradient(_V)),
    # one element wrong among right ones: the largest error is that element's, not an average
    (squares_times_sum, squares_times_sum_gradient, _M, squares_times_sum_gradient(_M) + 0.1 * (_M == _M[0, 1])),
    # slopes that are exactly 0 in both gradients: 0 / 0 unless tiny keeps the denominator positive
    (leading_squares, leading_squares_gradient, _V, leading_squares_gradient(_V)),
    # negative slopes, the larger of each pair in size now grad's, now the numerical one's: the denominator takes
    # sizes (|a|, |b|), not signed values
    (sines_times_sum, sines_times_sum_gradient, -_V, sines_times_sum_gradient(-_V) * np.array([2.0, 0.5, 2.0, 0.5])),
    # the checker's use in this lesson: f of a Linear weight W of shape (n_out, n_in), which f needs in that shape
    (batch_outputs_squared, batch_outputs_squared_gradient, _M, batch_outputs_squared_gradient(_M)),
    # a weight of zeros (as a bias starts): a step of h, not one relative to the element (0 there), and at this
    # minimum every slope is exactly 0 in both gradients, so every element is 0 / 0 without tiny
    (batch_outputs_squared, batch_outputs_squared_gradient, np.zeros((2, 3)), np.zeros((2, 3))),
    # a transposed x (a view, not C-contiguous, kept so by the copy below and by the grader's wire): x.reshape(-1) is
    # then a copy, and moving it does not move x
    (sines_times_sum, sines_times_sum_gradient, _M.T, sines_times_sum_gradient(_M.T)),
]
CHECK_RTOL, CHECK_ATOL = 1e-7, 1e-8  # central differences with h = 1e-5 land within about 1e-10 of these


def _checker_outputs(func) -> list:
    def calls() -> list[tuple]:
        return [(f, x.copy(order="K"), grad.copy()) for f, _, x, grad in CHECK_CASES]  # x's layout kept

    # in one round trip in the grader; one call at a time elsewhere, or when one raised (each call on fresh copies)
    outputs = in_one_trip(func, calls())
    return outputs if outputs is not None else [func(*args) for args in calls()]


def _checker_test(func) -> str | None:
    for (f, exact, x, grad), out in zip(CHECK_CASES, _checker_outputs(func), strict=True):
        case = N_("f = {name}, x of shape {shape}").format(name=f.__name__, shape=x.shape)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return N_("for {case}: return a pair (numerical gradient, largest relative error), not {kind}").format(
                case=case, kind=type_name(out))
        numerical, error = np.asarray(out[0], dtype=float), out[1]
        if numerical.shape != x.shape:
            return N_("for {case}: the numerical gradient has shape {got}, not x's shape {shape}").format(
                case=case, got=numerical.shape, shape=x.shape)
        if not np.allclose(numerical, exact(x), rtol=CHECK_RTOL, atol=CHECK_ATOL):
            worst = np.unravel_index(np.argmax(np.abs(numerical - exact(x))), x.shape)
            return N_("for {case}: your numerical gradient at {where} is {got:.10g}, the true slope is "
                      "{truth:.10g}").format(case=case, where=tuple(int(i) for i in worst), got=numerical[worst],
                                             truth=exact(x)[worst])
        if np.ndim(error) != 0:
            return N_("for {case}: the relative error should be one number (the largest), not an array").format(
                case=case)
        right = float(np.max(relative_errors(grad, exact(x))))
        if not np.isclose(float(error), right, rtol=1e-6, atol=CHECK_ATOL):
            return N_("for {case}: your largest relative error is {error:.6g}, expected {right:.6g}").format(
                case=case, error=float(error), right=right)
    return None


def _checker_probe(func) -> list:
    return [tuple(np.asarray(part, dtype=float) for part in out) for out in _checker_outputs(func)]


def _one_sided(f, x, grad, h=CHECK_STEP):
    numerical = np.zeros_like(x, dtype=np.float64)
    base = f(x)
    for index in np.ndindex(x.shape):
        up = x.copy()
        up[index] += h
        numerical[index] = (f(up) - base) / h
    return numerical, float(np.max(relative_errors(grad, numerical)))


def _not_restored(f, x, grad, h=CHECK_STEP):
    x = x.copy()  # the caller's x kept, so that only the values show the slip
    numerical = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        x[index] += h
        up = f(x)
        x[index] -= 2 * h
        numerical[index] = (up - f(x)) / (2 * h)  # x[index] is left at x - h for the elements after it
    return numerical, float(np.max(relative_errors(grad, numerical)))


def _absolute_error(f, x, grad, h=CHECK_STEP):
    numerical, _ = _reference_check(f, x, grad, h)
    return numerical, float(np.max(np.abs(grad - numerical)))


def _without_floor(f, x, grad, h=CHECK_STEP):
    numerical, _ = _reference_check(f, x, grad, h)
    with np.errstate(invalid="ignore"):
        return numerical, float(np.max(np.abs(grad - numerical) / np.maximum(np.abs(grad), np.abs(numerical))))


def _divided_by_grad(f, x, grad, h=CHECK_STEP):
    numerical, _ = _reference_check(f, x, grad, h)
    return numerical, float(np.max(np.abs(grad - numerical) / np.maximum(np.abs(grad), TINY)))


_CHECK_PROPERTY_CASE = (squares_times_sum, _M, squares_times_sum_gradient(_M))
exercises.add(Exercise(
    "gradient_check",
    test=_checker_test,
    probe=_checker_probe,
    # no generic diagnosis: the test's message names the case, the element and both values, and a relation between
    # a near-zero error and its expected 0 would only mislead
    # x put back exactly, grad untouched; an h that is used changes the estimate of a curved function; float64 kept
    properties=[inputs_kept(_CHECK_PROPERTY_CASE, positions=(1, 2)),
                honours("h", 3, 0.3, (*_CHECK_PROPERTY_CASE, 1e-5)),
                dtype_kept(_CHECK_PROPERTY_CASE)],
    mistakes=[
        Mistake(N_("one-sided difference"), _one_sided,
                N_("your slopes are one-sided, (f(x + h) - f(x)) / h: their error shrinks only like h (about 1e-5 "
                   "here). Step to both sides of each element, x[i] + h and x[i] - h, and divide by 2h.")),
        Mistake(N_("not restored"), _not_restored,
                N_("after perturbing x[i] you did not put it back: every later element is then measured at a point "
                   "that is off by h in the earlier ones. Save the old value and restore it before moving on.")),
        Mistake(N_("absolute error"), _absolute_error,
                N_("that is the absolute error |a - b|; the relative error divides it by max(|a|, |b|, tiny), so that "
                   "large and small gradients are judged alike.")),
        Mistake(N_("no floor"), _without_floor,
                N_("where both slopes are exactly 0, |a - b| / max(|a|, |b|) is 0 / 0, which is nan, and the largest "
                   "error becomes nan with it. Keep tiny in the maximum: such an element then counts as agreeing "
                   "(error 0).")),
        Mistake(N_("divided by grad only"), _divided_by_grad,
                N_("divide |a - b| by the larger of |a| and |b| (and tiny), not by |grad| alone: the error must not "
                   "depend on which of the two you call right.")),
    ],
    hints=[
        N_("Loop over every index of x (np.ndindex(x.shape) gives them all, for any shape). For each, the slope is "
           "estimated from two values of f: one with that element moved up by h, one with it moved down."),
        N_("The central difference for element i is (f(x with x[i] + h) - f(x with x[i] - h)) / (2h). Work on copies, "
           "or save x[i] and put it back before the next element. Then compare element by element: "
           "|a - b| / max(|a|, |b|, tiny), and return the largest."),
        N_("Two lines carry the checker: the slope of element i (the central difference above) and the error "
           "(np.maximum twice, then .max()). Return them as a pair, the slope array first."),
    ],
))


# ---------------------------------------------------------------- 6. layer normalisation, a backward that mixes a row
LN_EPS = 1e-5
_LN_RNG = np.random.default_rng(41)
# rows of different scales and offsets: the normalisation must take each on its own
X_LN = _LN_RNG.standard_normal((4, 5)) * np.array([[1.0], [3.0], [0.5], [2.0]]) \
    + np.array([[0.0], [2.0], [-1.0], [5.0]])
DOUT_LN = _LN_RNG.standard_normal((4, 5))


def _ln_forward(x, eps=LN_EPS, axis=1):
    mean = x.mean(axis=axis, keepdims=True)
    std = np.sqrt(x.var(axis=axis, keepdims=True) + eps)
    return (x - mean) / std, std


class _LayerNorm:
    """The reference: y = (x - mean) / sqrt(var + eps) per row; dx = (dy - mean(dy) - y mean(dy y)) / std."""

    eps = LN_EPS

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.y, self.std = _ln_forward(x, self.eps)
        return self.y

    def backward(self, dout):
        y = self.y
        return (dout - dout.mean(axis=1, keepdims=True) - y * (dout * y).mean(axis=1, keepdims=True)) / self.std


def _ln_variant(name: str, backward=None, forward=None) -> type:
    methods = {key: value for key, value in (("backward", backward), ("forward", forward)) if value is not None}
    return type(name, (_LayerNorm,), methods)


def _ln_elementwise(self, dout):
    return dout / self.std


def _ln_mean_held(self, dout):
    return (dout - self.y * (dout * self.y).mean(axis=1, keepdims=True)) / self.std


def _ln_variance_held(self, dout):
    return (dout - dout.mean(axis=1, keepdims=True)) / self.std


def _ln_over_batch_forward(self, x):
    self.y, self.std = _ln_forward(x, self.eps, axis=0)
    return self.y


def _ln_over_batch_backward(self, dout):
    y = self.y
    return (dout - dout.mean(axis=0, keepdims=True) - y * (dout * y).mean(axis=0, keepdims=True)) / self.std


def _ln_probe(cls):
    layer = cls()
    out = layer.forward(X_LN.copy())
    dout = DOUT_LN.copy()
    dx = layer.backward(dout)
    return (out, dx, dout)


def _ln_test(cls) -> str | None:
    if not isinstance(cls, type):
        return N_("pass your class itself, LayerNorm, not {kind}").format(kind=type_name(cls))
    layer = cls()
    if dict(layer.params) or dict(layer.grads):
        return N_("this layer norm has no learned scale or shift: params and grads must be empty dicts")
    out = np.asarray(layer.forward(X_LN.copy()))
    expected, _ = _ln_forward(X_LN)
    if out.shape != X_LN.shape:
        return N_("forward returned shape {out_shape}; for x of shape {shape} it should be the same shape").format(
            out_shape=out.shape, shape=X_LN.shape)
    if not np.allclose(out, expected, rtol=1e-9, atol=1e-12):
        if np.allclose(out, _ln_forward(X_LN, axis=0)[0], rtol=1e-9, atol=1e-12):
            return N_("forward normalised each column over the batch; layer normalisation takes each row on its own")
        return N_("forward is not (x - mean) / sqrt(var + eps) with the mean and variance of each row")
    report = check_layer(cls(), X_LN)
    return None if report.passed else str(report)


exercises.add(Exercise(
    "LayerNorm",
    test=_ln_test,
    probe=_ln_probe,
    diagnosis=Diagnosis(reference=_LayerNorm,
                        parts=(N_("the output of your forward"), N_("the dx of your backward"), N_("dout after your "
                                                                                                   "backward"))),
    properties=layer_properties(lambda cls: cls(), X_LN, DOUT_LN),
    mistakes=[
        Mistake(N_("element-wise"), _ln_variant("ElementWise", _ln_elementwise),
                N_("you treated y_i as a function of x_i alone, dx = dy / sqrt(var + eps). But the mean and the "
                   "variance of the row depend on every x_j, so each y_i does too: two more terms come from them.")),
        Mistake(N_("mean held constant"), _ln_variant("MeanHeld", _ln_mean_held),
                N_("a term is missing: the one from the mean. The mean moves by 1/n when any x_j moves, and that "
                   "shifts every y_i of the row; its share of dx is the mean of dy over the row, subtracted.")),
        Mistake(N_("variance held constant"), _ln_variant("VarianceHeld", _ln_variance_held),
                N_("a term is missing: the one from the variance. It depends on every x_j too (through x_j - mean); "
                   "differentiate 1/sqrt(var + eps) as well.")),
        Mistake(N_("over the batch"), _ln_variant("OverBatch", _ln_over_batch_backward, _ln_over_batch_forward),
                N_("you normalised each column over the batch (axis 0): that is batch normalisation. Layer "
                   "normalisation takes the mean and variance of each row: axis=1, keepdims=True.")),
    ],
    hints=[
        N_("Forward: per row, mean and variance (axis=1, keepdims=True); keep y and sqrt(var + eps) for backward. "
           "Backward: write dy_i/dx_j first. Every y_i of a row depends on every x_j through the mean and the "
           "variance, so dx_j = sum_i dy_i dy_i/dx_j has more than one term."),
        N_("With s = sqrt(var + eps): d(mean)/dx_j = 1/n and d(var)/dx_j = 2 (x_j - mean) / n, which give "
           "dy_i/dx_j = ([i = j] - 1/n - y_i y_j / n) / s."),
        N_("Summing over i gives three terms per row, all over s: dout itself, minus its row mean, minus y times the "
           "row mean of dout * y. One return line with two .mean(axis=1, keepdims=True)."),
    ],
))
