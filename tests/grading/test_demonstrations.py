"""A master's demonstration cells (metadata coursekit.demonstration) are skipped where a submission holds them
unchanged; an edited one runs as the learner's code; a submission that needs what one defines is graded again with
every cell."""

import copy

import nbformat
import pytest

from coursekit.assignment.notebooks import read_notebook, write_notebook
from coursekit.grading.grader import grade_notebook
from coursekit.grading.master import load_master, same_code
from graded_submissions import LIMITED, MASTERS, ROOT, replacing, solution

pytestmark = pytest.mark.slow  # grades through a sandbox server

LESSON = "07_efficiency"
DEMONSTRATION = "TWO = 2\nraise RuntimeError('a demonstration that ran')"
USES_IT = ("def numerical_passes(n_params, method):\n"
           "    return TWO * n_params if method == 'central' else n_params + 1\n")


def with_demonstration(nb, code=DEMONSTRATION):
    """``nb`` with a demonstration cell (marked as a master marks it) before its first exercise."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(2, nbformat.v4.new_code_cell(code, id="demo", metadata={"coursekit": {"demonstration": True}}))
    return nb


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    """Lesson 07's master with one more demonstration: it defines TWO, then raises (so running it shows)."""
    path = tmp_path_factory.mktemp("master") / f"{LESSON}.ipynb"
    write_notebook(with_demonstration(solution(LESSON)), path)
    return load_master(path)


def test_the_masters_demonstrations_are_known_by_their_code_and_left_out_of_the_setup():
    training = MASTERS["06_training"]
    assert any("history = train(model, x, y, epochs=150" in code for code in training.demonstrations)
    assert "epochs=150" not in training.setup and "exercises.progress()" in training.demonstrations
    assert all(master.demonstrations for master in MASTERS.values())


def test_code_is_the_same_whatever_its_line_endings_and_trailing_blanks():
    assert same_code("a = 1  \r\nprint(a)\n\n") == same_code("a = 1\nprint(a)") == "a = 1\nprint(a)"
    assert same_code("a = 1\nprint(a )") != same_code("a = 1\nprint(a)")


def test_a_demonstration_held_unchanged_is_not_run_and_cells_keep_their_numbers(server, master):
    nb = with_demonstration(solution(LESSON))
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('mine')"))
    graded = grade_notebook(nb, master, server, LIMITED)
    assert graded.points == graded.max_points
    # the demonstration is code cell 2 of the submission; the learner's raising cell is cell 3, as they count
    assert [(problem.cell, problem.start) for problem in graded.cell_problems] == [(3, "raise ValueError('mine')")]


def test_an_edited_demonstration_is_the_learners_code_and_runs(server, master):
    nb = with_demonstration(solution(LESSON), DEMONSTRATION + "  # edited")
    graded = grade_notebook(nb, master, server, LIMITED)
    assert graded.points == graded.max_points
    assert [problem.cell for problem in graded.cell_problems] == [2]
    assert "a demonstration that ran" in graded.cell_problems[0].cause


def test_a_submission_that_needs_a_name_a_demonstration_defines_is_graded_with_every_cell(server, master):
    nb = with_demonstration(replacing(LESSON, "numerical_passes", USES_IT))
    graded = grade_notebook(nb, master, server, LIMITED)
    # graded again with every cell: the demonstration ran (its error is noted), and TWO was there for the tests
    assert graded.points == graded.max_points, [(t.grade_id, t.message) for t in graded.tests]
    assert "a demonstration that ran" in graded.cell_problems[0].cause


def test_every_exercise_set_holds_its_masters_demonstrations_unchanged():
    """So that a learner's untouched copy skips them too (the masters' own full marks are test_grading_e2e's)."""
    for lesson, master in MASTERS.items():
        exercise_set = read_notebook(ROOT / "exercises" / f"{lesson}.ipynb")
        learners = {same_code("".join(cell.source)) for cell in exercise_set.cells if cell.cell_type == "code"}
        assert len(master.demonstrations) >= 2 and master.demonstrations <= learners, lesson


def test_a_name_error_in_a_hidden_case_does_not_grade_the_cells_again(server, master):
    # A red team raised NameError on a hidden input only: the cells then ran again, in a new worker, after the
    # hidden part, and one of them reported a clock phase (or a process id) that the first worker had set from it.
    hidden_only = ("def numerical_passes(n_params, method):\n"
                   "    if n_params == 3:  # a hidden test's input; check()'s are others\n"
                   "        raise NameError('a name chosen for it')\n"
                   "    return 2 * n_params if method == 'central' else n_params + 1\n")
    nb = with_demonstration(replacing(LESSON, "numerical_passes", hidden_only))
    nb.cells.append(nbformat.v4.new_code_cell("if 'TWO' in globals():\n    raise ValueError('graded again')"))
    graded = grade_notebook(nb, master, server, LIMITED)
    assert not any("graded again" in problem.cause for problem in graded.cell_problems)
    (verdict,) = [test for test in graded.tests if test.grade_id == "numerical_passes_test"]
    assert verdict.status == "error" and verdict.message == "a hidden case raised `NameError`"
    assert graded.points == graded.max_points - verdict.max_points


def test_a_second_pass_whose_worker_cannot_start_before_the_deadline_is_out_of_budget_not_a_grader_failure(
        server, monkeypatch):
    # red team Z: a submission that left a few ms of its budget when the grader decided to run every cell made the new
    # worker's start miss the deadline, and the grader failed on it (no grade, graded again by every later run)
    import time

    from coursekit.grading import grader
    from coursekit.grading.limits import Settings
    from coursekit.grading.session import SandboxCrashed

    def first_pass_then_no_time(cells, master, server, settings, setup, skip, deadline):
        if skip:
            time.sleep(max(0.0, deadline - time.monotonic()))
            return None
        raise SandboxCrashed("the worker did not start: the deadline passed")

    monkeypatch.setattr(grader, "_graded", first_pass_then_no_time)
    master = MASTERS[LESSON]
    graded = grade_notebook(solution(LESSON), master, server, Settings(budget=0.2))
    assert graded.points == 0 and {test.status for test in graded.tests} == {"timeout"}
    assert len(graded.tests) == len(master.tests)
    assert all(test.message == "not run: the submission used up its time budget of 0.2 s" for test in graded.tests)
