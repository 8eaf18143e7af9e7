"""What a learner sees in JupyterLab 4, in a real Chromium: submit() packs edits not yet saved and asks for a
missing student id; check(), hint() and progress() show each thing once, with no traceback into coursekit; signed
in to a course server, submit() shows the grade and the feedback the server sends back.

One JupyterLab, one browser and one notebook (a copy of exercise set 01) serve the whole module; each test types
and runs its own cells at the end of it. The check, hint and progress tests describe what issue 13 asks for; the
course server's test (issue 15) comes last, since a saved login sends every submit() to the server.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from coursekit.feedback import messages
from coursekit.grading import learner_submit
from jupyterlab_driver import Lab, NotebookPage, launch_chromium, missing

# Each test waits on the page and its kernel: counted as five slow tests, so that the module starts early in a
# parallel run (tests/slow_first.py) rather than last, when it would keep the run waiting alone.
pytestmark = pytest.mark.slow(units=5)

ROOT = Path(__file__).resolve().parents[2]
LESSON = "01_chain_rule"
NOTEBOOK = f"exercises/{LESSON}.ipynb"
SETUP = "import coursekit\nimport numpy as np\nfrom coursekit.lessons.l01_chain_rule import exercises"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab of this module's own, serving a course folder with a fresh copy of exercise set 01."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    private = tmp_path_factory.mktemp("jupyterlab")
    (private / "course" / "exercises").mkdir(parents=True)
    shutil.copy(ROOT / NOTEBOOK, private / "course" / NOTEBOOK)
    server = Lab(private / "course", private)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notebook(lab, tmp_path_factory):
    """The exercise notebook open in headless Chromium, its kernel started and the lesson's exercises imported."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            page = NotebookPage(browser.new_page(), lab, NOTEBOOK)
            page.run(SETUP)
            yield page
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def screenshot_when_failed(request, notebook, tmp_path):
    """Keep what the page showed when a test fails (its path is in the report)."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        picture = tmp_path / "page.png"
        notebook.page.screenshot(path=str(picture), full_page=True)
        print(f"screenshot of the page: {picture}")


def text_of(cell) -> str:
    """Everything ``cell``'s outputs show, as text."""
    return "\n".join(NotebookPage.outputs(cell).all_inner_texts())


def shows_no_out(cell) -> bool:
    """True when nothing of ``cell`` is shown as ``Out[n]`` (an execution result's prompt)."""
    return not any(prompt.strip() for prompt in cell.locator(".jp-OutputPrompt").all_inner_texts())


def prefix(template: str, **fields) -> str:
    """The fixed start of a message ``template`` up to its first field not given: it names the message however the
    rest of it is worded or rendered."""
    cut = "\0"
    values = {name: fields.get(name, cut) for name in ("name", "case", "cases", "tier", "tiers", "hint")}
    return template.format(**values).split(cut)[0]


# ---------------------------------------------------------------- submit
def test_submit_packs_an_edit_typed_but_not_saved(lab, notebook):
    marker = f"# typed in the browser, never saved {secrets.token_hex(4)}"
    notebook.type_into(3, f"\n{marker}")  # the central_difference cell
    on_disk = lab.root / NOTEBOOK
    assert marker not in on_disk.read_text(), "the edit should not be saved yet"

    cell = notebook.run('coursekit.submit(student="ada")')

    packed = lab.root / "outbox" / f"{LESSON}--ada.submission.zip"
    with zipfile.ZipFile(packed) as archive:
        assert marker in archive.read("notebook.ipynb").decode()
    assert marker in on_disk.read_text()
    shown = text_of(cell)
    assert NotebookPage.outputs(cell).count() == 1, shown  # one summary
    assert str(learner_submit.SAVED) in shown and str(packed) in shown
    assert shows_no_out(cell)


