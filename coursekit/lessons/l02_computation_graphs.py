"""Lesson 02's exercise set: graph gradients by hand, and a scalar reverse-mode engine built in steps.

The engine exercises are checked through scenarios: small graphs built with the learner's
`Value` class whose values and gradients are compared with those of a reference engine
(below) that is never shown to the learner. Known mistakes are variants of that engine.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from coursekit.engine import Value, topological_order
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.batched import chained
from coursekit.feedback.compare import type_name
from coursekit.feedback.properties import Property
from coursekit.feedback.relations import Diagnosis
from coursekit.gradcheck import numerical_gradient
from coursekit.i18n import N_

exercises = ExerciseSet(N_("02 Computation graphs"))
# The library's engine is this lesson's Value, and its topological order the heart of exercise 3's backward()
exercises.withhold("coursekit.engine:Value", "coursekit.engine:topological_order")
# The grader's tests build graphs with the learner's Value objects and plain numbers (1 + v * 2).
exercises.declare("Value", arithmetic=True)

# ---------------------------------------------------------------- 1. local gradients by hand
POINTS = [(3.0, 1.0), (-2.0, 0.5), (0.3, -4.0), (1.5, 1.5)]

exercises.add(Exercise(
    "graph_gradients",
    cases=POINTS,
    expected=[(2 * x, -2 * y) for x, y in POINTS],
    diagnosis=Diagnosis(reference=lambda x, y: (2 * x, -2 * y), arguments=("x", "y"),
                        parts=(N_("your df/dx"), N_("your df/dy"))),
    mistakes=[
        Mistake(N_("one path only"), lambda x, y: (x - y, x - y),
                N_("only the path through a = x + y is there. x and y also reach f through b = x - y: "
                   "add the contribution of that path too.")),
        Mistake(N_("minus sign lost"), lambda x, y: (2 * x, 2 * x),
                N_("df/dy has the wrong sign on the path through b = x - y: the local derivative db/dy is -1.")),
        Mistake(N_("paths multiplied"), lambda x, y: ((x - y) * (x + y), -(x - y) * (x + y)),
                N_("you multiplied the contributions of the two paths. Where paths meet, they add.")),
    ],
    hints=[
        N_("Name the intermediate values: a = x + y, b = x - y, f = a * b."),
        N_("Multiplication swaps its inputs: df/da = b and df/db = a. Addition and subtraction pass the "
           "gradient on with local derivatives +1 (and -1 for the subtracted input)."),
        N_("df/dx collects one term from a and one from b: each is the gradient of that node times its local "
           "derivative with respect to x. The same for y, with the sign of b = x - y."),
    ],
))


# ---------------------------------------------------------------- the reference engine
# coursekit.engine.Value is the finished engine (the lesson trains a network with it); the scenarios compare the
# learner's class with it, and the known mistakes are variants of it.
_Value = Value
_topological = topological_order


def _variant(name: str, **methods) -> type:
    """The reference engine with some methods replaced: a known mistake."""
    return type(name, (_Value,), methods)


# ---------------------------------------------------------------- scenarios
Scenario = Callable[[type], dict[str, float]]


def _by_hand(*nodes):
    """Call _backward on nodes in the order given, the first seeded with gradient 1 (no backward() yet)."""
    nodes[0].grad = 1.0
    for node in nodes:
        node._backward()


def _sum_and_product(V):
    a, b = V(2.0), V(-3.0)
    c = a * b
    d = c + V(10.0)
    _by_hand(d, c)
    return {"d.data": d.data, "a.grad": a.grad, "b.grad": b.grad}


def _constants(V):
    a = V(4.0)
    t = 3 * a
    c = t + 1
    b = c * 2
    _by_hand(b, c, t)
    return {"b.data": b.data, "a.grad": a.grad}


def _reused_by_hand(V):
    a, b = V(2.0), V(-3.0)
    c = a * b
    d = c + a          # a reaches d twice: directly and through c
    _by_hand(d, c)
    return {"d.data": d.data, "a.grad": a.grad, "b.grad": b.grad}


def _a_plus_a_by_hand(V):
    a = V(5.0)
    b = a + a
    _by_hand(b)
    return {"b.data": b.data, "a.grad": a.grad}


def _a_times_a_by_hand(V):
    a = V(-1.5)
    b = a * a
    _by_hand(b)
    return {"b.data": b.data, "a.grad": a.grad}


def _difference_of_squares(V):
    x, y = V(3.0), V(1.0)
    a = x + y
    b = x + y * -1
    f = a * b
    f.backward()
    return {"f.data": f.data, "x.grad": x.grad, "y.grad": y.grad}


def _diamond(V):
    x = V(0.5)
    a, b = x * 3, x * x
    c = a * b + a      # a is used twice, after b
    c.backward()
    return {"c.data": c.data, "x.grad": x.grad}


def _a_plus_a(V):
    a = V(5.0)
    b = a + a
    b.backward()
    return {"a.grad": a.grad}


def _fresh_graphs(V):
    grads = []
    for _ in range(2):
        x = V(2.0)
        y = x * x * x
        y.backward()
        grads.append(x.grad)
    return {N_("x.grad (first graph)"): grads[0], N_("x.grad (second graph)"): grads[1]}


def _long_chain(V, depth=300):
    x = V(1.0)
    y = chained(x, [("__mul__", 1.001), ("__add__", 0.0)], depth)  # y = y * 1.001 + 0.0, depth times
    y.backward()
    return {"x.grad": x.grad}


def _powers(V):
    x = V(1.7)
    y = x**3 + x**-2 + x**0.5
    y.backward()
    return {"y.data": y.data, "x.grad": x.grad}


def _exp_tanh(V):
    x = V(0.6)
    y = x.exp() * x.tanh()
    y.backward()
    return {"y.data": y.data, "x.grad": x.grad}


def _relu_both_sides(V):
    a, b, c = V(1.3), V(-0.7), V(0.0)
    y = a.relu() * 2 + b.relu() * 3 + c.relu() * 5
    y.backward()
    return {"y.data": y.data, "a.grad": a.grad, "b.grad": b.grad, N_("c.grad (ReLU at 0)"): c.grad}


def _every_operation_on_one_node(V):
    x = V(0.8)
    y = x.exp() + x.relu() + x.tanh() + x**2 + x  # each _backward runs after another share reached x.grad
    y.backward()
    return {"y.data": y.data, "x.grad": x.grad}


def _derived(V):
    x, y = V(3.0), V(-2.0)
    z = (x - y) / (y - 4) + (-x) + 1 / x - (2 - y) + x / 2
    z.backward()
    return {"z.data": z.data, "x.grad": x.grad, "y.grad": y.grad}


def _neuron_like(V):
    w, x, b = V(-0.4), V(2.0), V(0.3)
    out = (w * x + b).tanh()
    out.backward()
    return {"out.data": out.data, "w.grad": w.grad, "x.grad": x.grad, "b.grad": b.grad}


# ---------------------------------------------------------------- generic diagnoses of an operation
# A slope off by a simple factor in one operation's _backward compounds unevenly across the scenarios (once per
# use of the operation on a path), so no single factor relates the results: the reference engine with that one
# slope scaled does. Likewise for an operation built from others that returns the wrong sign.
SLOPE_FACTORS = {2.0: N_("twice the right one (a factor 2 too many)"),
                 0.5: N_("half the right one (a factor 2 missing)"), -1.0: N_("negated (its sign is flipped)")}
SLOPE_OFF = N_("the local derivative in the _backward of `{op}` is {how}")
SIGN_OFF = N_("`{op}` returns the negated result: a minus sign lost or added")


def _slope_scaled(method: Callable, factor: float) -> Callable:
    """``method`` (an operation of the reference engine) whose _backward passes back ``factor`` times the slope."""
    def operation(self, *args):
        out = method(self, *args)
        inner = out._backward

        def _backward():
            upstream = out.grad
            out.grad = factor * upstream
            inner()
            out.grad = upstream
        out._backward = _backward
        return out
    return operation


def _sign_flipped(method: Callable) -> Callable:
    return lambda self, *args: method(self, *args) * -1


def _operation_points(probe: Callable, slopes: dict, signs: dict) -> dict:
    """Diagnosis points: description -> the probe of the reference engine with one operation off."""
    points = {}
    for op, methods in slopes.items():
        for factor, how in SLOPE_FACTORS.items():
            variant = _variant("Scaled", **{m: _slope_scaled(getattr(_Value, m), factor) for m in methods})
            points[SLOPE_OFF.bind(op=op, how=how)] = lambda variant=variant: probe(variant)
    for op, methods in signs.items():
        variant = _variant("Flipped", **{m: _sign_flipped(getattr(_Value, m)) for m in methods})
        points[SIGN_OFF.bind(op=op)] = lambda variant=variant: probe(variant)
    return points


@functools.cache
def _expected(scenario: Scenario) -> dict:
    """What the reference engine gives in ``scenario``: the same for every check, so computed once (a grading process
    checks hundreds of submissions, and the 600 operations of the long chain cost 5 ms)."""
    return scenario(_Value)


def _engine_exercise(name: str, scenarios: list[Scenario], mistakes: list[Mistake], hints: list[str],
                     properties: list = (), slopes: dict | None = None, signs: dict | None = None) -> Exercise:
    """An exercise checked by running each scenario with the learner's class and the reference one; ``slopes``
    and ``signs`` name the operations it teaches (name -> the methods), for the diagnoses of one operation off."""

    def probe(cls) -> np.ndarray:
        return np.array([value for scenario in scenarios for value in scenario(cls).values()])

    def test(cls) -> str | None:
        if not isinstance(cls, type):
            return N_("pass your class itself, Value, not {kind}").format(kind=type_name(cls))
        for scenario in scenarios:
            expected, got = _expected(scenario), scenario(cls)
            for key, value in expected.items():
                mine = got[key]
                if not (isinstance(mine, (int, float)) and math.isclose(mine, value, rel_tol=1e-9, abs_tol=1e-12)):
                    about = scenario.__doc__ or scenario.__name__.strip("_").replace("_", " ")
                    return N_("in the scenario {scenario}: {key} is {mine!r}, expected {value:.6g}").format(
                        scenario=about, key=key, mine=mine, value=value)
        return None

    points = _operation_points(probe, slopes or {}, signs or {})
    return Exercise(name, test=test, probe=probe, mistakes=mistakes, hints=hints,
                    diagnosis=Diagnosis(reference=_Value, points=points), properties=properties)


_sum_and_product.__doc__ = N_("d = a*b + 10 with a = 2, b = -3")
_constants.__doc__ = N_("b = (3*a + 1) * 2, with plain numbers mixed in")
_reused_by_hand.__doc__ = N_("d = a*b + a (a used twice)")
_a_plus_a_by_hand.__doc__ = N_("b = a + a")
_a_times_a_by_hand.__doc__ = N_("b = a * a")
_difference_of_squares.__doc__ = N_("f = (x + y)(x - y) at x = 3, y = 1")
_diamond.__doc__ = N_("c = a*b + a with a = 3x, b = x*x")
_a_plus_a.__doc__ = N_("b = a + a, then b.backward()")
_fresh_graphs.__doc__ = N_("two fresh graphs y = x*x*x, each with its own backward()")
_long_chain.__doc__ = N_("a chain of 600 operations")
_powers.__doc__ = N_("y = x**3 + x**-2 + x**0.5")
_exp_tanh.__doc__ = N_("y = exp(x) * tanh(x)")
_relu_both_sides.__doc__ = N_("y = 2 relu(a) + 3 relu(b) + 5 relu(c), with c = 0")
_every_operation_on_one_node.__doc__ = N_("y = exp(x) + relu(x) + tanh(x) + x**2 + x (x used five times)")
_derived.__doc__ = N_("z = (x - y)/(y - 4) - x + 1/x - (2 - y) + x/2")
_neuron_like.__doc__ = N_("out = tanh(w*x + b)")


# ---------------------------------------------------------------- 2. + and * with backward closures
def _add_assign(self, other):
    other = self._wrap(other)
    out = type(self)(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = out.grad
        other.grad = out.grad
    out._backward = _backward
    return out


def _mul_assign(self, other):
    other = self._wrap(other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = other.data * out.grad
        other.grad = self.data * out.grad
    out._backward = _backward
    return out


def _mul_own_data(self, other):
    other = self._wrap(other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += self.data * out.grad
        other.grad += other.data * out.grad
    out._backward = _backward
    return out


def _mul_like_add(self, other):
    other = self._wrap(other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad
    out._backward = _backward
    return out


def _mul_without_upstream(self, other):
    other = self._wrap(other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data
        other.grad += self.data
    out._backward = _backward
    return out


_ASSIGNING = _variant("Assigning", __add__=_add_assign, __radd__=_add_assign, __mul__=_mul_assign,
                      __rmul__=_mul_assign)

exercises.add(_engine_exercise(
    "value_add_mul",
    [_sum_and_product, _constants, _reused_by_hand, _a_plus_a_by_hand, _a_times_a_by_hand],
    mistakes=[
        Mistake(N_("= instead of +="), _ASSIGNING,
                N_("a node used twice gets only one of its two contributions: its gradient is overwritten. "
                   "Accumulate with += in every _backward.")),
        Mistake(N_("own data"), _variant("OwnData", __mul__=_mul_own_data, __rmul__=_mul_own_data),
                N_("for out = a * b, d(out)/da is b, the OTHER input: a.grad += b.data * out.grad.")),
        Mistake(N_("mul like add"), _variant("MulLikeAdd", __mul__=_mul_like_add, __rmul__=_mul_like_add),
                N_("multiplication does not pass the gradient through unchanged (that is addition): "
                   "each input gets the other input's value times out.grad.")),
        Mistake(N_("upstream missing"), _variant("NoUpstream", __mul__=_mul_without_upstream,
                                             __rmul__=_mul_without_upstream),
                N_("the local derivative must be multiplied by the gradient arriving from above, out.grad.")),
    ],
    hints=[
        N_("_backward runs after out.grad is known; it adds out.grad times the local derivative into each input's "
           "grad. "
           "A node used twice gets two contributions, and the chain rule adds them: accumulate with +=, never assign."),
        N_("Addition: each input's local derivative is 1. Multiplication: each input's is the other input's value."),
        N_("Each closure is two lines, one per input, each of the form input.grad += (local derivative) * out.grad; "
           "in __mul__, self's line uses other.data."),
    ],
    slopes={"*": ("__mul__", "__rmul__"), "+": ("__add__", "__radd__")},
))


# ---------------------------------------------------------------- 3. topological order and backward()
def _backward_unsorted(self):
    self.grad = 1.0
    stack, seen = [self], set()
    while stack:  # depth-first from the top, without waiting for all of a node's users
        node = stack.pop()
        node._backward()
        for child in node._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)


def _backward_not_reversed(self):
    self.grad = 1.0
    for node in _topological(self):
        node._backward()


def _backward_unseeded(self):
    for node in reversed(_topological(self)):
        node._backward()


def _backward_every_path(self):
    self.grad = 1.0

    def visit(node):  # no memory of visited nodes: a shared node is run once per path
        node._backward()
        for child in node._prev:
            visit(child)
    visit(self)


# ---------------------------------------------------------------- properties of backward(), whatever the values
DEEP = 1500  # operations in a chain: deeper than Python's recursion limit (1,000); each costs the grader a message
DEEP_GRAPH = N_("backward() fails on a graph deeper than Python's recursion limit")
DEEP_GRAPH_DETAIL = (N_("on a chain of {depth} operations, x.grad is {got!r}, expected {expected:.6g}. Build the "
                        "topological order without recursion: an explicit stack and a set of seen nodes."))
DEEP_GRAPH_RAISED = (N_("backward() on a chain of {depth} operations raised RecursionError: a recursive walk goes one "
                        "call deeper per node. Build the order with an explicit stack of (node, children_done) pairs."))
FRESH_GRAPHS = N_("a second backward() changed the gradients of an earlier graph: is something kept between calls?")
FRESH_GRAPHS_DETAIL = (N_("after y1 = x1*x1*x1 and y1.backward(), then the same for a fresh x2, x1.grad went from "
                          "{before!r} to {after!r} and x2.grad is {second!r} (both should be 12). Keep the order and "
                          "the seen set inside backward(), built afresh at each call, never at module level."))


def _deep_chain(cls, depth: int = DEEP) -> str | None:
    x = cls(1.0)
    y = chained(x, [("__mul__", 1.0001)], depth)  # y = y * 1.0001, depth times: in the sandbox, one message
    try:
        y.backward()
    except RecursionError:
        return DEEP_GRAPH_RAISED.format(depth=depth)
    expected, got = 1.0001**depth, x.grad
    if not (isinstance(got, (int, float)) and math.isclose(got, expected, rel_tol=1e-9)):
        return DEEP_GRAPH_DETAIL.format(depth=depth, got=got, expected=expected)
    return None


def _graphs_independent(cls) -> str | None:
    x1 = cls(2.0)
    y1 = x1 * x1 * x1
    y1.backward()
    before = x1.grad
    x2 = cls(2.0)
    y2 = x2 * x2 * x2
    y2.backward()
    if not (x1.grad == before == x2.grad == 12.0):
        return FRESH_GRAPHS_DETAIL.format(before=before, after=x1.grad, second=x2.grad)
    return None


BACKWARD_PROPERTIES = [Property(DEEP_GRAPH, _deep_chain), Property(FRESH_GRAPHS, _graphs_independent)]


exercises.add(_engine_exercise(
    "backward",
    [_difference_of_squares, _diamond, _a_plus_a, _fresh_graphs, _long_chain],
    mistakes=[
        Mistake(N_("no topological order"), _variant("Unsorted", backward=_backward_unsorted),
                N_("a node's _backward ran before all of its users had added their contributions to its grad. "
                   "Sort the nodes topologically (each after everything it feeds into) and go in that order.")),
        Mistake(N_("order not reversed"), _variant("NotReversed", backward=_backward_not_reversed),
                N_("your order starts from the inputs. Backward must start at the output: reverse the "
                   "topological order.")),
        Mistake(N_("seed missing"), _variant("Unseeded", backward=_backward_unseeded),
                N_("every gradient stayed 0: the output's own gradient, dL/dL, must be set to 1 before the pass.")),
        Mistake(N_("every path"), _variant("EveryPath", backward=_backward_every_path),
                N_("a node reached along two paths ran its _backward twice. Visit each node once: keep a set of "
                   "the nodes already placed in the order.")),
    ],
    hints=[
        N_("First list the nodes so that every node comes after all of its children (_prev): a topological order."),
        N_("Then set self.grad = 1.0 and call _backward on each node, in the REVERSED order."),
        N_("Build the order without recursion (a chain of 5,000 nodes would exceed Python's recursion limit): "
           "an explicit stack of (node, children_done) pairs and a set of seen nodes."),
    ],
    properties=BACKWARD_PROPERTIES,
))


# ---------------------------------------------------------------- 4. more operations
def _pow_no_minus_one(self, k):
    out = type(self)(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data**k * out.grad
    out._backward = _backward
    return out


def _tanh_of_input(self):
    return self._unary(math.tanh(self.data), lambda out: 1 - self.data**2, "tanh")


def _exp_of_input_slope(self):
    return self._unary(math.exp(self.data), lambda out: self.data, "exp")


def _relu_at_zero_open(self):
    return self._unary(max(self.data, 0.0), lambda out: float(self.data >= 0), "relu")


exercises.add(_engine_exercise(
    "more_operations",
    [_powers, _exp_tanh, _relu_both_sides, _neuron_like, _every_operation_on_one_node],
    mistakes=[
        Mistake(N_("power rule without -1"), _variant("PowNoMinusOne", __pow__=_pow_no_minus_one),
                N_("d/dx x**k is k * x**(k - 1): the exponent drops by one.")),
        Mistake(N_("tanh' of the input"), _variant("TanhOfInput", tanh=_tanh_of_input),
                N_("tanh'(x) = 1 - tanh(x)**2: square the OUTPUT out.data, not the input.")),
        Mistake(N_("exp' is x"), _variant("ExpSlopeX", exp=_exp_of_input_slope),
                N_("the derivative of exp is exp itself: use out.data.")),
        Mistake(N_("relu' = 1 at 0"), _variant("ReluOpen", relu=_relu_at_zero_open),
                N_("at exactly 0 this course takes ReLU's slope to be 0: use data > 0, not >= 0.")),
    ],
    hints=[
        N_("Each new operation has one input, so its _backward adds one term: self.grad += (local slope) * out.grad."),
        N_("Local slopes: x**k -> k*x**(k-1); exp -> exp(x) = out.data; tanh -> 1 - out.data**2; "
           "relu -> 1 if x > 0 else 0."),
        N_("Each method builds out = Value(forward value, (self,), name) with math.exp or math.tanh of self.data, sets "
           "out._backward to a one-line closure with the slope of hint 2, and returns out."),
    ],
    slopes={"**": ("__pow__",), "exp": ("exp",), "tanh": ("tanh",), "relu": ("relu",)},
))


# ---------------------------------------------------------------- 5. - and / from existing operations
def _sub_as_add(self, other):
    return self + self._wrap(other)


def _rsub_swapped(self, other):
    return self + (-self._wrap(other))


def _div_swapped(self, other):
    return self._wrap(other) * self**-1


exercises.add(_engine_exercise(
    "derived_operations",
    [_derived],
    mistakes=[
        Mistake(N_("sub adds"), _variant("SubAdds", __sub__=_sub_as_add),
                N_("a - b is a + (-b): negate the second operand before adding.")),
        Mistake(N_("rsub swapped"), _variant("RsubSwapped", __rsub__=_rsub_swapped),
                N_("2 - y calls y.__rsub__(2): the result must be 2 - y, i.e. other + (-self), not self - other.")),
        Mistake(N_("div swapped"), _variant("DivSwapped", __truediv__=_div_swapped),
                N_("a / b is a * b**-1; you computed b / a.")),
    ],
    hints=[
        N_("No new _backward is needed: write each operation with +, * and ** that already know their gradients."),
        N_("-a is a * -1; a - b is a + (-b); a / b is a * b**-1."),
        N_("The r-versions get the plain number as `other`: 2 - y is y.__rsub__(2) = 2 + (-y), and 1 / x is "
           "x.__rtruediv__(1) = 1 * x**-1."),
    ],
    signs={"-x": ("__neg__",), "x - y": ("__sub__", "__rsub__"), "x / y": ("__truediv__", "__rtruediv__")},
))


# ---------------------------------------------------------------- 6. a neuron
NEURON_CASES = [
    ([1.0, -2.0], [0.5, 0.25], 0.1),
    ([0.3, 0.7, -1.1], [-1.2, 0.4, 0.9], -0.5),
    ([2.0], [1.5], 0.0),
]


def neuron_numpy(xs, ws, b) -> float:
    """tanh(w · x + b) with NumPy: the function the neuron exercise builds from Values."""
    return float(np.tanh(np.dot(ws, xs) + b))


def neuron_gradients(neuron: Callable, value_class: type) -> Callable:
    """A function of plain numbers (xs, ws, b) -> (output, dout/dws, dout/db), running ``neuron`` on Values."""

    def run(xs, ws, b):
        x_nodes = [value_class(x) for x in xs]
        w_nodes = [value_class(w) for w in ws]
        b_node = value_class(b)
        out = neuron(x_nodes, w_nodes, b_node)
        out.backward()
        return (out.data, [w.grad for w in w_nodes], b_node.grad)

    return run


def _numerical_neuron(xs, ws, b):
    """The expected (output, gradients), by central differences of the NumPy neuron."""
    theta = np.array([*ws, b], dtype=float)
    grads = numerical_gradient(lambda t: neuron_numpy(xs, t[:-1], t[-1]), theta)
    return (neuron_numpy(xs, ws, b), list(grads[:-1]), float(grads[-1]))


def _neuron_without_bias(xs, ws, b):
    s = float(np.dot(ws, xs))
    return (np.tanh(s), list((1 - np.tanh(s) ** 2) * np.array(xs)), float(1 - np.tanh(s) ** 2))


def _neuron_relu(xs, ws, b):
    s = float(np.dot(ws, xs) + b)
    return (max(s, 0.0), list(float(s > 0) * np.array(xs)), float(s > 0))


def _neuron_linear(xs, ws, b):
    return (float(np.dot(ws, xs) + b), list(map(float, xs)), 1.0)


exercises.add(Exercise(
    "neuron",
    cases=NEURON_CASES,
    expected=_numerical_neuron,
    rtol=1e-6, atol=1e-8,
    diagnosis=Diagnosis(parts=(N_("your output"), N_("your weight gradients"), N_("your bias gradient"))),
    mistakes=[
        Mistake(N_("bias missing"), _neuron_without_bias, N_("the bias b is missing from the sum w · x + b.")),
        Mistake(N_("relu"), _neuron_relu, N_("this neuron's activation is tanh, not ReLU.")),
        Mistake(N_("no activation"), _neuron_linear, N_("apply tanh to w · x + b.")),
    ],
    hints=[
        N_("Start from the bias and add one product w_i * x_i per input."),
        N_("Then apply .tanh() to the sum and return the result."),
        N_("Keep everything a Value: combine the Values themselves with + and *, never their .data, so that the graph "
           "records every step and backward() can reach ws and b."),
    ],
))
