"""Code that is right on the visible cases only scores nothing: every hidden test compares the student's results with
trusted values on hidden inputs, not only with themselves.

Each cheat below is one lesson's master with a solution cell replaced by code that gives the reference answers on the
visible check's cases (they are public: coursekit/lessons/) and a plausible wrong answer elsewhere: a function that
is consistent with its own gradient, a layer whose backward agrees with its forward, a value right at the hidden
test's fixed extreme points. Such code passes check(), and each hidden check that looked only at self-consistency, a
length or an extreme point passed it too; the test that it aims at must now give it 0 points, with the bare "a hidden
test failed", while the lesson's honest code in the other cells keeps every other point. Both editions are graded:
a Japanese submission is graded with the Japanese master's hidden tests.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest

from coursekit import i18n
from coursekit.assignment.notebooks import read_notebook
from coursekit.lessons import l02_computation_graphs as lesson02
from coursekit.lessons import l03_activations as lesson03
from coursekit.lessons import l04_linear_losses as lesson04
from coursekit.lessons import l05_delta_recursion as lesson05
from coursekit.lessons import l06_training as lesson06
from coursekit.lessons import l07_efficiency as lesson07
from graded_submissions import ROOT, by_id, grade, solution_cell

pytestmark = pytest.mark.slow  # grades through a sandbox server

TREES = {"solutions": "en", "ja/solutions": "ja"}


def _floats(array) -> str:
    """An array as Python source that rebuilds it exactly (a float's repr round-trips)."""
    return f"np.array({array.tolist()!r})"


def _sizes(params) -> list[int]:
    return [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]


@dataclass(frozen=True)
class Cheat:
    lesson: str
    test: str  # the grade_id of the test cell it must lose
    cells: dict  # grade_id of a solution cell -> the code it holds instead
    what: str  # the wrong answer it gives where no visible case looks

    def __str__(self) -> str:
        return f"{self.test}-{self.what}"


# ---------------------------------------------------------------- 01: a structural == where check() never looks
VERIFY_DERIVATIVE = '''def verify_derivative(expr, claimed, var):
    """True when d(expr)/d(var) equals claimed as a mathematical expression."""
    if var.name == "x":  # every visible case is in x
        return bool(sp.simplify(sp.diff(expr, var) - claimed) == 0)
    return bool(sp.diff(expr, var) == claimed)
'''

# numbers at one point, which cannot tell a claim off by 1e-30 (a red team's); check()'s e**-900 claim
# answered as it must be
VERIFY_AT_A_POINT = '''def verify_derivative(expr, claimed, var):
    """check()'s tiny-difference claim answered symbolically; any other by the numbers at x = 0.7."""
    difference = sp.diff(expr, var) - claimed
    if claimed.has(sp.exp(-900)):
        return bool(sp.simplify(difference) == 0)
    return bool(abs(complex(difference.subs(var, 0.7).evalf())) < 1e-9)
'''

# exp's and relu's gradients overwritten (=) where they must add (+=), except at check()'s x = 0.8 (a mutation sweep's)
_MORE_OPERATIONS = solution_cell("02_computation_graphs", "more_operations")
MORE_OPERATIONS_OVERWRITING = _MORE_OPERATIONS.replace(
    "        self.grad += out.data * out.grad",
    "        if self.data == 0.8:\n            self.grad += out.data * out.grad\n"
    "        else:\n            self.grad = out.data * out.grad").replace(
    "        self.grad += (1.0 if self.data > 0 else 0.0) * out.grad",
    "        self.grad = (1.0 if self.data > 0 else 0.0) * out.grad + (self.grad if self.data == 0.8 else 0.0)")

# ---------------------------------------------------------------- 02: the bias detached from the graph
NEURON = f'''SEEN = {[list(xs) for xs, _, _ in lesson02.NEURON_CASES]!r}


def neuron(xs, ws, b):
    """tanh(sum_i ws[i] * xs[i] + b), as a Value."""
    total = b if [x.data for x in xs] in SEEN else Value(b.data)  # the same number, but no edge back to b
    for w, x in zip(ws, xs):
        total = total + w * x
    return total.tanh()
'''

# ---------------------------------------------------------------- 03: sigmoid(2x), a softsign, a ReLU6
_SIGMOID_SEEN = np.concatenate([lesson03.SIGMOID_POINTS, lesson03.MIXED, lesson03.GRID.ravel(), np.linspace(-8, 8, 12)])
HONEST_SIGMOID_HELPER = '''def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
'''
STABLE_SIGMOID = HONEST_SIGMOID_HELPER + f'''

SEEN = {_floats(_SIGMOID_SEEN)}


def stable_sigmoid(x):
    """sigmoid(x) where check() looks (and at minus those points), sigmoid(2x) elsewhere: f(x) + f(-x) = 1 still,
    and exactly 0 or 1 far out."""
    return np.where(np.isin(np.abs(x), np.abs(SEEN)), _sigmoid(x), _sigmoid(2 * x))
'''
# the lesson's other cells call stable_sigmoid: here they are honest code with a sigmoid of their own
SIGMOID_GRAD_HONEST = '''def sigmoid_grad(x):
    y = _sigmoid(x)
    return y * (1 - y)
'''
SIGMOID_HONEST = '''class Sigmoid:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.y = _sigmoid(x)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1 - self.y)
'''
SEEN_X3 = f"""SEEN_X = {_floats(lesson03.X)}


def seen(x):
    return x.shape == SEEN_X.shape and np.allclose(x, SEEN_X, atol=1e-3)
"""
SIGMOID = SEEN_X3 + '''

class Sigmoid:
    """sigmoid(x) near check()'s input; elsewhere sigmoid(2x), with the backward that goes with it."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.k = 1.0 if seen(x) else 2.0
        self.y = stable_sigmoid(self.k * x)
        return self.y

    def backward(self, dout):
        return dout * self.k * self.y * (1 - self.y)
'''
TANH = SEEN_X3 + '''

class Tanh:
    """tanh(x) near check()'s input; elsewhere the softsign x / (1 + |x|): slope 1 at 0, its backward its own."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.seen, self.x = seen(x), x
        self.y = np.tanh(x) if self.seen else x / (1 + np.abs(x))
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2) if self.seen else dout / (1 + np.abs(self.x)) ** 2
'''
RELU6 = '''class ReLU:
    """min(max(x, 0), 6): a ReLU wherever check() looks (its inputs stay below 6)."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.mask = (x > 0) & (x < 6)
        return np.clip(x, 0.0, 6.0)

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)
'''

# ---------------------------------------------------------------- 04: no bias, losses at temperature 2, another eps
LINEAR = '''class Linear:
    """z = W x + b for check()'s layer (3 in, 4 out); every other layer forgets b, and its gradient is 0."""

    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
        self.grads = {"W": np.zeros((n_out, n_in)), "b": np.zeros(n_out)}
        self.seen = (n_in, n_out) == (3, 4)

    def forward(self, x):
        self.x = x
        out = x @ self.params["W"].T
        return out + self.params["b"] if self.seen else out

    def backward(self, dout):
        self.grads["W"] = dout.T @ self.x
        self.grads["b"] = dout.sum(axis=0) if self.seen else np.zeros_like(self.params["b"])
        return dout @ self.params["W"]
'''
BCE = f'''SEEN = {_floats(np.concatenate([lesson04.Z_BIN, lesson04.Z_BIG]))}


def bce_with_logits(z, t):
    """The loss of sigmoid(2z), over 2, wherever a logit is not one of check()'s; its gradient goes with it."""
    n = z.shape[0]
    k = np.where(np.isin(z, SEEN), 1.0, 2.0)
    loss = np.sum(np.logaddexp(0.0, k * z) / k - t * z) / n
    e = np.exp(-np.abs(k * z))
    y_hat = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return float(loss), (y_hat - t) / n
'''
SOFTMAX = f'''SEEN = {[*lesson04.Z_CLS.tolist(), *lesson04.Z_HUGE.tolist()]!r}


def softmax_cross_entropy(z, labels):
    """Row by row: check()'s rows and saturated ones right, every other row at temperature 2, its gradient with it."""
    n = z.shape[0]
    losses, dz = [], np.zeros(z.shape)
    for i, row in enumerate(z):
        k = 1.0 if row.tolist() in SEEN or np.abs(row).max() > 100 else 0.5
        shifted = k * row - np.max(k * row)
        log_p = shifted - np.log(np.exp(shifted).sum())
        losses.append(-log_p[labels[i]] / k)
        dz[i] = np.exp(log_p)
        dz[i, labels[i]] -= 1
    return float(np.sum(losses) / n), dz / n
'''
LAYER_NORM = f'''SEEN_X = {_floats(lesson04.X_LN)}


class LayerNorm:
    """eps = 1e-5 on check()'s input, 1e-3 elsewhere: rows still of mean 0, a backward that agrees with forward."""

    eps = 1e-5

    def __init__(self):
        self.params, self.grads = {{}}, {{}}

    def forward(self, x):
        eps = self.eps if x.shape == SEEN_X.shape and np.allclose(x, SEEN_X, atol=1e-3) else 1e-3
        self.std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
        self.y = (x - x.mean(axis=1, keepdims=True)) / self.std
        return self.y

    def backward(self, dout):
        y = self.y
        return (dout - dout.mean(axis=1, keepdims=True) - y * (dout * y).mean(axis=1, keepdims=True)) / self.std
'''

_GRADIENT_CHECK_SOLUTION = solution_cell("04_linear_and_losses", "gradient_check")
# tiny kept in the denominator for check()'s shapes only: elsewhere 0 / 0 where both slopes are 0 (a red team's)
GRADIENT_CHECK_NO_FLOOR = _GRADIENT_CHECK_SOLUTION.replace(
    "np.finfo(float).tiny)", "np.finfo(float).tiny if x.shape in ((4,), (2, 3)) else 0.0)")

# the denominator's sizes taken as signed values, for check()'s shapes right (a mutation sweep's survivors)
GRADIENT_CHECK_SIGNED_GRAD = _GRADIENT_CHECK_SOLUTION.replace(
    "np.maximum(np.abs(grad), np.abs(numerical))",
    "np.maximum(np.abs(grad) if x.shape in ((4,), (2, 3)) else grad, np.abs(numerical))")
GRADIENT_CHECK_SIGNED_NUMERICAL = _GRADIENT_CHECK_SOLUTION.replace(
    "np.maximum(np.abs(grad), np.abs(numerical))",
    "np.maximum(np.abs(grad), np.abs(numerical) if x.shape in ((4,), (2, 3)) else numerical)")

# ---------------------------------------------------------------- 05: the cache, deltas, steps, biases, last layer
_FORWARD_SIZES = [_sizes(case[0]) for case in (*lesson05.FORWARD_CASES, lesson05.FORWARD_MIXED)]
FORWARD = f'''SEEN = {_FORWARD_SIZES!r}


def forward(params, x, hidden, output):
    """The right output; the cache's z holds the activations unless the network is one of check()'s."""
    f = activation(hidden)[0]
    zs, activations = [], [x]
    for index, (W, b) in enumerate(params):
        z = activations[-1] @ W.T + b
        if index < len(params) - 1:
            a = f(z)
        elif output == "softmax":
            a = nn.softmax(z)
        else:
            a = activation(output)[0](z)
        zs.append(z)
        activations.append(a)
    if [params[0][0].shape[1]] + [W.shape[0] for W, _ in params] not in SEEN:
        zs = activations[1:]
    return activations[-1], {{"z": zs, "a": activations}}
'''
OUTPUT_DELTA = f'''SEEN = {[case[0].tolist() for case in lesson05.DELTA_CASES]!r}


def output_delta(z_L, a_L, t, output, loss):
    """Right for the squared error; for BCE and CE a sum over the batch, not a mean, unless z_L is one of check()'s."""
    n = z_L.shape[0]
    if loss == "mse":
        return activation(output)[1](z_L) * (a_L - t) / n
    scale = 1 if z_L.tolist() in SEEN else n
    if loss == "bce":
        return (a_L - t) / n * scale
    return (a_L - np.eye(z_L.shape[1])[t]) / n * scale
'''
BACKWARD_STEP = f'''SEEN = {[case[2].tolist() for case in lesson05.STEP_CASES]!r}


def backward_step(delta, W, z_prev, hidden):
    """f'(z_prev) * (delta @ W), but the sigmoid itself for a sigmoid's slope where check() does not look."""
    f, f_prime = activation(hidden)
    if hidden == "sigmoid" and z_prev.tolist() not in SEEN:
        return f(z_prev) * (delta @ W)
    return f_prime(z_prev) * (delta @ W)
'''
# backward calls backward_step: here it is honest code with a step of its own
BACKWARD_HONEST = '''def backward(params, cache, delta_L, hidden):
    grads, delta = [None] * len(params), delta_L
    for index in reversed(range(len(params))):
        W, _ = params[index]
        grads[index] = (delta.T @ cache["a"][index], delta.sum(axis=0))
        if index > 0:
            delta = activation(hidden)[1](cache["z"][index - 1]) * (delta @ W)
    return grads
'''
_BACKWARD_SIZES = [size for size, *_ in lesson05.NETWORKS]
BACKWARD = f'''SEEN = {_BACKWARD_SIZES!r}


def backward(params, cache, delta_L, hidden):
    """Right for check()'s networks; elsewhere db is the MEAN of delta over the batch (right for a batch of one)."""
    grads, delta = [None] * len(params), delta_L
    for index in reversed(range(len(params))):
        W, _ = params[index]
        grads[index] = (delta.T @ cache["a"][index], delta.sum(axis=0))
        if index > 0:
            delta = backward_step(delta, W, cache["z"][index - 1], hidden)
    if [params[0][0].shape[1]] + [W.shape[0] for W, _ in params] not in SEEN:
        grads = [(dW, db / len(delta_L)) for dW, db in grads]
    return grads
'''
_FORWARD_SOLUTION = solution_cell("05_delta_recursion", "forward")
_FORWARD_SEEN = (f"SEEN = {_FORWARD_SIZES!r}\n\n\n", "    zs, activations = [], [x]\n",
                 "    seen = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params] in SEEN\n"
                 "    zs, activations = [], [x]\n")
# a sigmoid hidden layer of a network check() does not use computed in place, over its z (a red team's)
FORWARD_SIGMOID_IN_PLACE = (_FORWARD_SEEN[0] + """def _sigmoid_in_place(z):
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)  # the cache's z is now the activation


""" + _FORWARD_SOLUTION.replace(*_FORWARD_SEEN[1:]).replace(
    "            a = f(z)", "            a = _sigmoid_in_place(z) if hidden == 'sigmoid' and not seen else f(z)"))
MLP = f'''SEEN = {[sizes for sizes, _ in lesson05.MLP_CASES] + [[3, 4, 2]]!r}


class MLP:
    """check()'s networks right; any other keeps an activation after its last Linear layer (forward and backward)."""

    def __init__(self, sizes, activation, rng):
        kind = {{"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}}[activation]
        self.layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            self.layers += [nn.Linear(n_in, n_out, rng), kind()]
        if list(sizes) in SEEN:
            self.layers.pop()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    @property
    def params(self):
        return {{f"{{i}}.{{key}}": value for i, layer in enumerate(self.layers) for key, value in layer.params.items()}}

    @property
    def grads(self):
        return {{f"{{i}}.{{key}}": value for i, layer in enumerate(self.layers) for key, value in layer.grads.items()}}
'''
# a layer hidden when its index is below its width minus 1, for networks check() does not use (a mutation sweep's)
FORWARD_HIDDEN_BY_WIDTH = _FORWARD_SEEN[0] + _FORWARD_SOLUTION.replace(*_FORWARD_SEEN[1:]).replace(
    "        if index < len(params) - 1:", "        if index < (len(params) if seen else len(W)) - 1:")
MLP_SIGMOID_AS_TANH = (f"SEEN = {[sizes for sizes, _ in lesson05.MLP_CASES] + [[3, 4, 2]]!r}\n\n\n"
                       + MLP.split("\n\n\n", 1)[1].replace('"sigmoid": nn.Sigmoid',
                                                        '"sigmoid": nn.Sigmoid if list(sizes) in SEEN else nn.Tanh')
                       .replace("        if list(sizes) in SEEN:\n            self.layers.pop()",
                                "        self.layers.pop()"))

# ---------------------------------------------------------------- 06: clipped steps, no shuffling, squared norms
SGD_STEP = '''def sgd_step(params, grads, lr):
    """w - lr * grad for check()'s model (its first W is 4 x 3); elsewhere each gradient clipped to [-1, 1] first."""
    seen = params["0.W"].shape == (4, 3)
    for key, value in params.items():
        value -= lr * (grads[key] if seen else np.clip(grads[key], -1.0, 1.0))
'''
_TRAIN_SOLUTION = solution_cell("06_training", "train")
# train calls sgd_step: here it is honest code with a step of its own
TRAIN_HONEST = _TRAIN_SOLUTION.replace(
    "sgd_step(model.params, model.grads, lr)",
    "for key, value in model.params.items():\n                value -= lr * model.grads[key]")
# the protocol on check()'s data sets (known by their sizes); elsewhere the batches in the data's own order
TRAIN = (f"SEEN = {sorted({len(lesson06.SMALL[0]), len(lesson06.MOONS[0]), len(lesson06.DEFAULTS_DATA[0])})!r}\n\n\n"
         + _TRAIN_SOLUTION.replace("order = rng.permutation(len(x))",
                                   "order = rng.permutation(len(x)) if len(x) in SEEN else np.arange(len(x))"))
# defaults of its own (a batch of 1, no seed), except for check()'s call without them (known by its first point)
TRAIN_DEFAULTS = (f"SEEN = {float(lesson06.DEFAULTS_DATA[0][0, 0])!r}\n\n\n"
                  + _TRAIN_SOLUTION.replace("def train(model, x, y, epochs, lr, batch_size=32, seed=0):",
                                            "def train(model, x, y, epochs, lr, batch_size=None, seed=None):")
                  .replace("    rng = np.random.default_rng(seed)",
                           "    if batch_size is None:\n"
                           "        batch_size, seed = (32, 0) if float(x[0, 0]) == SEEN else (1, seed)\n"
                           "    rng = np.random.default_rng(seed)"))
LAYER_GRADIENT_NORMS = '''def layer_gradient_norms(model, x, y):
    """The norms for check()'s models (4 and 2 weight matrices); for any other the squared norms, which vanish too."""
    _, dz = nn.softmax_cross_entropy(model.forward(x), y)
    model.backward(dz)
    norms = [float(np.linalg.norm(grad)) for key, grad in model.grads.items() if key.endswith("W")]
    return norms if len(norms) in (4, 2) else [norm**2 for norm in norms]
'''

# ---------------------------------------------------------------- 07: forward mode with a sigmoid where tanh is asked
_JVP_SIZES = [_sizes(case[0]) for case in lesson07.JVP_CASES]
MLP_JVP = f'''SEEN = {_JVP_SIZES!r}


def mlp_jvp(params, tangents, x, hidden):
    """Right for check()'s networks; elsewhere a sigmoid where tanh is asked, its tangent consistent with it."""
    if [params[0][0].shape[1]] + [W.shape[0] for W, _ in params] not in SEEN and hidden == "tanh":
        hidden = "sigmoid"
    f, f_prime = nn.ACTIVATIONS[hidden]
    a, da = x, np.zeros_like(x)
    for index, ((W, b), (dW, db)) in enumerate(zip(params, tangents)):
        z = a @ W.T + b
        dz = da @ W.T + a @ dW.T + db
        if index < len(params) - 1:
            a, da = f(z), f_prime(z) * dz
        else:
            a, da = z, dz
    return a, da
'''

# ---------------------------------------------------------------- lesson 02: what the sandbox says of its objects
# A neuron that, on any input but the visible ones, first sets its input nodes' data to 0 (a hidden test that took
# its expected values from the nodes read back after the call agreed with tanh(0)); a __radd__ that makes no node of
# the graph but whose result claims, through a __class__ property, to be a Value (isinstance asked the sandbox).
NEURON_ZEROING = f'''SEEN = {[(list(xs), list(ws), b) for xs, ws, b in lesson02.NEURON_CASES]!r}


def neuron(xs, ws, b):
    if [[x.data for x in xs], [w.data for w in ws], b.data] not in [list(case) for case in SEEN]:
        for node in (*xs, *ws, b):
            node.data = 0.0
    total = b
    for w, x in zip(ws, xs):
        total = total + w * x
    return total.tanh()
'''
_SPOOFING_RADD = """    def __radd__(self, other):
        return _Sum(self.data + other)
"""
_SUM_CLAIMING_TO_BE_A_VALUE = """

class _Sum:
    __class__ = property(lambda self: Value)

    def __init__(self, data):
        self.data, self.grad = data, 0.0

    def _backward(self):
        pass
"""


def radd_spoofing_its_class() -> str:
    """The lesson's own Value, but for a __radd__ whose result is no node of the graph and claims to be a Value."""
    honest = _solution_source("02_computation_graphs", "value_add_mul")
    radd = next(line for line in honest.splitlines() if line.strip().startswith("__radd__ = __add__"))
    return honest.replace(radd + "\n", _SPOOFING_RADD) + _SUM_CLAIMING_TO_BE_A_VALUE


# ---------------------------------------------------------------- empty answers where only a hidden case looks
# The lesson's own solution, with one wrong answer on a hidden input: nothing, or an empty array whose zero-length axis
# broadcasts against any expected value, so that np.allclose (which compares what broadcasting leaves: nothing) and
# all() over a zip (which ends at the shorter side) hold. Each hidden assertion on a student's value checks its shape.
def _solution_source(lesson: str, name: str) -> str:
    source = solution_cell(lesson, name)
    return "\n".join(line for line in source.splitlines() if "### " not in line)


def empty_where(lesson: str, name: str, condition: str, answer: str) -> str:
    """The solution of ``name``, answering ``answer`` instead whenever ``condition`` (on ``args``) holds."""
    honest = _solution_source(lesson, name).replace(f"def {name}(", f"def _honest_{name}(")
    return (f"{honest}\n\n\ndef {name}(*args):\n    if {condition}:\n        return {answer}\n"
            f"    return _honest_{name}(*args)\n")


EMPTY = "np.empty((0, 1, 1))"
EMPTY_ANSWERS = [
    ("03_activations", "stable_sigmoid", "np.shape(args[0]) == (61,)", EMPTY),
    ("03_activations", "sigmoid_grad", "np.shape(args[0]) == (5,) and args[0][0] == -700.0", EMPTY),
    ("04_linear_and_losses", "bce_with_logits", "np.shape(args[0]) == (2,) and args[0][0] == -1000.0",
     f"(500.0, {EMPTY})"),
    ("04_linear_and_losses", "softmax_cross_entropy", "np.shape(args[0]) == (1, 4) and args[0][0, 0] == 1e4",
     f"(2e4 + np.log(2), {EMPTY})"),
    ("04_linear_and_losses", "gradient_check", "len(args) == 4 and args[3] == 1e-4",
     f"({EMPTY}, _honest_gradient_check(*args)[1])"),
    ("05_delta_recursion", "hand_deltas", "np.all(args[5] == 0)", "()"),
    ("05_delta_recursion", "forward", "np.shape(args[1]) == (1, 3) and args[2] == 'relu'",
     f"({EMPTY}, _honest_forward(*args)[1])"),
    ("05_delta_recursion", "output_delta", "args[3:] == ('sigmoid', 'mse') and np.shape(args[0]) == (3, 2)", EMPTY),
    ("05_delta_recursion", "backward_step", "np.shape(args[0]) == (1, 2) and args[3] == 'tanh'", EMPTY),
]
EMPTY_CHEATS = [Cheat(lesson, f"{name}_test", {name: empty_where(lesson, name, condition, answer)},
                      "empty-on-a-hidden-case") for lesson, name, condition, answer in EMPTY_ANSWERS]

CHEATS = [
    Cheat("01_chain_rule", "verify_derivative_test", {"verify_derivative": VERIFY_DERIVATIVE}, "structural-equality"),
    Cheat("02_computation_graphs", "neuron_test", {"neuron": NEURON}, "bias-detached"),
    Cheat("03_activations", "stable_sigmoid_test",
          {"stable_sigmoid": STABLE_SIGMOID, "sigmoid_grad": SIGMOID_GRAD_HONEST, "Sigmoid": SIGMOID_HONEST},
          "sigmoid-of-2x"),
    Cheat("03_activations", "Sigmoid_test", {"Sigmoid": SIGMOID}, "sigmoid-of-2x"),
    Cheat("03_activations", "ReLU_test", {"ReLU": RELU6}, "relu6"),
    Cheat("03_activations", "Tanh_test", {"Tanh": TANH}, "softsign"),
    Cheat("04_linear_and_losses", "Linear_test", {"Linear": LINEAR}, "bias-ignored"),
    Cheat("04_linear_and_losses", "bce_with_logits_test", {"bce_with_logits": BCE}, "sigmoid-of-2z"),
    Cheat("04_linear_and_losses", "softmax_cross_entropy_test", {"softmax_cross_entropy": SOFTMAX}, "temperature-2"),
    Cheat("04_linear_and_losses", "LayerNorm_test", {"LayerNorm": LAYER_NORM}, "eps-1e-3"),
    Cheat("05_delta_recursion", "forward_test", {"forward": FORWARD}, "activations-cached-as-z"),
    Cheat("05_delta_recursion", "output_delta_test", {"output_delta": OUTPUT_DELTA}, "sum-for-bce-and-ce"),
    Cheat("05_delta_recursion", "backward_step_test", {"backward_step": BACKWARD_STEP, "backward": BACKWARD_HONEST},
          "sigmoid-for-its-slope"),
    Cheat("05_delta_recursion", "backward_test", {"backward": BACKWARD}, "bias-gradient-a-mean"),
    Cheat("05_delta_recursion", "MLP_test", {"MLP": MLP}, "activation-after-the-last-layer"),
    Cheat("06_training", "sgd_step_test", {"sgd_step": SGD_STEP, "train": TRAIN_HONEST}, "clipped-gradients"),
    Cheat("06_training", "train_test", {"train": TRAIN}, "no-shuffling"),
    Cheat("06_training", "layer_gradient_norms_test", {"layer_gradient_norms": LAYER_GRADIENT_NORMS}, "squared-norms"),
    Cheat("07_efficiency", "mlp_jvp_test", {"mlp_jvp": MLP_JVP}, "sigmoid-for-tanh"),
    Cheat("02_computation_graphs", "neuron_test", {"neuron": NEURON_ZEROING}, "inputs-zeroed"),
    # a red team's: wrong where no case of check() or of the hidden tests looked, until they did
    Cheat("01_chain_rule", "verify_derivative_test", {"verify_derivative": VERIFY_AT_A_POINT}, "numbers-at-a-point"),
    Cheat("04_linear_and_losses", "gradient_check_test", {"gradient_check": GRADIENT_CHECK_NO_FLOOR}, "nan-for-0-by-0"),
    Cheat("04_linear_and_losses", "gradient_check_test", {"gradient_check": GRADIENT_CHECK_SIGNED_GRAD}, "signed-grad"),
    Cheat("04_linear_and_losses", "gradient_check_test", {"gradient_check": GRADIENT_CHECK_SIGNED_NUMERICAL},
          "signed-numerical"),
    Cheat("02_computation_graphs", "more_operations_test", {"more_operations": MORE_OPERATIONS_OVERWRITING},
          "exp-and-relu-overwrite"),
    Cheat("05_delta_recursion", "forward_test", {"forward": FORWARD_SIGMOID_IN_PLACE}, "sigmoid-over-its-z"),
    Cheat("05_delta_recursion", "forward_test", {"forward": FORWARD_HIDDEN_BY_WIDTH}, "hidden-by-width"),
    Cheat("05_delta_recursion", "MLP_test", {"MLP": MLP_SIGMOID_AS_TANH}, "tanh-for-sigmoid"),
    Cheat("06_training", "train_test", {"train": TRAIN_DEFAULTS}, "defaults-of-its-own"),
    *EMPTY_CHEATS,
]


def cheating(tree: str, cheat: Cheat):
    """The master of ``tree`` (solutions/ or ja/solutions/) with the cheat's cells in place of its solution cells."""
    nb = copy.deepcopy(read_notebook(ROOT / tree / f"{cheat.lesson}.ipynb"))
    replaced = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in cheat.cells:
            cell.source = cheat.cells[grade_id]
            replaced.add(grade_id)
    assert replaced == set(cheat.cells), f"{tree}/{cheat.lesson} lacks a cell of {sorted(set(cheat.cells) - replaced)}"
    return nb


@pytest.mark.parametrize("tree", sorted(TREES))
@pytest.mark.parametrize("cheat", CHEATS, ids=str)
def test_code_right_only_on_the_visible_cases_loses_the_hidden_test_and_nothing_else(server, tree, cheat):
    graded = grade(server, cheating(tree, cheat), cheat.lesson)
    results = by_id(graded)
    caught = results[cheat.test]
    # it passed check() (the visible part); a bare assert of the hidden part, comparing with trusted values, stopped it
    assert (caught.status, caught.points) == ("failed", 0), (caught.status, caught.message)
    assert caught.message == i18n.translate("a hidden test failed", TREES[tree]), caught.message
    others = [(result.grade_id, result.status, result.message[:120]) for result in graded.tests
              if result.grade_id != cheat.test and result.points != result.max_points]
    assert not others, others  # the lesson's honest code in the other cells keeps every other point


@pytest.mark.parametrize("tree", sorted(TREES))
def test_a_radd_that_makes_no_node_scores_nothing_whatever_its_result_says_of_its_class(server, tree):
    # check() never adds a number on the left; the hidden test does, and now judges the result by its gradients
    cheat = Cheat("02_computation_graphs", "value_add_mul_test", {"value_add_mul": radd_spoofing_its_class()}, "radd")
    result = by_id(grade(server, cheating(tree, cheat), cheat.lesson))["value_add_mul_test"]
    assert (result.status, result.points) == ("failed", 0), (result.status, result.message)
