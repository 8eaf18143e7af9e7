"""What the grader computes with a submission's values (SymPy's rebuilding and simplifying above all) is bounded:
by the size of what it accepts, and by a CPU budget of its own, as the sandbox's work is."""

import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from coursekit.grading.grader_budget import GraderBudgetExceeded, grader_budget
from coursekit.grading.limits import MAX_VERDICT_TEXT
from graded_submissions import FAST, by_id, grade, replacing, with_cell


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_busy_block_is_stopped_at_its_cpu_budget():
    start = time.monotonic()
    with pytest.raises(GraderBudgetExceeded, match="took the grader past its time limit"):
        with grader_budget(0.2):
            _spin(10)
    assert time.monotonic() - start < 2


def test_a_block_that_waits_is_stopped_at_its_deadline():
    start = time.monotonic()
    with pytest.raises(GraderBudgetExceeded):
        with grader_budget(60, deadline=time.monotonic() + 0.3):
            while True:
                time.sleep(0.01)
    assert time.monotonic() - start < 2


def test_the_budget_holds_in_any_thread_and_nothing_fires_after_a_block_ends_in_time():
    outcome = []

    def in_a_thread():
        try:
            with grader_budget(0.2):
                _spin(10)
        except GraderBudgetExceeded:
            outcome.append("stopped")

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join(5)
    assert outcome == ["stopped"]
    for _ in range(20):  # blocks that end within their budget: no exception arrives later, here or in them
        with grader_budget(0.05):
            _spin(0.03)
    _spin(0.3)


class _SlowFinalizer:
    """An object whose finalizer runs for half a second: an exception raised while it runs is lost (Python reports
    it as unraisable and goes on), as when it lands in one of SymPy's weakref callbacks."""

    def __del__(self):
        _spin(0.5)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_budget_exception_lost_in_a_finalizer_is_raised_again():
    start = time.monotonic()
    with pytest.raises(GraderBudgetExceeded):
        with grader_budget(0.1):
            _SlowFinalizer()  # the budget is spent in its finalizer, where the exception is swallowed
            _spin(10)
    assert time.monotonic() - start < 3


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_no_exception_arrives_after_a_block_whose_exception_was_lost():
    for _ in range(5):
        with grader_budget(0.05):
            _SlowFinalizer()
    _spin(0.5)  # a repeat that reached this line would fail the test


LESSON01 = "01_chain_rule"


@pytest.mark.slow
# The budget's exception may land in one of SymPy's weakref callbacks, where Python reports it as unraisable and goes
# on: it is then raised again (what the test is for), and the report is no warning of this test's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_expression_whose_simplification_explodes_times_out_its_test_within_the_budget(server):
    explosive = ("def hand_derivative(x):\n"
                 "    return sp.sin(x**2) + 2 * x**2 * sp.cos(x**2) "
                 "+ (sp.sin(x) + sp.cos(x) + sp.tan(x) + sp.exp(x) + x) ** 10\n")  # 1,001 terms: within the bounds
    start = time.monotonic()
    graded = grade(server, replacing(LESSON01, "hand_derivative", explosive), LESSON01,
                   replace(FAST, test_timeout=1.0))
    result = by_id(graded)["hand_derivative_test"]
    assert result.status == "timeout" and result.points == 0, result
    assert time.monotonic() - start < 10
    assert all(r.status == "passed" for r in graded.tests if r.grade_id != "hand_derivative_test")


@pytest.mark.parametrize(("answer", "words"), [
    ("sp.Derivative(x * sp.sin(x**2), x)", "names a derivative without working it out"),
    ("sp.sin(x**2) + x * sp.Derivative(sp.sin(x**2), x)", "names a derivative without working it out"),
    ("sp.Subs(sp.Derivative(x * sp.sin(x**2), x), x, x)", "'Subs' is not one of the SymPy constructors"),
])
def test_a_derivative_left_to_sympy_unevaluated_scores_nothing_and_is_told_why(server, answer, words):
    graded = grade(server, replacing(LESSON01, "hand_derivative", f"def hand_derivative(x):\n    return {answer}\n"),
                   LESSON01)
    result = by_id(graded)["hand_derivative_test"]
    assert result.points == 0 and words in result.message, result


