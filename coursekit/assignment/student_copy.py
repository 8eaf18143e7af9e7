"""Turn a master notebook into the learner's copy: a pipeline of small steps.

Each step takes a notebook and changes it in place, so each can be tested alone; the order
is fixed by ``STEPS``. ``student_copy`` validates the master and runs the steps on a copy.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

from coursekit.assignment import cells
from coursekit.assignment.markers import CODE_STUB, MARKDOWN_STUB, find_regions, replace_regions
from coursekit.assignment.notebooks import ensure_cell_ids
from coursekit.assignment.validate import validate_master

RAISES_TAG = "raises-exception"  # nbval lets a cell with this tag raise


def stub_solutions(nb: NotebookNode) -> None:
    """Replace every solution region by the stub; a solution cell without markers is stubbed whole."""
    for cell in nb.cells:
        if not cells.is_solution_cell(cell):
            continue
        markdown = cell.cell_type == "markdown"
        if find_regions(cell.source):
            cell.source = replace_regions(cell.source, markdown=markdown)
        else:
            cell.source = "\n".join(MARKDOWN_STUB if markdown else CODE_STUB)


def remove_hidden_tests(nb: NotebookNode) -> None:
    """Drop every hidden-tests region (the learner never sees them)."""
    for cell in nb.cells:
        if find_regions(cell.source):
            cell.source = replace_regions(cell.source, markdown=cell.cell_type == "markdown")


def clear_outputs(nb: NotebookNode) -> None:
    """Clear outputs and execution counts: the learner runs the notebook and sees their own."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)


def tag_cells_expected_to_raise(nb: NotebookNode) -> None:
    """Tag the cells that fail while the exercises are unsolved, so nbval expects their error.

    Decided statically, so that generating needs no kernel: a test cell calls the learner's
    code; a solution cell raises when its stub sits at the top level; any other cell raises
    when it reads a name that an unsolved cell defines. Names defined by a cell that raises
    are themselves unusable, so the taint flows down the notebook.
    """
    tainted: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        loaded, stored = _names(cell.source)
        raises = (
            cells.is_test_cell(cell)
            or bool(loaded & tainted)
            or (cells.is_solution_cell(cell) and CODE_STUB[1] in cell.source.splitlines())
        )
        if cells.is_solution_cell(cell) or raises:
            tainted |= stored
        tags = [tag for tag in cell.metadata.get("tags", []) if tag != RAISES_TAG]
        if raises:
            tags.append(RAISES_TAG)
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)


def _names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell reads and the names it binds (anywhere in it, to err on the safe side)."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set(), set()
    loaded: set[str] = set()
    stored: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            stored.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return loaded, stored


STEPS = (stub_solutions, remove_hidden_tests, clear_outputs, tag_cells_expected_to_raise, ensure_cell_ids)


def student_copy(master: NotebookNode, path: Path | str) -> NotebookNode:
    """Validate ``master`` (read from ``path``) and return the learner's copy of it."""
    validate_master(master, path)
    nb = copy.deepcopy(master)
    for step in STEPS:
        step(nb)
    return nb
