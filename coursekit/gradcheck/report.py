"""What a gradient check found, in plain text for any console and HTML for Jupyter."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from coursekit.gradcheck import messages


@dataclass(frozen=True)
class ElementError:
    """One checked element that disagrees (or crossed a kink)."""

    name: str
    index: tuple
    analytic: float
    numerical: float
    rel_error: float
    kink: tuple[float, float] | None = None  # (left, right) slopes when a kink was crossed

    def line(self) -> str:
        index = list(self.index)
        if self.kink:
            return messages.KINK.format(name=self.name, index=index, left=self.kink[0], right=self.kink[1],
                                        analytic=self.analytic)
        ratio = f"{self.analytic / self.numerical:.4g}" if self.numerical else "inf"
        return messages.ROW.format(name=self.name, index=index, analytic=self.analytic, numerical=self.numerical,
                                   ratio=ratio, rel=self.rel_error)


@dataclass
class GradientReport:
    """The verdict of a gradient check: ``passed``, the worst elements, and a diagnosis."""

    name: str
    passed: bool
    summary: str
    rows: list[ElementError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evaluations: int = 0
    details: list[str] = field(default_factory=list)  # lines between the verdict and the rows

    def __str__(self) -> str:
        return "\n".join([self.summary, *self.details, *(row.line() for row in self.rows), *self.notes])

    def __bool__(self) -> bool:
        return self.passed

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        body = "<br>".join(html.escape(line) for line in str(self).splitlines())
        return f'<div style="border-left:4px solid {colour};padding:2px 8px;font-family:monospace">{body}</div>'

    def assert_ok(self) -> GradientReport:
        """Raise AssertionError with the whole report unless the check passed (for test cells)."""
        if not self.passed:
            raise AssertionError(str(self))
        return self


@dataclass
class LayerReport:
    """Gradient checks of a layer: one report for the input and one per parameter."""

    reports: dict[str, GradientReport]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.notes and all(report.passed for report in self.reports.values())

    def __bool__(self) -> bool:
        return self.passed

    @property
    def summary(self) -> str:
        """One line: the verdict over the input gradient and every parameter's."""
        wrong = [report.name for report in self.reports.values() if not report.passed]
        if self.passed:
            return messages.LAYER_PASSED.format(count=len(self.reports), names=", ".join(
                report.name for report in self.reports.values()))
        return messages.LAYER_FAILED.format(names=", ".join(wrong) if wrong else messages.LAYER_NOTES_ONLY)

    def __str__(self) -> str:
        return "\n".join([self.summary, *(str(report) for report in self.reports.values()), *self.notes])

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        head = f'<div style="color:{colour};font-family:monospace"><b>{html.escape(self.summary)}</b></div>'
        return head + "".join(report._repr_html_() for report in self.reports.values()) + "".join(
            f'<div style="font-family:monospace">{html.escape(note)}</div>' for note in self.notes)

    def assert_ok(self) -> LayerReport:
        """Raise AssertionError with the whole report unless every check passed."""
        if not self.passed:
            raise AssertionError(str(self))
        return self