@pytest.mark.slow
def test_a_float_sympy_would_compute_to_a_hundred_thousand_digits_is_refused_before_it_is_built(server):
    # The sandbox's own srepr is made to describe an object as 40 sines of Floats of 332,196 bits.
    code = ("import sympy as _sp\n"
            "_TEXT = 'Add(' + ', '.join(f\"sin(Float('{k}.0', precision=332196))\" for k in range(1, 41)) + ')'\n"
            "class _Boom(_sp.Symbol):\n    pass\n"
            "_srepr = _sp.srepr\n"
            "_sp.srepr = lambda e, **kw: _TEXT if type(e) is _Boom else _srepr(e, **kw)\n"
            "def numerical_passes(n, scheme):\n    return _Boom('boom')\n")
    start = time.monotonic()
    result = by_id(grade(server, replacing("07_efficiency", "numerical_passes", code), "07_efficiency"))[
        "numerical_passes_test"]
    assert result.points == 0 and result.status == "error", result
    assert time.monotonic() - start < 10


# What a lesson-01 function returns is rebuilt here, and a wrong answer is then evaluated here, at a few points, to
# recognise the mistake (lambdify writes the expression's names into Python code it runs). Each of these ran the
# student's text as code in the grading process, or forged a comparison, before the parser refused them.
_FORGED_SREPR = ("import sympy as _sp\n"
                 "class _Forged(_sp.Symbol):\n    pass\n"
                 "_srepr = _sp.srepr\n"
                 "_sp.srepr = lambda e, **kw: _TEXT if type(e) is _Forged else _srepr(e, **kw)\n"
                 "def hand_derivative(x):\n    return _Forged('forged')\n")
_GRADER_CODE = {
    "a function named by code": "def hand_derivative(x):\n    return sp.Function({code!r} + ' or sin')(x)\n",
    "a string of code": "def hand_derivative(x):\n    return {code!r} + ' + x'\n",
    "a symbol named by code": "_TEXT = \"Mul(Symbol('x'), Symbol(\" + repr({code!r}) + \"))\"\n" + _FORGED_SREPR,
    "a function whose __sub__ answers zero": (
        "_G = \"Function('g', zero=True)\"\n"
        "_TEXT = f\"Function('f', _op_priority=100.0, __sub__={{_G}}, __rsub__={{_G}})(Symbol('x'))\"\n"
        + _FORGED_SREPR),
}


@pytest.mark.slow
@pytest.mark.parametrize("attack", _GRADER_CODE)
def test_nothing_a_submission_returns_runs_as_code_or_forges_a_comparison_in_the_grader(server, attack):
    folder = tempfile.mkdtemp(prefix="ck", dir="/tmp")  # a short path: names in an expression are 100 characters
    marker = Path(folder) / "ran"
    code = f"__import__('os').system('touch {marker}')"
    try:
        graded = grade(server, replacing(LESSON01, "hand_derivative", _GRADER_CODE[attack].format(code=code)),
                       LESSON01)
        result = by_id(graded)["hand_derivative_test"]
        assert result.points == 0 and result.status != "passed", result
        assert not marker.exists(), "the submission's text ran in the grading process"
        assert all(r.status == "passed" for r in graded.tests if r.grade_id != "hand_derivative_test")
    finally:
        shutil.rmtree(folder)


@pytest.mark.slow
def test_a_huge_text_where_a_number_belongs_is_refused_and_no_message_grows_with_it(server):
    # Lesson 02's Value answers its own cells honestly and the grader's reads of .grad with a megabyte of text: the
    # grader's probes and messages once copied it hundreds of times (17 GB for 30 MB) and quoted it whole.
    code = ("import sys as _sys\n"
            "def _grad(self):\n"
            "    if _sys._getframe(1).f_code.co_filename.startswith('<cell'):\n"
            "        return self._g\n"
            "    return 'A' * 1_000_000\n"
            "Value.grad = property(_grad, lambda self, v: setattr(self, '_g', v))\n")
    graded = grade(server, with_cell("02_computation_graphs", code, at=10_000), "02_computation_graphs")
    reading_grad = [r for r in graded.tests if r.points < r.max_points]
    assert reading_grad, "every test passed: was .grad never read?"
    assert all(len(r.message) <= MAX_VERDICT_TEXT + 10 for r in graded.tests), [len(r.message) for r in graded.tests]
    assert all("A" * 1_000 not in r.message for r in graded.tests)
