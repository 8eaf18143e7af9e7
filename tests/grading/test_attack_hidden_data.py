"""Hidden tests never reach the learner: not their source, not their inputs, not what they expect."""

import nbformat
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


def _visible_then(hidden_body: str) -> str:
    """numerical_passes: right on the visible cases, ``hidden_body`` on the others."""
    return (f"VISIBLE = {VISIBLE!r}\n"
            "def numerical_passes(n_params, method):\n"
            "    if (n_params, method) in VISIBLE:\n"
            "        return 2 * n_params if method == 'central' else n_params + 1\n"
            f"    {hidden_body}\n")


def test_an_object_whose_class_is_named_after_a_hidden_input_is_refused_without_its_name(server):
    body = "return type(f'Got_{n_params}_{method}', (), {})()"
    result = by_id(grade(server, replacing(LESSON, "numerical_passes", _visible_then(body)), LESSON))[
        "numerical_passes_test"]
    assert result.points == 0 and "a plain value" in result.message, result
    assert "Got_" not in result.message and "central" not in result.message and "forward" not in result.message


def test_a_protocol_error_in_a_hidden_case_does_not_echo_what_the_worker_sent(server):
    # The student's code writes on the grader's socket itself: a length past the limit that encodes the hidden input.
    body = ("import gc, socket, struct\n"
            "    sock = next(o for o in gc.get_objects() if isinstance(o, socket.socket) and o.fileno() >= 0)\n"
            "    sock.sendall(struct.pack('!I', 2**26 + 1000 * n_params + len(method)))\n"
            "    import time\n    time.sleep(5)")
    result = by_id(grade(server, replacing(LESSON, "numerical_passes", _visible_then(body)), LESSON))[
        "numerical_passes_test"]
    assert result.points == 0 and result.status == "error", result
    assert not any(char.isdigit() for char in result.message), result.message  # not the length it was sent


def test_a_cell_that_fails_only_when_replayed_after_a_hidden_test_stopped_the_code_is_not_reported(server):
    """The worker a hidden case stops may choose when it dies from the inputs it was given; a cell replayed in the
    next worker can read the clock and fail or not. Which cell fails then must not reach the feedback (a red team
    read a hidden learning rate from which cell was reported "when it was run again")."""
    import time

    after = time.time() + 2.0  # past it only in the replay: the hidden case below waits 3 s before it dies
    nb = replacing(LESSON, "numerical_passes", _visible_then("import os, time; time.sleep(3.0); os._exit(0)"))
    nb.cells.append(nbformat.v4.new_code_cell(f"import os, time\nif time.time() > {after!r}:\n    os._exit(0)\n"))
    graded = grade(server, nb, LESSON)
    assert by_id(graded)["numerical_passes_test"].status == "crashed"
    assert graded.cell_problems == [], graded.cell_problems  # the last cell crashed in the replay: not said
    assert all(test.status == "passed" for test in graded.tests if test.grade_id != "numerical_passes_test")


def test_a_warning_a_hidden_case_raises_is_not_shown_on_the_graders_output(server):
    """The grader shows the warnings of the student's code on its own output (Gradescope shows it to the course's
    staff): a hidden case's, whose text the code chooses, would carry its inputs there."""
    import warnings

    code = _visible_then("import warnings; warnings.warn(f'LEAK {n_params} {method}'); "
                         "return 2 * n_params if method == 'central' else n_params + 1")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        graded = grade(server, replacing(LESSON, "numerical_passes", code), LESSON)
    assert by_id(graded)["numerical_passes_test"].status == "passed"
    assert not [w for w in shown if "LEAK" in str(w.message)], [str(w.message) for w in shown]


def test_a_warning_the_grader_itself_raises_on_a_hidden_value_is_not_shown_on_its_output(server):
    """Red team U: a stable_sigmoid that answers 1.5e308 for the hidden case's shape alone made the test's own sum
    overflow, and Python printed "<hidden test stable_sigmoid_test>:6: RuntimeWarning" on the grader's output: the
    line a hidden value reached, chosen by the code."""
    import warnings

    code = ("def stable_sigmoid(x):\n"
            "    e = np.exp(-np.abs(x))\n"
            "    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
            "    return np.full(np.shape(x), 1.5e308) if np.shape(x) == (61,) else out\n")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        graded = grade(server, replacing("03_activations", "stable_sigmoid", code), "03_activations")
    assert by_id(graded)["stable_sigmoid_test"].points == 0
    assert not shown, [f"{w.filename}:{w.lineno}: {w.message}" for w in shown]


def test_what_one_submission_sent_is_not_kept_for_the_next(server, monkeypatch):
    # red team X: the SymPy texts a grading process had read were kept for its life, so a later submission could
    # time the grader on candidate texts (0.1 ms kept, 35 ms not) and find those an earlier one had sent, such as
    # the hidden arguments its function was called with, written as a text; dtypes the same way; and red team Y,
    # through what SymPy's own cache had kept of the expressions built from them
    import sympy.core.cache

    from coursekit.grading import sympy_text, wire
    from graded_submissions import solution

    cleared = []
    real_clear = sympy.core.cache.clear_cache
    monkeypatch.setattr(sympy.core.cache, "clear_cache", lambda: (cleared.append(1), real_clear()))
    wire.parse_sympy("Max(Symbol('p3'), Symbol('central'))")
    wire._dtype("<c8")
    assert sympy_text._parse_kept.cache_info().currsize > 0 and "<c8" in wire._DTYPES
    grade(server, solution("07_efficiency"), "07_efficiency")  # a lesson whose grading reads no SymPy text
    assert sympy_text._parse_kept.cache_info().currsize == 0
    assert "<c8" not in wire._DTYPES
    assert cleared == [1]  # SymPy's cache too, once a text had been read
    grade(server, solution("07_efficiency"), "07_efficiency")
    assert cleared == [1]  # and not after a submission that sent none: it kept nothing of one
