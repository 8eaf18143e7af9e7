"""Where the learner stands in this kernel: the last verdict ``check()`` gave on each exercise of a set."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from coursekit.feedback import messages
from coursekit.feedback.result import _COLOURS, CheckResult

_GREY = "#6e7781"
# Kept beside the exercise sets, not in them: a set that is gone takes its verdicts with it.
_LAST: WeakKeyDictionary = WeakKeyDictionary()


def record(exercises, result: CheckResult) -> None:
    """Remember ``result`` as the last verdict on its exercise in the set ``exercises``."""
    _LAST.setdefault(exercises, {})[result.exercise] = result


def last_verdicts(exercises) -> dict[str, CheckResult]:
    """The last verdict of each exercise of ``exercises`` that was checked in this kernel."""
    return dict(_LAST.get(exercises, {}))


@dataclass(frozen=True)
class Row:
    """One exercise in the progress view."""

    exercise: str
    state: str  # one of STATES, or NOT_CHECKED
    hints_seen: int
    hints: int

    @property
    def hints_text(self) -> str:
        if not self.hints:
            return "-"
        return messages.HINTS_SEEN.format(seen=min(self.hints_seen, self.hints), total=self.hints)


@dataclass(frozen=True)
class Progress:
    """Each exercise's state in this kernel, as a table: plain text, or HTML in Jupyter."""

    title: str
    rows: tuple[Row, ...]

    @property
    def summary(self) -> str:
        """One line: how many exercises passed."""
        passed = sum(row.state == "passed" for row in self.rows)
        return messages.PROGRESS.format(title=self.title, passed=passed, total=len(self.rows))

    def states(self) -> dict[str, str]:
        """exercise -> state."""
        return {row.exercise: row.state for row in self.rows}

    def _cells(self) -> list[list[str]]:
        return [[row.exercise, str(messages.STATE_NAMES.get(row.state, row.state)), row.hints_text]
                for row in self.rows]

    def __str__(self) -> str:
        header = [str(title) for title in messages.PROGRESS_COLUMNS]
        table = [header, *self._cells()]
        widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
        lines = ["  " + "  ".join(cell + " " * (width - _width(cell))
                                  for cell, width in zip(row, widths, strict=True)).rstrip() for row in table]
        return "\n".join([self.summary, *lines])

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        style = "padding:1px 10px;text-align:left"
        head = "".join(f'<th style="{style}">{html.escape(str(title))}</th>' for title in messages.PROGRESS_COLUMNS)
        body = ""
        for row, (exercise, state, hints) in zip(self.rows, self._cells(), strict=True):
            colour = _COLOURS.get(row.state, _GREY)
            body += (f'<tr><td style="{style};font-family:monospace">{html.escape(exercise)}</td>'
                     f'<td style="{style};color:{colour}"><b>{html.escape(state)}</b></td>'
                     f'<td style="{style}">{html.escape(hints)}</td></tr>')
        return (f"<div><b>{html.escape(self.summary)}</b></div>"
                f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def progress_of(exercises) -> Progress:
    """The progress view of an ExerciseSet: its exercises in order, each with its last verdict in this kernel."""
    verdicts = last_verdicts(exercises)
    rows = []
    for name in exercises.names():
        exercise = exercises[name]
        state = verdicts[name].status if name in verdicts else NOT_CHECKED
        rows.append(Row(name, state, exercise._hints_shown, len(exercise.hints)))
    return Progress(str(exercises.title), tuple(rows))


NOT_CHECKED = "not checked yet"  # a Row's state before any check (shown as messages.STATE_NAMES says)


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
