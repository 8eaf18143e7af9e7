"""What the grader finds: a verdict per test cell, and the grade of a submission."""

from __future__ import annotations

from dataclasses import dataclass, field

from coursekit.grading import messages

STATUSES = ("passed", "failed", "not attempted", "error", "timeout", "crashed")  # what TestResult.status may be


@dataclass(frozen=True)
class TestResult:
    """The verdict on one test cell. ``mistake``: the name of the registered mistake (a lesson's ``Mistake``) that
    the test's check recognised in the student's results, if any (the instructor's dashboard counts them)."""

    grade_id: str
    status: str
    points: float
    max_points: float
    message: str = ""
    mistake: str | None = None


CELL_STATUSES = ("timeout", "crashed", "error", "not attempted", "not run")  # what CellProblem.status may be


@dataclass(frozen=True)
class CellProblem:
    """A student cell that did not run to its end in the grader: it ran past its limit, ended its process, raised
    (NotImplementedError: "not attempted", the exercise's stub), or was not run at all (the submission's time was
    up).

    ``cause`` completes "the cell ...", in the learner's words ("ran past its 0.5 s CPU limit"); ``start`` is the
    cell's first line of code, so that the learner can find it; ``names`` are the names the cell defines, which a
    test that needs one of them explains by this problem. All of it is the learner's own code and errors: no
    hidden test has run when a cell runs.
    """

    cell: int  # the cell's number among the submission's code cells that the grader ran (1 is the first)
    status: str
    cause: str
    start: str = ""
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return messages.CELL.format(cell=self.cell, cause=self.cause)


@dataclass
class Grade:
    """Everything the grader found for one submission."""

    lesson: str
    tests: list[TestResult] = field(default_factory=list)
    protections: list[str] = field(default_factory=list)
    cell_problems: list[CellProblem] = field(default_factory=list)
    seconds: float = 0.0
    language: str = "en"  # the submission's, in which its messages are written (master.submission_language)

    @property
    def points(self) -> float:
        return sum(test.points for test in self.tests)

    @property
    def max_points(self) -> float:
        return sum(test.max_points for test in self.tests)
