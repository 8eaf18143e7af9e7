"""A student cell that loops, dies or raises in the grader is named in the grade, the gradebook, the feedback (Markdown
and HTML), the CSV and Gradescope's results; a test that needs a name such a cell defines says why it is missing."""

import csv
import json

import pytest

from coursekit.grading.cell_source import first_line, names_defined
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.gradebook_schema import submission_key
from graded_submissions import LIMITED, by_id, grade, replacing, with_cell

LESSON = "07_efficiency"
SOLUTION = ("def numerical_passes(n_params, method):\n"
            "    return 2 * n_params if method == 'central' else n_params + 1\n")
LOOPS = "while True:\n    pass\n" + SOLUTION  # stopped before its def runs: the def, run alone, is kept
# only a call defines the name, and the call loops: what is kept of the cell (the helper) does not define it
LOOPS_TO_DEFINE = "def _passes():\n    while True:\n        pass\n\n\nnumerical_passes = _passes()\n"
# run again a statement at a time, all of it kept but the call that loops (the loop above the def, for LOOPS)
APART = "ran past its 0.4 s CPU limit: it was run again one statement at a time, and all of it was kept but "
KEPT = APART + "`numerical_passes = _passes()`, which ran past its limit"
KEPT_MARKDOWN = APART + r"\`numerical_passes = \_passes()\`, which ran past its limit"  # the line, as text
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
RAISES = f"raise ValueError({HOSTILE!r})\n" + SOLUTION


def recorded(book: Gradebook, graded, student: str = "ada") -> str:
    """Record ``graded`` as ``student``'s submission; its key."""
    key = submission_key(student, LESSON, "0" * 64, "2025-01-01T00:00:00.000000+00:00")
    book.record(Entry(key, f"in/{student}", b"{}", "0" * 64, "0" * 64, student, LESSON,
                      "2025-01-01T00:00:00.000000+00:00", 1), graded)
    return key


@pytest.fixture(scope="module")
def looping(server):
    """The solution with the cell of numerical_passes looping where only a looping call defines it (graded once
    for these tests)."""
    return grade(server, replacing(LESSON, "numerical_passes", LOOPS_TO_DEFINE), LESSON, LIMITED)


@pytest.mark.slow  # grades through a sandbox server, into a loop that costs 0.4 s
def test_a_looping_cell_is_named_with_its_limit_and_the_names_it_defines(looping):
    (problem,) = looping.cell_problems
    assert problem.status == "timeout" and problem.start == "def _passes():"
    assert problem.cause == KEPT and problem.names == ("_passes", "numerical_passes")


