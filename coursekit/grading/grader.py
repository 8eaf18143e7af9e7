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
    """Grade one student notebook against ``master``."""
    start = time.perf_counter()
    settings = (settings or Settings()).for_master(master)
    grade = Grade(master.lesson)
    setup = trusted_setup(master) if setup is None else setup
    student = StudentCode(server, student_cells(nb), settings, grade)
    try:
        grade.tests = grade_tests(master, setup, student, settings)
    finally:
        student.close()
    grade.seconds = time.perf_counter() - start
    return grade
