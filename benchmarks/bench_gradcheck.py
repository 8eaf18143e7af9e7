"""Benchmark: gradient checks on an MLP with over a million parameters.

Prints, as medians over a few seeds: the directional check's time and function evaluations;
the same for a full element-by-element check, extrapolated from a timed sample; and, for an
error planted in one element, how many evaluations the directional check took to locate it.

    python benchmarks/bench_gradcheck.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from coursekit import nn
from coursekit.gradcheck import check_gradient_directional, check_gradient_sampled

SIZES = [784, 1024, 256, 10]  # 1,068,810 parameters
BATCH = 16


class FlatModel:
    """The MLP's loss and gradient as functions of one flat parameter vector."""

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        self.model = nn.mlp(SIZES, nn.ReLU, rng)
        self.x = rng.standard_normal((BATCH, SIZES[0]))
        self.labels = rng.integers(0, SIZES[-1], size=BATCH)
        self.keys = list(self.model.params)
        self.shapes = [self.model.params[key].shape for key in self.keys]
        self.theta = np.concatenate([self.model.params[key].ravel() for key in self.keys])

    def _load(self, theta: np.ndarray) -> None:
        offset, values = 0, {}
        for key, shape in zip(self.keys, self.shapes, strict=True):
            size = int(np.prod(shape))
            values[key] = theta[offset:offset + size].reshape(shape)
            offset += size
        self.model.params = values

    def loss(self, theta: np.ndarray) -> float:
        self._load(theta)
        return nn.softmax_cross_entropy(self.model.forward(self.x), self.labels)[0]

    def grad(self, theta: np.ndarray) -> np.ndarray:
        self._load(theta)
        _, dz = nn.softmax_cross_entropy(self.model.forward(self.x), self.labels)
        self.model.backward(dz)
        return np.concatenate([self.model.grads[key].ravel() for key in self.keys])


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def one_seed(seed: int, sample: int) -> dict[str, float]:
    flat = FlatModel(seed)
    n = flat.theta.size
    ok, t_dir = timed(lambda: check_gradient_directional(flat.loss, flat.grad, flat.theta, seed=seed))
    assert ok.passed, str(ok)
    sampled, t_sample = timed(lambda: check_gradient_sampled(flat.loss, flat.grad, flat.theta, k=sample, seed=seed))
    assert sampled.passed, str(sampled)
    per_eval = t_sample / sampled.evaluations
    # Plant an error in one element of typical size: double it.
    true_grad = flat.grad(flat.theta)
    nonzero = np.flatnonzero(np.abs(true_grad) > 0)
    planted = int(nonzero[np.argsort(np.abs(true_grad[nonzero]))[nonzero.size // 2]])

    def wrong(theta):
        g = flat.grad(theta)
        g[planted] *= 2
        return g

    bad, t_locate = timed(lambda: check_gradient_directional(flat.loss, wrong, flat.theta, seed=seed))
    located = [row for row in bad.rows if row.kink is None]
    found = len(located) == 1 and int(np.ravel_multi_index(located[0].index, flat.theta.shape)) == planted
    return {"params": n, "dir_time": t_dir, "dir_evals": ok.evaluations, "per_eval": per_eval,
            "full_evals": 2 * n, "full_time": 2 * n * per_eval, "locate_evals": bad.evaluations,
            "locate_time": t_locate, "found": float(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds to run (the medians are printed)")
    parser.add_argument("--sample", type=int, default=100, help="elements timed to extrapolate a full check")
    args = parser.parse_args()
    runs = [one_seed(seed, args.sample) for seed in range(args.repeats)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    table = Table(title=f"gradient checks on a {SIZES} MLP, {median['params']:,.0f} parameters "
                        f"(medians of {args.repeats} seeds)")
    for column in ("check", "function evaluations", "time"):
        table.add_column(column, justify="right" if column != "check" else "left")
    table.add_row("directional, 3 directions (passes)", f"{median['dir_evals']:,.0f}", f"{median['dir_time']:.3f} s")
    table.add_row("full, element by element (extrapolated)", f"{median['full_evals']:,.0f}",
                  f"{median['full_time']:,.0f} s = {median['full_time'] / 3600:.1f} h")
    table.add_row("directional + bisection, 1 planted error", f"{median['locate_evals']:,.0f}",
                  f"{median['locate_time']:.3f} s")
    console = Console()
    console.print(table)
    found = sum(run["found"] for run in runs)
    console.print(f"one evaluation of the loss: {median['per_eval'] * 1e3:.2f} ms; "
                  f"full / directional evaluations: {median['full_evals'] / median['dir_evals']:,.0f}x; "
                  f"planted error located exactly in {found:.0f} of {len(runs)} runs.")


if __name__ == "__main__":
    main()
