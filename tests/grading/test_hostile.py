"""A corpus of hostile submissions: the grader survives, the hostile part scores 0, the honest parts score normally."""

import os
import signal
from dataclasses import replace

import nbformat
import pytest

from coursekit.assignment.notebooks import write_notebook
from coursekit.grading.batch import grade_paths
from coursekit.grading.client import WarmServer
from coursekit.grading.gradebook import Gradebook
from graded_submissions import LIMITED, MASTERS, ROOT, by_id, grade, replacing, solution, with_cell

pytestmark = pytest.mark.slow  # a sandbox server, and submissions that run into time limits

LESSON = "07_efficiency"
TESTS = ("numerical_passes_test", "chain_multiplications_test", "mlp_jvp_test")


def assert_only(graded, hostile: dict[str, str]):
    """The tests named in ``hostile`` have those statuses and 0 points; every other test passed in full."""
    results = by_id(graded)
    for test_id in TESTS:
        result = results[test_id]
        if test_id in hostile:
            assert result.status == hostile[test_id] and result.points == 0, (test_id, result)
        else:
            assert result.status == "passed" and result.points == result.max_points, (test_id, result)


NUMERICAL = "def numerical_passes(n_params, method):\n    {body}\n"

CELL_ATTACKS = {
    "infinite loop in a cell": "while True:\n    pass",
    "memory bomb": "hog = bytearray(50 * 1024**3)",
    "fork bomb": "import os\nwhile True:\n    os.fork()",
    "100 MB print": "print('x' * 100_000_000)",
    "sys.exit()": "import sys\nsys.exit()",
    "os._exit()": "import os\nos._exit(1)",
    "raise SystemExit": "raise SystemExit(3)",
    "KeyboardInterrupt": "raise KeyboardInterrupt",
    "monkeypatched numpy, builtins and checks": (
        "import builtins, numpy, numpy.testing, coursekit.feedback\n"
        "numpy.allclose = lambda *a, **k: True\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
        "builtins.abs = lambda x: 0\ncoursekit.feedback.ExerciseSet.check = lambda *a, **k: None"),
    "overridden showtraceback": "get_ipython().showtraceback = lambda *a, **k: None",
    "a fake score printed": "print('{\"score\": 100, \"tests\": []}')\nprint('passed passed passed')",
}


@pytest.mark.parametrize("attack", sorted(CELL_ATTACKS))
def test_a_hostile_cell_is_contained_and_the_honest_answers_still_count(server, attack):
    graded = grade(server, with_cell(LESSON, CELL_ATTACKS[attack], at=2), LESSON, LIMITED)
    assert_only(graded, {})


