"""Gradient checks: full, sampled, directional (with localisation), layers, and symbolic."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from coursekit.feedback.batched import in_one_trip, run_steps
from coursekit.feedback.widened import made_dtype
from coursekit.gradcheck import messages, reading
from coursekit.gradcheck.diagnosis import diagnose
from coursekit.gradcheck.numerical import EPS, Counted, as_float64, central_differences, step
from coursekit.gradcheck.report import ElementError, GradientReport, LayerReport

WORST = 5  # wrong elements shown in a failure report (and located by the directional check)
FULL_CHECK_LIMIT = 4096  # check_layer checks arrays up to this size element by element
SCREEN_DIRECTIONS = 3  # random directions of a screening check (see ``screening``)


def _tolerance(a, n, rtol: float, atol: float, noise) -> np.ndarray:
    """How far analytic ``a`` and numerical ``n`` may differ: relative, absolute, and rounding noise."""
    return atol + rtol * np.maximum(np.abs(a), np.abs(n)) + noise


def _rounding_noise(up, down, h) -> np.ndarray:
    """The rounding error of a central difference: a few eps of f's size, divided by the step."""
    return 16 * EPS * np.maximum(np.abs(up), np.abs(down)) / h


def _relative_error(a, n) -> np.ndarray:
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), np.finfo(np.float64).tiny)


def _guarded(grad_f: Callable, x: np.ndarray, name: str):
    """Call ``grad_f(x)``; return (gradient, problem) where problem names a write into ``x``."""
    before = x.copy()
    grad = grad_f(x)
    problem = None if np.array_equal(x, before, equal_nan=True) else messages.MUTATED.format(what=name)
    x[...] = before
    return grad, problem


def _shape_problem(grad: np.ndarray, expected: tuple, name: str) -> str | None:
    if grad.shape == expected:
        return None
    text = messages.SHAPE.format(name=name, got=grad.shape, expected=expected)
    transposed = len(expected) == 2 and grad.shape == expected[::-1]
    return text + (str(messages.SHAPE_TRANSPOSED) if transposed else "")


def _prepare(grad_f, x, name):
    """A float64 copy of x, the analytic gradient (mutation-guarded), and an early failing report if any."""
    x = as_float64(x, name).copy()
    grad, mutated = _guarded(grad_f, x, name)
    if grad is None:
        return x, None, GradientReport(name, False, messages.RETURNED_NONE.format(name=name))
    grad = as_float64(grad, messages.GRADIENT_OF.format(name=name))
    problems = [p for p in (mutated, _shape_problem(grad, x.shape, name)) if p]
    if not problems and not np.isfinite(grad).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(grad))[0])
        problems.append(messages.NOT_FINITE.format(name=name, index=list(where)))
    if problems:
        return x, grad, GradientReport(name, False, problems[0], notes=problems[1:])
    return x, grad, None


