"""The course's website in Debian's Chromium, offline: a lesson page in each language shows its math typeset by the
site's own MathJax (its fonts loaded, no TeX left raw, no error) and a figure from the stored outputs, and its
language switch leads to the same lesson in the other language. The site is built once (as `python3 course.py
site` builds it) and served from a thread of the test process; any request for anything elsewhere fails the test."""

import functools
import http.server
import sys
import threading
from pathlib import Path

import pytest

from jupyterlab_driver import launch_chromium, missing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "site"))
import sitecheck

pytestmark = pytest.mark.slow(units=4)
LESSON = "notebooks/01_chain_rule.html"
WAIT_MS = 30_000


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site, served on a free port of 127.0.0.1; its address."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    out, _ = sitecheck.course_site(tmp_path_factory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium") / "profile")
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser, site, request, tmp_path):
    """A page that may load only from the site: every other request is refused and listed in ``page.elsewhere``."""
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    page.elsewhere = []

    def only_the_site(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            page.elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_site)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot of the failing page: {tmp_path / 'failure.png'}")
    page.close()


@pytest.mark.parametrize("edition", ["en", "ja"])
def test_a_lesson_page_shows_typeset_math_and_a_figure_and_switches_language(site, page, edition):
    response = page.goto(site + f"{edition}/{LESSON}")
    assert response.ok, f"{edition}/{LESSON}: HTTP {response.status}"
    assert page.locator("html").get_attribute("lang") == edition

    # Math: MathJax (the site's own copy) has typeset every formula of the page, with its fonts.
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    page.evaluate("() => document.fonts.ready")
    math = page.evaluate("""() => {
        const formulas = [...document.querySelectorAll('.math')];
        const typeset = formulas.filter(f => f.querySelector('mjx-container mjx-c'));
        const shown = [...document.querySelectorAll('mjx-container')].filter(c => c.getBoundingClientRect().width > 0);
        const fonts = [...document.fonts].filter(f => /^MJX/.test(f.family) && f.status === 'loaded');
        return {formulas: formulas.length, typeset: typeset.length, shown: shown.length,
                errors: document.querySelectorAll('mjx-merror').length, fonts: fonts.length,
                source: [...document.scripts].map(s => s.src).find(s => s.includes('mathjax')) || ''};
    }""")
    assert math["formulas"] >= 5 and math["typeset"] == math["formulas"], math
    assert math["shown"] >= 5 and math["errors"] == 0 and math["fonts"] >= 1, math
    assert math["source"].startswith(f"{site}{edition}/_static/mathjax/tex-chtml.js"), math

    # A figure: an image output of the notebook, loaded and drawn at a readable size.
    figure = page.locator(".cell_output img").first
    figure.scroll_into_view_if_needed()
    figure.evaluate("image => image.complete ? true : new Promise(done => image.addEventListener('load', done))")
    size = figure.evaluate("image => [image.naturalWidth, image.naturalHeight, image.getBoundingClientRect().width]")
    assert size[0] > 100 and size[1] > 100 and size[2] > 100, size

    # The language switch: the same lesson in the other language.
    other = "ja" if edition == "en" else "en"
    page.locator(".course-language-switch").first.click()
    page.wait_for_url(site + f"{other}/{LESSON}")
    assert page.locator("html").get_attribute("lang") == other
    assert page.locator(".course-open-in-lab").first.get_attribute("href").endswith(
        ("ja/" if other == "ja" else "") + LESSON.replace(".html", ".ipynb"))

    assert page.elsewhere == [], f"the site asked for something elsewhere (it must work offline): {page.elsewhere}"


def test_the_landing_page_sends_the_reader_to_the_edition_of_their_language(site, page):
    """Chromium here speaks English (en-US): the site's address leads to the English start page, and
    index.html?choose stays to offer both editions."""
    page.goto(site)
    page.wait_for_url(site + "en/notebooks/00_start_here.html")
    page.goto(site + "index.html?choose")
    assert page.locator("a[hreflang]").count() == 2 and page.url.endswith("?choose")
    assert page.elsewhere == []
