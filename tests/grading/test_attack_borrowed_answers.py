"""coursekit's own answers to a lesson (its engine, layers, losses, training loop) cannot be handed in for it: the
sandbox refuses to import them while that lesson is graded, and says why; other lessons keep them."""

import pytest

from coursekit.grading.client import WarmServer
from coursekit.lessons import l02_computation_graphs, l06_training
from graded_submissions import FAST, MASTERS, by_id, grade, replacing, solution, solution_cell

pytestmark = pytest.mark.slow  # grades through a sandbox server

BORROWED = [
    ("02_computation_graphs", "value_add_mul", "from coursekit.engine import Value\n",
     ("value_add_mul_test", "backward_test", "more_operations_test", "derived_operations_test")),
    ("02_computation_graphs", "value_add_mul",
     "import coursekit.engine\nclass Value(coursekit.engine.Value):\n    pass\n",
     ("value_add_mul_test", "backward_test")),
    ("02_computation_graphs", "value_add_mul", "from coursekit import engine as _e\nValue = getattr(_e, 'Value')\n",
     ("value_add_mul_test",)),
    ("02_computation_graphs", "value_add_mul",  # the module run again, as reload and a fresh import do
     "import importlib, coursekit.engine\nimportlib.reload(coursekit.engine)\nfrom coursekit.engine import Value\n",
     ("value_add_mul_test",)),
    ("06_training", "train",
     "import sys\ndel sys.modules['coursekit.training']\nfrom coursekit.training import fit as train\n",
     ("train_test",)),
    ("03_activations", "Sigmoid", "from coursekit.nn import Sigmoid\n", ("Sigmoid_test",)),
    ("04_linear_and_losses", "mse_loss", "from coursekit.nn import mse_loss\n", ("mse_loss_test",)),
    ("04_linear_and_losses", "gradient_check",  # the library's differences, their step rescaled to the learner's h
     "import numpy as np\nfrom coursekit.gradcheck.numerical import numerical_gradient, step\n"
     "def gradient_check(f, x, grad, h=1e-5):\n"
     "    e, x0 = float(step(0.0)), np.array(x, dtype=float)\n"
     "    numerical = numerical_gradient(lambda u: f(x0 + u * (h / e)), np.zeros(x0.shape)) * (e / h)\n"
     "    scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)\n"
     "    return numerical, float(np.max(np.abs(grad - numerical) / scale))\n",
     ("gradient_check_test",)),
    ("05_delta_recursion", "MLP", "from coursekit.nn import Sequential as MLP\n", ("MLP_test",)),
    ("06_training", "train", "from coursekit.training import fit as train\n", ("train_test",)),
    ("06_training", "layer_gradient_norms", "from coursekit.training import gradient_norms as layer_gradient_norms\n",
     ("layer_gradient_norms_test",)),
    # a red team's: the heart of exercise 3, the order, from the library (lesson 02); lesson 07's whole answer
    ("02_computation_graphs", "backward",
     "from coursekit.engine import topological_order\n"
     "def backward(self):\n    self.grad = 1.0\n    for node in reversed(topological_order(self)):\n"
     "        node._backward()\nValue.backward = backward\n", ("backward_test",)),
    ("07_efficiency", "chain_multiplications",
     "def chain_multiplications(dims, order):\n    from coursekit.viz.efficiency import chain_costs\n"
     "    forward, reverse = chain_costs(dims)\n    return forward if order == 'forward' else reverse\n",
     ("chain_multiplications_test",)),
    ("01_chain_rule", "central_difference",  # the library's directional derivative, x rescaled to the learner's h
     "from coursekit.gradcheck import jvp, step\n"
     "def central_difference(f, x, h=1e-5):\n    e = float(step(0.0))\n"
     "    return float(jvp(lambda u: f(x + float(u) * (h / e)), 0.0, 1.0) * (e / h))\n",
     ("central_difference_test",)),
    ("01_chain_rule", "central_difference",
     "from coursekit.gradcheck.numerical import numerical_gradient, step\nimport numpy as np\n"
     "def central_difference(f, x, h=1e-5):\n    e = float(step(0.0))\n"
     "    return float(numerical_gradient(lambda u: f(x + float(u) * (h / e)), np.zeros(())) * (e / h))\n",
     ("central_difference_test",)),
]


