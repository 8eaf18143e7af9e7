"""What a gradient check found, in plain text for any console and HTML for Jupyter."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass, field

from coursekit.gradcheck import messages


@dataclass(frozen=True)
class ElementError:
    """One checked element that disagrees (or crossed a kink); ``context`` holds the values there of the arrays
    the report relates wrong elements to (the input ``x``, ``dout``)."""

    name: str
    index: tuple
    analytic: float
    numerical: float
    rel_error: float
    kink: tuple[float, float] | None = None  # (left, right) slopes when a kink was crossed
    context: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        """The element as the learner indexes it: dx[0, 1]."""
        return f"{self.name}{list(self.index)}"

    def cells(self) -> list[str]:
        """The row's values as text, in the order of ``columns``."""
        ratio = f"{self.analytic / self.numerical:.4g}" if self.numerical else str(messages.NO_RATIO)
        values = [f"{self.analytic + 0.0:.6g}", f"{self.numerical + 0.0:.6g}", ratio, f"{self.rel_error:.1e}"]
        return [self.label, *values, *(f"{value + 0.0:.6g}" for _, value in self.context)]

    def columns(self) -> list[str]:
        """The column titles of the row."""
        return [*map(str, messages.COLUMNS), *(label for label, _ in self.context)]


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns aligned with spaces: the first (the element) to the left, numbers to the right."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [(cell, " " * (width - _width(cell))) for cell, width in zip(row, widths, strict=True)]
        return "  " + "  ".join(cell + pad if i == 0 else pad + cell for i, (cell, pad) in enumerate(cells))

    return [line(header), *(line(row) for row in rows)]


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: East Asian wide characters (a Japanese header) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


_CELL = "padding:1px 8px;font-family:monospace;font-variant-numeric:tabular-nums"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(tag: str, text: str, i: int) -> str:
        align = "left" if i == 0 else "right"
        return f'<{tag} style="{_CELL};text-align:{align}">{html.escape(text)}</{tag}>'

    head = "".join(cell("th", title, i) for i, title in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", text, i) for i, text in enumerate(row)) + "</tr>" for row in rows)
    return (f'<table style="border-collapse:collapse;margin:4px 0"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


@dataclass
class GradientReport:
    """The verdict of a gradient check: ``passed``, a one-line reading, the worst elements, and a diagnosis.

    ``wrong`` counts every wrong element (``rows`` shows the worst of them), ``kinks`` every element whose
    step crossed a kink (summarised in one line, all where ``kink_where`` when that is known).
    """

    name: str
    passed: bool
    summary: str
    rows: list[ElementError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evaluations: int = 0
    details: list[str] = field(default_factory=list)  # lines between the verdict and the rows
    wrong: int = 0
    kinks: int = 0
    kink_where: str | None = None

    @property
    def wrong_rows(self) -> list[ElementError]:
        """The rows of wrong elements, worst first."""
        return [row for row in self.rows if row.kink is None]

    def _table(self) -> tuple[list[str], list[list[str]]] | None:
        rows = self.wrong_rows
        if not rows:
            return None
        header = max((row.columns() for row in rows), key=len)
        return header, [row.cells() + [""] * (len(header) - len(row.cells())) for row in rows]

    def _after_table(self) -> list[str]:
        """The count of wrong elements not shown, and the kinks crossed in one line."""
        lines = []
        shown = len(self.wrong_rows)
        if shown and self.wrong > shown:
            lines.append(messages.SHOWN.format(shown=shown, bad=self.wrong))
        kinked = sorted((row for row in self.rows if row.kink is not None), key=lambda row: row.index)
        if len(kinked) == 1 and self.kinks <= 1:
            row = kinked[0]
            lines.append(messages.KINK_ONE.format(index=row.label, left=row.kink[0], right=row.kink[1],
                                                  analytic=row.analytic))
        elif kinked:
            indices = ", ".join(row.label for row in kinked[:3]) + (", ..." if self.kinks > 3 else "")
            where = messages.KINK_WHERE.format(region=self.kink_where) if self.kink_where else ""
            lines.append(messages.KINKS.format(count=max(self.kinks, len(kinked)), indices=indices, where=where))
        return lines

    def __str__(self) -> str:
        table = self._table()
        rows = _text_table(*table) if table else []
        after = ["  " + line for line in self._after_table()]
        return "\n".join([self.summary, *self.details, *rows, *after, *self.notes])

    def __bool__(self) -> bool:
        return self.passed

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        parts = [f"<div><b>{html.escape(self.summary)}</b></div>"]
        parts += [f"<div>{html.escape(line)}</div>" for line in self.details]
        table = self._table()
        if table:
            parts.append(_html_table(*table))
        parts += [f"<div>{html.escape(line)}</div>" for line in [*self._after_table(), *self.notes]]
        return f'<div style="border-left:4px solid {colour};padding:2px 8px;margin:2px 0">{"".join(parts)}</div>'

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
        head = f'<div style="color:{colour}"><b>{html.escape(self.summary)}</b></div>'
        return head + "".join(report._repr_html_() for report in self.reports.values()) + "".join(
            f"<div>{html.escape(note)}</div>" for note in self.notes)

    def assert_ok(self) -> LayerReport:
        """Raise AssertionError with the whole report unless every check passed."""
        if not self.passed:
            raise AssertionError(str(self))
        return self
