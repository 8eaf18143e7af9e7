"""The nbgrader region markers inside a cell's source, and the text transforms on them.

A master cell may contain regions delimited by marker lines:

    ### BEGIN SOLUTION            ### BEGIN HIDDEN TESTS
    ...the answer...              ...tests the learner never sees...
    ### END SOLUTION              ### END HIDDEN TESTS

A solution region becomes the stub ``# YOUR CODE HERE`` / ``raise NotImplementedError()``
(``YOUR ANSWER HERE`` in markdown), indented like its BEGIN line; a hidden-tests region is
removed. These functions work on plain strings and know nothing about notebooks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOLUTION = "SOLUTION"
HIDDEN_TESTS = "HIDDEN TESTS"

_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<edge>BEGIN|END) (?P<kind>SOLUTION|HIDDEN TESTS)[ \t]*$")

CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)


class MarkerError(ValueError):
    """A region marker is out of place; ``line`` is 1-based within the cell."""

    def __init__(self, message: str, line: int):
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Region:
    """One marked region: 0-based indices of its BEGIN and END lines, and its indent."""

    kind: str
    begin: int
    end: int
    indent: str


def find_regions(source: str) -> list[Region]:
    """Return the marked regions of ``source`` in order, or raise MarkerError if unbalanced.

    Regions may not nest or overlap: a BEGIN inside an open region, an END with no open
    region, an END of the other kind, or a region left open at the end are all errors.
    """
    regions: list[Region] = []
    open_kind = open_line = open_indent = None
    for index, line in enumerate(source.splitlines()):
        match = _MARKER.match(line)
        if not match:
            continue
        kind, edge = match["kind"], match["edge"]
        if edge == "BEGIN":
            if open_kind is not None:
                raise MarkerError(
                    f"'### BEGIN {kind}' opens a region inside the '{open_kind}' region "
                    f"opened on line {open_line + 1}; close that one first with '### END {open_kind}'",
                    index + 1,
                )
            open_kind, open_line, open_indent = kind, index, match["indent"]
        else:
            if open_kind is None:
                raise MarkerError(f"'### END {kind}' has no matching '### BEGIN {kind}' above it", index + 1)
            if kind != open_kind:
                raise MarkerError(
                    f"'### END {kind}' closes the '{open_kind}' region opened on line "
                    f"{open_line + 1}; expected '### END {open_kind}'",
                    index + 1,
                )
            regions.append(Region(kind, open_line, index, open_indent))
            open_kind = None
    if open_kind is not None:
        raise MarkerError(f"'### BEGIN {open_kind}' is never closed by '### END {open_kind}'", open_line + 1)
    return regions


def replace_regions(source: str, *, markdown: bool = False) -> str:
    """Return the student version of ``source``: solutions stubbed, hidden tests removed."""
    lines = source.splitlines()
    out: list[str] = []
    cursor = 0
    for region in find_regions(source):
        out.extend(lines[cursor : region.begin])
        if region.kind == SOLUTION:
            stub = MARKDOWN_STUB if markdown else CODE_STUB
            out.extend(region.indent + line for line in stub)
        cursor = region.end + 1
    out.extend(lines[cursor:])
    # Removing a hidden-tests block at the end of a cell leaves the blank lines that
    # separated it from the visible check; a learner should not see that gap.
    return "\n".join(out).rstrip()