def _compare(f: Callable, analytic: np.ndarray, x: np.ndarray, name: str, flat: np.ndarray, *,
             rtol: float, atol: float, counted: Counted, data_shape: tuple | None = None,
             explain: Mapping[str, np.ndarray] | None = None) -> GradientReport:
    """Compare ``analytic`` with central differences at the flat indices ``flat`` (kink-aware).

    ``explain`` names arrays of x's shape whose values at the wrong elements the report shows and relates them
    to (see ``reading``).
    """
    diffs = central_differences(counted, x, flat)
    a, n = analytic.reshape(-1)[flat], diffs.slopes
    noise = _rounding_noise(diffs.up, diffs.down, diffs.steps)
    bad = np.abs(a - n) > _tolerance(a, n, rtol, atol, noise)
    kinked = np.zeros_like(bad)
    if bad.any():
        left, right = diffs.one_sided(float(counted(x)))
        gap = np.abs(left - right) > 10 * _tolerance(left, right, rtol, atol, noise)
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        slack = _tolerance(lo, hi, rtol, atol, noise)
        kinked = bad & gap & (a >= lo - slack) & (a <= hi + slack)
    wrong = bad & ~kinked
    rel = _relative_error(a, n)
    context = {label: np.asarray(values, dtype=np.float64).reshape(-1)[flat]
               for label, values in (explain or {}).items() if np.shape(values) == x.shape}

    def rows_for(mask: np.ndarray) -> list[ElementError]:
        positions = np.flatnonzero(mask)
        positions = positions[np.argsort(-rel[positions], kind="stable")][:WORST]
        return [ElementError(name, _index(int(flat[p]), x.shape), float(a[p]), float(n[p]), float(rel[p]),
                             (float(left[p]), float(right[p])) if kinked[p] else None,
                             tuple((label, float(values[p])) for label, values in context.items()))
                for p in positions]

    notes = []
    kink_where = reading.kink_region(kinked, context)
    if wrong.any():
        whole = flat.size == x.size and np.array_equal(flat, np.arange(x.size)) and not kinked.any()
        shape = x.shape if data_shape is None else data_shape
        found = (diagnose(analytic, n.reshape(x.shape), shape=shape) if whole
                 else diagnose(a[~kinked], n[~kinked], shape=shape))
        notes = [found] if found else []
        summary, explained = reading.read(name, a, n, wrong, kinked, size=x.size, context=context)
        if not explained:  # values of x and dout that explain nothing would only crowd the table
            context = {}
    else:
        summary = messages.PASSED.format(name=name, checked=flat.size, size=x.size, evaluations=counted.calls)
    rows = rows_for(wrong) + rows_for(kinked)
    return GradientReport(name, not wrong.any(), summary, rows=rows, notes=notes, evaluations=counted.calls,
                          wrong=int(wrong.sum()), kinks=int(kinked.sum()),
                          kink_where=kink_where)


def _index(flat_index: int, shape: tuple) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def check_gradient(f: Callable[[np.ndarray], float], grad_f: Callable[[np.ndarray], np.ndarray], x, *,
                   name: str = "x", rtol: float = 1e-5, atol: float = 1e-8,
                   data_shape: tuple | None = None,
                   explain: Mapping[str, np.ndarray] | None = None) -> GradientReport:
    """Check every element of ``grad_f(x)`` against central differences of the scalar ``f``.

    Shape-strict, kink-aware and guarded against writes into ``x``; costs 2 evaluations of f
    per element. Returns a report; ``.assert_ok()`` raises AssertionError with it unless passed.
    ``data_shape`` (default: x's shape) is the data whose axis lengths may explain a wrong factor
    (a sum over the batch where the lesson takes the mean). ``explain`` (default: x itself, under ``name``)
    names arrays of x's shape that a failure report relates the wrong elements to ("all where x < 0") and
    shows beside them.
    """
    x, grad, early = _prepare(grad_f, x, name)
    if early is not None:
        return early
    if _SCREENING.get() and x.size > SCREEN_DIRECTIONS:  # see ``screening``: in doubt, go on to every element
        quick = _screen(f, lambda _: grad, x, name=name, rtol=rtol, atol=atol, seed=0)
        if quick.passed:
            return quick
    return _compare(f, grad, x, name, np.arange(x.size), rtol=rtol, atol=atol, counted=Counted(f),
                    data_shape=data_shape, explain={name: x} if explain is None else explain)


def check_gradient_sampled(f, grad_f, x, *, k: int = 20, seed: int = 0, name: str = "x",
                           rtol: float = 1e-5, atol: float = 1e-8) -> GradientReport:
    """Like check_gradient, at ``k`` seeded random elements only (about 2k evaluations)."""
    x, grad, early = _prepare(grad_f, x, name)
    if early is not None:
        return early
    flat = np.sort(np.random.default_rng(seed).choice(x.size, size=min(k, x.size), replace=False))
    return _compare(f, grad, x, name, flat, rtol=rtol, atol=atol, counted=Counted(f), explain={name: x})


@dataclass(frozen=True)
class Direction:
    """grad·v against the numerical directional derivative along one direction v."""

    analytic: float
    numerical: float
    tolerance: float

    @property
    def wrong(self) -> bool:
        return abs(self.analytic - self.numerical) > self.tolerance

    @property
    def excess(self) -> float:
        """How many tolerances apart the two values are."""
        return abs(self.analytic - self.numerical) / self.tolerance


