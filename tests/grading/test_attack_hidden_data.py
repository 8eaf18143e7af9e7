"""Hidden tests never reach the learner: not their source, not their inputs, not what they expect."""

import pytest

from coursekit.lessons.l07_efficiency import exercises as lesson07
from graded_submissions import by_id, grade, replacing

pytestmark = pytest.mark.slow  # grades through a sandbox server

LESSON = "07_efficiency"
VISIBLE = [tuple(case) for case in lesson07["numerical_passes"].cases]
HIDDEN_INPUTS = ("(3, 'central')", "(3, 'forward')", "(0, 'forward')")  # solutions/07's hidden numerical_passes


def test_an_exception_that_carries_a_hidden_input_says_only_its_kind(server):
    code = (f"VISIBLE = {VISIBLE!r}\n"
            "def numerical_passes(n_params, method):\n"
            "    if (n_params, method) in VISIBLE:\n"
            "        return 2 * n_params if method == 'central' else n_params + 1\n"
            "    raise ValueError(repr((n_params, method)))\n")
    graded = grade(server, replacing(LESSON, "numerical_passes", code), LESSON)
    result = by_id(graded)["numerical_passes_test"]
    assert result.status == "error" and result.points == 0
    assert result.message == "a hidden case raised `ValueError`"


def test_an_exception_class_named_after_a_hidden_input_is_not_named(server):
    code = (f"VISIBLE = {VISIBLE!r}\n"
            "def numerical_passes(n_params, method):\n"
            "    if (n_params, method) in VISIBLE:\n"
            "        return 2 * n_params if method == 'central' else n_params + 1\n"
            "    raise type(f'Got_{n_params}_{method}', (Exception,), {})()\n")
    result = by_id(grade(server, replacing(LESSON, "numerical_passes", code), LESSON))["numerical_passes_test"]
    assert result.message == "a hidden case raised an exception of your own" and "Got_" not in result.message


def test_what_a_hidden_test_sent_cannot_come_back_in_a_later_visible_message(server):
    # numerical_passes keeps every input it is given; chain_multiplications, checked after it, raises them all.
    spy = (f"SEEN = []\nVISIBLE = {VISIBLE!r}\n"
           "def numerical_passes(n_params, method):\n"
           "    SEEN.append((n_params, method))\n"
           "    return 2 * n_params if method == 'central' else n_params + 1\n")
    leak = "def chain_multiplications(dims, order):\n    raise ValueError(repr(SEEN))\n"
    nb = replacing(LESSON, "numerical_passes", spy)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "chain_multiplications":
            cell.source = leak
    graded = grade(server, nb, LESSON)
    message = by_id(graded)["chain_multiplications_test"].message
    assert "ValueError" in message  # a visible case: the learner sees their own error ...
    assert not [case for case in HIDDEN_INPUTS if case in message], message  # ... but no hidden input in it
    assert by_id(graded)["numerical_passes_test"].status == "passed"
