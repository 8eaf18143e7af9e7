"""What the grader reads in a student's cell without running it: its first line, the names it defines, and its
statements one by one.

The code is the student's, so it is only parsed, never past ``MAX_PARSED`` characters, and a cell that cannot be
parsed simply has no names and no definitions. IPython's own syntax (``%magic``, ``!command``, ``x = %time f()``,
``obj?``) is read line by line: such a line defines nothing but its assigned names. IPython's transformer, which
runs them, is not used here: it takes seconds on a few hundred magics, and gives up, raising, past 500.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

LINE_CHARS = 120
MAX_PARSED = 200_000  # characters of a cell that are parsed (a longer cell: no names, no definitions known)

# Statements that define a name without computing anything worth a CPU limit (a decorator or a class body may
# compute: the limit the definitions run under bounds it).
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
IMPORTS = (ast.Import, ast.ImportFrom)
DEFINING = IMPORTS + FUNCTIONS
# What an assignment's value may not hold to count as a definition: anything that runs code of its own.
COMPUTING = (ast.Call, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Await, ast.Yield,
             ast.YieldFrom, ast.NamedExpr)


def first_line(code: str) -> str:
    """The cell's first line of code (comments and blank lines skipped), shortened: how a learner finds it."""
    for line in code.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped if len(stripped) <= LINE_CHARS else stripped[:LINE_CHARS - 3] + "..."
    return ""


# What IPython reads as its own: a help request (``np.sum?``), and what may be assigned the output of a magic or a
# command (``x, y = %time f()``). Each a single character class, repeated: linear on any line (a regex that let
# spaces match in three places backtracked cubically, hours on a line of spaces).
_HELP = re.compile(r"[\w.]+\?\??")
_TARGETS = re.compile(r"[\w., ()\[\]]+")


def parse_cell(code: str) -> ast.Module | None:
    """The cell's syntax tree (IPython's own lines read as defining only the names they assign); None when it is too
    long or cannot be parsed."""
    return _parsed(code)[0]


def _parsed(code: str) -> tuple[ast.Module | None, bool]:
    """``parse_cell``'s tree, and whether the cell parsed as plain Python (its lines as the worker numbers them)."""
    if len(code) > MAX_PARSED:
        return None, False
    try:
        return ast.parse(code), True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        return ast.parse(_python_only(code)), False
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, False


_BODY_IN_NAMESPACE = ("time", "capture", "prun")  # cell magics that run their body in the learner's namespace


def _python_only(code: str) -> str:
    """``code`` with each line of IPython's own syntax made plain Python that binds what it would bind; a cell magic's
    first line dropped when its body runs as the cell's own code (%%time, %%capture, %%prun), and the whole cell
    nothing when it does not (%%timeit runs it in a scope of its own, %%bash is no Python: red team R saw their
    definitions kept as the cell's, which the learner's kernel never binds)."""
    lines = code.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _BODY_IN_NAMESPACE:
            return ""
        lines = lines[1:]

    def plain(line: str) -> str:
        code = line.lstrip(" \t")
        indent = line[:len(line) - len(code)]
        if code.startswith(("%", "!")) or _HELP.fullmatch(code.rstrip(" \t")):
            return f"{indent}pass"
        targets, equals, value = code.partition("=")
        targets = targets.rstrip(" \t")
        if equals and value.lstrip(" \t").startswith(("%", "!")) and _TARGETS.fullmatch(targets):
            return f"{indent}{targets} = None"
        return line

    return "\n".join(plain(line) for line in lines)


def names_defined(code: str) -> tuple[str, ...]:
    """The names a cell binds at its top level (functions, classes, imports, assignments, loop variables), in the
    order they appear; () when it cannot be parsed. Names bound inside functions and classes are theirs, not the
    cell's."""
    tree = parse_cell(code)
    if tree is None:
        return ()
    names: dict[str, None] = {}
    todo = list(reversed(tree.body))
    while todo:  # a loop, not recursion: a cell may nest deeply
        node = todo.pop()
        if isinstance(node, FUNCTIONS):
            names[node.name] = None
            continue
        if isinstance(node, IMPORTS):
            names.update((alias.asname or alias.name.split(".")[0], None) for alias in node.names if alias.name != "*")
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue  # their variables are their own
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names[node.id] = None
        todo.extend(reversed(list(ast.iter_child_nodes(node))))
    return tuple(names)


class Statement(NamedTuple):
    """A top-level statement of a cell (see ``statements_apart``)."""

    source: str
    defines: bool             # it only defines: an import, a function, a class, a value that calls nothing
    lines: range | None       # its lines in the cell, when the cell is plain Python (as the worker numbers them)
    imports: bool = False     # it is an import (which may take far longer than any other definition)


def statements_apart(code: str) -> list[Statement] | None:
    """The cell's top-level statements, each on its own; None when it cannot be parsed.

    What a cell that ran past its limit is run again as, one statement at a time, so that all of it is kept but
    what runs past its limit again (a training run, a sweep, a slow import); IPython's own lines are left out."""
    tree, plain = _parsed(code)  # not plain: IPython's lines were rewritten, and no line numbers are known
    if tree is None:
        return None
    try:
        return [Statement(ast.unparse(node), isinstance(node, DEFINING) or _calls_nothing(node),
                          range(node.lineno, (node.end_lineno or node.lineno) + 1) if plain else None,
                          isinstance(node, IMPORTS))
                for node in tree.body if not isinstance(node, ast.Pass)]  # IPython's own lines read as `pass`
    except (RecursionError, ValueError):
        return None


def _calls_nothing(node: ast.stmt) -> bool:
    """True for an assignment whose value (and targets) run no code of their own."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    return not any(isinstance(part, COMPUTING) for part in ast.walk(node))
