"""The outcome of one check: a state, a message in plain words, and a hint when one applies."""

from __future__ import annotations

from dataclasses import dataclass

from coursekit.feedback import messages
from coursekit.feedback.display import lines_html

STATES = ("passed", "failed", "not attempted", "error")
_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "not attempted": "#9a6700", "error": "#cf222e"}


@dataclass(frozen=True)
class CheckResult:
    """What ``ExerciseSet.check`` found: ``status`` is one of STATES."""

    exercise: str
    status: str
    message: str
    hint: str | None = None
    mistake: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's plain-text view: the message itself
        printer.text(self.message)

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.status]
        return f'<div style="border-left:4px solid {colour};padding:2px 8px">{lines_html(self.message)}</div>'


class CheckFailed(AssertionError):
    """Raised by a check that did not pass, so a test cell fails as nbgrader expects, and "Run all" stops there.

    The verdict has been shown already: in IPython, the error shows one line that points to it, not the message
    again under a traceback into coursekit (``_render_traceback_`` is IPython's hook for an exception's own
    rendering; the error's ``evalue`` still carries the whole message, for nbval and nbgrader).
    """

    def __init__(self, result: CheckResult):
        super().__init__(result.message)
        self.result = result

    def _render_traceback_(self) -> list[str]:
        status = messages.STATE_NAMES.get(self.result.status, self.result.status)
        line = messages.STOPPED.format(name=self.result.exercise, status=status)
        return [f"\x1b[0;31m{line}\x1b[0m"]
