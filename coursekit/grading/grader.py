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
from dataclasses import dataclass, field

from coursekit.feedback.exercise import NameRules
from coursekit.feedback.result import CheckFailed
from coursekit.gradcheck.checks import screening
from coursekit.grading import messages, protocol
from coursekit.grading.client import WarmServer
from coursekit.grading.limits import Settings, wall_backstop
from coursekit.grading.master import Master, TestCell
from coursekit.grading.proxies import ChangedArgument, NotPlainData
from coursekit.grading.session import (
    ProtocolError,
    SandboxCrashed,
    SandboxTimeout,
    Session,
    StudentError,
)

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
        session = self.server.session(self.settings.call_timeout)
        session.deadline, session.wall_grace = self.deadline, self.settings.wall_grace
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


def _rules(setup: dict, name: str) -> NameRules:
    """How the lesson lets the grader use the student's ``name`` (its exercise set declares it)."""
    exercises = setup.get("exercises")
    return exercises.rules(name) if hasattr(exercises, "rules") else NameRules(name)


def _fetch_names(test: TestCell, setup: dict, student: _Student, namespace: dict) -> TestResult | None:
    """Put the student's names that ``test`` uses into ``namespace``; a verdict when one cannot be had."""
    if student.out_of_time():
        return _verdict(test, "timeout", messages.OUT_OF_BUDGET.format(seconds=student.settings.budget))
    for name in test.names_used(set(setup)):
        try:
            namespace[name] = student.session.get(name, _rules(setup, name))
        except NameError as missing:
            return _verdict(test, "error", str(missing))
        except SandboxTimeout as problem:
            student.restart()
            return _verdict(test, "timeout", str(problem))
        except SandboxCrashed as problem:
            student.restart()
            return _verdict(test, "error" if isinstance(problem, ProtocolError) else "crashed", str(problem))
        except Exception as error:  # noqa: BLE001 -- the student's object failed to be handed over
            return _verdict(test, "error", messages.ERROR.format(error=_student_words(error)))
    return None


def _verdict(test: TestCell, status: str, message: str) -> TestResult:
    return TestResult(test.grade_id, status, 0.0, test.points, message)


def _run_part(code, test: TestCell, namespace: dict, student: _Student, settings: Settings,
              hidden: bool) -> TestResult | None:
    """Run one part of a test here, with the student's names as proxies; a verdict if it fails, else None.

    In a hidden part, nothing that came from the student's code reaches the message (an exception's text
    could carry the hidden inputs it was given): only the kind of exception and the test's own words.
    """
    session = student.session
    if student.out_of_time():
        return _verdict(test, "timeout", messages.OUT_OF_BUDGET.format(seconds=settings.budget))
    session.deadline = min(student.deadline, time.monotonic() + wall_backstop(settings.test_timeout,
                                                                              settings.wall_grace))
    session.test_cpu = (session.cpu_seconds(), settings.test_timeout)
    try:
        # A check's printed verdict is not parsed, only its result; layers are screened along random directions
        # first (each evaluation is a round trip to the sandbox), element by element only to diagnose an error.
        with contextlib.redirect_stdout(io.StringIO()), screening():
            exec(code, namespace)  # noqa: S102 -- the master's
            session.flush()  # a parameter write still owed its answer: its error counts too
    except CheckFailed as failed:
        return _verdict(test, failed.result.status, failed.result.message)
    except SandboxTimeout as timeout:
        student.restart()
        return _verdict(test, "timeout", str(timeout))
    except SandboxCrashed as crash:
        student.restart()
        return _verdict(test, "error" if isinstance(crash, ProtocolError) else "crashed", str(crash))
    except NotImplementedError:
        return _verdict(test, "not attempted", messages.NOT_ATTEMPTED)
    except (NotPlainData, ChangedArgument) as misuse:  # the grader's own words
        return _verdict(test, "failed", str(misuse))
    except AssertionError as failure:
        if getattr(failure, "from_student", False):  # the student's code raised it: not the test's words
            return _verdict(test, "error", _raised(failure, hidden))
        text = str(failure).strip()
        # a bare assert of a hidden test says nothing; its source is never shown
        return _verdict(test, "failed", text if text else messages.HIDDEN_FAILED)
    except Exception as error:  # noqa: BLE001 -- any other error of the student's code is a verdict
        if getattr(error, "from_student", False):
            return _verdict(test, "error", _raised(error, hidden))
        if hidden:  # raised here, by the test, on what the student's code returned
            return _verdict(test, "error", messages.HIDDEN_FAILED_AT.format(error=type(error).__name__))
        return _verdict(test, "error", messages.ERROR.format(error=f"{type(error).__name__}: {str(error)[:500]}"))
    finally:
        session.deadline, session.test_cpu = student.deadline, None
    return None


