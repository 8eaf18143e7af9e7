"""Benchmark: grading throughput and latency, and the same correct submissions through nbgrader.

Generates N submissions of one lesson (correct, partly wrong, hostile), grades them all with
`grade_paths` (two grading processes per core), and prints submissions per second; then the
latency of one submission through the `coursekit grade` command (with the shared warm server,
and without), and in a running grader for every lesson (medians and p95 of repeated runs). When
nbgrader is importable (the `bench` extra), the correct submissions also go through
`nbgrader autograde` in the same run, and the throughput ratio is printed.

    python benchmarks/bench_grading.py [--count 200] [--lesson 07_efficiency] [--nbgrader-count 20]
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from coursekit.assignment.notebooks import read_notebook, write_notebook
from coursekit.grading.batch import grade_paths
from coursekit.grading.client import WarmServer
from coursekit.grading.gradebook import Gradebook
from coursekit.grading.grader import grade_notebook
from coursekit.grading.master import load_master

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ["while True:\n    pass", "import os\nos._exit(1)", "import os\nwhile True:\n    os.fork()",
           "print('x' * 10_000_000)", "import numpy\nnumpy.allclose = lambda *a, **k: True"]


def variants(lesson: str, count: int, last: str = "hostile") -> list[tuple[str, nbformat.NotebookNode]]:
    """(kind, notebook) for ``count`` submissions: 60% correct, 25% one solution broken, 15% ``last``: "hostile",
    or "untouched" (the exercise set as handed out)."""
    master = read_notebook(ROOT / "solutions" / f"{lesson}.ipynb")
    solution_ids = [c.metadata["nbgrader"]["grade_id"] for c in master.cells
                    if c.metadata.get("nbgrader", {}).get("solution")]
    untouched = read_notebook(ROOT / "exercises" / f"{lesson}.ipynb") if last == "untouched" else None
    out, hostile = [], 0
    for index in range(count):
        kind = "correct" if index % 20 < 12 else "partly wrong" if index % 20 < 17 else last
        nb = copy.deepcopy(untouched if kind == "untouched" else master)
        if kind == "partly wrong":
            broken = solution_ids[index % len(solution_ids)]
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == broken:
                    cell.source = broken_solution(cell.source)
        elif kind == "hostile":  # each attack in turn: loop, exit, fork bomb, big print, monkeypatch
            nb.cells.insert(2, nbformat.v4.new_code_cell(HOSTILE[hostile % len(HOSTILE)]))
            hostile += 1
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"student {index}"))  # every file differs
        out.append((kind, nb))
    return out


def broken_solution(source: str) -> str:
    """``source`` made wrong: its first return statement answers 0 times its value; one without a return (an update
    in place) has its first ``-=`` or ``+=`` reversed, or else its ``= 1.0`` (a seed) made ``= 0.0``. (A written
    answer, which is not graded, stays as it is.)"""
    for pattern, replacement in ((r"^(\s*)return\b", r"\1return 0 *"), (r"-=", "+="), (r"\+=", "-="),
                                 (r"= 1\.0\b", "= 0.0")):
        changed, count = re.subn(pattern, replacement, source, count=1, flags=re.MULTILINE)
        if count:
            return changed
    return source


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (the nearest rank); NaN when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def ours(lesson: str, submissions, folder: Path, jobs: int | None = None) -> dict:
    inbox = folder / "inbox"
    inbox.mkdir()
    for index, (_, nb) in enumerate(submissions):
        write_notebook(nb, inbox / f"{lesson}--s{index:04d}.ipynb")
    finished: list[float] = []
    with Gradebook(folder / "book.sqlite") as book:
        start = time.perf_counter()
        outcomes = grade_paths([inbox], ROOT / "solutions", book, settings=None, jobs=jobs,
                               progress=lambda outcome: finished.append(time.perf_counter()))
        seconds = time.perf_counter() - start
    graded = [o for o in outcomes if o.grade is not None]
    # once the workers are up: results per second between the first and the last one
    steady = (len(finished) - 1) / (finished[-1] - finished[0]) if len(finished) > 1 else float("nan")
    return {"count": len(graded), "seconds": seconds, "rate": len(graded) / seconds, "steady": steady,
            "per_submission": [o.grade.seconds for o in graded]}


def cli_latency(lesson: str, folder: Path, runs: int, keep_warm: bool) -> list[float]:
    """Seconds for `coursekit grade` on one submission, run after run (each a new command and gradebook).
    With keep_warm the first run starts the shared sandbox server (in a runtime folder of this benchmark)."""
    notebook = folder / f"{lesson}--latency.ipynb"
    write_notebook(read_notebook(ROOT / "solutions" / f"{lesson}.ipynb"), notebook)
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "COURSEKIT_RUNTIME_DIR": str(runtime)}
    flag = "--keep-warm" if keep_warm else "--no-keep-warm"
    times = []
    for run in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "coursekit", "grade", str(notebook), "--root", str(ROOT), flag,
                        "--gradebook", str(folder / f"latency-{flag}-{run}.sqlite")],
                       check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    subprocess.run([sys.executable, "-m", "coursekit", "sandbox", "stop"], check=True, capture_output=True, env=env)
    return times


def in_process_latency(lessons: list[str], runs: int) -> dict[str, list[float]]:
    """Seconds to grade each lesson's master as a submission, in a running grader with a warm server."""
    out = {}
    with WarmServer() as server:
        for lesson in lessons:
            master = load_master(ROOT / "solutions" / f"{lesson}.ipynb")
            nb = read_notebook(ROOT / "solutions" / f"{lesson}.ipynb")
            grade_notebook(nb, master, server)  # warm-up
            out[lesson] = [grade_notebook(nb, master, server).seconds for _ in range(runs)]
    return out


