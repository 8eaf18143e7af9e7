"""Lesson 03's exercise set: a stable sigmoid, its derivative, and three activation layers.

Layers are checked with coursekit.gradcheck.check_layer plus the course's conventions (empty
params/grads, ReLU'(0) = 0, dout left untouched). Known mistakes are recognised by a probe:
the output, the input gradient and what is left of dout for fixed data.
"""

from __future__ import annotations

import warnings

import numpy as np

from coursekit import nn
from coursekit.feedback import Exercise, ExerciseSet, Mistake
from coursekit.feedback.batched import in_one_trip
from coursekit.feedback.compare import type_name
from coursekit.feedback.properties import dtype_kept, inputs_kept, layer_properties, row_wise
from coursekit.feedback.relations import Diagnosis
from coursekit.gradcheck import check_layer
from coursekit.i18n import N_

exercises = ExerciseSet(N_("03 Activation derivatives"))
exercises.withhold("coursekit.nn:sigmoid", "coursekit.nn:Sigmoid", "coursekit.nn:Tanh", "coursekit.nn:ReLU",
                   "coursekit.nn:ACTIVATIONS", "coursekit.nn:OUTPUT_SLOPES")  # the library's layers and slopes

# ---------------------------------------------------------------- 1. a stable sigmoid
SIGMOID_POINTS = np.array([-1000.0, -50.0, -3.0, -0.5, 0.0, 0.25, 2.0, 40.0, 1000.0])
# The sigmoid's scale is 1: a correct formula such as 0.5 * (1 + tanh(x / 2)) computes sigmoid(-50) = 1.9e-22 as
# 1 - 1 = 0, off by far less than one rounding of 1. A few of those roundings is the absolute tolerance.
SIGMOID_FLOOR = 4 * np.finfo(np.float64).eps
INTEGERS = np.arange(-3, 4)


def _sigmoid_test(func) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning is a failure, not noise
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            # in one round trip in the grader; one call at a time elsewhere, or when one raised (found so, alone)
            outputs = in_one_trip(func, [(np.array([x]),) for x in SIGMOID_POINTS])
            for index, x in enumerate(SIGMOID_POINTS):
                try:
                    got = np.asarray(func(np.array([x])) if outputs is None else outputs[index], dtype=float)
                except (FloatingPointError, RuntimeWarning) as overflow:
                    return N_("at x = {x:g} the computation overflowed ({overflow})").format(x=x, overflow=overflow)
                expected = nn.sigmoid(np.array([x]))
                if got.shape != (1,):
                    return N_("for an array of shape (1,) the result has shape {got}").format(got=got.shape)
                if not np.allclose(got, expected, rtol=1e-12, atol=SIGMOID_FLOOR):
                    return N_("at x = {x:g} your sigmoid gives {got:.6g}, expected {expected:.6g}").format(
                        x=x, got=got[0], expected=expected[0])
    grid = np.linspace(-8, 8, 12).reshape(3, 4)
    if np.shape(func(grid)) != grid.shape:
        return N_("for an array of shape {shape} the result has shape {got}").format(
            shape=grid.shape, got=np.shape(func(grid)))
    # an array of integers is an array too: a result made in x's dtype (np.empty_like(x)) would round to 0 or 1
    given = INTEGERS.copy()
    got = np.asarray(func(given))
    if not np.array_equal(given, INTEGERS):
        return None  # written into x: the property "inputs kept", checked next, says so in its own words
    expected = nn.sigmoid(INTEGERS.astype(np.float64))
    if got.shape != INTEGERS.shape or not np.allclose(got, expected, rtol=1e-12, atol=SIGMOID_FLOOR):
        return N_("for the integer array np.arange(-3, 4) your sigmoid gives {got}, expected {expected}. Is your "
                  "result made in the dtype of x (np.empty_like(x), x.copy())? Make it a float array.").format(
            got=got, expected=expected.round(4))
    return None


def _naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _branches_swapped(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, e / (1 + e), 1 / (1 + e))


def _exp_over_one_plus_exp(x):
    return np.exp(x) / (1 + np.exp(x))


