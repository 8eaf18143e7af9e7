"""A student's feedback on one submission: Markdown, and a standalone HTML page rendered from it by markdown-it-py.

Much of what the feedback shows came from the submission: the student id, the cells' first lines and
errors, messages that quote what the student's code raised. All of it is text, never markup: in the
Markdown every character that could start markup is escaped (a message keeps only its code spans,
whose content Markdown shows as it is), and the HTML is rendered with raw HTML, links and images
off, so that no tag or link in a student's text reaches the page as one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt

from coursekit.grading.messages import STATUS_NAMES
from coursekit.grading.reasons import escaped_controls
from coursekit.grading.verdicts import CellProblem
from coursekit.i18n import N_, current

# Every sentence the feedback writes, in one place for translation.
TITLE = N_("{lesson}: {points:g} / {max_points:g} points")
STUDENT = N_("Student: {student}")
HEADER = (N_("question"), N_("status"), N_("points"))
CELLS_HEADING = N_("Cells that did not run to their end")
CELLS_COUNTED = N_("Your code cells are numbered from the top, leaving out the test cells.")
CELL_LINE = N_("Cell {cell} (starting {start}) {cause}.")
CELL_LINE_NO_START = N_("Cell {cell} {cause}.")
CELL_DEFINES = N_("It defines {names}.")
MORE_NAMES = N_("and {count} more")
MORE_CELLS = N_("And {count:,} more cells, not listed.")
DETAILS_HEADING = N_("Feedback per question")
QUESTION_HEADING = N_("{grade_id}: {status}")

_MAX_NAMES = 8  # names listed for a cell; more are counted
# Cells listed; more are counted. A red team's 1,960 raising cells made a feedback page of 1.35 MB, with the
# questions' feedback at its bottom, and a CSV cell of 61,835 characters (a spreadsheet keeps 32,767).
MAX_CELLS_LISTED = 20
_CODE_SPAN = re.compile(r"`([^`\n]+)`")  # the grader's messages mark code so
# Characters that may start Markdown (or HTML) anywhere in a line; an underscore between two letters or digits never
# does (snake_case names stay readable in the Markdown).
_MARKUP = re.compile(r"([\\`*\[\]<>&|~!#{}]|(?<![^\W_])_|_(?![^\W_]))")  # [^\W_]: a letter or a digit
# Where a GitHub-flavoured preview (GitHub, VS Code) sees a link in plain text: "scheme://" and "www.". The ":" or
# "." escaped, it shows the same and links nowhere (this page's own renderer makes no links at all).
_LINK_START = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*(?=://)|www(?=\.))")
_BLOCK_START = re.compile(r"^([-+=>]|\d+[.)])")  # a line starting so would be a list, heading or quote
_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table") \
    .disable(["link", "image", "autolink"])  # feedback has no links: none can come from a student's text

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1f2328; margin: 0; }
main { max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.7rem; text-align: left; }
th { background: #f6f8fa; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; background: #f6f8fa; }
code { padding: 0.1em 0.3em; border-radius: 4px; }
pre { padding: 0.8rem; overflow-x: auto; border-radius: 6px; }
pre code { padding: 0; }
h3 { margin-top: 1.5rem; }
"""


def markdown(lesson: str, student: str, points: float, max_points: float,
             results: Sequence[tuple[str, str, float, float, str | None]], problems: Sequence[CellProblem]) -> str:
    """The feedback on one submission in Markdown: the points, a table of the questions (status, points), the
    cells that did not run to their end, and each question's message."""
    lines = ["# " + text(TITLE.format(lesson=lesson, points=points, max_points=max_points)), "",
             text(STUDENT.format(student=student)), "",
             "| " + " | ".join(map(str, HEADER)) + " |", "|" + "---|" * len(HEADER)]
    for grade_id, status, got, full, _ in results:
        lines.append(f"| {text(grade_id)} | {text(STATUS_NAMES.get(status, status))} | {got:g} / {full:g} |")
    if problems:
        lines += ["", "## " + CELLS_HEADING, "", str(CELLS_COUNTED), ""]
        lines += ["- " + sentence for sentence in cell_sentences(problems)]
    lines += ["", "## " + DETAILS_HEADING]
    for grade_id, status, _, _, message in results:
        heading = text(QUESTION_HEADING.format(grade_id=grade_id, status=STATUS_NAMES.get(status, status)))
        lines += ["", "### " + heading, "", message_markdown(message)]
    return "\n".join(lines) + "\n"


