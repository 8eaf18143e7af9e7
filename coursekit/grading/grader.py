"""Grade one submitted notebook: its cells run in a sandbox (student_code), the master's tests run here, by name
(master_tests). Nothing the submission stores (outputs, metadata, test cells) is trusted.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import time

from coursekit import i18n
from coursekit.grading import wire
from coursekit.grading.client import WarmServer
from coursekit.grading.limits import Settings
from coursekit.grading.master import Master, submission_language
from coursekit.grading.master_tests import grade_tests, out_of_budget
from coursekit.grading.session import SandboxCrashed, SandboxTimeout
from coursekit.grading.student_code import EveryCellNeeded, StudentCode, student_cells
from coursekit.grading.verdicts import Grade


def trusted_setup(master: Master) -> dict:
    """The namespace of the master's setup cells (imports, the lesson's exercise set), built here, in a context of
    its own: a Japanese master's ``coursekit.use_language("ja")`` does not change the grader's language."""
    namespace: dict = {"__name__": "__coursekit_test__"}
    code = compile(master.setup, f"<setup {master.lesson}>", "exec")
    contextvars.copy_context().run(exec, code, namespace)
    return namespace


_EDITION_SETUPS: dict[int, tuple[Master, dict]] = {}  # id(edition) -> (edition, its setup): built once per process


def _edition_setup(edition: Master) -> dict:
    known = _EDITION_SETUPS.get(id(edition))
    if known is None or known[0] is not edition:
        known = _EDITION_SETUPS[id(edition)] = (edition, trusted_setup(edition))
    return known[1]


def grade_notebook(nb: dict, master: Master, server: WarmServer,
                   settings: Settings | None = None, setup: dict | None = None) -> Grade:
    """Grade one student notebook against ``master``.

    The master's demonstration cells are skipped where the notebook holds them unchanged. Should a cell or a test's
    visible part then raise NameError (the student's code may use a name a demonstration defines), the notebook is
    graded again with every cell, by the same deadline, before any hidden part has run.

    The grading speaks the submission's language (``master.submission_language``): its messages, its sandbox's, and
    the words of the master's edition in that language when there is one (same tests, same points). It runs in a
    context of its own, so that nothing it or the submission chooses reaches the next submission.
    """
    language = submission_language(nb)
    edition = master.edition(language)
    if edition is not master:
        setup = _edition_setup(edition)
    with _collecting_only_what_grading_makes():
        return contextvars.copy_context().run(_grade_in, language, nb, edition, server, settings, setup)


@contextlib.contextmanager
def _collecting_only_what_grading_makes():
    """The cyclic garbage collector's full passes look only at the objects made while one submission is graded.

    A grading process holds some 200,000 objects (NumPy, SymPy, the masters), and a test that makes many proxies
    (lesson 02's chains of 1,500 operations) sets off full passes over all of them: a fifth of that lesson's grading
    CPU. Frozen, they are skipped (freezing and thawing cost O(1)). What the grading made is collected as before,
    and once more, whole, at its end: its garbage does not wait for a full pass that the freezing keeps from coming.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.collect()  # what the grading made, only: the rest is still frozen
        gc.unfreeze()


def _grade_in(language: str, nb: dict, master: Master, server: WarmServer, settings: Settings | None,
              setup: dict | None) -> Grade:
    wire.forget_what_was_read()  # nothing an earlier submission sent is known faster than the rest
    i18n.use(language, figures=False)
    start = time.perf_counter()
    settings = (settings or Settings()).for_master(master)
    setup = trusted_setup(master) if setup is None else setup
    cells = student_cells(nb)
    server.wait_until_ready()  # a server still warming up: its time is not the submission's
    deadline = time.monotonic() + settings.budget
    grade = _graded(cells, master, server, settings, setup, master.demonstrations, deadline)
    if grade is None:  # a NameError where demonstrations were skipped: again with every cell, by the same deadline
        try:
            grade = _graded(cells, master, server, settings, setup, frozenset(), deadline)
        except (SandboxCrashed, SandboxTimeout):
            if time.monotonic() < deadline:
                raise
            # The budget ran out as the new worker started (the submission's code can choose to leave a few ms): its
            # tests were not run, which is the submission's doing, never a failure of the grader's (red team Z)
            grade = _out_of_budget(master, settings)
    grade.seconds = time.perf_counter() - start
    grade.language = language
    return grade


def _out_of_budget(master: Master, settings: Settings) -> Grade:
    """A grade of 0 whose every test was not run: the submission's budget was spent."""
    grade = Grade(master.lesson)
    grade.tests = [out_of_budget(test, settings.budget) for test in master.tests]
    return grade


def _graded(cells: list[str], master: Master, server: WarmServer, settings: Settings, setup: dict,
            skip: frozenset[str], deadline: float) -> Grade | None:
    """The grade of ``cells`` run but those in ``skip``; None when they are to be run again with every cell (decided
    before any hidden part, see ``master_tests.grade_tests``)."""
    grade = Grade(master.lesson)
    student = StudentCode(server, cells, settings, grade, skip, deadline, language=i18n.current(),
                          withheld=getattr(setup.get("exercises"), "withheld", ()))
    try:
        grade.tests = grade_tests(master, setup, student, settings)
    except EveryCellNeeded:
        return None
    finally:
        student.close()
    return grade