class _DirectionalProbe:
    """Directional derivatives of f at x along random vectors restricted to flat blocks."""

    def __init__(self, f: Counted, x: np.ndarray, grad: np.ndarray, rtol: float, atol: float):
        self.f, self.x, self.grad, self.rtol, self.atol = f, x, grad, rtol, atol
        self.flat_x, self.flat_grad = x.reshape(-1), grad.reshape(-1)

    def _step(self, weights: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, float]:
        """The direction v (weights on elements [start, stop), 0 elsewhere) and its step h."""
        v = np.zeros(self.x.size)
        v[start:stop] = weights[start:stop]
        return v, float(step(np.max(np.abs(self.flat_x[start:stop])))) / max(float(np.max(np.abs(v))), 1e-300)

    def _points(self, v: np.ndarray, h: float) -> list[np.ndarray]:
        return [(self.flat_x + h * v).reshape(self.x.shape), (self.flat_x - h * v).reshape(self.x.shape)]

    def along_each(self, directions: list[np.ndarray]) -> list[Direction]:
        """``along`` for each of ``directions``, their first evaluations in one go (one round trip to a sandbox)."""
        steps = [self._step(weights, 0, self.x.size) for weights in directions]
        values = self.f.many([point for v, h in steps for point in self._points(v, h)])
        return [self.along(weights, first=(values[2 * i], values[2 * i + 1])) for i, weights in enumerate(directions)]

    def along(self, weights: np.ndarray, start: int = 0, stop: int | None = None,
              shrinks: tuple[float, ...] = (1.0, 0.1), first: tuple | None = None) -> Direction:
        """Compare grad·v with (f(x+hv) - f(x-hv)) / 2h, v = weights on elements [start, stop), 0 elsewhere.

        A disagreement is measured again with a step 10 times smaller: a step that crossed a kink
        (some ReLU unit among thousands) stops disagreeing, a wrong gradient does not. ``first``: f's two values
        at the first shrink, when already known.
        """
        stop = self.x.size if stop is None else stop
        v, h = self._step(weights, start, stop)
        terms = self.flat_grad[start:stop] * weights[start:stop]
        analytic = float(np.sum(terms))
        for index, shrink in enumerate(shrinks):
            known = first if index == 0 and first is not None else self.f.many(self._points(v, shrink * h))
            up, down = (float(value) for value in known)
            numerical = (up - down) / (2 * shrink * h)
            # A random-weight sum of the terms is typically as large as their 2-norm: compare to that.
            size = max(abs(analytic), abs(numerical), float(np.linalg.norm(terms)))
            found = Direction(analytic, numerical,
                              self.atol + self.rtol * size + float(_rounding_noise(up, down, shrink * h)))
            if not found.wrong:
                break
        return found

    def locate(self, weights: np.ndarray, limit: int) -> list[int]:
        """Flat indices of up to ``limit`` wrong elements, by halving the blocks that disagree.

        The halves of a block use the block's own weights, so their disagreements add up to the
        block's: at least one half carries half of it, and is followed even when both halves
        stay below their tolerance.
        """
        found, stack = [], [(0, self.x.size)]
        while stack and len(found) < limit:
            start, stop = stack.pop()
            if stop - start == 1:
                found.append(start)
                continue
            middle = (start + stop) // 2
            halves = [(start, middle), (middle, stop)]
            # Only the small step: a kink crossed by the large one would send the search astray.
            results = [self.along(weights, lo, hi, shrinks=(0.1,)) for lo, hi in halves]
            follow = [half for half, result in zip(halves, results, strict=True) if result.wrong]
            if not follow:
                follow = [max(zip(halves, results, strict=True), key=lambda pair: pair[1].excess)[0]]
            stack.extend(reversed(follow))  # the left half first, so indices come out in order
        return sorted(found)


