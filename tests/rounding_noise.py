"""Rounding-level noise, to find printed outputs that another machine would print differently.

Another CPU or BLAS kernel adds numbers in another order and evaluates exp or tanh with
another last bit: results move by an ulp or so, and a long computation (training, a
difference quotient) can turn that into a changed printed digit. ``install()`` makes this
process behave like such a machine, in a random but seeded way:

- every float that a seeded ``np.random.default_rng`` draws moves by one ulp up or down;
- NumPy's transcendental functions (exp, log, tanh, sin, ...) return results one ulp off,
  up or down, element by element.

Like a real machine, it is consistent: the same value is always moved the same way (the
direction is a hash of the value's bits), so a computation repeated gives the same result.
A notebook run under it should print exactly what it printed without it.
"""

from __future__ import annotations

import functools

import numpy as np

NUDGED_FUNCTIONS = ("exp", "expm1", "log", "log1p", "tanh", "sinh", "cosh", "sin", "cos", "tan",
                    "arctan", "power", "float_power")
NUDGED_DRAWS = ("random", "standard_normal", "normal", "uniform", "standard_exponential", "exponential",
                "laplace", "logistic", "lognormal", "beta", "gamma", "standard_gamma", "standard_cauchy",
                "standard_t", "multivariate_normal")


def nudge(value, key: int):
    """``value`` with each float moved one ulp up or down, the direction a hash of its bits and ``key``."""
    if isinstance(value, float | np.floating):
        return type(value)(nudge(np.array(value, dtype=np.float64), key))
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
        bits = value.view(np.uint32 if value.dtype == np.float32 else np.uint64).astype(np.uint64)
        with np.errstate(over="ignore"):
            upward = ((bits * np.uint64(key)) >> np.uint64(63)).astype(bool)  # multiplicative hash, top bit
        # inf, nan and an exact 0 (exp's overflow and underflow) are the same on every machine
        moved = np.nextafter(value, np.where(upward, np.inf, -np.inf).astype(value.dtype))
        np.copyto(value, moved, where=np.isfinite(value) & (value != 0))
    return value


def _nudged_draw(method, key: int):
    @functools.wraps(method)
    def draw(self, *args, **kwargs):
        return nudge(method(self, *args, **kwargs), key)

    return draw


class _NudgedUfunc:
    """A NumPy ufunc whose calls are nudged; its methods (outer, reduce, ...) and attributes are the ufunc's own."""

    def __init__(self, ufunc: np.ufunc, key: int):
        self._ufunc, self._key = ufunc, key
        functools.update_wrapper(self, ufunc)

    def __call__(self, *args, **kwargs):
        return nudge(self._ufunc(*args, **kwargs), self._key)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_ufunc", "_key"):  # copy and pickle look these up before __init__
            raise AttributeError(name)
        return getattr(self._ufunc, name)

    def __deepcopy__(self, memo):
        return self


def install(seed: int = 0) -> None:
    """Make this process's NumPy compute like another machine's: one ulp of seeded noise (see module doc)."""
    key = int(np.random.Generator(np.random.PCG64(seed)).integers(1, 2**63)) * 2 + 1  # odd: a bijective hash
    methods = {name: _nudged_draw(getattr(np.random.Generator, name), key) for name in NUDGED_DRAWS}
    NoisyGenerator = type("Generator", (np.random.Generator,), methods)

    def default_rng(seed=None):
        if isinstance(seed, np.random.Generator):
            return seed
        return NoisyGenerator(np.random.PCG64(seed))

    np.random.default_rng = default_rng
    for name in NUDGED_FUNCTIONS:
        setattr(np, name, _NudgedUfunc(getattr(np, name), key))
