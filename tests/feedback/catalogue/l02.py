"""Lesson 02: graph gradients, and a scalar engine in micrograd's style, right and wrong."""

import math

import numpy as np

from coursekit.lessons.l02_computation_graphs import neuron_gradients
from tests.feedback.catalogue import correct, wrong

L = "l02_computation_graphs"


class Engine:
    """A micrograd-style engine (Karpathy's Value), with an iterative topological sort: a chain deeper than the
    recursion limit is part of the course's exercise."""

    def __init__(self, data, _children=(), _op=""):
        self.data, self.grad = float(data), 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    @staticmethod
    def _lift(other, cls):
        return other if isinstance(other, cls) else cls(other)

    def __add__(self, other):
        other = self._lift(other, type(self))
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other, type(self))
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = type(self)(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += (k * self.data ** (k - 1)) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = type(self)(0.0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def topo(self):
        order, visited, stack = [], set(), [(self, iter(self._prev))]
        visited.add(self)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                order.append(node)
                stack.pop()
            elif child not in visited:
                visited.add(child)
                stack.append((child, iter(child._prev)))
        return order

    def backward(self):
        self.grad = 1
        for v in reversed(self.topo()):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


def _backward_recursive(self):
    """micrograd's own build_topo: one Python call per node of the chain."""
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)
    build_topo(self)
    self.grad = 1.0
    for v in reversed(topo):
        v._backward()


_ORDER, _SEEN = [], set()  # a topological order kept at module level, never reset


def _backward_module_order(self):
    stack = [(self, False)]
    while stack:
        node, done = stack.pop()
        if done:
            _ORDER.append(node)
        elif node not in _SEEN:
            _SEEN.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
    self.grad = 1.0
    for v in reversed(_ORDER):
        v._backward()


class EngineWithTopoStack(Engine):
    """An engine whose order comes from Kahn's algorithm (in-degrees and a queue) instead of a depth-first walk."""

    def topo(self):
        nodes, stack = {self}, [self]
        while stack:
            for child in stack.pop()._prev:
                if child not in nodes:
                    nodes.add(child)
                    stack.append(child)
        users = {node: 0 for node in nodes}
        for node in nodes:
            for child in node._prev:
                users[child] += 1
        ready, order = [self], []
        while ready:
            node = ready.pop()
            order.append(node)
            for child in node._prev:
                users[child] -= 1
                if users[child] == 0:
                    ready.append(child)
        return order[::-1]


class EngineWithSlopes(Engine):
    """Local slopes stored on the node at construction, one generic _backward (tinygrad's Function style)."""

    def _node(self, data, parents, slopes, op):
        out = type(self)(data, parents, op)

        def _backward():
            for parent, slope in zip(parents, slopes, strict=True):
                parent.grad += slope * out.grad
        out._backward = _backward
        return out

    def __add__(self, other):
        other = self._lift(other, type(self))
        return self._node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = self._lift(other, type(self))
        return self._node(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, k):
        return self._node(self.data**k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    def exp(self):
        e = math.exp(self.data)
        return self._node(e, (self,), (e,), "exp")

    def tanh(self):
        t = math.tanh(self.data)
        return self._node(t, (self,), (1 - t * t,), "tanh")

    def relu(self):
        return self._node(max(self.data, 0.0), (self,), (float(self.data > 0),), "relu")


def engine(name, **methods):
    return type(name, (Engine,), methods)


def _mul(scale):
    def __mul__(self, other):
        other = self._lift(other, type(self))
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += scale * other.data * out.grad
            other.grad += scale * self.data * out.grad
        out._backward = _backward
        return out
    return __mul__


def _mul_overwriting(self, other):
    other = self._lift(other, type(self))
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = other.data * out.grad
        other.grad = self.data * out.grad
    out._backward = _backward
    return out


def _add_overwriting(self, other):
    other = self._lift(other, type(self))
    out = type(self)(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = out.grad
        other.grad = out.grad
    out._backward = _backward
    return out


def _backward_seeded_twice(self):
    self.grad = 2.0
    for v in reversed(self.topo()):
        v._backward()


def _backward_in_topological_order(self):
    self.grad = 1.0
    for v in self.topo():
        v._backward()


def _exp_slope_doubled(self):
    out = type(self)(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += 2 * out.data * out.grad
    out._backward = _backward
    return out


def _exp_overwriting(self):
    out = type(self)(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad = out.data * out.grad  # = where += belongs: a share that reached self before is lost
    out._backward = _backward
    return out


def _relu_overwriting(self):
    out = type(self)(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad = (1.0 if self.data > 0 else 0.0) * out.grad
    out._backward = _backward
    return out


def _tanh_without_square(self):
    t = math.tanh(self.data)
    out = type(self)(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t) * out.grad
    out._backward = _backward
    return out


def _pow_k_minus_one_lost(self, k):
    out = type(self)(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data**k * out.grad
    out._backward = _backward
    return out


def _neuron(xs, ws, b):
    act = sum((wi * xi for wi, xi in zip(ws, xs, strict=False)), b)
    return act.tanh()


def _neuron_sigmoid(xs, ws, b):
    act = sum((wi * xi for wi, xi in zip(ws, xs, strict=False)), b)
    return 1 / (1 + (-act).exp())


def _neuron_negated(xs, ws, b):
    act = sum((wi * xi for wi, xi in zip(ws, xs, strict=False)), b)
    return act.tanh() * -1


def neuron_entry(neuron):
    """What check() gets for ``neuron`` with the micrograd-style engine; the grader's cell defines both."""
    run = neuron_gradients(neuron, Engine)
    run.neuron, run.value_class = neuron, Engine
    return run


def _neuron_reduce(xs, ws, b):
    total = b
    for w, x in zip(ws, xs, strict=True):
        total = w * x + total
    return total.tanh()


def _neuron_by_exp(xs, ws, b):
    """tanh written with exp, as micrograd's lecture first does: (e^2x - 1) / (e^2x + 1)."""
    act = sum((wi * xi for wi, xi in zip(ws, xs, strict=False)), b)
    e = (2 * act).exp()
    return (e - 1) / (e + 1)


WRONG = [
    wrong(L, "graph_gradients", "db/dy taken as +1", lambda x, y: ((x - y) + (x + y), (x - y) + (x + y)),
          registered="minus sign lost"),
    wrong(L, "graph_gradients", "partials swapped", lambda x, y: (-2 * y, 2 * x), names=("holds the value of",)),
    wrong(L, "graph_gradients", "both negated", lambda x, y: (-2 * x, 2 * y), names=("negated",)),
    wrong(L, "graph_gradients", "a local derivative dropped", lambda x, y: (x - y, -(x + y))),
    wrong(L, "value_add_mul", "product gradients overwritten with =",
          engine("Overwrite", __mul__=_mul_overwriting, __rmul__=_mul_overwriting)),
    wrong(L, "value_add_mul", "every gradient overwritten with =",
          engine("OverwriteAll", __mul__=_mul_overwriting, __rmul__=_mul_overwriting, __add__=_add_overwriting,
                 __radd__=_add_overwriting), registered="= instead of +="),
    wrong(L, "value_add_mul", "product rule doubled", engine("Doubled", __mul__=_mul(2.0), __rmul__=_mul(2.0)),
          names=("twice",)),
    wrong(L, "value_add_mul", "product gradient negated", engine("Negated", __mul__=_mul(-1.0), __rmul__=_mul(-1.0)),
          names=("negated",)),
    wrong(L, "backward", "seeded with 2", engine("SeedTwo", backward=_backward_seeded_twice), names=("twice",)),
    wrong(L, "backward", "micrograd's recursive build_topo", engine("Recursive", backward=_backward_recursive),
          names=("RecursionError", "recursion limit")),
    wrong(L, "backward", "a module-level order, never reset", engine("ModuleOrder", backward=_backward_module_order),
          names=("kept between calls",)),
    wrong(L, "backward", "inputs first", engine("InputsFirst", backward=_backward_in_topological_order),
          registered="order not reversed"),
    wrong(L, "more_operations", "exp's slope doubled", engine("ExpTwice", exp=_exp_slope_doubled), names=("twice",)),
    wrong(L, "more_operations", "tanh' = 1 - t", engine("TanhLinear", tanh=_tanh_without_square)),
    # a mutation sweep's survivors: no check reused the input of exp or relu elsewhere
    wrong(L, "more_operations", "exp's gradient overwritten with =", engine("ExpOverwrites", exp=_exp_overwriting),
          names=("x used five times",)),
    wrong(L, "more_operations", "relu's gradient overwritten with =", engine("ReluOverwrites", relu=_relu_overwriting),
          names=("x used five times",)),
    wrong(L, "more_operations", "power rule keeps k", engine("PowK", __pow__=_pow_k_minus_one_lost),
          registered="power rule without -1"),
    wrong(L, "derived_operations", "negation forgotten", engine("NoNeg", __neg__=lambda self: self * 1)),
    wrong(L, "derived_operations", "division turned around",
          engine("DivBack", __truediv__=lambda self, other: other * self**-1), registered="div swapped"),
    wrong(L, "neuron", "sigmoid neuron", neuron_entry(_neuron_sigmoid)),
    wrong(L, "neuron", "output negated", neuron_entry(_neuron_negated), names=("negated",)),
    wrong(L, "neuron", "bias left out of the graph", neuron_entry(lambda xs, ws, b: _neuron(xs, ws, 0.0)),
          names=("ignores its argument `b`",)),
]

CORRECT = [
    correct(L, "graph_gradients", "as an array", lambda x, y: np.array([2 * x, -2 * y])),
    correct(L, "graph_gradients", "by the backward pass, as a list",
            lambda x, y: [(x - y) * 1 + (x + y) * 1, (x - y) * 1 + (x + y) * -1]),
    correct(L, "value_add_mul", "micrograd-style engine", Engine),
    correct(L, "backward", "micrograd-style engine", Engine),
    correct(L, "more_operations", "micrograd-style engine", Engine),
    correct(L, "derived_operations", "micrograd-style engine", Engine),
    correct(L, "neuron", "micrograd's Neuron, one of them", neuron_entry(_neuron)),
    correct(L, "graph_gradients", "by the product rule on (x + y)(x - y)",
            lambda x, y: ((x - y) + (x + y), (x - y) - (x + y))),
    correct(L, "value_add_mul", "Kahn's order", EngineWithTopoStack),
    correct(L, "value_add_mul", "slopes stored on the node", EngineWithSlopes),
    correct(L, "backward", "Kahn's order", EngineWithTopoStack),
    correct(L, "backward", "slopes stored on the node", EngineWithSlopes),
    correct(L, "more_operations", "Kahn's order", EngineWithTopoStack),
    correct(L, "more_operations", "slopes stored on the node", EngineWithSlopes),
    correct(L, "derived_operations", "Kahn's order", EngineWithTopoStack),
    correct(L, "derived_operations", "slopes stored on the node", EngineWithSlopes),
    correct(L, "neuron", "a loop from the bias", neuron_entry(_neuron_reduce)),
    correct(L, "neuron", "tanh by exp, micrograd's lecture", neuron_entry(_neuron_by_exp)),
]
