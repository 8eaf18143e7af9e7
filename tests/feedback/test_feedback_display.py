"""In IPython each thing is shown once: a check's verdict (no Out[n], no traceback into coursekit), a hint, the
progress view; a failing check still fails its cell, with its message in the error's value."""

import sys
import types
from html.parser import HTMLParser

import numpy as np
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from coursekit.feedback import CheckFailed, Exercise, ExerciseSet, Mistake

CELL_MODULE = "coursekit_display_test_cells"


def demo_set():
    ex = ExerciseSet("Demo lesson")
    ex.add(Exercise(
        "square", cases=[(np.array([1.0, -2.0, 3.0]),)], expected=lambda a: a * a,
        mistakes=[Mistake("doubled", lambda a: 2 * a, "you doubled instead of squaring.")],
        hints=["multiply", "a * a"]))
    ex.add(Exercise("cube", cases=[(np.array([2.0]),)], expected=lambda a: a**3))
    ex.add(Exercise("negate", cases=[(np.array([2.0]),)], expected=lambda a: -a, hints=["a sign"]))
    ex.add(Exercise("halve", cases=[(np.array([2.0]),)], expected=lambda a: a / 2))
    ex.add(Exercise("untouched", cases=[(np.array([2.0]),)], expected=lambda a: a))
    return ex


class Shell:
    """An IPython shell whose displays and shown tracebacks are captured, as a front end would receive them."""

    def __init__(self):
        config = Config()
        config.HistoryManager.enabled = False
        self.ipython = InteractiveShell.instance(config=config, user_module=types.ModuleType(CELL_MODULE))
        self.ipython.display_pub = CapturingDisplayPublisher()
        self.tracebacks = []
        # The hook a kernel overrides to send an error to the front end: what it receives is what the learner sees.
        self.ipython._showtraceback = lambda etype, value, stb: self.tracebacks.append(stb)

    def run(self, code: str):
        """Run one cell; (its result, the outputs it displayed, the tracebacks it showed)."""
        displayed, shown = len(self.ipython.display_pub.outputs), len(self.tracebacks)
        result = self.ipython.run_cell(code)
        return result, self.ipython.display_pub.outputs[displayed:], self.tracebacks[shown:]


@pytest.fixture
def shell():
    hooks = sys.displayhook, sys.excepthook
    created = Shell()
    created.ipython.user_ns.update(exercises=demo_set(), np=np)
    yield created
    InteractiveShell.clear_instance()
    sys.modules.pop(CELL_MODULE, None)
    sys.displayhook, sys.excepthook = hooks


def test_a_passing_check_shows_its_verdict_once_and_no_out(shell):
    result, outputs, tracebacks = shell.run('exercises.check("square", lambda a: a * a)')
    assert result.success and result.result is None  # nothing for Out[n]
    assert len(outputs) == 1 and not tracebacks
    assert outputs[0]["data"]["text/plain"] == "square: passed (1 cases)."
    assert "square: passed" in outputs[0]["data"]["text/html"]


def test_a_failing_check_shows_its_verdict_once_and_fails_the_cell_without_a_coursekit_traceback(shell):
    result, outputs, tracebacks = shell.run('exercises.check("square", lambda a: a + a)')
    assert not result.success and isinstance(result.error_in_exec, CheckFailed)  # "Run all" stops here
    assert len(outputs) == 1 and "Likely mistake: you doubled" in outputs[0]["data"]["text/html"]
    (stb,) = tracebacks
    shown = "\n".join(stb)
    assert len(stb) == 1 and "did not pass (failed)" in shown and "verdict is above" in shown
    assert "coursekit" not in shown and "Traceback" not in shown and "Likely mistake" not in shown
    # the error's value keeps the whole message: nbval's report and the unsolved-exercises test read it
    assert "Likely mistake: you doubled" in str(result.error_in_exec)


def test_an_error_in_the_learners_code_names_their_line_and_no_coursekit_frame(shell):
    shell.run("def mine(a):\n    total = a * a\n    return total + undefined_name\n")
    result, outputs, tracebacks = shell.run('exercises.check("square", mine)')
    assert not result.success and len(outputs) == 1
    verdict = outputs[0]["data"]["text/plain"]
    assert "NameError" in verdict and "return total + undefined_name" in verdict
    assert all("coursekit" not in line for stb in tracebacks for line in stb)


