"""What is kept of a cell that ran past its CPU limit: it is run again one top-level statement at a time, definitions
under a larger limit, and all of it is kept but what runs past its limit again or fails. Parsed only, never run,
but in the tests that grade."""

import ast

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coursekit.grading.cell_source import MAX_PARSED, names_defined, statements_apart
from graded_submissions import LIMITED, by_id, grade, replacing

DEFINING = ["import numpy as np", "from math import tau as turn", "def f(x):\n    return helper(x) * 2",
            "class Layer:\n    size = 3", "EPS = 1e-12", "SIZES: tuple = (2, -3)", "scale = lambda x: 2 * x",
            "@staticmethod\ndef g():\n    pass", "A = B = 'text'"]
COMPUTING = ["while True:\n    pass", "print(f(3))", "model = train(x, y)", "x = [i for i in range(10**9)]",
             "total += 1", "for i in range(3):\n    pass", "table[key()] = 1", "if ready:\n    go()",
             "get_ipython().run_line_magic('timeit', 'f(1)')", "(n := 5)", "z = (lambda: go())()"]


def test_a_cell_is_run_again_as_its_statements_in_order_each_known_to_define_or_to_compute():
    code = ("%matplotlib inline\nimport numpy as np\nwhile True:\n    pass\n"
            "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\nprint(sigmoid(0))\nRATE = 0.1\nhistory = run(RATE)\n")
    assert [statement[:2] for statement in statements_apart(code)] == [
        ("import numpy as np", True), ("while True:\n    pass", False),
        ("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))", True), ("print(sigmoid(0))", False),
        ("RATE = 0.1", True), ("history = run(RATE)", False)]
    assert [statement.lines for statement in statements_apart(code)[:2]] == [None, None]  # IPython's lines: unknown
    assert [statement.lines for statement in statements_apart(code[len("%matplotlib inline\n"):])[:2]] == [
        range(1, 2), range(2, 4)]


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 100)), min_size=1, max_size=12))
def test_every_statement_comes_apart_in_its_order_and_only_definitions_are_said_to_define(picks):
    statements = [(DEFINING if defines else COMPUTING)[index % len(DEFINING if defines else COMPUTING)]
                  for defines, index in picks]
    expected = [(ast.unparse(ast.parse(statement)), defines)
                for (defines, _), statement in zip(picks, statements, strict=True)]
    assert [statement[:2] for statement in statements_apart("\n".join(statements))] == expected
    # an import, and nothing else, has an import's limit
    assert [statement.imports for statement in statements_apart("\n".join(statements))] == [
        statement.startswith(("import ", "from ")) for statement in statements]


@pytest.mark.parametrize("code", ["def broken(:\n", "x" * (MAX_PARSED + 1), "(" * 10_000])
def test_a_cell_that_cannot_be_parsed_has_no_statements_to_run_again(code):
    assert statements_apart(code) is None


LESSON = "07_efficiency"
SOLUTION = ("def numerical_passes(n_params, method):\n"
            "    return 2 * n_params if method == 'central' else n_params + 1\n")