def _raised(error: BaseException, hidden: bool) -> str:
    """The message for an exception the student's code raised: in full for a visible case, by kind for a hidden
    one (a built-in exception by its name, any other as "an exception of your own")."""
    if hidden:
        kind = f"`{type(error).__name__}`" if not isinstance(error, StudentError) else "an exception of your own"
        return messages.HIDDEN_RAISED.format(kind=kind)
    message = messages.ERROR.format(error=_student_words(error))
    line = getattr(error, "student_line", None)
    return message + (f" (at: {line})" if line else "")


def _student_words(error: BaseException) -> str:
    if isinstance(error, StudentError) and error.args:
        return str(error.args[0])[:500]
    return f"{type(error).__name__}: {str(error)[:500]}"


def grade_tests(master: Master, setup: dict, student: _Student, settings: Settings) -> list[TestResult]:
    """Every test of ``master``: first the visible part of each, then the hidden parts of those still passing."""
    namespaces, verdicts, generations = {}, {}, {}
    for test in master.tests:
        visible, _ = test.compiled_parts()
        namespace = dict(setup)
        verdict = _fetch_names(test, setup, student, namespace)
        generations[test.grade_id] = student.generation
        if verdict is None:
            verdict = _run_part(visible, test, namespace, student, settings, hidden=False)
        namespaces[test.grade_id], verdicts[test.grade_id] = namespace, verdict
    for test in master.tests:
        if verdicts[test.grade_id] is not None or not test.parts()[1].strip():
            continue
        namespace = namespaces[test.grade_id]
        if generations[test.grade_id] != student.generation:  # a new worker since: its objects, not the old ones
            verdicts[test.grade_id] = _fetch_names(test, setup, student, namespace)
            if verdicts[test.grade_id] is not None:
                continue
        verdicts[test.grade_id] = _run_part(test.compiled_parts()[1], test, namespace, student, settings, hidden=True)
    return [verdicts[test.grade_id] or TestResult(test.grade_id, "passed", test.points, test.points, messages.PASSED)
            for test in master.tests]


def trusted_setup(master: Master) -> dict:
    """The namespace of the master's setup cells (imports, the lesson's exercise set), built here."""
    namespace: dict = {"__name__": "__coursekit_test__"}
    exec(compile(master.setup, f"<setup {master.lesson}>", "exec"), namespace)  # noqa: S102 -- the master's code
    return namespace


def grade_notebook(nb: dict, master: Master, server: WarmServer,
                   settings: Settings | None = None, setup: dict | None = None) -> Grade:
    """Grade one student notebook against ``master``."""
    start = time.perf_counter()
    settings = (settings or Settings()).for_master(master)
    grade = Grade(master.lesson)
    setup = trusted_setup(master) if setup is None else setup
    student = _Student(server, student_cells(nb), settings, grade)
    try:
        grade.tests = grade_tests(master, setup, student, settings)
    finally:
        student.close()
    grade.seconds = time.perf_counter() - start
    return grade
