"""Grade one submitted notebook: its cells run in a sandbox, the master's tests run here, by name.

Every code cell of the submission runs in the sandbox, in order; a cell that raises is simply
recorded, one that loops or kills its process is skipped (and the worker replaced). Then each
test cell of the master runs in this process, with the names it needs from the student's
namespace as proxies. Nothing the submission stores (outputs, metadata, test cells) is trusted.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field, replace

from coursekit.feedback.result import CheckFailed
from coursekit.gradcheck.checks import screening
from coursekit.grading import messages
from coursekit.grading.client import SandboxCrashed, SandboxTimeout, Session, StudentError, WarmServer
from coursekit.grading.master import Master, TestCell

STATUSES = ("passed", "failed", "not attempted", "error", "timeout", "crashed")  # what TestResult.status may be


@dataclass(frozen=True)
class TestResult:
    """The verdict on one test cell."""

    grade_id: str
    status: str
    points: float
    max_points: float
    message: str = ""


@dataclass
class Grade:
    """Everything the grader found for one submission."""

    lesson: str
    tests: list[TestResult] = field(default_factory=list)
    protections: list[str] = field(default_factory=list)
    cell_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return sum(test.points for test in self.tests)

    @property
    def max_points(self) -> float:
        return sum(test.max_points for test in self.tests)


DEFAULT_CELL_TIMEOUT = 1.0  # seconds; a cell of the course's masters runs in 1-50 ms


@dataclass(frozen=True)
class Settings:
    """Time limits, in seconds.

    ``cell_timeout`` None means the master's own limit (its metadata ``coursekit.cell_timeout``, set by a
    lesson whose cells do real work, such as training a network) or DEFAULT_CELL_TIMEOUT. Every student
    cell is run, and a looping one costs its whole limit, so a short limit is what keeps a batch fast.
    """

    cell_timeout: float | None = None
    call_timeout: float = 3.0
    test_timeout: float = 15.0

    def for_master(self, master: Master) -> Settings:
        """These settings with the cell limit resolved for ``master``."""
        if self.cell_timeout is not None:
            return self
        return replace(self, cell_timeout=master.cell_timeout or DEFAULT_CELL_TIMEOUT)


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


class _Student:
    """The student's code, running in a sandbox session that is replaced (and replayed) when it dies."""

    def __init__(self, server: WarmServer, cells: list[str], settings: Settings, grade: Grade):
        self.server, self.cells, self.settings, self.grade = server, cells, settings, grade
        self.good: list[str] = []
        self.session = self._start()
        failed = [(index, code) for index, code in enumerate(cells, start=1) if not self._run(code, index)]
        # Cells may come in any order (moved, shuffled): a cell that failed, e.g. on a name defined further
        # down, runs again after the others, as long as that helps.
        while failed:
            still = [(index, code) for index, code in failed if not self._run(code, index, again=True)]
            if len(still) == len(failed):
                break
            failed = still

    def _start(self) -> Session:
        session = self.server.session(self.settings.call_timeout)
        self.grade.protections = session.protections
        return session

    def _run(self, code: str, index: int, again: bool = False) -> bool:
        """Run one cell; True when it ran without raising. Loops and crashes are skipped for good."""
        try:
            outcome = self.session.run_cell(code, self.settings.cell_timeout)
        except SandboxTimeout:
            self.grade.cell_problems.append(f"cell {index}: " + messages.CELL_TIMEOUT.format(
                seconds=self.settings.cell_timeout))
            self.restart()
            return True
        except SandboxCrashed:
            self.grade.cell_problems.append(f"cell {index}: " + messages.CELL_CRASHED)
            self.restart()
            return True
        self.good.append(code)
        return bool(outcome.get("ok"))

    def restart(self) -> None:
        """A fresh worker with the cells that ran before replayed; a cell that now loops or crashes is dropped
        and the replay starts over without it."""
        self.session.kill()
        while True:
            self.session = self._start()
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


def run_test(test: TestCell, setup: dict, student: _Student, settings: Settings) -> TestResult:
    """Run one test cell here, with the student's names as proxies; its verdict."""
    namespace = dict(setup)
    for name in test.names_used(set(setup)):
        try:
            namespace[name] = student.session.get(name)
        except NameError as missing:
            return TestResult(test.grade_id, "error", 0.0, test.points, str(missing))
        except (SandboxTimeout, SandboxCrashed) as problem:
            student.restart()
            return TestResult(test.grade_id, "crashed", 0.0, test.points, str(problem))
    session = student.session
    session.deadline = time.monotonic() + settings.test_timeout
    try:
        # A check's printed verdict is not parsed, only its result; layers are screened along random directions
        # first (each evaluation is a round trip to the sandbox), element by element only to diagnose an error.
        with contextlib.redirect_stdout(io.StringIO()), screening():
            exec(test.code(), namespace)  # noqa: S102 -- the master's
            session.flush()  # a parameter write still owed its answer: its error counts too
    except CheckFailed as failed:
        result = failed.result
        return TestResult(test.grade_id, result.status, 0.0, test.points, result.message)
    except SandboxTimeout as timeout:
        student.restart()
        return TestResult(test.grade_id, "timeout", 0.0, test.points, str(timeout))
    except SandboxCrashed as crash:
        student.restart()
        return TestResult(test.grade_id, "crashed", 0.0, test.points, str(crash))
    except NotImplementedError:
        return TestResult(test.grade_id, "not attempted", 0.0, test.points, messages.NOT_ATTEMPTED)
    except AssertionError as failure:
        text = str(failure).strip()
        # a bare assert of a hidden test says nothing; its source is never shown
        return TestResult(test.grade_id, "failed", 0.0, test.points, text if text else messages.HIDDEN_FAILED)
    except NameError as missing:
        return TestResult(test.grade_id, "error", 0.0, test.points, str(missing))
    except Exception as error:  # noqa: BLE001 -- any other error of the student's code is a verdict
        kind = error.args[0] if isinstance(error, StudentError) and error.args else f"{type(error).__name__}: {error}"
        message = messages.ERROR.format(error=str(kind)[:500])
        line = getattr(error, "student_line", None)
        return TestResult(test.grade_id, "error", 0.0, test.points, message + (f" (at: {line})" if line else ""))
    finally:
        session.deadline = None
    return TestResult(test.grade_id, "passed", test.points, test.points, messages.PASSED)


def trusted_setup(master: Master) -> dict:
    """The namespace of the master's setup cells (imports, the lesson's exercise set), built here."""
    namespace: dict = {"__name__": "__coursekit_test__"}
    exec(compile(master.setup, f"<setup {master.lesson}>", "exec"), namespace)  # noqa: S102 -- the master's code
    return namespace


def grade_notebook(nb: dict, master: Master, server: WarmServer,
                   settings: Settings = Settings(), setup: dict | None = None) -> Grade:
    """Grade one student notebook against ``master``."""
    start = time.perf_counter()
    settings = settings.for_master(master)
    grade = Grade(master.lesson)
    setup = trusted_setup(master) if setup is None else setup
    student = _Student(server, student_cells(nb), settings, grade)
    try:
        grade.tests = [run_test(test, setup, student, settings) for test in master.tests]
    finally:
        student.close()
    grade.seconds = time.perf_counter() - start
    return grade
