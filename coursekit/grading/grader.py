"""Grade one submitted notebook: its cells run in a sandbox (student_code), the master's tests run here, by name
(master_tests). Nothing the submission stores (outputs, metadata, test cells) is trusted.
"""

from __future__ import annotations

import time

from coursekit.grading.client import WarmServer
from coursekit.grading.limits import Settings
from coursekit.grading.master import Master
from coursekit.grading.master_tests import grade_tests
from coursekit.grading.student_code import StudentCode, student_cells
from coursekit.grading.verdicts import Grade


def trusted_setup(master: Master) -> dict:
    """The namespace of the master's setup cells (imports, the lesson's exercise set), built here."""
    namespace: dict = {"__name__": "__coursekit_test__"}
    exec(compile(master.setup, f"<setup {master.lesson}>", "exec"), namespace)  # noqa: S102 -- the master's code
    return namespace


def grade_notebook(nb: dict, master: Master, server: WarmServer,
                   settings: Settings | None = None, setup: dict | None = None) -> Grade:
    """Grade one student notebook against ``master``.

    The master's demonstration cells are skipped where the notebook holds them unchanged. Should a cell or a test
    then raise NameError (the student's code may use a name a demonstration defines), the notebook is graded again
    with every cell, by the same deadline.
    """
    start = time.perf_counter()
    settings = (settings or Settings()).for_master(master)
    setup = trusted_setup(master) if setup is None else setup
    cells = student_cells(nb)
    deadline = time.monotonic() + settings.budget
    grade, student = _graded(cells, master, server, settings, setup, master.demonstrations, deadline)
    if student.may_have_needed_a_skipped_cell() and not student.out_of_time():
        grade, _ = _graded(cells, master, server, settings, setup, frozenset(), deadline)
    grade.seconds = time.perf_counter() - start
    return grade


def _graded(cells: list[str], master: Master, server: WarmServer, settings: Settings, setup: dict,
            skip: frozenset[str], deadline: float) -> tuple[Grade, StudentCode]:
    grade = Grade(master.lesson)
    student = StudentCode(server, cells, settings, grade, skip, deadline)
    try:
        grade.tests = grade_tests(master, setup, student, settings)
    finally:
        student.close()
    return grade, student
