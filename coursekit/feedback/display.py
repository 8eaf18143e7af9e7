"""How feedback reaches the learner: rich HTML in a Jupyter kernel, plain text elsewhere, and each thing once."""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass

HINT_COLOUR = "#0969da"


def in_ipython() -> bool:
    """True inside an IPython kernel or shell, where ``display`` shows rich output."""
    if "IPython" not in sys.modules:  # not in a kernel or shell: importing IPython would only cost time
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def show(view) -> None:
    """Show ``view`` once: IPython's display (HTML where the front end renders it), else ``print``."""
    if in_ipython():
        from IPython.display import display

        display(view)
    else:
        print(view)


def lines_html(text: str) -> str:
    """Plain-text lines as HTML: prose lines as lines, indented runs (tables, listings) as aligned preformatted text.

    Indentation marks text laid out in columns (a gradient report's rows); a proportional font would break them.
    """
    parts, block = [], []

    def flush() -> None:
        if block:
            parts.append('<pre style="margin:2px 0;white-space:pre-wrap">' + html.escape("\n".join(block)) + "</pre>")
            block.clear()

    for line in text.split("\n"):
        if line.startswith((" ", "\t")):
            block.append(line)
            continue
        flush()
        parts.append(html.escape(line))
    flush()
    # Between two prose lines a line break; a <pre> block is a block of its own.
    out = parts[0] if parts else ""
    for before, part in zip(parts, parts[1:], strict=False):
        out += part if before.startswith("<pre") or part.startswith("<pre") else "<br>" + part
    return out


@dataclass(frozen=True)
class Hint:
    """One tier of help for an exercise, shown by ``ExerciseSet.hint``."""

    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text)

    def _repr_html_(self) -> str:
        return f'<div style="border-left:4px solid {HINT_COLOUR};padding:2px 8px">{lines_html(self.text)}</div>'