@pytest.mark.parametrize(("lesson", "grade_id", "code", "tests"), BORROWED,
                         ids=[f"{lesson[:2]}-{code.splitlines()[-1][:40]}" for lesson, _, code, _ in BORROWED])
def test_a_submission_that_hands_in_coursekits_own_answer_scores_nothing_for_it_and_is_told_why(server, lesson,
                                                                                               grade_id, code, tests):
    graded = grade(server, replacing(lesson, grade_id, code), lesson, FAST)
    results = by_id(graded)
    for test_id in tests:
        assert results[test_id].points == 0, results[test_id]
    words = " ".join([problem.cause for problem in graded.cell_problems] + [r.message for r in graded.tests])
    assert "coursekit's own answer to this lesson's exercises" in words, words


# Lesson 01 withholds names of a package (coursekit.gradcheck) that its modules define; lesson 02 one of a module.
FROM_ANY_SERVER = [
    ("01_chain_rule", "central_difference",
     "from coursekit.gradcheck.numerical import numerical_derivative\n"
     "def central_difference(f, x, h=1e-5):\n    return numerical_derivative(f, x)\n", "central_difference_test"),
    ("01_chain_rule", "verify_derivative",
     "import coursekit.gradcheck as _g\n"
     "def verify_derivative(expr, claimed, var):\n    return _g.check_symbolic(expr, var, claimed).passed\n",
     "verify_derivative_test"),
    ("02_computation_graphs", "value_add_mul", "from coursekit.engine import Value\n", "value_add_mul_test"),
]


@pytest.mark.parametrize("preload", ["setup imports only", "as a batch preloads"])
@pytest.mark.parametrize(("lesson", "grade_id", "code", "test_id"), FROM_ANY_SERVER,
                         ids=[f"{lesson[:2]}-{test_id}" for lesson, _, _, test_id in FROM_ANY_SERVER])
def test_a_borrowed_answer_is_refused_whether_or_not_the_server_imported_its_module(lesson, grade_id, code, test_id,
                                                                                    preload):
    # A batch's server imports the modules the lesson withholds names from (Master.sandbox_modules), so that no
    # worker pays for importing them; a server told only the setup's imports leaves that import to each worker
    # (lesson 01's coursekit.gradcheck; lesson 02's engine comes in with its graphs anyway). The refusal is the same.
    master = MASTERS[lesson]
    modules = master.modules() if preload == "setup imports only" else master.sandbox_modules()
    held = {spec.partition(":")[0] for spec in _exercise_set(lesson).withheld}
    assert held <= set(master.sandbox_modules())
    if preload == "setup imports only":
        assert not held <= set(modules), "the case needs a withheld module the server does not import"
    with WarmServer(preload=sorted(set(modules))) as warm:
        graded = grade(warm, replacing(lesson, grade_id, code), lesson, FAST)
    assert by_id(graded)[test_id].points == 0, by_id(graded)[test_id]
    words = " ".join([problem.cause for problem in graded.cell_problems] + [r.message for r in graded.tests])
    assert "coursekit's own answer to this lesson's exercises" in words, words


def _exercise_set(lesson: str):
    import importlib

    name = next(module for module in MASTERS[lesson].modules() if module.startswith("coursekit.lessons."))
    return importlib.import_module(name).exercises


def test_the_library_stays_available_where_it_is_not_the_answer(server):
    # Lesson 05's MLP is built from coursekit.nn's layers, which lesson 03 withholds: in lesson 05 they import.
    graded = grade(server, replacing("05_delta_recursion", "hand_deltas",
                                     "from coursekit.nn import Sigmoid, Linear\n" + solution_cell("05_delta_recursion",
                                                                                             "hand_deltas")),
                   "05_delta_recursion", FAST)
    assert sum(test.points for test in graded.tests) == MASTERS["05_delta_recursion"].max_points, graded.tests


@pytest.mark.parametrize("lesson", ["04_linear_and_losses", "01_chain_rule"])
def test_a_star_import_of_a_module_that_holds_a_withheld_answer_imports_the_rest(server, lesson):
    # red team Q: gradcheck's __all__ names answers lessons 01 and 04 withhold; the star import raised ImportError,
    # and every import below it in the setup cell was lost (0 of 18)
    nb = with_setup(lesson, "from coursekit.gradcheck import *\n", "\nassert callable(check_gradient)\n")
    graded = grade(server, nb, lesson, FAST)
    assert graded.cell_problems == [] and graded.points == graded.max_points, graded.tests