def check_gradient_directional(f, grad_f, x, *, directions: int = 3, seed: int = 0, name: str = "x",
                               rtol: float = 1e-5, atol: float = 1e-8, locate: bool = True) -> GradientReport:
    """Compare grad·v with the numerical directional derivative along a few seeded random v.

    Costs 2 evaluations of f per direction, whatever the size of x (4 when a first step crossed a
    kink and had to be confirmed with a smaller one). On failure it bisects x into
    blocks and follows the halves that disagree, so each wrong element is found with about
    4·log2(N) evaluations instead of the 2N of a full check.
    """
    x, grad, early = _prepare(grad_f, x, name)
    if early is not None:
        return early
    counted, rng = Counted(f), np.random.default_rng(seed)
    probe = _DirectionalProbe(counted, x, grad, rtol, atol)
    # Gaussian, not ±1, weights: equal errors in two elements cannot cancel exactly.
    directions_drawn = [rng.standard_normal(x.size) for _ in range(directions)]
    results = probe.along_each(directions_drawn)
    failing = [(weights, result) for weights, result in zip(directions_drawn, results, strict=True) if result.wrong]
    if not failing:
        summary = messages.DIRECTIONAL_OK.format(name=name, directions=directions, evaluations=counted.calls,
                                                 full=2 * x.size)
        return GradientReport(name, True, summary, evaluations=counted.calls)
    first = failing[0][1]
    summary = messages.DIRECTIONAL_FAILED.format(name=name, bad=len(failing), directions=directions,
                                                 analytic=first.analytic, numerical=first.numerical)
    notes = []
    if len(failing) == directions:
        found = diagnose(np.array([r.analytic for r in results]), np.array([r.numerical for r in results]))
        notes = [found] if found else []
    if not locate:
        return GradientReport(name, False, summary, notes=notes, evaluations=counted.calls)
    suspects: list[int] = []
    for weights, _ in failing:
        # An element whose weight happens to be tiny along one direction hides there: each further failing
        # direction is checked again without the elements found so far, and searched if it still disagrees.
        rest = weights.copy()
        rest[suspects] = 0.0
        if suspects and not probe.along(rest).wrong:
            continue
        suspects += [index for index in probe.locate(rest, WORST - len(suspects)) if index not in suspects]
        if len(suspects) >= WORST:
            break
    suspects = np.array(sorted(suspects), dtype=int)
    located = _compare(f, grad, x, name, suspects, rtol=rtol, atol=atol, counted=counted)
    wrong_rows = [row for row in located.rows if row.kink is None]
    details = [messages.LOCATED.format(found=len(wrong_rows), evaluations=counted.calls, full=2 * x.size)
               if wrong_rows else messages.NOT_LOCATED.format(evaluations=counted.calls)]
    return GradientReport(name, False, summary, rows=located.rows, notes=notes, evaluations=counted.calls,
                          details=details)


