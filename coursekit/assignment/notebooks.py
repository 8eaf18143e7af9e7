"""Reading and writing notebooks, with errors that name the file and the cell."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode


class NotebookError(Exception):
    """A notebook cannot be used; the message names the file and, when known, the cell."""

    def __init__(self, path: Path | str, message: str, cell: str | None = None):
        self.path = Path(path)
        self.cell = cell
        where = f"{self.path}" + (f", {cell}" if cell else "")
        super().__init__(f"{where}: {message}")


def describe_cell(nb: NotebookNode, index: int) -> str:
    """A human name for cell ``index``: its position (1-based) and grade_id when it has one."""
    grade_id = nb.cells[index].get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1}" + (f" (grade_id '{grade_id}')" if grade_id else "")


def read_notebook(path: Path | str) -> NotebookNode:
    """Read an nbformat-4 notebook, or raise NotebookError saying in plain words what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise NotebookError(path, f"cannot be read ({err.strerror})") from err
    if not raw.strip():
        raise NotebookError(path, "is empty, not a notebook")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotebookError(path, f"is not UTF-8 text (bad byte at offset {err.start})") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise NotebookError(path, f"is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from err
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise NotebookError(path, "is JSON but not a Jupyter notebook (no 'cells' or 'nbformat' key)")
    if data["nbformat"] != 4:
        raise NotebookError(path, f"uses notebook format {data['nbformat']}; only format 4 is supported")
    try:
        nb = nbformat.reads(text, as_version=4)  # also joins multi-line sources stored as lists
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        raise NotebookError(path, f"is not a valid notebook: {err.message}") from err
    except Exception as err:  # nbformat raises several types for malformed content
        raise NotebookError(path, f"is not a valid notebook: {err}") from err
    return nb


def notebook_text(nb: NotebookNode) -> str:
    """Serialise ``nb`` the one canonical way (sorted keys, one-space indent, final newline)."""
    return nbformat.writes(nb, version=4)


def write_notebook(nb: NotebookNode, path: Path | str) -> None:
    """Write ``nb`` canonically; the same notebook always gives the same bytes."""
    Path(path).write_text(notebook_text(nb), encoding="utf-8")


def ensure_cell_ids(nb: NotebookNode) -> None:
    """Give every cell a stable id (nbformat 4.5) derived from its position and source.

    Stable ids keep regenerated files free of spurious diffs; existing ids are kept.
    """
    nb.nbformat_minor = max(nb.get("nbformat_minor", 0), 5)
    seen = {cell.get("id") for cell in nb.cells if cell.get("id")}
    for index, cell in enumerate(nb.cells):
        if cell.get("id"):
            continue
        digest = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:8]
        new_id = f"cell-{index + 1:02d}-{digest}"
        while new_id in seen:
            new_id += "x"
        cell["id"] = new_id
        seen.add(new_id)
