"""Benchmark: bench_grading.py's mixed batch, graded by this tree and by an earlier commit, side by side.

For each lesson, the batch (by default 200 submissions: 60% correct, 25% partly wrong, 15% hostile) is graded by
the tree of ``--before`` (checked out in a temporary git worktree) and by this tree, alternately, ``--rounds`` times
each, with nbgrader on 20 correct submissions once a round when it is importable (the `bench` extra). It prints
the medians and each tree's ratio to nbgrader measured in the same sitting: on a shared machine, only figures
measured side by side compare. Each tree grades with its own code and its own masters (a process with that tree
first on the path); the submissions are made the same way for both, by this tree's bench_grading.

    python benchmarks/bench_grading_versions.py --before 497898a [--lessons 01_chain_rule 03_activations] [--rounds 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(path.stem for path in (ROOT / "solutions").glob("*.ipynb"))

# Run in a process of its own with the tree to measure first on sys.path: this tree's bench_grading, pointed at
# that tree's masters, grades with that tree's coursekit (imported from the path) and prints submissions per second.
_ONE_BATCH = """
import sys, tempfile, importlib.util
from pathlib import Path
tree, bench_file, lesson, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
spec = importlib.util.spec_from_file_location("bench_grading", bench_file)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
bench.ROOT = tree
submissions = bench.variants(lesson, count)
with tempfile.TemporaryDirectory() as folder:
    print(bench.ours(lesson, submissions, Path(folder))["rate"])
"""


def _bench_grading():
    spec = importlib.util.spec_from_file_location("bench_grading", ROOT / "benchmarks" / "bench_grading.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batch_rate(tree: Path, lesson: str, count: int) -> float:
    """Submissions per second of one mixed batch of ``lesson``, graded by ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", _ONE_BATCH, str(tree), str(ROOT / "benchmarks" / "bench_grading.py"),
                           lesson, str(count)], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the batch of {lesson} failed in {tree}:\n{done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with (any git revision)")
    parser.add_argument("--lessons", nargs="+", default=LESSONS)
    parser.add_argument("--rounds", type=int, default=2, help="batches of each tree per lesson (and nbgrader runs)")
    parser.add_argument("--count", type=int, default=200, help="submissions in a batch")
    args = parser.parse_args()
    bench = _bench_grading()
    table = Table(title=f"mixed batch per s: {args.before} and this tree, alternating, medians of {args.rounds}")
    for column in ("lesson", args.before, "now", "nbgrader per s", "ratios"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as scratch:
        before = Path(scratch) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(before), args.before],
                       check=True)
        try:
            for lesson in args.lessons:
                rates: dict[str, list[float]] = {"before": [], "now": [], "nbgrader": []}
                for round_ in range(args.rounds):
                    order = [("before", before), ("now", ROOT)]
                    for name, tree in order if round_ % 2 == 0 else order[::-1]:  # neither always goes first
                        rates[name].append(batch_rate(tree, lesson, args.count))
                    with tempfile.TemporaryDirectory() as folder:
                        theirs = bench.nbgrader_rate(lesson, 20, Path(folder))
                    if theirs is not None and "rate" in theirs:
                        rates["nbgrader"].append(theirs["rate"])
                old, new = statistics.median(rates["before"]), statistics.median(rates["now"])
                if rates["nbgrader"]:
                    theirs = statistics.median(rates["nbgrader"])
                    row = (f"{theirs:.2f}", f"{old / theirs:.0f}x -> {new / theirs:.0f}x")
                else:
                    row = ("not installed", "")
                table.add_row(lesson, f"{old:.1f}", f"{new:.1f}", *row)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
