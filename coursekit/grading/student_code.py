"""Step 1 of grading: the student's cells, run in a sandbox session that is replaced (and replayed) when it dies.

Every code cell of the submission runs, in order, except its copies of the test cells; a cell that
raises is simply recorded, one that loops or kills its process is skipped (and the worker replaced),
and once the submission's time budget is spent nothing more runs.
"""

from __future__ import annotations

import time

from coursekit.grading import messages, protocol
from coursekit.grading.client import WarmServer
from coursekit.grading.limits import Settings
from coursekit.grading.session import SandboxCrashed, SandboxTimeout, Session
from coursekit.grading.verdicts import Grade


def student_cells(nb: dict) -> list[str]:
    """The code the student's notebook holds, cell by cell, except its copies of the test cells.

    A test cell is recognised by its metadata or, metadata stripped, by its content (it starts with
    a visible check); it only ever checks, so running it in the sandbox would only cost time: the
    tests that count are the master's. IPython magics are kept: the sandbox's InteractiveShell handles them.
    """
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") != "code" or not source.strip():
            continue
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") or source.lstrip().startswith("exercises.check("):
            continue
        cells.append(source)
    return cells


class StudentCode:
    """The student's code, running in a sandbox session that is replaced (and replayed) when it dies."""

    def __init__(self, server: WarmServer, cells: list[str], settings: Settings, grade: Grade):
        self.server, self.cells, self.settings, self.grade = server, cells, settings, grade
        self.deadline = time.monotonic() + settings.budget  # the whole submission's, which nothing extends
        self.good: list[str] = []
        self.generation = 0  # how many workers this submission has had (names fetched from an older one are stale)
        self.session = self._start()
        failed = [(index, code) for index, code in enumerate(cells, start=1) if not self._run(code, index)]
        # Cells may come in any order (moved, shuffled): a cell that failed, e.g. on a name defined further
        # down, runs again after the others, as long as that helps.
        while failed and not self.out_of_time():
            still = [(index, code) for index, code in failed if not self._run(code, index, again=True)]
            if len(still) == len(failed):
                break
            failed = still

    def out_of_time(self) -> bool:
        """True once the submission's budget is spent."""
        return time.monotonic() >= self.deadline

    def _start(self) -> Session:
        session = self.server.session(self.settings.call_timeout, self.deadline)
        session.wall_grace = self.settings.wall_grace
        self.grade.protections = session.protections
        self.generation += 1
        return session

    def _run(self, code: str, index: int, again: bool = False) -> bool:
        """Run one cell; True when it ran without raising. Loops and crashes are skipped for good."""
        if self.out_of_time():
            if not again:
                self.grade.cell_problems.append(f"cell {index}: " + messages.OUT_OF_BUDGET.format(
                    seconds=self.settings.budget))
            return True
        try:
            outcome = self.session.run_cell(code, self.settings.cell_timeout)
        except SandboxTimeout as timeout:
            self.grade.cell_problems.append(f"cell {index}: " + messages.CELL_TIMEOUT.format(
                seconds=self.settings.cell_timeout) + f" ({timeout})")
            self.restart()
            return True
        except SandboxCrashed:
            self.grade.cell_problems.append(f"cell {index}: " + messages.CELL_CRASHED)
            self.restart()
            return True
        self.good.append(code)
        return bool(outcome.get(protocol.OK))

    def restart(self) -> None:
        """A fresh worker with the cells that ran before replayed; a cell that now loops or crashes is dropped
        and the replay starts over without it. Nothing is started once the budget is spent."""
        self.session.kill()
        while not self.out_of_time():
            try:
                self.session = self._start()
            except SandboxCrashed:
                if self.out_of_time():  # the budget ran out while the worker started: nothing more runs
                    return
                raise
            for code in list(self.good):
                try:
                    self.session.run_cell(code, self.settings.cell_timeout)
                except (SandboxTimeout, SandboxCrashed):
                    self.good.remove(code)
                    self.session.kill()
                    break
            else:
                return

    def close(self) -> None:
        self.session.kill()
