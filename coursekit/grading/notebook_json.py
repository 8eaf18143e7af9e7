"""Reading untrusted JSON and notebooks: depth and size checked before parsing, shapes checked after.

Python's ``json`` recurses once per nesting level, so ``[[[[...]]]]`` 100,000 deep would raise
RecursionError from inside it; and a parsed value costs far more memory than its text. The text
is therefore scanned first, without recursion, for its nesting depth and its count of values
(see ``limits``). A notebook's fields that the grader reads must then have the types it expects.
"""

from __future__ import annotations

import json
import re

import numpy as np

from coursekit.grading import limits
from coursekit.grading.reasons import kind, size


class NotASubmission(ValueError):
    """An input that cannot be graded, with the reason in plain words."""


# In UTF-8 no byte of a multi-byte character is a quote, a backslash or a bracket, so the bytes show the structure.
# A string, escapes included, up to its closing quote. Possessive: a greedy group would keep a backtracking record
# per escape (580 MB for 5 million), a possessive one keeps none.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}\"")
_IN_SCALAR = np.ones(256, dtype=bool)  # a byte of a number, true, false or null (once the strings are cut out)
_IN_SCALAR[list(b'[]{},:" \t\r\n')] = False
_STEP = np.zeros(256, dtype=np.int8)  # how a byte changes the nesting depth
_STEP[list(b"[{")], _STEP[list(b"]}")] = 1, -1


def check_json_size(raw: bytes, what: str = "the file", max_values: int | None = None) -> None:
    """NotASubmission when ``raw`` holds more than ``max_values`` values (strings, numbers, true, false, null, lists
    and objects, keys included), or nests lists and objects deeper than MAX_JSON_DEPTH. No recursion, and no loop in
    Python: the strings are cut out by a regex; in what is left, NumPy counts the other scalars (runs of bytes that
    are no punctuation) and sums the brackets (0.3 ms for a notebook of 30 kB)."""
    max_values = limits.MAX_JSON_VALUES if max_values is None else max_values  # read now: a test may change it
    outside, strings = _STRING.subn(b"", raw)
    in_scalar = _IN_SCALAR[np.frombuffer(outside, np.uint8)]
    scalars = int(in_scalar[0]) + int(np.count_nonzero(in_scalar[1:] & ~in_scalar[:-1])) if in_scalar.size else 0
    brackets = outside.translate(None, _NOT_BRACKETS)
    unclosed = brackets.find(b'"')
    if unclosed >= 0:  # a string never closed: invalid JSON, which json reports there, having read what comes before
        brackets = brackets[:unclosed]
    if strings + scalars + brackets.count(b"[") + brackets.count(b"{") > max_values:
        raise NotASubmission(f"{what} holds more than {max_values:,} values: more than it may have, and too many "
                             f"to read")
    # The running sum is the true depth up to the first misplaced bracket, where json stops: never less than json meets.
    depths = np.cumsum(_STEP[np.frombuffer(brackets, np.uint8)], dtype=np.int32)
    if depths.size and int(depths.max()) > limits.MAX_JSON_DEPTH:
        raise NotASubmission(f"{what} nests lists or objects more than {limits.MAX_JSON_DEPTH} deep: "
                             f"not a notebook, and too deep to read")


