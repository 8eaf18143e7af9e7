"""How the worker runs a student's cell: plain Python directly, anything only IPython reads (magics, shell escapes,
prompts) through IPython, with the same outcome either way: the names it defines, what it raised and on which of
its lines, and the worker still serving after SystemExit."""

import pytest

pytestmark = pytest.mark.slow  # a worker of a sandbox server


@pytest.fixture()
def session(server):
    session = server.session(5.0)
    yield session
    session.kill()


def test_plain_python_and_ipython_syntax_both_define_their_names(session):
    assert session.run_cell("import numpy as np\ndef double(x):\n    return 2 * x\nEPS = 1e-12", 5.0)["ok"]
    assert session.run_cell("%time doubled = double(21)", 5.0)["ok"]  # a magic: IPython reads it
    assert session.run_cell("shown = get_ipython() is not None", 5.0)["ok"]  # IPython's builtins in plain code too
    assert (session.get("doubled"), session.get("EPS"), session.get("shown")) == (42, 1e-12, True)


@pytest.mark.parametrize("cell", ["x = 1\nraise ValueError('bad input')\ny = 2",
                                  "%time x = 1\nraise ValueError('bad input')"])
def test_an_error_names_its_type_message_and_the_students_line(session, cell):
    outcome = session.run_cell(cell, 5.0)
    assert not outcome["ok"]
    assert outcome["error"] == {"type": "ValueError", "message": "bad input", "line": "raise ValueError('bad input')",
                                "top": 2}  # the line, in the cell, of the top-level statement it came through


def test_a_syntax_error_is_reported_as_ipython_reports_it(session):
    outcome = session.run_cell("def broken(:\n    pass", 5.0)
    assert not outcome["ok"] and outcome["error"]["type"] == "SyntaxError"


def test_system_exit_is_the_cells_error_and_the_worker_serves_on(session):
    outcome = session.run_cell("import sys\nsys.exit(3)", 5.0)
    assert not outcome["ok"] and outcome["error"]["type"] == "SystemExit"
    assert session.run_cell("after = 1", 5.0)["ok"] and session.get("after") == 1


@pytest.mark.parametrize("magic", ["%matplotlib inline", "%matplotlib", "%matplotlib notebook", "%matplotlib widget"])
def test_a_matplotlib_magic_changes_nothing_and_costs_nothing(server, magic):
    # red team Q: `%matplotlib inline` raised NotImplementedError here (no GUI), read as an exercise not attempted,
    # after 0.15 s of imports that ran the cell past its 0.1 s limit and lost `TINY = np.finfo(float).tiny` below it
    session = server.session(5.0)
    try:
        outcome = session.run_cell(f"{magic}\nimport numpy as np\nTINY = np.finfo(float).tiny", 0.1)
        assert outcome["ok"] and session.get("TINY") > 0
        assert session.run_cell("import matplotlib\nbackend = matplotlib.get_backend()", 5.0)["ok"]
        assert session.get("backend").lower() == "agg"
    finally:
        session.kill()


def test_a_failing_magic_cell_is_reported_by_its_error_within_the_cell_limit(session):
    # IPython's first formatted traceback cost a worker 0.25-0.3 s of imports (red team R): it is never shown
    outcome = session.run_cell("%time x = 1\nraise KeyError('k')", 0.1)
    assert not outcome["ok"] and outcome["error"]["type"] == "KeyError"


def test_an_exception_whose_message_cannot_be_read_is_the_cells_error_and_the_rest_is_graded(server):
    # red team R: its __str__ raising made the worker's answer malformed, and the grader failed on the submission
    from graded_submissions import FAST, grade, with_cell

    unreadable = ("class Unreadable(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"
                  "raise Unreadable()")
    graded = grade(server, with_cell("07_efficiency", unreadable), "07_efficiency", FAST)
    (problem,) = graded.cell_problems
    assert problem.status == "error" and problem.cause.startswith("raised Unreadable: (its message could not be read)")
    assert all(t.status == "passed" for t in graded.tests), graded.tests


def test_sympys_pretty_printing_and_a_shown_figure_cost_a_cell_nothing(server):
    # red team Q: sp.init_printing() then an expression shown typeset each value through matplotlib (0.15 s), past
    # the 0.1 s cell limit, and the cell's constants (TWO = sp.Integer(2)) were lost: 0 points
    from coursekit.grading.limits import Settings
    from graded_submissions import grade, replacing

    cell = ("sp.init_printing()\nX = sp.Symbol('x')\nTWO = sp.Integer(2)\n"
            "def hand_derivative(x):\n    return sp.sin(x**2) + TWO * x**2 * sp.cos(x**2)\n"
            "hand_derivative(X)\n")
    graded = grade(server, replacing("01_chain_rule", "hand_derivative", cell), "01_chain_rule", Settings())
    assert graded.cell_problems == [] and graded.points == graded.max_points, (graded.cell_problems, graded.tests)
    session = server.session(5.0)
    try:
        drawn = ("import matplotlib.pyplot as plt\nfigure, axes = plt.subplots()\n"
                 "axes.plot(range(100))\naxes.set_title('$x^2$')\nfigure")
        assert session.run_cell(drawn, 0.1)["ok"]  # shown as text: its PNG is made for no one
    finally:
        session.kill()
