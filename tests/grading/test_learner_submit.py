"""coursekit.submit() without a browser: the front end is faked (a save that rewrites the notebook file, a form
whose button the test presses). tests/browser does the same in a real JupyterLab."""

import json
import shutil
import threading
import time
import zipfile

import pytest

import coursekit
from coursekit.grading import front_end, learner_submit, submission
from coursekit.grading.learner_submit import Problem, Summary
from graded_submissions import ROOT

LESSON = "01_chain_rule"
EDIT = "# typed in the page, not saved"


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder holding a copy of exercise set 01, no student id anywhere, and what submit() shows kept in
    ``shown`` (objects, in order) instead of being displayed."""
    (tmp_path / "exercises").mkdir()
    notebook = tmp_path / "exercises" / f"{LESSON}.ipynb"
    shutil.copy(ROOT / "exercises" / f"{LESSON}.ipynb", notebook)
    monkeypatch.delenv("COURSEKIT_STUDENT", raising=False)
    monkeypatch.setattr(submission, "STUDENT_FILE", tmp_path / "home" / ".config" / "coursekit" / "student")
    shown = []

    class Handle:
        def update(self, obj):
            shown[shown.index(self)] = obj

    def show(obj, updatable=False):
        handle = Handle() if updatable else None
        shown.append(handle if updatable else obj)
        return handle

    monkeypatch.setattr(learner_submit, "_show", show)
    return notebook, shown


def page_saves_an_edit(notebook):
    """A fake JupyterLab page: asked to save, it writes what it shows (the notebook with an unsaved edit)."""
    def run_command(command):
        assert command == "docmanager:save"
        data = json.loads(notebook.read_text())
        data["cells"][3]["source"] = "".join(data["cells"][3]["source"]) + "\n" + EDIT
        notebook.write_text(json.dumps(data))
    return run_command


def packed_notebook(target) -> str:
    with zipfile.ZipFile(target) as archive:
        return archive.read("notebook.ipynb").decode()


def test_outside_jupyter_submit_packs_the_file_on_disk_says_so_once_and_returns_none(course, capsys, monkeypatch):
    notebook, shown = course
    monkeypatch.undo()  # the real _show: plain Python prints
    monkeypatch.setenv("COURSEKIT_STUDENT", "grace")
    outbox = notebook.parent.parent / "outbox"
    assert coursekit.submit(str(notebook), outbox=str(outbox)) is None
    printed = capsys.readouterr().out
    target = outbox / f"{LESSON}--grace.submission.zip"
    assert target.is_file() and printed.count(str(target)) == 1
    assert str(front_end.NO_FRONT_END) in printed and "Packed the notebook as it was last saved" in printed


def test_outside_jupyter_a_missing_student_id_is_an_error_that_says_how_to_set_it(course):
    notebook, _ = course
    with pytest.raises(submission.NotASubmission) as raised:
        coursekit.submit(str(notebook), outbox=str(notebook.parent))
    message = str(raised.value)
    assert "No student id is set" in message and "COURSEKIT_STUDENT" in message
    assert str(submission.STUDENT_FILE) in message and 'student="your-id"' in message
    assert not list(notebook.parent.glob("*.zip"))


def test_in_jupyter_submit_saves_the_page_then_shows_one_summary(course, monkeypatch):
    notebook, shown = course
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    monkeypatch.setattr(front_end, "_run_command", page_saves_an_edit(notebook))
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))  # as Jupyter Server tells a kernel its notebook

    assert coursekit.submit(student="ada") is None

    (summary,) = shown  # "saving ..." was replaced by the summary: one thing shown
    assert isinstance(summary, Summary) and summary.not_saved is None and summary.student == "ada"
    assert summary.target == notebook.parent.parent / "outbox" / f"{LESSON}--ada.submission.zip"
    assert EDIT in packed_notebook(summary.target)
    assert str(learner_submit.SAVED) in str(summary) and str(summary.target) in summary._repr_html_()


def test_without_an_id_a_form_asks_for_it_checks_it_remembers_it_and_submits(course, monkeypatch):
    notebook, shown = course
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    monkeypatch.setattr(front_end, "_run_command", page_saves_an_edit(notebook))

    assert coursekit.submit(str(notebook), outbox=str(notebook.parent)) is None
    (form,) = shown
    intro, (text, button), status = form.children[0], form.children[1].children, form.children[2]
    assert "No student id is set" in intro.value

    text.value = "../grace"
    button.click()
    assert "is not a valid student id" in status.value and not button.disabled  # try again
    assert not submission.STUDENT_FILE.exists()

    text.value = "grace "
    button.click()
    assert submission.STUDENT_FILE.read_text().strip() == "grace"
    assert "coursekit-submit-summary" in status.value and "for grace" in status.value
    target = notebook.parent / f"{LESSON}--grace.submission.zip"
    assert EDIT in packed_notebook(target)

    shown.clear()
    coursekit.submit(str(notebook), outbox=str(notebook.parent))  # remembered: no form this time
    (summary,) = shown
    assert isinstance(summary, Summary) and summary.student == "grace"


def test_an_invalid_stored_id_is_asked_again_with_the_reason(course, monkeypatch):
    notebook, shown = course
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    monkeypatch.setenv("COURSEKIT_STUDENT", "a/b")
    coursekit.submit(str(notebook), outbox=str(notebook.parent))
    (form,) = shown
    assert "not valid" in form.children[0].value and "a slash" in form.children[0].value


def test_in_jupyter_a_problem_is_shown_in_plain_words_not_raised(course, monkeypatch):
    _, shown = course
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert coursekit.submit(student="ada") is None
    (problem,) = shown
    assert isinstance(problem, Problem) and "Which notebook?" in str(problem)


def test_a_page_that_never_saves_is_reported_and_the_file_on_disk_is_packed(course, monkeypatch):
    notebook, _ = course
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    before = notebook.read_bytes()
    summary = learner_submit.make_submission(notebook, "ada", notebook.parent,
                                             save=lambda path: front_end.save_notebook(path, timeout=0.2,
                                                                                       run_command=lambda c: None))
    assert summary.not_saved == front_end.NO_ANSWER.format(seconds=0.2)
    assert "Could not save the notebook from here" in str(summary) and "Ctrl+S" in str(summary)
    assert packed_notebook(summary.target) == before.decode()


def test_the_save_is_awaited_until_it_reaches_the_disk(tmp_path):
    notebook = tmp_path / f"{LESSON}.ipynb"
    shutil.copy(ROOT / "exercises" / f"{LESSON}.ipynb", notebook)

    def slow_page(command):  # the page answers a moment later, as a real one does
        def save():
            time.sleep(0.3)
            notebook.write_text(notebook.read_text().replace("YOUR CODE HERE", "saved later"))
        threading.Thread(target=save).start()

    started = time.monotonic()
    assert front_end.save_notebook(notebook, timeout=5, run_command=slow_page) is None
    assert time.monotonic() - started >= 0.3 and "saved later" in notebook.read_text()


def test_without_ipylab_the_reason_says_how_to_get_it(tmp_path):
    notebook = tmp_path / f"{LESSON}.ipynb"
    shutil.copy(ROOT / "exercises" / f"{LESSON}.ipynb", notebook)

    def no_ipylab(command):
        raise ImportError("No module named 'ipylab'")

    assert front_end.save_notebook(notebook, run_command=no_ipylab) == str(front_end.NO_IPYLAB)


def test_the_summary_counts_the_visible_checks_and_escapes_what_it_shows(course, monkeypatch):
    notebook, _ = course
    from coursekit.lessons.l01_chain_rule import exercises

    def central_difference(f, x, h=1e-5):
        return (f(x + h) - f(x - h)) / (2 * h)

    monkeypatch.setattr(learner_submit, "_namespace",
                        lambda: {"exercises": exercises, "central_difference": central_difference})
    summary = learner_submit.make_submission(notebook, "ada", notebook.parent, save=lambda path: None)
    assert summary.checks[0] == ("central_difference", "passed")
    assert all(status == submission.NOT_RUN for _, status in summary.checks[1:])
    assert f"1 passed, {len(summary.checks) - 1} {submission.NOT_RUN}" in str(summary)
    html = Summary(summary.target, LESSON, "ada", "<b>no</b>", summary.last_saved, [("<x>", "failed")])._repr_html_()
    assert "<b>no</b>" not in html and "&lt;x&gt;" in html
