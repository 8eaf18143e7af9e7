"""Lesson 04: the Linear layer (Deep Learning from Scratch's Affine, cs231n's affine_forward/affine_backward) and
three losses."""

import numpy as np

from tests.feedback.catalogue import correct, wrong
from tests.feedback.catalogue.library import nn

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


# ---------------------------------------------------------------- exercise 5: a gradient checker
def _eval_numerical_gradient(f, x, grad, h=1e-5):
    """cs231n's eval_numerical_gradient (np.nditer, the old value put back), with the relative error after it."""
    numerical = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        numerical[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    rel = np.abs(numerical - grad) / np.maximum(np.maximum(np.abs(numerical), np.abs(grad)), np.finfo(float).tiny)
    return numerical, float(rel.max())


def _checker_on_copies(f, x, grad, h=1e-5):
    """Flat indices and fresh copies: x is never touched."""
    numerical = np.empty(x.size)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        numerical[i] = (f(x + step) - f(x - step)) / (2 * h)
    numerical = numerical.reshape(x.shape)
    largest = np.maximum(np.abs(grad), np.abs(numerical))
    return numerical, float(np.max(np.abs(grad - numerical) / np.where(largest > 0, largest, np.finfo(float).tiny)))


def _checker_as_list(f, x, grad, h=1e-5):
    """A list back, the relative errors from np.max over a stack."""
    numerical = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        numerical[index] = (f(up) - f(down)) / (2 * h)
    scale = np.max(np.stack([np.abs(grad), np.abs(numerical), np.full(x.shape, np.finfo(float).tiny)]), axis=0)
    return [numerical, float(np.max(np.abs(grad - numerical) / scale))]


def _checker_forward_in_place(f, x, grad, h=1e-5):
    numerical = np.zeros(x.shape)
    base = f(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        numerical[index] = (f(x) - base) / h
        x[index] = saved
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.max(np.abs(grad - numerical) / scale))


def _checker_never_restored(f, x, grad, h=1e-5):
    numerical = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += h
        up = f(x)
        x[index] -= 2 * h
        numerical[index] = (up - f(x)) / (2 * h)
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.max(np.abs(grad - numerical) / scale))


def _checker_mean_error(f, x, grad, h=1e-5):
    numerical, _ = _checker_as_list(f, x, grad, h)
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.mean(np.abs(grad - numerical) / scale))


def _checker_max_of_the_two_only(f, x, grad, h=1e-5):
    numerical, _ = _checker_as_list(f, x, grad, h)
    with np.errstate(invalid="ignore"):
        return numerical, float(np.max(np.abs(grad - numerical) / np.maximum(np.abs(grad), np.abs(numerical))))


def _checker_signed(which):
    """The denominator with one of the pair's signed value where its size belongs (a mutation sweep's survivors)."""
    def checker(f, x, grad, h=1e-5):
        numerical, _ = _checker_as_list(f, x, grad, h)
        a, b = (grad, np.abs(numerical)) if which == "grad" else (np.abs(grad), numerical)
        return numerical, float(np.max(np.abs(grad - numerical) / np.maximum(np.maximum(a, b), np.finfo(float).tiny)))
    return checker


def _checker_first_row_only(f, x, grad, h=1e-5):
    numerical, _ = _checker_as_list(f, x, grad, h)
    flat = numerical.reshape(-1)
    flat[x.shape[-1]:] = 0.0  # stopped after the first row
    numerical = flat.reshape(x.shape)
    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
    return numerical, float(np.max(np.abs(grad - numerical) / scale))


# ---------------------------------------------------------------- exercise 6: layer normalisation
class LayerNormCached:
    """cs231n's layernorm_forward/backward style without gamma and beta: the backward through the graph, step by
    step (xmu, var, ivar), summing the contributions of the mean and the variance."""

    eps = 1e-5

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        mu = x.mean(axis=1, keepdims=True)
        xmu = x - mu
        var = (xmu**2).mean(axis=1, keepdims=True)
        ivar = 1 / np.sqrt(var + self.eps)
        self.cache = (xmu, var, ivar)
        return xmu * ivar

    def backward(self, dout):
        xmu, var, ivar = self.cache
        n = xmu.shape[1]
        dxmu1 = dout * ivar
        divar = np.sum(dout * xmu, axis=1, keepdims=True)
        dvar = divar * -0.5 * (var + self.eps) ** -1.5
        dxmu2 = 2 * xmu * dvar / n
        dx1 = dxmu1 + dxmu2
        dmu = -np.sum(dx1, axis=1, keepdims=True)
        return dx1 + dmu / n


