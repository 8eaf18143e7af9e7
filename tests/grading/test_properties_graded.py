"""The issue's examples that passed check() and lost points only in the grader, or passed both: each is now rejected by
check() and by the grader, with the property named in words."""

import importlib
import math

import numpy as np
import pytest

from graded_submissions import by_id, grade, replacing

BACKWARD_RECURSIVE = '''def backward(self):
    topo, visited = [], set()
    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)
    build(self)
    self.grad = 1.0
    for node in reversed(topo):
        node._backward()


Value.backward = backward
'''
BACKWARD_MODULE_LIST = '''_topo, _visited = [], set()


def backward(self):
    stack = [(self, False)]
    while stack:
        node, done = stack.pop()
        if done:
            _topo.append(node)
        elif node not in _visited:
            _visited.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in node._prev)
    self.grad = 1.0
    for node in reversed(_topo):
        node._backward()


Value.backward = backward
'''
CENTRAL_NO_H = '''def central_difference(f, x, h=1e-5):
    return (f(x + 1e-5) - f(x - 1e-5)) / (2 * 1e-5)
'''
SIGMOID_IN_PLACE = '''def stable_sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    pos = x >= 0
    x[pos] = 1 / (1 + e[pos])
    x[~pos] = e[~pos] / (1 + e[~pos])
    return x
'''
SOFTMAX_GLOBAL = '''def softmax_cross_entropy(z, labels):
    n = z.shape[0]
    shifted = z - z.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    dz = np.exp(log_p)
    dz[rows, labels] -= 1
    return float(-log_p[rows, labels].sum() / n), dz / n
'''
RELU_IN_PLACE = '''class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0
        return x

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)
'''
LINEAR_ACCUMULATE = '''class Linear:
    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
        self.grads = {"W": np.zeros((n_out, n_in)), "b": np.zeros(n_out)}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        self.grads["W"] += dout.T @ self.x
        self.grads["b"] += dout.sum(axis=0)
        return dout @ self.params["W"]
'''
# Red team U: what backward needs, kept where every layer of the class finds it. Right for one layer at a time,
# wrong in any network that uses the class twice; both scored full marks before the two-layers property.
SIGMOID_MODULE_CACHE = '''_LAST = {}


class Sigmoid:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        _LAST["y"] = 1 / (1 + np.exp(-x))
        return _LAST["y"]

    def backward(self, dout):
        return dout * _LAST["y"] * (1 - _LAST["y"])
'''
LINEAR_CLASS_CACHE = '''class Linear:
    seen = {}

    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)}
        self.grads = {"W": np.zeros((n_out, n_in)), "b": np.zeros(n_out)}

    def forward(self, x):
        Linear.seen["x"] = x.copy()
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = dout.T @ Linear.seen["x"]
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"]
'''
# Red team U: the ids of the nodes already ordered, kept for the module. In the learner's kernel a test's graphs
# are freed and their ids handed to the next graph's nodes, which this backward then skips; the sandbox kept every
# graph a test had built, until it freed what the grader's proxies no longer hold. BACKWARD_MODULE_LIST's backward,
# with an order of its own but the ids of the nodes it has seen kept for the module.
BACKWARD_MODULE_IDS = (BACKWARD_MODULE_LIST.replace("_topo, _visited = [], set()", "_visited = set()")
                       .replace("    stack = [(self, False)]", "    _topo, stack = [], [(self, False)]")
                       .replace("node not in _visited", "id(node) not in _visited")
                       .replace("_visited.add(node)", "_visited.add(id(node))"))
