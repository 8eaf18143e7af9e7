"""A scalar reverse-mode engine: the `Value` that lesson 02's exercises build, finished.

Each `Value` holds one number, its gradient, the values it was computed from and a closure that
adds its gradient times each local derivative into theirs (``+=``: a value used twice gets both
shares). ``backward()`` runs the closures in reversed topological order, found without recursion.
Lesson 02 trains a small network with it; the exercise checks compare the learner's class with
it, and the known mistakes are variants of it.
"""

from __future__ import annotations

import math


def topological_order(root) -> list:
    """Every node reachable from root, each after all of its children (iteratively: no recursion limit)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
    return order


class Value:
    """A number that remembers how it was computed, so that gradients can flow back through it."""

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def _wrap(self, other):
        return other if isinstance(other, type(self)) else type(self)(other)

    def __add__(self, other):
        other = self._wrap(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self):
        """Set d(self)/d(self) = 1 and add d(self)/d(node) into the grad of every node self depends on."""
        order = topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __pow__(self, k):
        out = type(self)(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, value, slope, op):
        out = type(self)(value, (self,), op)

        def _backward():
            self.grad += slope(out) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        return self._unary(math.exp(self.data), lambda out: out.data, "exp")

    def tanh(self):
        return self._unary(math.tanh(self.data), lambda out: 1 - out.data**2, "tanh")

    def relu(self):
        return self._unary(max(self.data, 0.0), lambda out: float(self.data > 0), "relu")

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __rsub__(self, other):
        return self._wrap(other) + (-self)

    def __truediv__(self, other):
        return self * self._wrap(other) ** -1

    def __rtruediv__(self, other):
        return self._wrap(other) * self**-1