def nbgrader_rate(lesson: str, count: int, folder: Path) -> dict | None:
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return None
    course = folder / "nbgrader_course"
    source = course / "source" / "ps1"
    source.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{lesson}.ipynb", source / f"{lesson}.ipynb")
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
                                               "c.ExecutePreprocessor.timeout = 120\n")
    # nbgrader runs `alembic` from PATH: the environment's bin folder must be on it
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = {"cwd": course, "check": True, "capture_output": True, "env": env}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "ps1", "--force"], **run)
    solved = read_notebook(ROOT / "solutions" / f"{lesson}.ipynb")
    for index in range(count):
        target = course / "submitted" / f"s{index:03d}" / "ps1"
        target.mkdir(parents=True)
        write_notebook(solved, target / f"{lesson}.ipynb")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "ps1", "--create", "--force"],
                          cwd=course, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr[-500:]}
    return {"count": count, "seconds": seconds, "rate": count / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--lesson", default="07_efficiency")
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument("--nbgrader-count", type=int, default=20, help="correct submissions given to nbgrader")
    parser.add_argument("--jobs", type=int, default=None, help="grading processes (default: two per core)")
    args = parser.parse_args()
    console = Console(width=120)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        submissions = variants(args.lesson, args.count)
        batch = ours(args.lesson, submissions, folder, args.jobs)
        correct_only = folder / "correct"
        correct_only.mkdir()
        correct = ours(args.lesson, [s for s in submissions if s[0] == "correct"], correct_only, args.jobs)
        lessons = sorted(path.stem for path in (ROOT / "solutions").glob("*.ipynb"))
        inside = in_process_latency(lessons, max(3, args.latency_runs // 4))
        cli = cli_latency(args.lesson, folder, args.latency_runs + 1, keep_warm=True)
        cold = cli_latency(args.lesson, folder, max(3, args.latency_runs // 4), keep_warm=False)
        theirs = nbgrader_rate(args.lesson, args.nbgrader_count, folder)
    table = Table(title=f"grading {args.lesson}")
    for column in ("measure", "value"):
        table.add_column(column)
    kinds = {kind: sum(1 for k, _ in submissions if k == kind) for kind in ("correct", "partly wrong", "hostile")}
    table.add_row(f"batch of {batch['count']} ({kinds}), {args.jobs or '2 per core'} jobs",
                  f"{batch['seconds']:.1f} s: {batch['rate']:.1f} submissions/s, {batch['steady']:.1f}/s once started")
    warm = cli[1:]
    table.add_row("one submission through `coursekit grade`, warm server (p50 / p95 of "
                  f"{len(warm)} commands)", f"{statistics.median(warm):.2f} / {percentile(warm, 0.95):.2f} s")
    table.add_row("the first command (starts the shared server)", f"{cli[0]:.2f} s")
    table.add_row(f"`coursekit grade --no-keep-warm` (p50 of {len(cold)}: a server per command)",
                  f"{statistics.median(cold):.2f} s")
    for lesson, times in inside.items():
        table.add_row(f"one {lesson} submission in a running grader (p50 / p95)",
                      f"{statistics.median(times) * 1e3:.0f} / {percentile(times, 0.95) * 1e3:.0f} ms")
    table.add_row(f"{correct['count']} correct submissions, coursekit",
                  f"{correct['rate']:.1f} submissions/s, {correct['steady']:.1f}/s once started")
    if theirs is None:
        table.add_row("nbgrader autograde", "not installed (pip install nbgrader)")
    elif "error" in theirs:
        table.add_row("nbgrader autograde", f"failed: {theirs['error']}")
    else:
        table.add_row(f"{theirs['count']} correct submissions, nbgrader autograde",
                      f"{theirs['rate']:.2f} submissions/s ({theirs['seconds']:.1f} s)")
        table.add_row("coursekit / nbgrader throughput (correct submissions, start-up included)",
                      f"{correct['rate'] / theirs['rate']:.0f}x")
    console.print(table)


if __name__ == "__main__":
    main()