def test_an_unattempted_exercise_fails_its_cell_as_not_attempted(shell):
    shell.run("def stub(a):\n    raise NotImplementedError()\n")
    result, outputs, tracebacks = shell.run('exercises.check("square", stub)')
    assert not result.success and "not attempted" in str(result.error_in_exec).lower()
    assert len(outputs) == 1 and len(tracebacks) == 1 and "not attempted" in tracebacks[0][0]


def test_a_hint_is_shown_once(shell):
    result, outputs, tracebacks = shell.run('exercises.hint("square")')
    assert result.success and result.result is None and not tracebacks
    assert [output["data"]["text/plain"] for output in outputs] == ["Hint 1/2 for 'square': multiply"]
    assert "multiply" in outputs[0]["data"]["text/html"]


def test_progress_shows_the_last_verdict_of_each_exercise(shell):
    shell.run('exercises.check("square", lambda a: 2 * a)')
    shell.run('exercises.check("square", lambda a: a * a)')  # the last verdict counts
    shell.run('exercises.check("cube", lambda a: a * a)')
    shell.run("def stub(a):\n    raise NotImplementedError()\n")
    shell.run('exercises.check("negate", stub)')
    shell.run('exercises.check("halve", lambda a: a.missing)')
    shell.run('exercises.hint("negate")')
    result, outputs, _ = shell.run("exercises.progress()")
    assert result.success and result.result is None and len(outputs) == 1
    text = outputs[0]["data"]["text/plain"].splitlines()
    assert text[0] == "Demo lesson: 1 of 5 exercises passed in this session."
    assert [line.split()[:2] for line in text[2:]] == [
        ["square", "passed"], ["cube", "failed"], ["negate", "not"], ["halve", "error"], ["untouched", "not"]]
    assert "not attempted" in text[4] and "not checked yet" in text[6] and "1 of 1" in text[4]
    rows = _table_rows(outputs[0]["data"]["text/html"])
    assert rows[0] == ["exercise", "state", "hints seen"]
    assert [row[:2] for row in rows[1:]] == [["square", "passed"], ["cube", "failed"], ["negate", "not attempted"],
                                             ["halve", "error"], ["untouched", "not checked yet"]]


def test_progress_outside_ipython_is_printed_text(capsys):
    ex = demo_set()
    with pytest.raises(CheckFailed):
        ex.check("cube", lambda a: a)
    capsys.readouterr()  # the verdict
    assert ex.progress() is None
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Demo lesson: 0 of 5 exercises passed in this session." and "<" not in "".join(lines)
    assert [line.split()[1] for line in lines[2:]] == ["not", "failed", "not", "not", "not"]


def test_each_set_keeps_its_own_progress():
    first, second = demo_set(), demo_set()
    first.evaluate("square", lambda a: a * a)  # evaluating is not checking
    with pytest.raises(CheckFailed):
        second.check("square", lambda a: a)
    from coursekit.feedback.progress import progress_of

    assert progress_of(first).states()["square"] == "not checked yet"
    assert progress_of(second).states()["square"] == "failed"


def test_a_multi_line_verdict_keeps_its_indented_lines_aligned_in_html():
    from coursekit.feedback import CheckResult

    result = CheckResult("layer", "failed", "layer: failed: Layer check FAILED: dx.\n  element  analytic\n  dx[0]  1")
    fragment = result._repr_html_()
    assert "<pre" in fragment and "  element  analytic\n  dx[0]  1" in fragment
    one_line = CheckResult("square", "passed", "square: passed (1 cases).")._repr_html_()
    assert one_line == '<div style="border-left:4px solid #1a7f37;padding:2px 8px">square: passed (1 cases).</div>'


def _table_rows(fragment: str) -> list[list[str]]:
    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self.rows[-1].append(self.cell)
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Rows()
    parser.feed(fragment)
    return parser.rows