@pytest.mark.parametrize(("lesson", "line"), [
    ("03_activations", "from coursekit.viz.activations import functions_figure, saturation_figure"),
    ("02_computation_graphs", "from coursekit.viz.graphs import draw_graph, from_value"),
    ("04_linear_and_losses", "from coursekit.viz.efficiency import time_numerical_gradient"),
    ("06_training", "from coursekit.viz.training import datasets_figure, gradient_norms_figure"),
])
def test_the_courses_own_tools_import_and_draw_where_the_answers_they_use_are_withheld(server, lesson, line):
    # red team Q: lesson 03's own import line, copied into the setup cell, lost all 9 points (viz.activations reads
    # nn.ACTIVATIONS as it is imported); lesson 02's graph drawing was "the answer" (engine.topological_order)
    graded = grade(server, with_setup(lesson, line + "\n"), lesson, FAST)
    assert graded.cell_problems == [] and graded.points == graded.max_points, (graded.cell_problems, graded.tests)


def test_a_graph_of_the_learners_values_is_drawn_with_the_courses_tool(server):
    # red team Q: lesson 02's own demonstration, edited, raised "coursekit.engine.topological_order is coursekit's own
    # answer" from inside draw_graph(from_value(...))
    import nbformat

    nb = solution("02_computation_graphs")
    nb.cells.append(nbformat.v4.new_code_cell(
        "from coursekit.viz.graphs import draw_graph, from_value\n_v = Value(2.0) * 3 + 1\n_v.backward()\n"
        "figure = draw_graph(from_value(_v))\nassert from_value(_v).nodes", id="drawn"))
    graded = grade(server, nb, "02_computation_graphs", FAST)
    assert graded.cell_problems == [] and graded.points == graded.max_points, (graded.cell_problems, graded.tests)


def test_a_tool_that_holds_an_answer_does_not_hand_it_to_the_learner(server):
    nb = replacing("04_linear_and_losses", "gradient_check",
                   "from coursekit.viz.efficiency import numerical_gradient\n" + solution_cell("04_linear_and_losses",
                                                                                        "gradient_check"))
    graded = grade(server, nb, "04_linear_and_losses", FAST)
    assert by_id(graded)["gradient_check_test"].points == 0
    assert any("coursekit.gradcheck.numerical_gradient is coursekit's own answer" in problem.cause
               for problem in graded.cell_problems), graded.cell_problems


def with_setup(lesson: str, before: str, after: str = ""):
    """The lesson's solution with ``before`` and ``after`` around its setup cell (the one importing the lesson)."""
    nb = solution(lesson)
    setup = next(cell for cell in nb.cells if cell.cell_type == "code" and "from coursekit.lessons" in cell.source)
    setup.source = before + setup.source + after
    return nb


def test_each_withheld_name_is_a_real_object_of_the_library():
    import importlib

    from coursekit import lessons

    declared = [spec for module in (l02_computation_graphs, l06_training) for spec in module.exercises.withheld]
    for name in ("l01_chain_rule", "l03_activations", "l04_linear_losses", "l05_delta_recursion"):
        declared += importlib.import_module(f"{lessons.__name__}.{name}").exercises.withheld
    assert len(declared) >= 18
    for spec in declared:
        module, _, attribute = spec.partition(":")
        assert module.startswith("coursekit.") and hasattr(importlib.import_module(module), attribute), spec


def test_a_worker_sees_the_coursekit_modules_imported_after_its_server_noted_them():
    # Withholding looks for a name in coursekit's imported modules. A worker takes the list its server noted before
    # forking (scanning sys.modules would copy hundreds of the server's pages), unless a module came since.
    import subprocess
    import sys

    code = ("import sys\n"
            "from coursekit.grading import withholding\n"
            "withholding.remember_library_modules()\n"
            "noted = withholding.library_modules()\n"
            "assert noted and 'coursekit.datasets' not in sys.modules\n"
            "import coursekit.datasets as late\n"
            "now = withholding.library_modules()\n"
            "assert late in now and late not in noted and all(module in now for module in noted), now\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