def _stacked(rows: list, count: int) -> np.ndarray:
    """The results of each row alone, stacked back into one batch (an elementwise function's result)."""
    return np.concatenate([np.asarray(row) for row in rows])


# an array where a huge value sits next to ordinary ones: each element must be computed on its own
MIXED = np.array([-1000.0, -3.0, 0.0, 0.5, 40.0, 1000.0])
GRID = np.array([[10.0, -10.0], [1.0, 2.0]])
ELEMENTWISE = [inputs_kept((MIXED,), (GRID,)), row_wise(_stacked, (MIXED,)), dtype_kept((MIXED,), (GRID,))]

def _sigmoid_probe(func) -> np.ndarray:
    """The learner's sigmoid at every test point, then at the integers (an array of their own: it is their dtype that
    a result can keep), overflows let through (a mistake is recognised by its values)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.concatenate([np.asarray(func(SIGMOID_POINTS.copy()), dtype=float),
                               np.asarray(func(INTEGERS.copy()), dtype=float)])


PROBE_POINTS = np.concatenate([SIGMOID_POINTS, INTEGERS])  # where the probe looks, in its order


exercises.add(Exercise(
    "stable_sigmoid",
    test=_sigmoid_test,
    probe=_sigmoid_probe,
    # functions the sigmoid is mistaken for, on the test points
    diagnosis=Diagnosis(reference=nn.sigmoid, siblings={
        N_("tanh(x): another S-shaped function, from -1 to 1 (the sigmoid goes from 0 to 1)"):
            lambda: np.tanh(PROBE_POINTS),
    }, points={
        N_("the formula for x >= 0 was used for every x: you computed sigmoid(|x|)"):
            lambda: nn.sigmoid(np.abs(PROBE_POINTS)),
    }),
    properties=ELEMENTWISE,
    mistakes=[
        Mistake(N_("naive"), _naive_sigmoid,
                N_("1 / (1 + exp(-x)) overflows for x = -1000: exp(1000) is too large for a float. Use exp(-|x|), "
                   "which is at most 1, in a form that suits each sign of x.")),
        Mistake(N_("exp over 1 + exp"), _exp_over_one_plus_exp,
                N_("exp(x) / (1 + exp(x)) is the right formula only for x < 0; for large positive x, exp(x) "
                   "overflows. Use it for negative x and 1 / (1 + exp(-x)) for the others.")),
        Mistake(N_("branches swapped"), _branches_swapped,
                N_("your branches are swapped: you computed sigmoid(-x). With e = exp(-|x|), the sigmoid is "
                   "1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.")),
    ],
    hints=[
        N_("For x >= 0, 1 / (1 + exp(-x)) is safe: exp(-x) <= 1. For x < 0 multiply top and bottom by exp(x)."),
        N_("Compute e = np.exp(-np.abs(x)), which never overflows; then sigmoid is 1/(1+e) for x >= 0 "
           "and e/(1+e) otherwise."),
        N_("One line does it: np.where with the condition x >= 0 picks, element by element, between the two forms "
           "of hint 2, both written with the same e."),
    ],
))

# ---------------------------------------------------------------- 2. the sigmoid's derivative
# the last far in the tails: exp(-x) overflows below x = -709, and the slope there is (all but) 0, never nan
GRAD_CASES = [(np.array([-3.0, -0.5, 0.0, 0.5, 3.0]),), (np.array([[10.0, -10.0], [1.0, 2.0]]),),
              (np.array([-1000.0, -710.0, -30.0, 30.0, 710.0, 1000.0]),)]

exercises.add(Exercise(
    "sigmoid_grad",
    cases=GRAD_CASES,
    expected=lambda x: nn.sigmoid(x) * (1 - nn.sigmoid(x)),
    rtol=1e-10, atol=1e-14,
    diagnosis=Diagnosis(points={
        N_("sigmoid' was applied to the output y = sigmoid(x): y * (1 - y) uses y itself, with no second sigmoid"):
            lambda x: nn.sigmoid(nn.sigmoid(x)) * (1 - nn.sigmoid(nn.sigmoid(x))),
    }),
    properties=ELEMENTWISE,
    mistakes=[
        Mistake(N_("x(1-x)"), lambda x: x * (1 - x),
                N_("y(1 - y) holds for the OUTPUT y = sigmoid(x). Compute y first, then y * (1 - y).")),
        Mistake(N_("y only"), lambda x: nn.sigmoid(x),
                N_("that is the sigmoid itself; its derivative is y * (1 - y).")),
        Mistake(N_("y(1-x)"), lambda x: nn.sigmoid(x) * (1 - x),
                N_("both factors use the output: y * (1 - y), with y = sigmoid(x).")),
    ],
    hints=[
        N_("Lesson 03, section 1: the derivative can be written with the sigmoid's own output y = sigmoid(x)."),
        N_("sigmoid'(x) = y (1 - y) with y = sigmoid(x). Compute y once, with your stable_sigmoid."),
        N_("Two lines: y from exercise 1, then the product of hint 2 (y itself, not x, in both factors)."),
    ],
))

# ---------------------------------------------------------------- 3-5. layers
_RNG = np.random.default_rng(30)
X = _RNG.standard_normal((4, 5))
X[0, :2] = 0.0  # exact zeros: the ReLU convention at its kink is part of the check
DOUT = _RNG.standard_normal((4, 5))


def _layer_probe(cls):
    layer = cls()
    out = layer.forward(X.copy())
    dout = DOUT.copy()
    dx = layer.backward(dout)
    return (out, dx, dout)


def _layer_test(reference_forward, relu=False):
    def test(cls) -> str | None:
        if not isinstance(cls, type):
            return N_("pass your class itself, not {kind}").format(kind=type_name(cls))
        layer = cls()
        if dict(layer.params) or dict(layer.grads):
            return N_("an activation layer has no parameters: params and grads must be empty dicts")
        out = np.asarray(layer.forward(X.copy()))
        if out.shape != X.shape or not np.allclose(out, reference_forward(X), rtol=1e-12, atol=1e-15):
            return N_("forward does not compute the activation of every element")
        report = check_layer(cls(), X)
        if not report.passed:
            return str(report)
        if relu:
            zero = cls()
            zero.forward(np.array([[-1.0, 0.0, 2.0]]))
            slope_at_zero = np.asarray(zero.backward(np.ones((1, 3))))[0, 1]
            if slope_at_zero != 0.0:
                return (N_("at x = 0 your ReLU passes the gradient on (slope 1). Both 0 and 1 are valid slopes at the "
                           "kink, and the gradient checker accepts either, but this course takes ReLU'(0) = 0: "
                           "use x > 0, not x >= 0."))
        return None
    return test


def _variant(base: type, backward) -> type:
    return type(f"{base.__name__}Variant", (base,), {"backward": backward})


def _sigmoid_in_place(self, dout):
    dout *= self.y * (1 - self.y)
    return dout


class _SigmoidOfInput(nn.Sigmoid):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * self.x * (1 - self.x)


def _sigmoid_slope_of_output(self, dout):
    y = nn.sigmoid(self.y)  # sigmoid' applied to the output instead of the input
    return dout * y * (1 - y)


def _tanh_slope_of_output(self, dout):
    return dout * (1 - np.tanh(self.y) ** 2)


def _relu_in_place(self, dout):
    dout[~self.positive] = 0
    return dout


class _ReluGreaterEqual(nn.ReLU):
    def forward(self, x):
        self.open = x >= 0
        return super().forward(x)

    def backward(self, dout):
        return dout * self.open


class _TanhOfInput(nn.Tanh):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * (1 - self.x**2)


def _tanh_in_place(self, dout):
    dout *= 1 - self.y**2
    return dout


LAYER_HINTS = {
    "Sigmoid": [
        N_("forward keeps y = sigmoid(x); backward multiplies dout by the local slope, elementwise."),
        N_("The local slope is y * (1 - y), with the y saved by forward."),
        N_("backward is one line: dout times the slope of exercise 2, written with self.y. Build a new array; "
           "never write into dout."),
    ],
    "ReLU": [
        N_("forward keeps the mask x > 0; backward lets dout through where the mask is True and gives 0 elsewhere."),
        N_("Use the strict x > 0: at exactly 0 this course takes the slope to be 0."),
        N_("backward is one line that builds a new array from dout and self.mask (np.where, or a product); never "
           "write into dout."),
    ],
    "Tanh": [
        N_("forward keeps y = tanh(x); backward multiplies dout by the local slope."),
        N_("The local slope is 1 - y**2, with the y saved by forward."),
        N_("backward is one line: dout times the slope of hint 2. Build a new array."),
    ],
}
# forward(x) and backward(dout) leave their arrays alone, a second pass agrees with the first, float64 stays
LAYER_PROPERTIES = layer_properties(lambda cls: cls(), X, DOUT)
IN_PLACE = (N_("backward wrote into dout. The caller may still need that array (another branch of the graph reads "
               "it), so build a new array: dout * slope, or np.where(mask, dout, 0.0)."))

LAYER_PARTS = (N_("the output of your forward"), N_("the dx of your backward"), N_("dout after your backward"))
exercises.add(Exercise(
    "Sigmoid", test=_layer_test(nn.sigmoid), probe=_layer_probe, hints=LAYER_HINTS["Sigmoid"],
    diagnosis=Diagnosis(reference=nn.Sigmoid, parts=LAYER_PARTS),
    properties=LAYER_PROPERTIES,
    mistakes=[
        Mistake(N_("x(1-x)"), _SigmoidOfInput,
                N_("the slope y(1 - y) uses the OUTPUT y = sigmoid(x) saved by forward, not the input x.")),
        Mistake(N_("in place"), _variant(nn.Sigmoid, _sigmoid_in_place), IN_PLACE),
        Mistake(N_("sigmoid' of the output"), _variant(nn.Sigmoid, _sigmoid_slope_of_output),
                N_("you applied sigmoid' to the output: sigmoid(y) * (1 - sigmoid(y)). The slope at the input x is "
                   "y * (1 - y), with y itself, no second sigmoid.")),
        Mistake(N_("dout forgotten"), _variant(nn.Sigmoid, lambda self, dout: self.y * (1 - self.y)),
                N_("the local slope must be multiplied by dout, the gradient arriving from above (chain rule).")),
    ],
))
exercises.add(Exercise(
    "ReLU", test=_layer_test(lambda x: np.maximum(x, 0.0), relu=True), probe=_layer_probe, hints=LAYER_HINTS["ReLU"],
    diagnosis=Diagnosis(reference=nn.ReLU, parts=LAYER_PARTS),
    properties=LAYER_PROPERTIES,
    mistakes=[
        Mistake(N_("in place"), _variant(nn.ReLU, _relu_in_place), IN_PLACE),
        Mistake(N_(">= at 0"), _ReluGreaterEqual,
                N_("at x = 0 your mask lets the gradient through. Either slope is a valid choice at the kink (the "
                   "gradient checker reports 'kink crossed' and accepts both), but this course uses x > 0.")),
        Mistake(N_("dout forgotten"), _variant(nn.ReLU, lambda self, dout: self.positive.astype(float)),
                N_("backward must return dout where x > 0, not the mask itself: multiply by dout.")),
    ],
))
exercises.add(Exercise(
    "Tanh", test=_layer_test(np.tanh), probe=_layer_probe, hints=LAYER_HINTS["Tanh"],
    diagnosis=Diagnosis(reference=nn.Tanh, parts=LAYER_PARTS),
    properties=LAYER_PROPERTIES,
    mistakes=[
        Mistake(N_("1 - x^2"), _TanhOfInput,
                N_("tanh'(x) = 1 - tanh(x)**2: square the OUTPUT y saved by forward, not the input x.")),
        Mistake(N_("tanh' of the output"), _variant(nn.Tanh, _tanh_slope_of_output),
                N_("you applied tanh' to the output: 1 - tanh(y)**2. The slope at the input is 1 - y**2, with y "
                   "itself.")),
        Mistake(N_("square missing"), _variant(nn.Tanh, lambda self, dout: dout * (1 - self.y)),
                N_("the slope is 1 - y**2: the square is missing.")),
        Mistake(N_("in place"), _variant(nn.Tanh, _tanh_in_place), IN_PLACE),
    ],
))
