"""What the grader finds: a verdict per test cell, and the grade of a submission."""

from __future__ import annotations

from dataclasses import dataclass, field

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
