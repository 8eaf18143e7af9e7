"""The course server in Debian's Chromium: a learner signs in with a token, uploads a notebook and reads its
feedback; another learner's upload answers 404 and the dashboard 403; the instructor's dashboard shows the class
table and the mistakes chart. One server (uvicorn, in a thread of the test process) and one browser per module."""

import json
import sys
import urllib.request
from pathlib import Path

import pytest

from jupyterlab_driver import CHROMIUM, CHROMIUM_ARGS, HOW_TO_ENABLE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_helpers import (
    LESSON,
    MISTAKEN,
    ROSTER,
    SOLVED,
    ServerThread,
    private_sandbox,
    server_config,
)

from coursekit.grading.gradebook import Gradebook
from coursekit.server import tokens

pytestmark = pytest.mark.slow
WAIT_MS = 20_000


def _missing() -> str | None:
    lacking = [] if CHROMIUM.exists() else [f"{CHROMIUM} is missing"]
    try:
        import playwright.sync_api  # noqa: F401 -- only whether it imports
    except ImportError:
        lacking.append("Playwright for Python is not installed")
    return f"{'; '.join(lacking)}: {HOW_TO_ENABLE}" if lacking else None


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A running server with ada, bob and cy on the roster (their tokens, and the instructor's); bob has uploaded
    lesson 07 with a registered mistake through the API; the notebooks ada will upload are on disk."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("course-server")
    with private_sandbox(tmp_path_factory.mktemp("runtime")) as sandbox:
        config = server_config(folder / "gradebook.sqlite", sandbox)
        with Gradebook(config.gradebook) as book:
            issued = {one.student: one.token for one in tokens.import_roster(book.db, ROSTER)}
            instructor = tokens.issue_instructor_token(book.db)
        (folder / f"{LESSON}.ipynb").write_bytes(SOLVED)
        server = ServerThread(config)
        try:
            call = urllib.request.Request(f"{server.url}/api/submissions?lesson={LESSON}", data=MISTAKEN,
                                          headers={"Authorization": f"Bearer {issued['bob']}"}, method="POST")
            with urllib.request.urlopen(call, timeout=10) as answer:
                bob_upload = json.load(answer)["id"]
            yield {"url": server.url, "tokens": issued, "instructor": instructor, "bob_upload": bob_upload,
                   "notebook": folder / f"{LESSON}.ipynb"}
        finally:
            server.close()


@pytest.fixture(scope="module")
def browser(course):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in(browser, course, token: str):
    """A new page (its own cookies) signed in with ``token`` through the sign-in form."""
    page = browser.new_context().new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(course["url"] + "/")
    page.fill('input[name="token"]', token)
    page.click('#login button[type="submit"]')
    page.wait_for_load_state()
    return page


def test_a_learner_signs_in_with_a_token_uploads_a_notebook_and_reads_its_feedback(browser, course):
    page = signed_in(browser, course, course["tokens"]["ada"])
    assert page.url.endswith("/me")
    page.select_option('select[name="lesson"]', LESSON)
    page.set_input_files('input[name="notebook"]', str(course["notebook"]))
    page.click('#upload button[type="submit"]')
    page.wait_for_url("**/me/uploads/*")
    for _ in range(100):  # the page refreshes itself every 2 s; reloading sooner keeps the test short
        if page.locator(".score").count():
            break
        page.wait_for_timeout(100)
        page.reload()
    assert page.locator(".score").inner_text() == "7 / 7 points"
    assert page.locator(".feedback").get_by_text("numerical_passes_test: passed").count() == 1
    page.context.close()


def test_a_learner_asking_for_another_learners_upload_or_the_dashboard_is_refused(browser, course):
    page = signed_in(browser, course, course["tokens"]["cy"])
    answer = page.goto(f"{course['url']}/me/uploads/{course['bob_upload']}")
    assert answer.status == 404 and "7 / 7" not in page.content() and "same for both" not in page.content()
    assert page.goto(f"{course['url']}/instructor").status == 403
    assert page.goto(f"{course['url']}/instructor/students/bob").status == 403
    page.context.close()


def test_the_instructors_dashboard_shows_the_class_table_and_the_mistakes_chart(browser, course):
    page = signed_in(browser, course, course["instructor"])
    assert page.url.endswith("/instructor")
    for _ in range(100):  # bob's upload graded (it was queued before the module's first test)
        if page.locator("svg.mistakes-chart").count():
            break
        page.wait_for_timeout(100)
        page.reload()
    table = page.locator("table.class-table")
    assert table.locator("th", has_text="ada").count() == 1
    assert table.locator("tr", has_text="bob").locator("td", has_text="6 / 7").count() == 1
    chart = page.locator("svg.mistakes-chart")
    assert chart.is_visible() and "same for both" in chart.text_content()
    page.click("text=same for both")
    assert page.locator("main a", has_text="bob").count() == 1
    page.context.close()
