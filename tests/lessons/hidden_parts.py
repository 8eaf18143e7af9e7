"""The hidden part of a master's test cell, read as the grader reads it (``coursekit.grading.master``): a lesson's test
runs it against the code under test, to show that the hidden asserts refuse a wrong answer and pass the right one."""

from pathlib import Path

from coursekit.grading.master import load_master

ROOT = Path(__file__).resolve().parents[2]


def hidden_part(lesson: str, grade_id: str, language: str = "") -> str:
    """The hidden part of the test cell ``grade_id`` of ``lesson``'s master (``language`` "ja": the Japanese
    edition's)."""
    master = load_master(ROOT / language / "solutions" / f"{lesson}.ipynb")
    return next(test for test in master.tests if test.grade_id == grade_id).parts()[1]