@pytest.mark.slow
def test_a_looping_cell_keeps_the_functions_defined_below_its_loop(server):
    graded = grade(server, replacing(LESSON, "numerical_passes", LOOPS), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "timeout" and problem.start == "while True:"
    assert problem.cause == APART + "`while True:`, which ran past its limit"
    assert all(t.status == "passed" for t in graded.tests), graded.tests


@pytest.mark.slow
def test_the_test_that_needs_the_name_says_the_cell_that_defines_it_ran_past_its_limit(looping):
    result = by_id(looping)["numerical_passes_test"]
    assert result.status == "error" and result.points == 0
    assert result.message == f"`numerical_passes` is not defined: the cell that defines it {KEPT}"
    others = [t for t in looping.tests if t.grade_id != "numerical_passes_test"]
    assert others and all(t.status == "passed" for t in others), others  # the other answers still count


@pytest.mark.slow
def test_the_cell_problem_reaches_the_gradebook_feedback_csv_and_gradescope(looping, tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        key = recorded(book, looping)
        assert book.cell_problems(key) == looping.cell_problems
        cell = looping.cell_problems[0].cell
        markdown = book.feedback(key)
        page = book.feedback(key, "html")
        results = book.gradescope(key)
        rows = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    assert "## Cells that did not run to their end" in markdown
    assert (f"- Cell {cell} (starting `def _passes():`) {KEPT_MARKDOWN}. It defines `_passes`, `numerical_passes`."
            in markdown), markdown
    assert f"`numerical_passes` is not defined: the cell that defines it {KEPT}" in markdown
    assert f"<li>Cell {cell} (starting <code>def _passes():</code>) {KEPT}." in page
    assert f"Cell {cell} (starting def _passes():) {KEPT}" in results["output"]
    assert results["output_format"] == results["test_output_format"] == "text"
    test = next(t for t in results["tests"] if t["name"] == "numerical_passes_test")
    assert f"the cell that defines it {KEPT}" in test["output"]
    header, ada = rows
    assert header[-3:] == ["cells not run to their end", "inputs rejected", "total"]
    assert ada[-3] == f"{LESSON} cell {cell}: timeout"


@pytest.mark.slow
def test_a_cell_that_raises_is_named_with_the_students_own_error_shown_as_text(server, tmp_path):
    graded = grade(server, replacing(LESSON, "numerical_passes", RAISES), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "error" and problem.names == ("numerical_passes",)
    assert problem.cause == f"raised ValueError: {HOSTILE} (at: raise ValueError({HOSTILE!r}))"
    message = by_id(graded)["numerical_passes_test"].message
    assert message.startswith("`numerical_passes` is not defined: the cell that defines it raised ValueError: <script>")
    with Gradebook(tmp_path / "book.sqlite") as book:
        page = book.feedback(recorded(book, graded), "html")
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


# A write refused by the read-only file systems, or by Landlock where the worker has no mount namespace of its own
WRITE_REFUSED = ("OSError: [Errno 30] Read-only file system", "PermissionError")


@pytest.mark.slow
@pytest.mark.parametrize(("side_note", "raised"), [
    ("open('scratch.txt', 'w').write('notes')", WRITE_REFUSED),
    ("import threading\nthreading.Timer(60, print).start()", ("RuntimeError: can't start new thread",)),
    ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('figure.png')", WRITE_REFUSED)])
def test_a_cell_that_writes_a_file_or_starts_a_thread_above_a_definition_keeps_the_definition(server, side_note,
                                                                                              raised):
    # the sandbox refuses both, the learner's own kernel does not: a red team's scratch file cost the points of the
    # function defined below it
    graded = grade(server, replacing(LESSON, "numerical_passes", side_note + "\n" + SOLUTION), LESSON, LIMITED)
    assert graded.points == graded.max_points, [(t.grade_id, t.message) for t in graded.tests]
    (problem,) = graded.cell_problems
    assert problem.status == "error" and problem.cause.startswith(tuple(f"raised {words}" for words in raised))
    assert ("the grader runs your code without writing files or starting threads or processes, so the cell was run "
            "again one statement at a time, and all of it was kept but `") in problem.cause
    assert problem.cause.endswith("`, which raised or crashed")


@pytest.mark.slow
def test_a_stub_cell_makes_its_test_not_attempted_and_says_so(server):
    stub = "raise NotImplementedError()\n" + SOLUTION
    graded = grade(server, replacing(LESSON, "numerical_passes", stub), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "not attempted"
    result = by_id(graded)["numerical_passes_test"]
    assert result.status == "not attempted"
    assert result.message == ("`numerical_passes` is not defined: the cell that defines it is not done yet (it raised "
                              "NotImplementedError)")


@pytest.mark.slow
def test_a_cell_that_needs_a_name_defined_further_down_is_run_again_and_is_no_problem(server):
    graded = grade(server, with_cell(LESSON, "TWICE = numerical_passes(1, 'central')", at=2), LESSON, LIMITED)
    assert graded.cell_problems == [] and all(t.status == "passed" for t in graded.tests)


def test_the_names_a_cell_defines_are_those_it_binds_at_its_top_level():
    code = ("%matplotlib inline\nimport numpy as np, os.path\nfrom math import *\nfrom math import tau as turn\n"
            "def branch_gradient(x, y):\n    inner = 1\n    return x\n"
            "class Layer:\n    size = 2\n"
            "for i in range(3):\n    total = i\n"
            "a, (b, c) = 1, (2, 3)\nsquares = [k * k for k in range(3)]\nif True:\n    late = 1\n")
    assert names_defined(code) == ("np", "os", "turn", "branch_gradient", "Layer", "i", "total", "a", "b", "c",
                                   "squares", "late")


@pytest.mark.parametrize("code", ["def f(:", "(" * 100_000, "x = 1\n" * 50_000])  # the last is past the size cap
def test_a_cell_that_cannot_be_parsed_defines_no_known_name(code):
    assert names_defined(code) == ()


def test_a_cell_is_shown_by_its_first_line_of_code():
    assert first_line("# my answer\n\n   def f(x):\n") == "def f(x):"
    assert first_line("# only a comment") == ""
    assert len(first_line("x = " + "1" * 500)) == 120


def test_a_regraded_submission_replaces_its_cell_problems(tmp_path):
    from coursekit.grading.verdicts import CellProblem, Grade
    from coursekit.grading.verdicts import TestResult as Result

    with Gradebook(tmp_path / "book.sqlite") as book:
        problem = CellProblem(3, "crashed", "ended its own process", "import os", ("os",))
        key = recorded(book, Grade(LESSON, [Result("q", "error", 0, 1, "x")], cell_problems=[problem]))
        recorded(book, Grade(LESSON, [Result("q", "error", 0, 1, "x")], cell_problems=[problem]))
        assert book.cell_problems(key) == [problem]
        recorded(book, Grade(LESSON, [Result("q", "passed", 1, 1, "passed")]))
        assert book.cell_problems(key) == []
        assert json.loads(json.dumps(book.gradescope(key))).get("output") is None


@pytest.mark.slow
def test_a_cell_of_hundreds_of_magics_is_one_cell_problem_and_the_rest_is_graded(server):
    graded = grade(server, with_cell("07_efficiency", "%time x\n" * 501), "07_efficiency")
    assert all(test.status == "passed" for test in graded.tests), [(t.grade_id, t.status) for t in graded.tests]
    # IPython, in the sandbox, transforms it past the cell's limit, or gives up: the student's cost, not the grader's
    assert [problem.status for problem in graded.cell_problems] in (["timeout"], ["error"])


def test_a_lone_surrogate_in_what_the_students_code_raised_is_recorded_as_a_replacement_character(server, tmp_path):
    """JSON can carry a lone surrogate ("\\ud800"), UTF-8 cannot: the gradebook (SQLite) refused the grade's text, and
    the course server graded such an upload three times and then rejected it, graded fine as it was."""
    graded = grade(server, with_cell(LESSON, 'raise ValueError("\\ud800 in a message")', at=3), LESSON, LIMITED)
    [problem] = graded.cell_problems
    assert "\ufffd in a message" in problem.cause
    with Gradebook(tmp_path / "book.sqlite") as book:
        [stored] = book.cell_problems(recorded(book, graded))
        assert stored.cause == problem.cause