# Red team U: results the function keeps and fills again at its next call. The sandbox read each result as it was
# returned, where the learner's check() holds them all before comparing, and both passed in the grader only.
FORWARD_MODULE_CACHE = '''_Z, _A = [], []


def forward(params, x, hidden, output):
    f = activation(hidden)[0]
    _Z.clear()
    _A.clear()
    _A.append(x)
    for index, (W, b) in enumerate(params):
        z = _A[-1] @ W.T + b
        a = f(z) if index < len(params) - 1 else nn.softmax(z) if output == "softmax" else activation(output)[0](z)
        _Z.append(z)
        _A.append(a)
    return _A[-1], {"z": _Z, "a": _A}
'''
MSE_REUSED_BUFFER = '''_BUF = {}


def mse_loss(y, t):
    n = y.shape[0]
    dy = _BUF.setdefault(y.shape, np.empty(y.shape))
    np.subtract(y, t, out=dy)
    loss = float(0.5 * np.sum(dy ** 2) / n)
    dy /= n
    return loss, dy
'''
# Red team W: a mutable default argument, so that every Linear of a network shares one params dict (and the two
# layers the property first built alike hid it).
LINEAR_SHARED_PARAMS = '''class Linear:
    def __init__(self, n_in, n_out, rng, params={}):
        params.update({"W": rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), "b": np.zeros(n_out)})
        self.params = params
        self.grads = {"W": np.zeros((n_out, n_in)), "b": np.zeros(n_out)}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = dout.T @ self.x
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"]
'''
LESSONS = {"01_chain_rule": "l01_chain_rule", "02_computation_graphs": "l02_computation_graphs",
           "03_activations": "l03_activations", "04_linear_and_losses": "l04_linear_losses",
           "05_delta_recursion": "l05_delta_recursion"}
# (lesson, grade_id, the learner's cell, words of the property it breaks)
EXAMPLES = [
    ("02_computation_graphs", "backward", BACKWARD_RECURSIVE, "deeper than Python's recursion limit"),
    ("02_computation_graphs", "backward", BACKWARD_MODULE_LIST, "is something kept between calls?"),
    ("01_chain_rule", "central_difference", CENTRAL_NO_H, "your h is not used"),
    ("03_activations", "stable_sigmoid", SIGMOID_IN_PLACE, "changed"),
    ("04_linear_and_losses", "softmax_cross_entropy", SOFTMAX_GLOBAL, "each row of a batch should be treated"),
    ("03_activations", "ReLU", RELU_IN_PLACE, "changed"),
    ("04_linear_and_losses", "Linear", LINEAR_ACCUMULATE, "is something kept between calls?"),
    ("03_activations", "Sigmoid", SIGMOID_MODULE_CACHE, "is something kept outside self?"),
    ("04_linear_and_losses", "Linear", LINEAR_CLASS_CACHE, "is something kept outside self?"),
    ("04_linear_and_losses", "Linear", LINEAR_SHARED_PARAMS, "is something kept outside self?"),
    ("05_delta_recursion", "forward", FORWARD_MODULE_CACHE, "failed on case"),
    ("04_linear_and_losses", "mse_loss", MSE_REUSED_BUFFER, "each row of a batch should be treated on its own"),
]


def _checked(lesson: str, grade_id: str, code: str):
    module = importlib.import_module(f"coursekit.lessons.{LESSONS[lesson]}")
    from coursekit import nn

    namespace = {"np": np, "math": math, "nn": nn, "activation": lambda name: nn.ACTIVATIONS[name]}
    if grade_id == "backward":
        namespace["Value"] = type("Value", (module._Value,), {})
    exec(code, namespace)  # noqa: S102 -- the test's own code
    return module.exercises.evaluate(grade_id, namespace["Value" if grade_id == "backward" else grade_id])


@pytest.mark.parametrize(("lesson", "grade_id", "code", "words"), EXAMPLES,
                         ids=[f"{lesson}:{gid}:{i}" for i, (lesson, gid, _, _) in enumerate(EXAMPLES)])
def test_check_and_the_grader_both_reject_it_naming_the_property(server, lesson, grade_id, code, words):
    checked = _checked(lesson, grade_id, code)
    assert checked.status == "failed" and words in checked.message, checked.message
    graded = by_id(grade(server, replacing(lesson, grade_id, code), lesson))[f"{grade_id}_test"]
    assert graded.status == "failed" and graded.points == 0, graded
    assert words in graded.message and "a hidden test failed" not in graded.message, graded.message


def test_a_backward_that_keeps_node_ids_for_the_module_fails_in_the_grader_as_in_the_kernel(server):
    checked = _checked("02_computation_graphs", "backward", BACKWARD_MODULE_IDS)
    assert checked.status == "failed", checked.message
    graded = by_id(grade(server, replacing("02_computation_graphs", "backward", BACKWARD_MODULE_IDS),
                         "02_computation_graphs"))["backward_test"]
    assert graded.status == "failed" and graded.points == 0, graded
