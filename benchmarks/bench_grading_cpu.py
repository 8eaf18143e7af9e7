"""Benchmark: where one submission's CPU goes, lesson by lesson, and the batch rate that CPU allows on this machine.

Each lesson's master is graded as a submission, one after another, in this process with a private sandbox server
(the masters' trusted setups built once, as a batch builds them). For each submission: the CPU of the grading process
(the master's tests, decoding and comparing), of the sandbox server (forking the worker), and of the worker (the
student's cells, the requests it answers, its protections, its exit: read from the server's count of the children
it reaped), the worker's page faults, and the round trips (requests answered; a posted request rides along with the
next). Then the fixed part: a worker that starts, answers one request and ends. Last, the ceiling those figures put
on a batch of such submissions: the cores divided by the CPU of one (a batch also pays its start-up, and its wrong
and hostile submissions cost more or less). The host's load moves every figure: compare rows of one run.

    python benchmarks/bench_grading_cpu.py [--runs 30] [--lessons 01_chain_rule 05_delta_recursion]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from coursekit.assignment.notebooks import read_notebook
from coursekit.grading import protocol, session
from coursekit.grading.client import WarmServer
from coursekit.grading.grader import grade_notebook, trusted_setup
from coursekit.grading.master import load_master
from coursekit.grading.proc_stat import stat_fields

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def server_counts(pid: int) -> dict[str, float]:
    """The server's own CPU seconds, its reaped children's (the workers'), and their page faults (cminflt)."""
    fields = stat_fields(pid)  # the fields after the command's name: field 3 of proc(5) is fields[0]
    return {"server": (int(fields[11]) + int(fields[12])) / TICK,
            "workers": (int(fields[13]) + int(fields[14])) / TICK, "faults": float(fields[8])}  # cminflt


def own_cpu() -> float:
    """This process's CPU seconds (not its children's)."""
    times = os.times()
    return times.user + times.system


def measured(runs: int, grade_one, server: WarmServer) -> dict[str, float]:
    """Milliseconds of CPU (and counts) per run of ``grade_one``, averaged over ``runs`` (the kernel counts CPU in
    ticks of 10 ms: an average over many runs, never one run's figure)."""
    requests = [0]
    counted = session.Session.request

    def counting(self, *args, **kwargs):
        requests[0] += 1
        return counted(self, *args, **kwargs)

    session.Session.request = counting
    try:
        before, mine = server_counts(server.process.pid), own_cpu()
        for _ in range(runs):
            grade_one()
        time.sleep(0.2)  # the last worker reaped
        mine, after = own_cpu() - mine, server_counts(server.process.pid)
    finally:
        session.Session.request = counted
    per = {key: (after[key] - before[key]) / runs for key in after}
    return {"grader": mine / runs * 1e3, "server": per["server"] * 1e3, "workers": per["workers"] * 1e3,
            "faults": per["faults"], "requests": requests[0] / runs}


def bare_worker(server: WarmServer) -> None:
    """A worker that starts, answers one request and ends: what every submission pays before its cells."""
    worker = server.session(5.0)
    try:
        worker.value_of(worker.request({protocol.OP: protocol.PING}))
    finally:
        worker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="submissions graded per lesson (medians of --repeats)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lessons", nargs="*", default=sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb")))
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    table = Table(title=f"CPU per submission (ms; medians of {args.repeats} x {args.runs}), {cores} cores")
    for column in ("lesson", "grading process", "server (fork)", "worker", "total", "worker page faults",
                   "round trips", "ceiling per s"):
        table.add_column(column, justify="left" if column == "lesson" else "right")
    for lesson in args.lessons:
        master = load_master(ROOT / "solutions" / f"{lesson}.ipynb")
        notebook = read_notebook(ROOT / "solutions" / f"{lesson}.ipynb")
        setup = trusted_setup(master)
        compute = getattr(setup.get("exercises"), "compute_lesson_values", None)
        if compute is not None:
            compute()
        with WarmServer(preload=sorted(set(master.sandbox_modules()))) as server:
            for _ in range(3):  # warm: first imports and caches of this process
                grade_notebook(notebook, master, server, None, setup)
            grade_one = functools.partial(grade_notebook, notebook, master, server, None, setup)
            rounds = [measured(args.runs, grade_one, server) for _ in range(args.repeats)]
            if lesson == args.lessons[0]:
                bare = functools.partial(bare_worker, server)
                fixed = [measured(args.runs, bare, server) for _ in range(args.repeats)]
                row = {key: statistics.median(r[key] for r in fixed) for key in fixed[0]}
                total = row["grader"] + row["server"] + row["workers"]
                table.add_row("a worker that answers one request", f"{row['grader']:.1f}", f"{row['server']:.1f}",
                              f"{row['workers']:.1f}", f"{total:.1f}", f"{row['faults']:.0f}", "1", "")
        row = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        total = row["grader"] + row["server"] + row["workers"]
        table.add_row(lesson, f"{row['grader']:.1f}", f"{row['server']:.1f}", f"{row['workers']:.1f}",
                      f"{total:.1f}", f"{row['faults']:.0f}", f"{row['requests']:.0f}", f"{cores / total * 1e3:.1f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
