"""Benchmark: the course's MLP (coursekit.nn, the solution of lessons 05/06) against PyTorch on the CPU.

A 784-256-256-10 ReLU network, batch 128, softmax cross-entropy, in float32 and float64: forward
time, backward time, their ratio, and SGD training steps per second. When PyTorch is importable
(`.venv/bin/pip install torch==2.13.0`, a CPU build), the same network and batch run in PyTorch
in the same process, interleaved with ours, so that both see the same machine load. Medians.

    python benchmarks/bench_mlp.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from coursekit import nn, training

SIZES = [784, 256, 256, 10]
BATCH = 128
LR = 0.01
BLOCK = 10  # rounds each net runs in a row before the other takes its turn


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


class CoursekitNet:
    """The course's MLP at a given precision."""

    def __init__(self, dtype, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.model = nn.mlp(SIZES, nn.ReLU, rng)
        for key, value in self.model.params.items():
            self.model.params = {key: value.astype(dtype)}
        self.x = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
        self.labels = rng.integers(0, SIZES[-1], size=BATCH)
        self.dz = None

    def forward(self):
        _, self.dz = nn.softmax_cross_entropy(self.model.forward(self.x), self.labels)

    def backward(self):
        self.model.backward(self.dz)

    def step(self):
        self.forward()
        self.backward()
        training.sgd_step(self.model.params, self.model.grads, LR)


class TorchNet:
    """The same network and batch in PyTorch."""

    def __init__(self, dtype, seed: int = 0):
        import torch

        self.torch = torch
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 10)).to(dtype)
        rng = np.random.default_rng(seed)
        self.x = torch.tensor(rng.standard_normal((BATCH, SIZES[0])), dtype=dtype)
        self.labels = torch.tensor(rng.integers(0, SIZES[-1], size=BATCH))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.loss = None

    def forward(self):
        self.optimizer.zero_grad(set_to_none=True)
        self.loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.labels)

    def backward(self):
        self.loss.backward()

    def step(self):
        self.forward()
        self.backward()
        self.optimizer.step()


def measure(nets: list, repeats: int) -> list[dict[str, float]]:
    """Median forward and backward seconds and steps per second of each net, timed in alternation.

    The nets take turns in blocks of BLOCK rounds, so that a burst of load on the shared machine
    hits all of them alike, while each library's worker threads (NumPy's BLAS and PyTorch's each
    keep their own, spinning for a while after work) settle before its block is timed: the first
    round of each block is not counted. ``versus_last`` is the median over blocks of the last
    net's median step time divided by this one's.
    """
    for net in nets:
        for _ in range(5):  # warm-up: caches, allocator, thread pools
            net.step()
    times = [{"forward": [], "backward": [], "step": [], "blocks": []} for _ in nets]
    for _ in range(max(1, repeats // BLOCK)):
        for net, record in zip(nets, times, strict=True):
            net.step()  # settle this library's threads
            steps = []
            for _ in range(BLOCK):
                record["forward"].append(_timed(net.forward))
                record["backward"].append(_timed(net.backward))
                steps.append(_timed(net.step))
            record["step"] += steps
            record["blocks"].append(statistics.median(steps))
    results = []
    for record in times:
        f, b = statistics.median(record["forward"]), statistics.median(record["backward"])
        versus = statistics.median(a / s for a, s in zip(times[-1]["blocks"], record["blocks"], strict=True))
        results.append({"forward": f, "backward": b, "ratio": b / f, "steps": 1 / statistics.median(record["step"]),
                        "versus_last": versus})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed rounds per network (medians are printed)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    console = Console(width=120)
    table = Table(title=f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}: medians of {args.repeats} rounds")
    for column in ("implementation", "dtype", "forward ms", "backward ms", "backward/forward", "steps/s",
                   "speed vs PyTorch"):
        table.add_column(column, justify="left" if column in ("implementation", "dtype") else "right")
    for name, np_dtype in (("float32", np.float32), ("float64", np.float64)):
        nets = [CoursekitNet(np_dtype)] + ([TorchNet(getattr(torch, name))] if torch else [])
        results = measure(nets, args.repeats)
        labels = ["coursekit (NumPy)", "PyTorch CPU"]
        for label, result in zip(labels, results, strict=False):
            versus = f"{result['versus_last']:.2f}x" if torch else "n/a"
            table.add_row(label, name, f"{result['forward'] * 1e3:.2f}", f"{result['backward'] * 1e3:.2f}",
                          f"{result['ratio']:.2f}", f"{result['steps']:.0f}", versus)
    console.print(table)
    threads = torch.get_num_threads() if torch else "-"
    console.print(f"NumPy {np.__version__}; PyTorch {torch.__version__ if torch else 'not installed'} "
                  f"({threads} threads). Targets: backward/forward <= 2.5; steps/s >= 0.8x PyTorch.")


if __name__ == "__main__":
    main()
