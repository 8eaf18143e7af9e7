"""Benchmark: submissions graded per second on a Dask cluster of 1 and 2 workers, and locally, side by side.

Builds N distinct submissions of one lesson (solutions and untouched exercises, each with a line of its own),
then grades all of them with ``grade_items`` into a fresh gradebook, ROUNDS times per set-up, and prints the
median submissions per second of each: locally with one grading process and with the default two per core (a
warm sandbox server, as `coursekit grade` keeps), and on a local Dask cluster (``distributed.LocalCluster``,
worker processes of one thread each) of 1 and 2 workers, each worker warmed up by a first batch that is not
counted (its sandbox server, its masters). On one machine the cluster only adds its overhead (the scheduler, a
task per submission); across machines, each worker adds its cores.

    python benchmarks/bench_cluster.py [--count 40] [--rounds 3] [--lesson 07_efficiency]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from distributed import LocalCluster
from rich.console import Console
from rich.table import Table

from coursekit.assignment.notebooks import read_notebook
from coursekit.grading import cluster as grading_cluster
from coursekit.grading.batch import default_jobs, grade_items, sandbox_server
from coursekit.grading.gradebook import Gradebook
from coursekit.grading.intake import read_bytes
from coursekit.grading.master import load_master

ROOT = Path(__file__).resolve().parents[1]


def submissions(lesson: str, count: int) -> list[tuple[str, bytes]]:
    """(student, notebook bytes): two solutions for each untouched exercise, every one different."""
    notebooks = []
    for index in range(count):
        folder = "exercises" if index % 3 == 2 else "solutions"
        nb = read_notebook(ROOT / folder / f"{lesson}.ipynb")
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"student {index}"))
        notebooks.append((f"s{index:04d}", nbformat.writes(nb).encode()))
    return notebooks


def one_round(lesson: str, masters: dict, notebooks: list, **how) -> float:
    """Seconds to grade every notebook into a fresh gradebook."""
    items = [read_bytes(f"{student}.ipynb", raw, f"{lesson}--{student}.ipynb", "2024-05-01T10:00:00+00:00")
             for student, raw in notebooks]
    with tempfile.TemporaryDirectory() as folder, Gradebook(Path(folder) / "gradebook.sqlite") as book:
        start = time.perf_counter()
        outcomes = grade_items(items, masters, book, **how)
        seconds = time.perf_counter() - start
    assert all(outcome.grade is not None for outcome in outcomes), [o.reason for o in outcomes if o.grade is None]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lesson", default="07_efficiency")
    options = parser.parse_args()
    lesson, count = options.lesson, options.count
    masters = {lesson: load_master(ROOT / "solutions" / f"{lesson}.ipynb")}
    notebooks = submissions(lesson, count)
    rows = []

    def measure(name: str, **how) -> None:
        one_round(lesson, masters, notebooks[: max(2, count // 10)], **how)  # warm-up, not counted
        seconds = [one_round(lesson, masters, notebooks, **how) for _ in range(options.rounds)]
        rows.append((name, statistics.median(seconds), seconds))

    with sandbox_server(None, masters[lesson].modules()) as warm:
        measure("local, 1 grading process", jobs=1, sandbox=warm)
        measure(f"local, {default_jobs()} grading processes (the default)", sandbox=warm)
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=50) as local:
            measure(f"Dask cluster, {workers} worker{'s' if workers > 1 else ''} of 1 thread",
                    cluster=local.scheduler_address)
            grading_cluster.close_clients()

    table = Table(title=f"{count} submissions of {lesson}, {options.rounds} rounds, {os.cpu_count()} cores")
    for column in ("set-up", "submissions per second (median)", "seconds per round"):
        table.add_column(column)
    for name, median, seconds in rows:
        table.add_row(name, f"{count / median:.1f}", ", ".join(f"{s:.2f}" for s in seconds))
    Console().print(table)


if __name__ == "__main__":
    main()
