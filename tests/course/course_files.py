"""The course's own notebooks, for tests that check the real content of the repository."""

from pathlib import Path

from coursekit.assignment.course import Course

COURSE = Course(Path(__file__).resolve().parents[2])
JAPANESE = Course(COURSE.root / "ja")  # the Japanese edition, the same layout
EDITIONS = (COURSE, JAPANESE)
LESSONS = [path for edition in EDITIONS for path in edition.lesson_notebooks()]
MASTERS = [path for edition in EDITIONS for path in edition.masters()]
EXERCISES = [path for edition in EDITIONS for path in sorted(edition.exercises.glob("*.ipynb"))]
READ_AS_STORED = LESSONS + MASTERS  # their stored outputs are what a learner reads


def ids(paths):
    return [str(path.relative_to(COURSE.root).parent / path.name) for path in paths]