@pytest.mark.parametrize(("attack", "status"), [("infinite loop in a cell", "timeout"), ("os._exit()", "crashed")])
def test_a_cell_that_loops_or_dies_is_reported(server, attack, status):
    graded = grade(server, with_cell(LESSON, CELL_ATTACKS[attack], at=2), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == status and problem.start == CELL_ATTACKS[attack].splitlines()[0], problem


@pytest.mark.parametrize(("body", "status"), [
    ("while True:\n        pass", "timeout"),
    ("import os\n    os._exit(0)", "crashed"),
    ("import numpy\n    return numpy.ones(10**11)", "error"),
    ("raise SystemExit", "error"),
])
def test_a_hostile_function_costs_only_its_own_test(server, body, status):
    graded = grade(server, replacing(LESSON, "numerical_passes", NUMERICAL.format(body=body)), LESSON, LIMITED)
    assert_only(graded, {"numerical_passes_test": status})


def test_a_function_slow_on_one_hidden_case_times_out_that_test_only(server):
    body = ("import time\n    if n_params == 3:\n        time.sleep(10)\n"
            "    return 2 * n_params if method == 'central' else n_params + 1")
    # A sleep uses no CPU: the call's wall-clock backstop stops it (4 x 0.1 s + 0.3 s here).
    graded = grade(server, replacing(LESSON, "numerical_passes", NUMERICAL.format(body=body)), LESSON,
                   replace(LIMITED, call_timeout=0.1, wall_grace=0.3))
    assert_only(graded, {"numerical_passes_test": "timeout"})


@pytest.mark.parametrize("liar", [
    "class Liar:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__",
    "import numpy as np\nclass Liar:\n    def __array__(self, dtype=None, copy=None):\n        return np.array(6)",
    "class Liar(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__",
])
def test_an_object_that_lies_about_equality_or_its_value_gets_nothing(server, liar):
    code = liar + "\n\ndef numerical_passes(n_params, method):\n    return Liar()\n"
    graded = grade(server, replacing(LESSON, "numerical_passes", code), LESSON)
    assert_only(graded, {"numerical_passes_test": by_id(graded)["numerical_passes_test"].status})
    assert by_id(graded)["numerical_passes_test"].status in ("failed", "error")


def landlock_active(graded) -> bool:
    return any("landlock" in protection for protection in graded.protections)


def test_the_course_folder_is_not_readable_from_the_sandbox(server):
    steal = (f"import json\nSECRET = open({str(ROOT / 'solutions' / (LESSON + '.ipynb'))!r}).read()\n"
             "def numerical_passes(n_params, method):\n    return SECRET")
    graded = grade(server, replacing(LESSON, "numerical_passes", steal), LESSON)
    if not landlock_active(graded):
        pytest.skip("this kernel offers no Landlock; the report says so (checked in test_grading_e2e)")
    assert by_id(graded)["numerical_passes_test"].status == "error"
    assert "not defined" in by_id(graded)["numerical_passes_test"].message or "SECRET" in \
        by_id(graded)["numerical_passes_test"].message


def test_the_gradebook_and_output_folder_cannot_be_written(server, tmp_path):
    book, out = tmp_path / "book.sqlite", tmp_path / "out"
    out.mkdir()
    book.write_bytes(b"original")
    attack = (f"for path in [{str(book)!r}, {str(out / 'fake.csv')!r}]:\n"
              "    try:\n        open(path, 'w').write('hacked')\n    except OSError as error:\n        print(error)")
    graded = grade(server, with_cell(LESSON, attack, at=2), LESSON)
    assert_only(graded, {})
    if not landlock_active(graded):
        pytest.skip("this kernel offers no Landlock; the report says so (checked in test_grading_e2e)")
    assert book.read_bytes() == b"original" and not (out / "fake.csv").exists()


def test_the_graders_environment_does_not_reach_the_sandbox(monkeypatch):
    monkeypatch.setenv("GRADER_API_TOKEN", "s3cr3t-token")  # e.g. a Gradescope or cloud credential
    with WarmServer(preload=[]) as private:  # a server of its own, started with the token in its environment
        session = private.session(5.0)
        try:
            assert session.run_cell("import os\nseen = dict(os.environ)", 5.0)["ok"]
            seen = session.get("seen")
        finally:
            session.kill()
    assert "GRADER_API_TOKEN" not in seen and "s3cr3t-token" not in str(seen)
    assert not [name for name, value in seen.items() if str(ROOT) in value and name != "PYTHONPATH"]  # nor the course
    # One BLAS thread: a forked worker of a user over the process limit hung while starting a BLAS thread pool.
    assert seen["OPENBLAS_NUM_THREADS"] == seen["OMP_NUM_THREADS"] == "1"


def test_a_missing_function_scores_zero_for_its_tests_only(server):
    graded = grade(server, replacing(LESSON, "numerical_passes", "x = 1"), LESSON)
    assert_only(graded, {"numerical_passes_test": "error"})
    assert by_id(graded)["numerical_passes_test"].message == "`numerical_passes` is not defined"


def test_hidden_test_source_never_appears_in_feedback(server):
    wrong = NUMERICAL.format(body="return 2 * n_params if method == 'central' else n_params")
    graded = grade(server, replacing(LESSON, "numerical_passes", wrong), LESSON)
    message = by_id(graded)["numerical_passes_test"].message
    assert "assert" not in message and "HIDDEN" not in message


def test_hostile_submissions_do_not_affect_the_others_in_a_batch(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_notebook(with_cell(LESSON, "import os\nos._exit(1)", at=2),
                   folder / f"{LESSON}--mallory.ipynb")
    write_notebook(replacing(LESSON, "numerical_passes", NUMERICAL.format(body="while True:\n        pass")),
                   folder / f"{LESSON}--eve.ipynb")
    write_notebook(solution(LESSON), folder / f"{LESSON}--ada.ipynb")
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade_paths([folder], ROOT / "solutions", book, jobs=2, settings=LIMITED)
        scores = {o.student: o.grade.points for o in outcomes}
    full = MASTERS[LESSON].max_points
    assert scores["ada"] == full and scores["mallory"] == full and scores["eve"] == full - 1


def test_after_a_timeout_the_next_tests_see_every_cell_replayed_in_a_fresh_worker(server):
    # EXTRA is defined by a cell of its own; mlp_jvp (tested after the timeout) needs it
    nb = replacing(LESSON, "numerical_passes", NUMERICAL.format(body="while True:\n        pass"))
    nb.cells.insert(2, nbformat.v4.new_code_cell("EXTRA = 0"))
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "mlp_jvp":
            cell.source = cell.source.replace("a, da = x, np.zeros_like(x)", "a, da = x, np.zeros_like(x) + EXTRA")
    graded = grade(server, nb, LESSON, LIMITED)
    assert_only(graded, {"numerical_passes_test": "timeout"})


def test_an_error_in_student_code_is_reported_with_the_students_line(server):
    graded = grade(server, replacing(LESSON, "numerical_passes", NUMERICAL.format(body="return n_params / 0")), LESSON)
    result = by_id(graded)["numerical_passes_test"]
    assert result.status == "error" and "ZeroDivisionError" in result.message and "n_params / 0" in result.message


@pytest.mark.slow
def test_a_grading_process_that_dies_costs_only_the_submission_it_was_grading(tmp_path, monkeypatch):
    # What the kernel's OOM killer would do to the process grading "killer": its pool breaks, and every submission
    # still in the pool was recorded "the grader failed" before (and skipped by the next run).
    from coursekit.grading import batch

    graded = batch.Grader.grade

    def dying_on_the_killer(self, lesson, raw):
        if b"KILLS-ITS-GRADER" in raw:
            os.kill(os.getpid(), signal.SIGKILL)
        return graded(self, lesson, raw)

    monkeypatch.setattr(batch.Grader, "grade", dying_on_the_killer)  # the pool's processes are forked: they see it
    pools = []
    in_a_pool = batch._grade_in_a_pool
    monkeypatch.setattr(batch, "_grade_in_a_pool", lambda items, *args: (pools.append(len(items)),
                                                                          in_a_pool(items, *args))[1])
    folder = tmp_path / "inbox"
    folder.mkdir()
    students = [f"s{index}" for index in range(6)]
    for student in students:
        write_notebook(solution(LESSON), folder / f"{LESSON}--{student}.ipynb")
    write_notebook(with_cell(LESSON, "# KILLS-ITS-GRADER"), folder / f"{LESSON}--killer.ipynb")
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade_paths([folder], ROOT / "solutions", book, jobs=2, settings=LIMITED)
    by_student = {outcome.student: outcome for outcome in outcomes}
    assert sorted(by_student) == sorted([*students, "killer"])
    full = MASTERS[LESSON].max_points
    assert all(by_student[s].grade is not None and by_student[s].grade.points == full for s in students), \
        {s: by_student[s].reason for s in students}
    assert by_student["killer"].grade is None and "the grader failed" in by_student["killer"].reason
    # the killer is read first: only the first submissions a broken pool handed out are graded alone
    assert pools.count(1) <= 3, pools
    # the grader's failure is not the submission's: the next run grades it again (and only it)
    monkeypatch.undo()
    with Gradebook(tmp_path / "book.sqlite") as book:
        again = grade_paths([folder], ROOT / "solutions", book, jobs=2, settings=LIMITED)
    assert [(o.student, o.grade.points) for o in again if o.grade is not None] == [("killer", full)]
    assert sorted(o.student for o in again if o.skipped) == students