def load_json(raw: bytes, what: str = "the file") -> object:
    """The JSON value in ``raw`` (UTF-8, a byte order mark allowed); NotASubmission, with the reason, if not."""
    if not raw or raw.isspace():
        raise NotASubmission(f"{what} is empty")
    check_json_size(raw, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotASubmission(f"{what} is not UTF-8 text (byte {error.start})") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotASubmission(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from error
    except RecursionError as error:  # the depth check above should make this unreachable: kept as a second wall
        raise NotASubmission(f"{what} nests lists or objects too deep to read") from error
    except ValueError as error:  # an integer of more than 4,300 digits: Python refuses to convert it
        raise NotASubmission(f"{what} holds a value too long to read ({str(error).split(':')[0]})") from error


def parse_notebook(raw: bytes) -> dict:
    """The notebook in ``raw`` as plain JSON data (version 4, any minor; version 3 converted); NotASubmission if not.

    Cell sources come back as one string each. Parsed with ``json`` alone, never nbformat: importing it costs over a
    second, which a single grading would feel, and it converts a version-3 notebook at a cost that grows with its
    outputs (see ``_converted_from_version_3``).
    """
    if len(raw) > limits.MAX_NOTEBOOK_BYTES:
        raise NotASubmission(f"the notebook is {size(len(raw))}, more than the {size(limits.MAX_NOTEBOOK_BYTES)} "
                             f"a notebook may have")
    data = load_json(raw)
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotASubmission("valid JSON, but not a Jupyter notebook (no cells)")
    version = data.get("nbformat", 4)
    if not isinstance(version, int) or isinstance(version, bool):
        raise NotASubmission(f"a malformed notebook: its nbformat is {kind(version)}, not a version number")
    if version > 4 or version < 3:
        raise NotASubmission(f"a notebook of format version {version}: the grader reads versions 3 and 4")
    if version == 3 or "cells" not in data:  # a version-4 notebook's stray worksheets are not its cells
        data = _converted_from_version_3(data)
    return _checked_cells(data)


def _check_cell_count(count: int) -> None:
    if count > limits.MAX_CELLS:
        raise NotASubmission(f"a notebook of {count:,} cells: more than the {limits.MAX_CELLS:,} a notebook may have")


def _converted_from_version_3(data: dict) -> dict:
    """A version-3 notebook (cells in worksheets, a code cell's source in ``input``) as version 4, with what the
    grader reads only: each cell's type, source and metadata (outputs are never read, so never converted: nbformat
    took 27 s on 85,000 cells, and its time grows with the outputs too). A heading cell becomes Markdown."""
    worksheets = data.get("worksheets")
    if not isinstance(worksheets, list) or not all(isinstance(sheet, dict) for sheet in worksheets):
        raise NotASubmission(f"a malformed notebook of format version 3: its worksheets are {kind(worksheets)}, "
                             f"not a list of worksheets")
    old_cells = [cell for sheet in worksheets for cell in _list_of_cells(sheet.get("cells"))]
    _check_cell_count(len(old_cells))
    cells = []
    for number, cell in enumerate(old_cells, start=1):
        if not isinstance(cell, dict):
            raise NotASubmission(f"a malformed notebook of format version 3: cell {number} is {kind(cell)}, not a cell")
        cell_type = cell.get("cell_type")
        source = cell.get("input" if cell_type == "code" else "source", "")
        if cell_type == "heading":  # Markdown with its level's hashes, when its source is text (else checked below)
            level = cell.get("level", 1)
            level = level if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 6 else 1
            if isinstance(source, list) and all(isinstance(line, str) for line in source):
                source = "".join(source)
            source = "#" * level + " " + source if isinstance(source, str) else source
            cell_type = "markdown"
        cells.append({"cell_type": cell_type, "source": source, "metadata": cell.get("metadata", {})})
    return {"nbformat": 4, "nbformat_minor": 0, "metadata": data.get("metadata", {}), "cells": cells}


def _list_of_cells(cells) -> list:
    if not isinstance(cells, list):
        raise NotASubmission(f"a malformed notebook of format version 3: a worksheet's cells are {kind(cells)}, "
                             f"not a list")
    return cells


def _checked_cells(data: dict) -> dict:
    """``data`` with every cell's source as one string; NotASubmission naming the first field the grader reads
    (a cell, its type, source, metadata, nbgrader metadata or grade_id) that has the wrong type."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotASubmission(f"a malformed notebook: its cells are {kind(cells)}, not a list")
    _check_cell_count(len(cells))
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotASubmission(f"a malformed notebook: cell {number} is {kind(cell)}, not a cell (an object)")
        _expect(cell, "cell_type", str, f"cell {number}'s type")
        source = cell.get("source")
        if isinstance(source, list):
            try:
                cell["source"] = source = "".join(source)  # refuses anything but text, at C speed
            except TypeError:
                wrong = next(line for line in source if not isinstance(line, str))
                raise NotASubmission(f"a malformed notebook: cell {number}'s source is a list holding {kind(wrong)}, "
                                     f"not lines of text") from None
        elif source is None:
            cell["source"] = source = ""
        if not isinstance(source, str):
            raise NotASubmission(f"a malformed notebook: cell {number}'s source is {kind(source)}, not text")
        try:
            source.encode("utf-8")
        except UnicodeEncodeError as error:
            raise NotASubmission(f"a malformed notebook: cell {number}'s source holds an invalid character "
                                 f"(a lone surrogate, \\u{ord(source[error.start]):04x})") from error
        metadata = _expect(cell, "metadata", dict, f"cell {number}'s metadata")
        nbgrader = _expect(metadata, "nbgrader", dict, f"cell {number}'s nbgrader metadata")
        _expect(nbgrader, "grade_id", str, f"cell {number}'s grade_id")
    return data


def _expect(holder: dict, name: str, expected: type, what: str):
    """``holder[name]``, which must be an ``expected`` when present; a null counts as absent (and is dropped)."""
    value = holder.get(name)
    if value is None:
        holder.pop(name, None)
        return {} if expected is dict else None
    if not isinstance(value, expected):
        raise NotASubmission(f"a malformed notebook: {what} is {kind(value)}, not {kind(expected())}")
    return value
