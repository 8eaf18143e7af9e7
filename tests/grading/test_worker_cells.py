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
    assert outcome["error"] == {"type": "ValueError", "message": "bad input", "line": "raise ValueError('bad input')"}


def test_a_syntax_error_is_reported_as_ipython_reports_it(session):
    outcome = session.run_cell("def broken(:\n    pass", 5.0)
    assert not outcome["ok"] and outcome["error"]["type"] == "SyntaxError"


def test_system_exit_is_the_cells_error_and_the_worker_serves_on(session):
    outcome = session.run_cell("import sys\nsys.exit(3)", 5.0)
    assert not outcome["ok"] and outcome["error"]["type"] == "SystemExit"
    assert session.run_cell("after = 1", 5.0)["ok"] and session.get("after") == 1
