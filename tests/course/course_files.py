"""The course's own notebooks, for tests that check the real content of the repository."""

from pathlib import Path

from coursekit.assignment.course import Course

COURSE = Course(Path(__file__).resolve().parents[2])
LESSONS = COURSE.lesson_notebooks()
MASTERS = COURSE.masters()
EXERCISES = sorted(COURSE.exercises.glob("*.ipynb"))
READ_AS_STORED = LESSONS + MASTERS  # their stored outputs are what a learner reads


def ids(paths):
    return [f"{path.parent.name}/{path.name}" for path in paths]
