"""What the sandbox server computes once before it forks, so that its workers need not: SymPy's simplify, cached."""

import json

CLAIMS = """
import json
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
