"""End to end: every master graded as a submission gets full marks; every untouched exercise set gets 0."""

import pytest

from coursekit.assignment.notebooks import read_notebook, write_notebook
from coursekit.grading.limits import DEFAULT_CELL_TIMEOUT, DEFINITIONS_TIMEOUT, IMPORT_TIMEOUT, Settings
from coursekit.grading.master import load_master
from graded_submissions import MASTERS, ROOT, grade

pytestmark = pytest.mark.slow  # grades through a sandbox server


@pytest.mark.parametrize("lesson", sorted(MASTERS))
def test_the_solutions_get_full_marks_within_their_own_cell_time_limits(server, lesson):
    graded = grade(server, read_notebook(ROOT / "solutions" / f"{lesson}.ipynb"), lesson, Settings())
    failures = [(t.grade_id, t.status, t.message[:200]) for t in graded.tests if t.status != "passed"]
    assert not failures and graded.points == graded.max_points > 0
    assert graded.cell_problems == []


def test_a_master_may_declare_a_longer_cell_time_limit_and_settings_may_override_it(tmp_path):
    nb = read_notebook(ROOT / "solutions" / "07_efficiency.ipynb")
    nb.metadata["coursekit"] = {"cell_timeout": 10}
    write_notebook(nb, tmp_path / "07_efficiency.ipynb")
    declared, other = load_master(tmp_path / "07_efficiency.ipynb"), MASTERS["07_efficiency"]
    assert declared.cell_timeout == 10 and other.cell_timeout is None
    assert Settings().for_master(declared).cell_timeout == 10
    assert Settings().for_master(other).cell_timeout == DEFAULT_CELL_TIMEOUT
    assert Settings(cell_timeout=2.5).for_master(declared).cell_timeout == 2.5
    # the definitions of a cell past its limit run alone with at least as long as the cell had
    assert Settings().for_master(declared).definitions_timeout == 10
    assert Settings().for_master(other).definitions_timeout == DEFINITIONS_TIMEOUT > DEFAULT_CELL_TIMEOUT
    assert Settings().for_master(declared).import_timeout == 10
    assert Settings().for_master(other).import_timeout == IMPORT_TIMEOUT > DEFINITIONS_TIMEOUT


def test_a_declared_cell_time_limit_is_read_from_the_masters_metadata(tmp_path):
    nb = read_notebook(ROOT / "solutions" / "07_efficiency.ipynb")
    for declared, expected in ((4, 4.0), (0.25, 0.25), (-1, None), ("ten", None)):
        nb.metadata["coursekit"] = {"cell_timeout": declared}
        write_notebook(nb, tmp_path / "07_efficiency.ipynb")
        assert load_master(tmp_path / "07_efficiency.ipynb").cell_timeout == expected, declared


@pytest.mark.parametrize("lesson", sorted(MASTERS))
def test_untouched_exercises_get_zero_with_not_attempted_everywhere(server, lesson):
    graded = grade(server, read_notebook(ROOT / "exercises" / f"{lesson}.ipynb"), lesson)
    assert graded.points == 0
    assert {t.status for t in graded.tests} == {"not attempted"}, [(t.grade_id, t.message) for t in graded.tests]


def test_the_report_says_which_protections_were_active(server):
    graded = grade(server, read_notebook(ROOT / "exercises" / "07_efficiency.ipynb"), "07_efficiency")
    text = " ".join(graded.protections)
    assert "limits" in text and "empty working folder" in text
    landlock_abi = _landlock_abi()
    assert ("landlock" in text) == (landlock_abi > 0), (landlock_abi, text)


def _landlock_abi() -> int:
    import ctypes

    return max(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1), 0)


def test_the_backward_test_rejects_a_recursive_topological_sort_naming_the_recursion_limit(server):
    recursive = (
        "def backward(self):\n"
        "    order, seen = [], set()\n"
        "    def visit(node):\n"
        "        if id(node) not in seen:\n"
        "            seen.add(id(node))\n"
        "            for child in node._prev:\n"
        "                visit(child)\n"
        "            order.append(node)\n"
        "    visit(self)\n"
        "    self.grad = 1.0\n"
        "    for node in reversed(order):\n"
        "        node._backward()\n\n"
        "Value.backward = backward\n")
    nb = read_notebook(ROOT / "solutions" / "02_computation_graphs.ipynb")
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "backward"]
    cell.source = recursive
    result = {t.grade_id: t for t in grade(server, nb, "02_computation_graphs").tests}["backward_test"]
    # check() itself, in the visible part, builds a chain deeper than the recursion limit
    assert result.status == "failed" and result.points == 0
    assert "RecursionError" in result.message and "deeper than Python's recursion limit" in result.message
