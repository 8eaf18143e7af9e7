"""The hidden part of a master's test cell, read as the grader reads it (``coursekit.grading.master``): a lesson's test
runs it against the code under test, to show that the hidden asserts refuse a wrong answer and pass the right one."""

import contextvars
from pathlib import Path

from coursekit.grading.master import Master, load_master

ROOT = Path(__file__).resolve().parents[2]


def _master(lesson: str, language: str) -> Master:
    return load_master(ROOT / language / "solutions" / f"{lesson}.ipynb")


def hidden_part(lesson: str, grade_id: str, language: str = "") -> str:
    """The hidden part of the test cell ``grade_id`` of ``lesson``'s master (``language`` "ja": the Japanese
    edition's)."""
    return _hidden(_master(lesson, language), grade_id)


def _hidden(master: Master, grade_id: str) -> str:
    return next(test for test in master.tests if test.grade_id == grade_id).parts()[1]


def run_hidden_part(lesson: str, grade_id: str, language: str = "", **names) -> None:
    """Run that hidden part as the grader does, after the master's own setup (its imports: NumPy, ``hold``, the
    lesson's ``exercises``, ...), with ``names`` (the code under test) defined; AssertionError when it refuses them.
    In a context of its own: the Japanese setup's ``use_language("ja")`` stays in it."""
    master = _master(lesson, language)
    contextvars.copy_context().run(_run, master.setup, _hidden(master, grade_id), names)


def _run(setup: str, hidden: str, names: dict) -> None:
    namespace: dict = {}
    exec(setup, namespace)  # noqa: S102 - the master's own imports
    namespace.update(names)
    exec(hidden, namespace)  # noqa: S102 - the master's own hidden asserts