@pytest.mark.slow  # a loop of 0.4 s, then of 0.5 s, through a sandbox server
def test_a_definition_that_loops_is_left_out_and_the_rest_of_the_cell_kept(server):
    looping_class = "class Stuck:\n    while True:\n        pass\n\n" + SOLUTION + "print(numerical_passes(3, 'a'))"
    graded = grade(server, replacing(LESSON, "numerical_passes", looping_class), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "timeout"
    assert problem.cause.endswith("and all of it was kept but `class Stuck:`, which ran past its limit")
    assert all(t.status == "passed" for t in graded.tests), graded.tests


@pytest.mark.slow
def test_definitions_that_all_loop_leave_the_cell_skipped_and_the_rest_graded(server):
    looping = "class Stuck:\n    while True:\n        pass\nwhile True:\n    pass\n"
    nb = replacing(LESSON, "numerical_passes", SOLUTION)
    nb.cells.append(nbformat.v4.new_code_cell(looping, id="stuck"))
    graded = grade(server, nb, LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "timeout" and problem.cause == "ran past its 0.4 s CPU limit"
    assert all(t.status == "passed" for t in graded.tests), graded.tests


@pytest.mark.slow
def test_kept_definitions_are_replayed_when_a_later_cell_ends_the_worker(server):
    looping = "while True:\n    pass\n" + SOLUTION
    nb = replacing(LESSON, "numerical_passes", looping)
    nb.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(1)", id="exits"))
    graded = grade(server, nb, LESSON, LIMITED)
    assert [p.status for p in graded.cell_problems] == ["timeout", "crashed"]
    assert all(t.status == "passed" for t in graded.tests), graded.tests


@pytest.mark.slow  # a cell past its limit, then the slow definition and the loop past theirs
def test_a_slow_definition_above_the_others_is_left_out_and_the_rest_of_the_cell_kept(server):
    # red team Q: `import torch` (seconds of CPU) on the first line of the setup cell lost every import below it
    slow = "class Warm:\n    total = sum(range(10**10))\n"  # what a slow import is: a definition that computes
    cell = slow + "import numpy as np\n" + SOLUTION + "while True:\n    pass\n"
    graded = grade(server, replacing(LESSON, "numerical_passes", cell), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "timeout"
    assert problem.cause == ("ran past its 0.4 s CPU limit: it was run again one statement at a time, and all of it "
                             "was kept but 2 statements, the first `class Warm:`, which ran past its limit")
    assert all(t.status == "passed" for t in graded.tests), graded.tests


@pytest.mark.slow  # a cell past its limit: run again apart, a computed constant and a loop attaching methods run
def test_what_a_cell_computes_beside_its_slow_experiment_is_kept(server):
    # red team Q: TINY = np.finfo(float).tiny beside a slow plot, and methods attached to a class in a loop above a
    # long experiment, were lost with the experiment (only definitions were kept)
    cell = ("import numpy as np\nTINY = np.finfo(float).tiny\nclass Counter:\n    pass\n"
            "for name in ('up', 'down'):\n    setattr(Counter, name, lambda self: 1)\n"
            "def numerical_passes(n_params, method):\n"
            "    assert TINY > 0 and Counter().up() == 1\n"
            "    return 2 * n_params if method == 'central' else n_params + 1\n"
            "experiment = sum(range(10**10))\n")
    graded = grade(server, replacing(LESSON, "numerical_passes", cell), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.cause.endswith("and all of it was kept but `experiment = sum(range(10 ** 10))`, which ran past "
                                  "its limit")
    assert all(t.status == "passed" for t in graded.tests), graded.tests


@pytest.mark.slow  # one cell waits out its wall-clock backstop (2.1 s)
def test_a_cell_that_sleeps_is_said_to_have_waited_not_to_have_used_its_cpu_and_keeps_its_definitions(server):
    sleeping = "import time\ntime.sleep(30)\n" + SOLUTION
    graded = grade(server, replacing(LESSON, "numerical_passes", sleeping), LESSON, LIMITED)
    (problem,) = graded.cell_problems
    assert problem.status == "timeout"
    assert problem.cause.startswith("was stopped after waiting ") and "CPU" not in problem.cause
    assert problem.cause.endswith(": it was run again one statement at a time, and all of it was kept but "
                                  "`time.sleep(30)`, which ran past its limit")
    assert all(t.status == "passed" for t in graded.tests), graded.tests


def test_timeit_runs_its_statement_once_whatever_counts_it_asks_for(server):
    timing = ("%timeit -n 100000 -r 50 sum(range(1000))\nresult = %timeit -o -q numerical_passes(3, 'central')\n"
              "loops = (result.loops, result.repeat)")
    nb = replacing(LESSON, "numerical_passes", SOLUTION)
    nb.cells.append(nbformat.v4.new_code_cell(timing, id="timing"))
    nb.cells.append(nbformat.v4.new_code_cell("%%timeit -n 100000 -r 50 data = list(range(1000))\nsorted(data)",
                                              id="timing-cell"))
    nb.cells.append(nbformat.v4.new_code_cell("assert loops == (1, 1), loops", id="counts"))
    graded = grade(server, nb, LESSON, LIMITED)  # 5 million sums would take seconds; the cell limit is 0.4 s
    assert graded.cell_problems == []
    assert all(t.status == "passed" for t in graded.tests), graded.tests


def test_ipython_lines_define_what_they_assign_and_hundreds_of_them_parse_at_once():
    # IPython's transformer, used here before, took 8 s on 499 magics and raised past 500 (the grader failed)
    code = ("%matplotlib inline\nimport numpy as np\nfiles = !ls\nx, y = %time f()\nnp?\n"
            "def f():\n    %time q\n    return 1\n" + "%time x\n" * 2_000)
    assert names_defined(code) == ("np", "files", "x", "y", "f")
    assert names_defined("%%time\nrate = 0.1\n") == ("rate",)


@pytest.mark.parametrize(("code", "names"), [("%%time\ndef f():\n    return 1", ("f",)),
                                             ("%%capture\nimport numpy as np", ("np",)),
                                             ("%%timeit\ndef f():\n    return 1", ()),
                                             ("%%bash\nf=1", ()), ("%%\nx = 1", ())])
def test_a_cell_magic_defines_what_its_body_defines_only_where_it_runs_as_the_cells_code(code, names):
    # %%timeit runs its body in a scope of its own: the learner's kernel binds none of it (red team R)
    assert names_defined(code) == names
    assert bool(statements_apart(code)) == bool(names)


@pytest.mark.parametrize("line", [" " * 50_000 + "x", "a" + " " * 50_000 + "= %x", " \t" * 25_000 + "?",
                                  "(" + " ," * 25_000 + ") = !ls", "x." * 25_000 + "??"])
def test_a_long_line_of_a_cell_with_ipython_syntax_is_read_in_linear_time(line):
    # a regex that let spaces match in three places backtracked cubically on such a line: hours, in C, where no
    # budget can stop it (pytest-timeout would end this test instead)
    names_defined("%time 1\n" + line + "\n")


@pytest.mark.slow  # one loop of 0.4 s
def test_a_name_the_students_code_meets_undefined_is_explained_by_the_cell_that_would_have_defined_it(server):
    uses_factor = ("def numerical_passes(n_params, method):\n"
                   "    return factor * n_params if method == 'central' else n_params + 1\n")
    nb = replacing(LESSON, "numerical_passes", uses_factor)
    nb.cells.insert(1, nbformat.v4.new_code_cell("factor = 2 + 0 * sum(range(10**10))\n", id="setup"))
    graded = grade(server, nb, LESSON, LIMITED)
    result = by_id(graded)["numerical_passes_test"]
    assert result.status == "error" and "NameError: name 'factor' is not defined" in result.message
    assert result.message.endswith("`factor` is not defined: the cell that defines it ran past its 0.4 s CPU limit")


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["import sympy as sp", "import sympy as sp\nimport numpy\nHALF = sp.Rational(1, 2)"])
def test_an_import_slower_than_a_cell_and_than_a_definition_but_within_an_imports_limit_is_kept(cell):
    # red team T: `import sympy` takes about 0.2 s where the lesson's server has not imported it, past a cell's 0.1 s:
    # alone in its cell, or the statement its cell was stopped in, it was never run again, and lost with all that
    # used it. On a slow machine it takes 0.4-0.6 s, past a definition's 0.5 s: an import has a limit of its own
    # (a definition's is set to the cell's here, so that only the import's can keep it)
    from coursekit.grading.client import WarmServer
    from coursekit.grading.limits import Settings
    from graded_submissions import MASTERS, solution

    lesson = "03_activations"
    modules = sorted(set(MASTERS[lesson].sandbox_modules()))
    assert "sympy" not in modules  # a batch's server for this lesson alone
    nb = solution(lesson)
    nb.cells.insert(2, nbformat.v4.new_code_cell(cell, id="learners-import"))
    nb.cells.insert(3, nbformat.v4.new_code_cell("ONE = sp.Integer(1)", id="uses-it"))
    with WarmServer(preload=modules) as server:
        graded = grade(server, nb, lesson, Settings(definitions_timeout=0.1))  # 0.1 s a cell, 2 s an import
    assert [problem.cell for problem in graded.cell_problems if problem.status != "timeout"] == []
    assert graded.points == graded.max_points
