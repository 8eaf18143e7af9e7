"""Numerical derivatives by central differences, in float64, with a step matched to the precision."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coursekit.feedback.widened import made_dtype
from coursekit.gradcheck import messages

EPS = np.finfo(np.float64).eps


class Float32Warning(UserWarning):
    """Float32 data cannot be gradient-checked to useful precision."""


def as_float64(value, what=messages.THE_VALUE) -> np.ndarray:
    """``value`` as a float64 array; warn (with the reason) when it was float32."""
    array = np.asarray(value)
    if made_dtype(array) == np.float32:  # as the learner's code made it: the grader widens what it receives
        warnings.warn(messages.FLOAT32.format(what=what), Float32Warning, stacklevel=3)
    return array.astype(np.float64)


def step(x) -> np.ndarray | float:
    """The central-difference step: eps^(1/3) * max(1, |x|), balancing truncation and rounding error."""
    return EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))


def numerical_derivative(f: Callable[[float], float], x: float) -> float:
    """f'(x) for a scalar function of a scalar, by a central difference."""
    h = float(step(x))
    return float((f(x + h) - f(x - h)) / (2 * h))


def numerical_gradient(f: Callable[[np.ndarray], float], x, indices=None) -> np.ndarray:
    """The gradient of a scalar function of an array of any shape, element by element.

    Two evaluations of ``f`` per element; with ``indices`` only those (flat) elements are
    computed and the rest are NaN. ``x`` itself is never changed.
    """
    x = as_float64(x, "x")
    flat = np.arange(x.size) if indices is None else np.asarray(indices, dtype=int)
    grad = np.full(x.size, np.nan)
    grad[flat] = central_differences(f, x, flat).slopes
    return grad.reshape(x.shape)


@dataclass(frozen=True)
class Differences:
    """Values of f one step up and one step down along some elements, and the slopes they give."""

    up: np.ndarray
    down: np.ndarray
    steps: np.ndarray

    @property
    def slopes(self) -> np.ndarray:
        """Central differences (f(x+h) - f(x-h)) / 2h."""
        return (self.up - self.down) / (2 * self.steps)

    def one_sided(self, here: float) -> tuple[np.ndarray, np.ndarray]:
        """Left and right slopes, given f(x): they differ where an element sits on a kink."""
        return (here - self.down) / self.steps, (self.up - here) / self.steps


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, flat_indices) -> Differences:
    """Evaluate f one step up and one step down along each of the (flat) elements named."""
    flat_x = x.reshape(-1)
    indices = np.asarray(flat_indices, dtype=int)
    steps = step(flat_x[indices]).astype(np.float64)
    up, down = np.empty(indices.size), np.empty(indices.size)
    if answers_many(f):  # a function that answers many points at once (one round trip): 32 elements at a time
        for start in range(0, indices.size, BATCH):
            points = []
            for i, h in zip(indices[start:start + BATCH], steps[start:start + BATCH], strict=True):
                for sign in (1.0, -1.0):
                    point = x.copy()
                    point.reshape(-1)[i] = flat_x[i] + sign * h
                    points.append(point)
            values = [_scalar(value) for value in f.many(points)]
            up[start:start + len(points) // 2], down[start:start + len(points) // 2] = values[0::2], values[1::2]
        return Differences(up, down, steps)
    probe = x.copy()
    flat_probe = probe.reshape(-1)
    for k, (i, h) in enumerate(zip(indices, steps, strict=True)):
        flat_probe[i] = flat_x[i] + h
        up[k] = _scalar(f(probe))
        flat_probe[i] = flat_x[i] - h
        down[k] = _scalar(f(probe))
        flat_probe[i] = flat_x[i]
    if not np.array_equal(probe, x, equal_nan=True):
        raise ValueError(str(messages.F_MUTATED))
    return Differences(up, down, steps)


def _scalar(value) -> float:
    """``value`` as a float, with a plain error when a function meant to be scalar is not."""
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(messages.NOT_SCALAR.format(shape=array.shape))
    return float(array.reshape(()))


def jvp(f: Callable[[np.ndarray], np.ndarray], x, v) -> np.ndarray:
    """The directional derivative (Jacobian-vector product) J(x) v, from two evaluations of ``f``."""
    x, v = as_float64(x, "x"), as_float64(v, "v")
    norm = float(np.max(np.abs(v))) or 1.0
    h = float(step(np.max(np.abs(x), initial=0.0))) / norm
    up, down = np.asarray(f(x + h * v), dtype=np.float64), np.asarray(f(x - h * v), dtype=np.float64)
    if up.shape != down.shape:  # never broadcast: results of shapes (N, 1) and (1, N) would make N x N (red team Z)
        raise ValueError(messages.JVP_SHAPES.format(up=up.shape, down=down.shape))
    return (up - down) / (2 * h)


class Counted:
    """Wraps a function and counts its evaluations (to report what a check cost)."""

    def __init__(self, f: Callable):
        self.f, self.calls = f, 0

    def __call__(self, *args):
        self.calls += 1
        return self.f(*args)

    def many(self, points: list) -> list:
        """f at each of ``points``: in one go when f offers ``f.many`` (a layer in a sandbox answers them all in one
        round trip), else one by one."""
        self.calls += len(points)
        return evaluate_many(self.f, points)


BATCH = 32  # elements whose two evaluations go in one batch


def answers_many(f: Callable) -> bool:
    """True when ``f`` (or the function a Counted wraps) can evaluate many points in one call (``f.many``)."""
    inner = f.f if isinstance(f, Counted) else f
    return callable(getattr(inner, "many", None))


def evaluate_many(f: Callable, points: list) -> list:
    """[f(p) for p in points], through ``f.many`` when f has it."""
    many = getattr(f, "many", None)
    return list(many(points)) if callable(many) else [f(point) for point in points]