class LayerNormJacobian:
    """Each row's full Jacobian, built and multiplied: slow but plain."""

    eps = 1e-5

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.std = np.sqrt(np.var(x, axis=1, keepdims=True) + self.eps)
        self.out = (x - np.mean(x, axis=1, keepdims=True)) / self.std
        return self.out

    def backward(self, dout):
        n = dout.shape[1]
        dx = np.empty_like(dout)
        for row in range(dout.shape[0]):
            y = self.out[row]
            jac = (np.eye(n) - 1.0 / n - np.outer(y, y) / n) / self.std[row, 0]
            dx[row] = jac.T @ dout[row]
        return dx


class LayerNormSums:
    """The same formula with sums over the row instead of means: dx = (n dy - sum dy - y sum(dy y)) / (n s)."""

    eps = 1e-5

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        centred = x - x.sum(axis=1, keepdims=True) / x.shape[1]
        self.s = np.sqrt((centred**2).sum(axis=1, keepdims=True) / x.shape[1] + self.eps)
        self.y = centred / self.s
        return self.y

    def backward(self, dout):
        n = dout.shape[1]
        return (n * dout - dout.sum(axis=1, keepdims=True)
                - self.y * (dout * self.y).sum(axis=1, keepdims=True)) / (n * self.s)


def layer_norm(name, backward=None, forward=None):
    methods = {k: v for k, v in (("backward", backward), ("forward", forward)) if v is not None}
    return type(name, (LayerNormJacobian,), methods)


def _ln_only_dout_over_std(self, dout):
    return dout / self.std


def _ln_no_mean_term(self, dout):
    return (dout - self.out * np.mean(dout * self.out, axis=1, keepdims=True)) / self.std


def _ln_eps_outside(self, x):
    self.std = np.sqrt(np.var(x, axis=1, keepdims=True)) + self.eps
    self.out = (x - np.mean(x, axis=1, keepdims=True)) / self.std
    return self.out


def _ln_in_place(self, dout):
    dout -= np.mean(dout, axis=1, keepdims=True)
    dout -= self.out * np.mean(dout * self.out, axis=1, keepdims=True)
    dout /= self.std
    return dout


WRONG += [
    wrong(L, "gradient_check", "forward difference, restored in place", _checker_forward_in_place,
          registered="one-sided difference"),
    wrong(L, "gradient_check", "x never restored", _checker_never_restored, registered="not restored"),
    wrong(L, "gradient_check", "mean relative error instead of the largest", _checker_mean_error,
          names=("relative error",)),
    wrong(L, "gradient_check", "stops after the first row", _checker_first_row_only, names=("numerical gradient",)),
    wrong(L, "gradient_check", "grad's sign kept in the denominator", _checker_signed("grad"),
          names=("largest relative error",)),
    wrong(L, "gradient_check", "the numerical slope's sign kept in the denominator", _checker_signed("numerical"),
          names=("largest relative error",)),
    wrong(L, "gradient_check", "no tiny in the denominator (0 / 0 where both slopes are 0)",
          _checker_max_of_the_two_only, registered="no floor"),
    wrong(L, "LayerNorm", "dout / std: treated as elementwise", layer_norm("Elementwise", _ln_only_dout_over_std),
          registered="element-wise"),
    wrong(L, "LayerNorm", "the mean's term missing", layer_norm("NoMeanTerm", _ln_no_mean_term),
          registered="mean held constant"),
    wrong(L, "LayerNorm", "eps outside the square root", layer_norm("EpsOutside", forward=_ln_eps_outside),
          names=("forward is not",)),
    wrong(L, "LayerNorm", "backward written into dout", layer_norm("InPlace", _ln_in_place),
          names=("dout was changed in place", "changed the array you passed in")),
]
CORRECT += [
    correct(L, "gradient_check", "cs231n's eval_numerical_gradient with np.nditer", _eval_numerical_gradient),
    correct(L, "gradient_check", "flat steps on copies", _checker_on_copies),
    correct(L, "gradient_check", "a list back, errors over a stack", _checker_as_list),
    correct(L, "LayerNorm", "cs231n-style staged backward", LayerNormCached),
    correct(L, "LayerNorm", "each row's full Jacobian", LayerNormJacobian),
    correct(L, "LayerNorm", "sums instead of means", LayerNormSums),
]
