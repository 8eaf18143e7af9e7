"""What the sandbox server computes once before it forks, so that its workers need not: SymPy's simplify, cached,
and the public claims built from the text they cross the wire as."""

import json

import pytest

CLAIMS = """
import json

import pytest
import sympy as sp
from sympy import simplify
from coursekit.feedback.sample_expressions import DERIVATIVE_CLAIMS
differences = [sp.diff(function, variable) - claimed for function, claimed, variable in DERIVATIVE_CLAIMS]
"""


def _printed(session, code: str):
    outcome = session.run_cell(code, 5.0)
    assert outcome["ok"], outcome
    return json.loads(outcome["stdout"])


def test_a_worker_finds_the_public_claims_of_lesson_01s_check_simplified_already(session_for):
    session = session_for(CLAIMS)
    found = _printed(session, "before = sp.simplify.cache_info()\n"
                              "cached = [sp.simplify(difference) for difference in differences]\n"
                              "after = sp.simplify.cache_info()\n"
                              "print(json.dumps([after.hits - before.hits, after.misses - before.misses]))")
    assert found == [6, 0]  # the six claims: each found, none computed again


def test_a_worker_finds_the_public_claims_of_lesson_01s_check_built_from_their_text_already(session_for):
    session = session_for(CLAIMS)
    found = _printed(session, "from coursekit.grading import sympy_text, wire\n"
                              "before = sympy_text._parse_kept.cache_info()\n"
                              "texts = [sp.srepr(part) for claim in DERIVATIVE_CLAIMS for part in claim]\n"
                              "built = [wire.parse_sympy(text) for text in texts]\n"
                              "after = sympy_text._parse_kept.cache_info()\n"
                              "print(json.dumps([after.hits - before.hits, after.misses - before.misses,\n"
                              "                  built == [part for claim in DERIVATIVE_CLAIMS for part in claim]]))")
    assert found == [18, 0, True]  # the six claims' function, derivative and variable: each found, none built again


def test_the_cached_simplify_gives_what_sympys_own_gives_under_each_of_its_names(session_for):
    session = session_for(CLAIMS)
    same = _printed(session, "own = sp.simplify.__wrapped__\n"  # SymPy's function, uncached
                             "x = sp.Symbol('x')\n"
                             "extra = [sp.sin(x)**2 + sp.cos(x)**2, (x**2 - 1) / (x - 1), sp.exp(x) * sp.exp(-x)]\n"
                             "print(json.dumps([simplify is sp.simplify,\n"
                             "    all(sp.simplify(e) == own(e) for e in differences + extra),\n"
                             "    all(e.simplify() == own(e) for e in extra),\n"
                             "    sp.simplify.cache_info().hits > 0]))")
    assert same == [True, True, True, True]


def test_a_japanese_submissions_use_language_prepares_no_font_in_the_sandbox():
    from coursekit.grading.client import WarmServer
    from coursekit.grading.limits import DEFAULT_CELL_TIMEOUT
    from tests.grading.graded_submissions import MASTERS

    modules = MASTERS["01_chain_rule"].sandbox_modules()  # as a batch's server for lesson 01
    with WarmServer(preload=sorted(set(modules))) as server:
        session = server.session(1.0)
        try:  # the first cell of each Japanese exercise set; no figure leaves the sandbox, so no font is prepared
            outcome = session.run_cell("import coursekit\ncoursekit.use_language('ja')\nimport matplotlib\n"
                                       "print(matplotlib.rcParams['font.family'])", DEFAULT_CELL_TIMEOUT)
        finally:
            session.kill()
    assert outcome["ok"] and "IPAexGothic" not in outcome["stdout"], outcome


@pytest.mark.parametrize("lesson", ["01_chain_rule", "05_delta_recursion"])
def test_a_learner_who_imports_pyplot_first_loses_nothing_where_the_lesson_draws_nothing(lesson):
    from coursekit.grading.client import WarmServer
    from coursekit.grading.limits import Settings
    from tests.grading.graded_submissions import MASTERS, grade, solution

    nb = solution(lesson)
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    setup.source = "import matplotlib.pyplot as plt\n" + setup.source  # the first line of many a notebook
    modules = MASTERS[lesson].sandbox_modules()  # a batch's server for this lesson alone
    with WarmServer(preload=sorted(set(modules))) as server:
        graded = grade(server, nb, lesson, Settings())  # the default limits: 0.1 s a cell
    assert not graded.cell_problems, graded.cell_problems
    assert graded.points == graded.max_points