def same_gradient(got, reference: np.ndarray, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    """True when ``got`` is a float64 array of ``reference``'s shape, within a tolerance 10,000 times tighter than a
    numerical check's: a gradient that a trusted, numerically checked reference computed then needs no check of its
    own. False for anything else (a proxy, a list, another dtype, NaN), which the numerical check then examines."""
    return (type(got) is np.ndarray and made_dtype(got) == np.float64 and got.shape == np.shape(reference)
            and bool(np.allclose(got, reference, rtol=rtol, atol=atol)))


def value_and_gradient(func: Callable, *rest) -> tuple[Callable, Callable]:
    """For ``func(x, *rest) -> (value, gradient)``, as the course's losses return them: the two functions of x that
    ``check_gradient`` takes. The first evaluates many points in one go (``f.many``) where ``func`` can: a learner's
    function in the grader's sandbox answers them all in one round trip instead of one each."""
    def value(x):
        return func(x, *rest)[0]

    def gradient(x):
        return func(x, *rest)[1]

    def many(points: list) -> list:
        calls = [(point, *rest) for point in points]
        results = in_one_trip(func, calls)
        return [result[0] for result in (results if results is not None else [func(*call) for call in calls])]

    value.many = many
    return value, gradient


def set_parameter(layer, name: str, value: np.ndarray) -> None:
    """Write a parameter back through the layer, whichever way it holds its parameters.

    An autograder proxy writes it inside the sandbox (``_coursekit_write_param``).
    In place into the layer's own array when ``params`` hands out the real arrays (a plain dict,
    or a property building a fresh dict of them); else by item assignment into ``params``; else,
    when ``params`` hands out copies (as a sandbox proxy does), by assigning a whole updated dict.
    """
    writer = getattr(type(layer), "_coursekit_write_param", None)
    if writer is not None:
        writer(layer, name, value)
        return
    current = layer.params[name]
    if isinstance(current, np.ndarray) and current.flags.writeable and current.shape == value.shape:
        current[...] = value
        if np.array_equal(layer.params[name], value):
            return
    params = layer.params
    params[name] = value
    if not np.array_equal(layer.params[name], value):
        layer.params = {**params, name: value}


_SCREENING = contextvars.ContextVar("coursekit_gradcheck_screening", default=False)


@contextlib.contextmanager
def screening() -> Iterator[None]:
    """Within this block, ``check_gradient`` first checks along a few random directions, and element by element
    only when they disagree (for the report's diagnosis, exactly as without screening); ``check_layer`` first
    checks its input and all its parameters together that way, then each array.

    For the autograder, where every evaluation of a student's function is a round trip to the sandbox: a right
    gradient costs about 6 evaluations instead of 2 per element of every array. The directions are judged 1,000
    times more strictly than elements are: an error in one element shows in a direction's derivative with a
    random weight and against the whole gradient's size, so it is diluted (at 100 times, a network's bias off by
    1e-6 where its whole gradient's size was 9.5 passed); any doubt falls back to the next step. Central
    differences of a float64 loss are good to about 1e-10 of its size, so this is still far above their noise.
    """
    token = _SCREENING.set(True)
    try:
        yield
    finally:
        _SCREENING.reset(token)


def _screen(f, grad_f, x, *, name, rtol, atol, seed) -> GradientReport:
    """The screening check: SCREEN_DIRECTIONS random directions, judged 1,000 times more strictly than elements."""
    return check_gradient_directional(f, grad_f, x, name=name, rtol=rtol / 1000, atol=atol / 1000, seed=seed,
                                      locate=False, directions=SCREEN_DIRECTIONS)


def _check_any_size(f, grad_f, x, *, name, rtol, atol, seed, data_shape, explain) -> GradientReport:
    """Element by element for small arrays, by random directions (then bisection) for large ones."""
    if np.size(x) <= FULL_CHECK_LIMIT:
        return check_gradient(f, grad_f, x, name=name, rtol=rtol, atol=atol, data_shape=data_shape,
                              explain=explain)
    return check_gradient_directional(f, grad_f, x, name=name, rtol=rtol, atol=atol, seed=seed)


def check_layer(layer, x, *, seed: int = 0, rtol: float = 1e-5, atol: float = 1e-8) -> LayerReport:
    """Check a layer's backward: the input gradient and every parameter's, against central differences.

    The layer follows the course convention: ``forward(x)``, ``backward(dout) -> dx``, and
    ``params``/``grads`` dicts with the same keys. The scalar checked is sum(forward(x) * dout)
    for a seeded random ``dout``; backward must not write into ``dout``. Arrays larger than
    FULL_CHECK_LIMIT elements are checked by random directions.
    """
    x = as_float64(x, "x")
    out = as_float64(layer.forward(x.copy()), messages.OUTPUT_OF_FORWARD)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout_given = dout.copy()
    dx, grads, params = _backward_and_read(layer, dout_given)
    notes = [] if np.array_equal(dout, dout_given) else [messages.MUTATED.format(what="dout")]
    grads = {key: None if value is None else as_float64(value, f"grads[{key!r}]").copy()
             for key, value in dict(grads).items()}
    params = {key: as_float64(value, f"params[{key!r}]").copy() for key, value in dict(params).items()}
    missing = [key for key in params if key not in grads]
    notes += [messages.GRAD_MISSING.format(key=key) for key in missing]

    def loss_of(out) -> float:
        return _weighted_sum(out, dout)

    def loss_of_input(x_new: np.ndarray) -> float:
        return loss_of(layer.forward(x_new.copy()))

    forward_many = getattr(layer.forward, "many", None)  # a learner's layer in the grader's sandbox
    if callable(forward_many):  # its evaluations in one round trip instead of one each
        loss_of_input.many = lambda points: [loss_of(out) for out in forward_many([(p.copy(),) for p in points])]

    if _SCREENING.get() and not notes:
        screened = _screen_jointly(layer, x, dout, dx, params, grads, rtol=rtol, atol=atol, seed=seed)
        if screened is not None:
            return LayerReport(screened)
    # dx is explained by the signs of x and of dout (a ReLU mask, taken from the right array or not).
    reports = {"x": _check_any_size(loss_of_input, lambda _: dx, x, name="dx", rtol=rtol, atol=atol, seed=seed,
                                   data_shape=x.shape, explain={"x": x, "dout": dout})}
    for key, original in params.items():
        if key in missing:
            continue

        def loss_of_param(p: np.ndarray, key=key) -> float:
            set_parameter(layer, key, p)
            return loss_of(layer.forward(x.copy()))

        try:
            reports[key] = _check_any_size(loss_of_param, lambda _, key=key: grads[key], original,
                                           name=f"d{key}", rtol=rtol, atol=atol, seed=seed, data_shape=x.shape,
                                           explain={})
        finally:
            set_parameter(layer, key, original)
    failing = [key for key, report in reports.items() if not report.passed]
    if failing and all(key.split(".")[-1] == "b" for key in failing):
        for key in failing:
            reports[key].notes.append(str(messages.DIAG_BIAS))
    else:
        notes += _where_in_the_stack(reports)
    return LayerReport(reports, notes)


def _weighted_sum(out, dout: np.ndarray) -> float:
    """sum(out * dout), the scalar a layer check differentiates. An output whose shape is not that of the first
    forward's is refused before it is multiplied: (1, N) against (N, 1) broadcasts to N x N (a layer in the grader's
    sandbox made it allocate gigabytes so, from a reply of 100 kB)."""
    if np.shape(out) != dout.shape:
        raise ValueError(messages.FORWARD_SHAPE_CHANGED.format(got=np.shape(out), expected=dout.shape))
    return float(np.sum(out * dout))


def _backward_and_read(layer, dout: np.ndarray) -> tuple:
    """``layer.backward(dout)``, then its ``grads`` and ``params`` as read right after: in one round trip for a layer
    in the grader's sandbox (whose exception, if it raises, is raised here as the call's would be)."""
    return tuple(run_steps([(layer, "backward", (dout,)), (layer, "grads", None), (layer, "params", None)]))


def _screen_jointly(layer, x, dout, dx, params, grads, *, rtol, atol, seed) -> dict[str, GradientReport] | None:
    """Under ``screening``: the input and every parameter perturbed together along random directions, with the
    screen's strict tolerance. The reports of a layer that passes; None when in doubt (each array is then
    checked on its own). For a proxy, each evaluation writes every parameter (posted, no wait) and calls
    forward once: a deep network costs a few round trips instead of a few per parameter."""
    keys = list(params)
    pairs = [(x, dx), *((params[key], grads.get(key)) for key in keys)]
    if not keys or any(not isinstance(g, np.ndarray) or np.shape(g) != a.shape for a, g in pairs):
        return None
    bounds = np.cumsum([0, *(a.size for a, _ in pairs)])
    point = np.concatenate([a.ravel() for a, _ in pairs])
    gradient = np.concatenate([g.ravel() for _, g in pairs])

    def split(z: np.ndarray) -> list[np.ndarray]:
        return [z[bounds[i]:bounds[i + 1]].reshape(a.shape).copy() for i, (a, _) in enumerate(pairs)]

    def loss(z: np.ndarray) -> float:
        parts = split(z)
        for key, value in zip(keys, parts[1:], strict=True):
            set_parameter(layer, key, value)
        return _weighted_sum(layer.forward(parts[0]), dout)

    # A layer in the grader's sandbox evaluates many points in one round trip: ``forward.many(calls, params=...)``
    # sets the layer's parameters to params[i] before calls[i] (the protocol a proxy implements for this check).
    forward_many = getattr(layer.forward, "many", None)
    if callable(forward_many):
        def loss_many(points: list[np.ndarray]) -> list[float]:
            split_points = [split(z) for z in points]
            outs = forward_many([(parts[0],) for parts in split_points],
                                params=[dict(zip(keys, parts[1:], strict=True)) for parts in split_points])
            return [_weighted_sum(out, dout) for out in outs]

        loss.many = loss_many

    try:
        joint = _screen(loss, lambda _: gradient, point, name="all", rtol=rtol, atol=atol, seed=seed)
    finally:
        for key in keys:
            set_parameter(layer, key, params[key])
    if not joint.passed:
        return None
    names = ["dx", *(f"d{key}" for key in keys)]
    return {key: GradientReport(name, True, messages.JOINT_OK.format(name=name, directions=SCREEN_DIRECTIONS,
                                                                     evaluations=joint.evaluations),
                                evaluations=joint.evaluations)
            for key, name in zip(["x", *keys], names, strict=True)}


def _where_in_the_stack(reports: dict[str, GradientReport]) -> list[str]:
    """For layers stacked as "<index>.<name>" parameters: the layers between the right and the wrong ones."""
    layers: dict[int, bool] = {}
    for key, report in reports.items():
        index, _, rest = key.partition(".")
        if rest and index.isdigit():
            layers[int(index)] = layers.get(int(index), True) and report.passed
    wrong = [index for index, passed in layers.items() if not passed]
    if not wrong:
        return []
    deepest_wrong = max(wrong)
    right_above = [index for index, passed in layers.items() if passed and index > deepest_wrong]
    if not right_above:
        return [messages.STACK_TOP.format(bad=deepest_wrong)]
    return [messages.STACK_BETWEEN.format(bad=deepest_wrong, ok=min(right_above))]


def check_symbolic(expr, var, claimed, *, reveal: bool = False) -> GradientReport:
    """Check with SymPy that ``claimed`` is the derivative of ``expr`` with respect to ``var``.

    A wrong claim is shown against the true derivative's value at a few points; the true
    expression itself only with ``reveal=True`` (so an exercise's check does not give it away).
    """
    import sympy as sp  # imported here: SymPy takes half a second to import, and only this check needs it

    expr, claimed = sp.sympify(expr), sp.sympify(claimed)
    truth = sp.diff(expr, var)
    if sp.simplify(truth - claimed) == 0:
        return GradientReport(str(var), True, messages.SYMBOLIC_OK.format(var=var, expr=expr, claimed=claimed))
    if reveal:
        return GradientReport(str(var), False, messages.SYMBOLIC_BAD_REVEALED.format(
            var=var, expr=expr, truth=truth, claimed=claimed, difference=sp.simplify(truth - claimed)))
    rows = []
    for point in SYMBOLIC_POINTS:
        try:
            true_value, claimed_value = (complex(e.subs(var, point).evalf()) for e in (truth, claimed))
        except (TypeError, ValueError):  # undefined there (a pole, 1/0): try the next point
            continue
        if abs(true_value - claimed_value) > 1e-9 * max(1.0, abs(true_value)):
            rows.append(messages.SYMBOLIC_AT.format(var=var, point=point, truth=_real(true_value),
                                                    claimed=_real(claimed_value)))
    text = messages.SYMBOLIC_BAD.format(var=var, expr=expr, claimed=claimed)
    return GradientReport(str(var), False, text, details=rows[:3])


SYMBOLIC_POINTS = (0.7, -1.3, 2.1, 0.0)  # where a wrong symbolic derivative is shown to differ


def _real(value: complex) -> str:
    return f"{value.real:.6g}" if abs(value.imag) < 1e-12 else f"{value:.6g}"
