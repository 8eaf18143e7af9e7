"""Feedback pages: a standalone HTML document rendered from the Markdown, readable (headings, a table of the questions,
code spans), in which nothing a student wrote is ever read as markup."""

import csv
import html
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from coursekit.grading import feedback_page
from coursekit.grading.feedback_page import code, message_markdown, text
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.gradebook_schema import submission_key
from coursekit.grading.verdicts import CellProblem, Grade
from coursekit.grading.verdicts import TestResult as Result  # not collected as a test class

LESSON = "07_efficiency"
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
           "![x](http://evil.example/x.png)", "<http://evil.example>", "&lt;b&gt;", "**bold** _it_ # h",
           "| a | b |", "```", "- item", "1. item", "> quote", "\\<script>", "<!-- x -->", "<a href='x'>x</a>"]
TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "table", "thead", "tbody",
        "tr", "th", "td", "ul", "li", "code", "pre"}


class Page(HTMLParser):
    """The tags of a page, with their attributes, and its text outside <style> and <title>."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.open, self.text, self.doctype = [], [], [], None
        self.feed(page)
        self.close()

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag != "meta":
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (self.open, tag)  # every element closes, in order
        self.open.pop()

    def handle_data(self, data):
        if not self.open or self.open[-1] not in ("style", "title"):
            self.text.append(data)


def page_of(message: str, student: str = "ada", problems=()) -> str:
    with_problems = Grade(LESSON, [Result("numerical_passes_test", "error", 0.0, 2.0, message),
                                   Result("mlp_jvp_test", "passed", 1.0, 1.0, "passed")], cell_problems=list(problems))
    return feedback_page.html_page(feedback_page.markdown(LESSON, student, 1.0, 3.0, [
        (t.grade_id, t.status, t.points, t.max_points, t.message) for t in with_problems.tests], problems),
        f"{LESSON}: 1 / 3 points")


def test_the_html_feedback_is_a_standalone_document_with_headings_a_table_and_code():
    problem = CellProblem(4, "timeout", "ran past its 0.5 s CPU limit", "def branch_gradient(x, y):",
                          ("branch_gradient",))
    page = page_of("`branch_gradient` is not defined: the cell that defines it ran past its 0.5 s CPU limit",
                   problems=[problem])
    parsed = Page(page)
    assert parsed.doctype == "doctype html" and parsed.open == []
    tags = [tag for tag, _ in parsed.tags]
    assert tags[:2] == ["html", "head"] and tags.count("body") == 1 and tags.count("h1") == 1
    assert ("html", {"lang": "en"}) in parsed.tags and ("meta", {"charset": "utf-8"}) in parsed.tags
    assert "<title>07_efficiency: 1 / 3 points</title>" in page
    assert "<th>question</th>" in page and "<td>numerical_passes_test</td>" in page and "<td>0 / 2</td>" in page
    assert "<h2>Cells that did not run to their end</h2>" in page and "<h3>numerical_passes_test: error</h3>" in page
    assert "<li>Cell 4 (starting <code>def branch_gradient(x, y):</code>) ran past its 0.5 s CPU limit." in page
    assert ("<p><code>branch_gradient</code> is not defined: the cell that defines it ran past its 0.5 s CPU limit"
            "</p>") in page
    assert "<pre>" not in page and "&lt;br&gt;" not in page and "<br>" not in page  # no Markdown shown as text


def test_the_lines_after_a_messages_first_are_kept_aligned_in_a_preformatted_block():
    page = page_of("mismatch in dx:\n  index   expected   got\n  (0, 1)  1.5        3.0")
    assert "<p>mismatch in dx:</p>\n<pre><code class=\"language-text\">  index   expected   got\n" in page


def test_what_a_student_wrote_is_shown_as_text_in_messages_ids_and_cells():
    for hostile in HOSTILE:
        problem = CellProblem(2, "error", f"raised ValueError: {hostile} (at: raise ValueError({hostile!r}))",
                              hostile, (hostile,))
        page = page_of(f"your code raised ValueError: {hostile}\n{hostile}", student=hostile, problems=[problem])
        parsed = Page(page)
        assert {tag for tag, _ in parsed.tags} <= TAGS, (hostile, parsed.tags)
        assert not any(name.startswith("on") or name in ("href", "src") for _, attrs in parsed.tags for name in attrs)
        shown = "".join(parsed.text)
        assert f"your code raised ValueError: {hostile}" in shown and f"Student: {hostile}" in shown, hostile


def test_a_submission_with_thousands_of_failing_cells_lists_twenty_and_counts_the_rest(tmp_path):
    # a red team's 1,960 raising cells made a 1.35 MB page and a CSV cell of 61,835 characters
    problems = [CellProblem(cell, "error", "raised ValueError: x" * 20, "raise ValueError()", ()) for cell in
                range(1, 1_961)]
    with Gradebook(tmp_path / "book.sqlite") as book:
        key = submission_key("ada", LESSON, "0" * 64, "2025-01-01T00:00:00.000000+00:00")
        book.record(Entry(key, "in/ada", b"{}", "0" * 64, "0" * 64, "ada", LESSON, "2025-01-01T00:00:00.000000+00:00",
                          1), Grade(LESSON, [Result("q1", "passed", 1.0, 1.0, "passed")], cell_problems=problems))
        markdown, results = book.feedback(key), book.gradescope(key)
        (_, ada) = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    for text_of_cells in (markdown, results["output"]):
        assert text_of_cells.count("- Cell ") == feedback_page.MAX_CELLS_LISTED == 20
        assert "- And 1,940 more cells, not listed." in text_of_cells
    assert len(markdown) < 10_000 and ada[-3].endswith(f"{LESSON}: 1,940 more cells") and len(ada[-3]) < 1_000


def test_the_exported_html_escapes_a_hostile_message_from_the_gradebook(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        key = submission_key("ada", LESSON, "0" * 64, "2025-01-01T00:00:00.000000+00:00")
        book.record(Entry(key, "in/ada", b"{}", "0" * 64, "0" * 64, "ada", LESSON, "2025-01-01T00:00:00.000000+00:00",
                          1), Grade(LESSON, [Result("q1", "error", 0.0, 1.0, "raised <script>alert(1)</script>")]))
        export = book.export_feedback(tmp_path / "feedback", "html")
    page = export.written[0].read_text(encoding="utf-8")
    assert export.written[0].name == f"{LESSON}--ada.html"
    assert "<script" not in page and "raised &lt;script&gt;alert(1)&lt;/script&gt;" in page


RENDER = MarkdownIt("commonmark", {"html": False}).enable("table")
MARKUP = st.text(st.sampled_from(list("<>&*_`[]()!#|-+=.1 \\~{}:/\"'ax\n")) | st.characters(codec="utf-8"), max_size=60)


def rendered_text(markdown: str) -> str:
    parsed = Page(RENDER.render(markdown))
    assert {tag for tag, _ in parsed.tags} <= {"p", "code", "pre"}, (markdown, parsed.tags)
    return "".join(parsed.text)


@settings(max_examples=300, deadline=None)
@given(MARKUP)
def test_any_text_is_shown_as_it_is(value):
    line = feedback_page._printable(" ".join(value.splitlines()))
    assert rendered_text(text(value)).strip() == line.strip(), text(value)


@settings(max_examples=300, deadline=None)
@given(MARKUP.filter(lambda v: v.strip()))
def test_any_code_is_shown_as_it_is_in_a_code_span(value):
    line = feedback_page._printable(" ".join(value.splitlines()))
    rendered = RENDER.renderInline(code(value))
    assert rendered.startswith("<code>") and html.unescape(rendered[6:-7]) == line, code(value)


@settings(max_examples=300, deadline=None)
@given(MARKUP)
def test_any_message_keeps_its_text_and_makes_no_tag_but_code(value):
    def letters(shown: str) -> str:
        return "".join(c for c in shown if c.isalnum())

    lines = value.splitlines() or [""]
    expected = "".join(feedback_page._printable(line) for line in [lines[0].strip(), *lines[1:]])
    assert letters(rendered_text(message_markdown(value))) == letters(expected), message_markdown(value)


def test_a_web_address_in_a_students_text_shows_as_it_is_and_links_nowhere_in_a_preview():
    # the Markdown files may be opened in a GitHub-flavoured preview, which links "https://..." and "www...."
    said = "see https://evil.example/x, HTTP://x.y and www.evil.example"
    source = text(said)
    assert source == "see https\\://evil.example/x, HTTP\\://x.y and www\\.evil.example"  # escaped: no address
    assert feedback_page.html_body(source).strip() == f"<p>{said}</p>"