def html_body(markdown_text: str) -> str:
    """``markdown_text`` (made by ``markdown``) as HTML to put inside a page: rendered with raw HTML, links and
    images off, so that whatever a student wrote in it shows as text."""
    return _RENDERER.render(markdown_text)


def html_page(markdown_text: str, title: str) -> str:
    """A standalone HTML document of ``markdown_text`` (made by ``markdown``), titled ``title`` (plain text)."""
    body = html_body(markdown_text)
    return (f"<!doctype html>\n<html lang=\"{current()}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
            "</body>\n</html>\n")


def listed_cells(problems: Sequence[CellProblem]) -> tuple[Sequence[CellProblem], int]:
    """The first ``MAX_CELLS_LISTED`` of ``problems``, which a report lists, and how many more it only counts."""
    return problems[:MAX_CELLS_LISTED], max(len(problems) - MAX_CELLS_LISTED, 0)


def cell_sentences(problems: Sequence[CellProblem], as_markdown: bool = True) -> list[str]:
    """A sentence for each of the first ``MAX_CELLS_LISTED`` cells (``cell_sentence``), and one that counts the rest."""
    listed, more = listed_cells(problems)
    sentences = [cell_sentence(problem, as_markdown) for problem in listed]
    if more:
        sentences.append(str(MORE_CELLS.format(count=more)))
    return sentences


def cell_sentence(problem: CellProblem, as_markdown: bool = True) -> str:
    """What happened to one cell, in a sentence: its number, first line, cause and the names it defines; in
    Markdown (everything from the student escaped), or as plain text."""
    as_code, as_text = (code, text) if as_markdown else (str, str)
    cause = as_text(problem.cause)
    line = CELL_LINE.format(cell=problem.cell, start=as_code(problem.start), cause=cause) if problem.start else \
        CELL_LINE_NO_START.format(cell=problem.cell, cause=cause)
    if problem.names:
        names = [as_code(name) for name in problem.names[:_MAX_NAMES]]
        if len(problem.names) > _MAX_NAMES:
            names.append(MORE_NAMES.format(count=len(problem.names) - _MAX_NAMES))
        line += " " + CELL_DEFINES.format(names=", ".join(names))
    return line


def message_markdown(message: str | None) -> str:
    """A test's message as Markdown: its first line as a sentence that keeps its code spans (everything else is
    escaped), the lines after it, if any, as a preformatted block (they are tables and details, whose alignment
    counts)."""
    lines = (message or "").splitlines() or [""]
    parts = _CODE_SPAN.split(lines[0].strip())  # text, code, text, code, ..., text
    first = "".join(code(part) if index % 2 else text(part, at_start=index == 0) for index, part in enumerate(parts))
    rest = "\n".join(_printable(line) for line in lines[1:]).strip("\n")
    if not rest:
        return first
    fence = "`" * max(3, _longest_run(rest, "`") + 1)
    return f"{first}\n\n{fence}text\n{rest}\n{fence}"


def text(value: str, at_start: bool = True) -> str:
    """``value`` as Markdown that shows it as it is, on one line: markup characters escaped, control characters
    shown as escapes, and (``at_start``: it starts a line) no indent, and nothing at its start that would make a
    list, a heading or a quote."""
    escaped = _MARKUP.sub(r"\\\1", _printable(" ".join(str(value).splitlines())))
    escaped = _LINK_START.sub(lambda start: start.group(0) + "\\", escaped)  # its ":" or "." escaped: no autolink
    if not at_start:
        return escaped
    return _BLOCK_START.sub(lambda match: match.group(0)[:-1] + "\\" + match.group(0)[-1], escaped.lstrip())


def code(value: str) -> str:
    """``value`` as a Markdown code span (shown as it is, whatever it holds), on one line."""
    value = _printable(" ".join(str(value).splitlines()))
    fence = "`" * (_longest_run(value, "`") + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or (value.startswith(" ") and value.endswith(" ")) \
        else ""
    return f"{fence}{pad}{value}{pad}{fence}" if value.strip() else text(value)


def plain_text(value: str) -> str:
    """``value`` for a plain-text page (Gradescope's): its lines kept, every other control character (ANSI escapes,
    NUL, a right-to-left override) shown as an escape."""
    return "\n".join(_printable(line) for line in str(value).split("\n"))


def _printable(value: str) -> str:
    """``value`` with control characters (but tabs) shown as escapes: a feedback page shows them, never runs them."""
    return escaped_controls(value, keep="\t")


def _longest_run(value: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", value)), default=0)