def test_submit_without_a_student_id_asks_for_it_and_remembers_it(lab, notebook):
    remembered = lab.home / ".config" / "coursekit" / "student"
    assert not remembered.exists()

    cell = notebook.run("coursekit.submit()")
    form = cell.locator(".coursekit-student-id-form")
    form.wait_for()
    assert shows_no_out(cell)
    form.locator("input").fill("../grace")  # not an id: the form says why and stays
    form.locator("button", has_text=str(learner_submit.SUBMIT_LABEL)).click()
    form.get_by_text("is not a valid student id").wait_for()
    assert not (lab.root / "outbox" / f"{LESSON}--grace.submission.zip").exists()
    form.locator("input").fill("grace")
    form.locator("button", has_text=str(learner_submit.SUBMIT_LABEL)).click()
    form.locator(".coursekit-submit-summary").wait_for()

    assert (lab.root / "outbox" / f"{LESSON}--grace.submission.zip").is_file()
    assert remembered.read_text().strip() == "grace"
    again = notebook.run("coursekit.submit()")  # remembered: no question the second time
    assert again.locator(".coursekit-student-id-form").count() == 0
    assert "for grace" in text_of(again) and NotebookPage.outputs(again).count() == 1


# ---------------------------------------------------------------- check, hint, progress
def test_a_failing_check_shows_its_message_once_and_no_coursekit_frames(notebook):
    cell = notebook.run("def halved(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / h\n\n"
                        'exercises.check("central_difference", halved)')
    shown = text_of(cell)
    assert shown.count(prefix(messages.FAILED, name="central_difference")) == 1, shown
    assert "coursekit/" not in shown and "coursekit\\" not in shown, shown  # no frame of coursekit's own files


def test_a_passing_check_shows_its_verdict_once(notebook):
    cell = notebook.run("def central(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / (2 * h)\n\n"
                        'exercises.check("central_difference", central)')
    shown = text_of(cell)
    assert shown.count(prefix(messages.PASSED, name="central_difference")) == 1, shown
    assert shows_no_out(cell)


def test_hint_shows_its_text_once(notebook):
    from coursekit.lessons.l01_chain_rule import exercises

    cell = notebook.run('exercises.hint("chain_rule")')
    shown = text_of(cell)
    assert shown.count(str(exercises["chain_rule"].hints[0])) == 1, shown


def test_progress_shows_a_table_of_every_exercise(notebook):
    from coursekit.lessons.l01_chain_rule import exercises

    cell = notebook.run("exercises.progress()")
    tables = cell.locator(".jp-OutputArea-output table")
    assert tables.count() == 1, text_of(cell)
    table = tables.first.inner_text()
    assert all(name in table for name in exercises.names()), table
    assert "not checked yet" in table, table  # verify_derivative and others were never checked in this kernel



# ---------------------------------------------------------------- submit() to the class's course server (issue 15)
def test_submit_signed_in_to_a_course_server_shows_the_grade_and_feedback_it_sends_back(lab, notebook, monkeypatch,
                                                                                       tmp_path_factory):
    sys.path.insert(0, str(ROOT / "tests" / "server"))
    from server_helpers import ROSTER, ServerThread, lesson_sandbox, server_config

    from coursekit.grading import course_server
    from coursekit.grading.gradebook import Gradebook
    from coursekit.server import tokens

    login_file = lab.home / ".config" / "coursekit" / "server.json"  # the kernel's: the Lab sets its HOME
    with lesson_sandbox(tmp_path_factory.mktemp("sandbox"), LESSON) as sandbox:
        config = server_config(tmp_path_factory.mktemp("course-server") / "gradebook.sqlite", sandbox)
        with Gradebook(config.gradebook) as book:
            token = {one.student: one.token for one in tokens.import_roster(book.db, ROSTER)}["ada"]
        server = ServerThread(config)
        try:
            monkeypatch.setattr(course_server, "LOGIN_FILE", login_file)
            course_server.log_in(server.url, token)  # as `coursekit login URL` does, for the Lab's learner
            cell = notebook.run("coursekit.submit()")
        finally:
            server.close()
            login_file.unlink(missing_ok=True)  # the module's other tests submit to the outbox
    with Gradebook(config.gradebook) as book:
        [(points, max_points)] = book.db.execute("SELECT points, max_points FROM submissions WHERE student = 'ada' "
                                                 "AND state = 'graded'").fetchall()
    shown = text_of(cell)
    assert course_server.GRADED.format(lesson=LESSON, points=points, max_points=max_points, late="",
                                       url=server.url) in shown, shown
    grade = cell.locator(".coursekit-server-grade")
    assert grade.count() == 1, shown
    assert grade.locator("table").count() == 1, shown  # the feedback's table of questions, rendered from Markdown
    assert "Feedback per question" in grade.inner_text(), shown
    assert str(learner_submit.SENT_SAVED) in shown and "Not sent" not in shown
