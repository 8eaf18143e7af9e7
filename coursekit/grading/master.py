"""What the grader takes from an instructor's master: the setup it trusts and the test cells, by name."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from coursekit import i18n


@dataclass(frozen=True)
class TestCell:
    """One graded test cell of a master: its grade_id, points, and full source (hidden tests included)."""

    grade_id: str
    points: float
    source: str

    def names_used(self, provided: set[str]) -> list[str]:
        """Names the test reads but neither defines nor gets from the trusted setup: the student's names."""
        return list(_names_used(self.source, frozenset(provided)))

    def parts(self) -> tuple[str, str]:
        """(visible, hidden): the lines a learner sees in the exercise, and those between the hidden-test markers.

        The grader runs every test's visible part before any hidden part, so that nothing a hidden part sends to
        the student's code can come back in the message of a visible one.
        """
        return _parts(self.source)

    def compiled_parts(self) -> tuple:
        """The two parts, compiled (once per process)."""
        visible, hidden = self.parts()
        return _compiled(visible, f"<test {self.grade_id}>"), _compiled(hidden, f"<hidden test {self.grade_id}>")


@functools.lru_cache(maxsize=512)
def _parts(source: str) -> tuple[str, str]:
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        marker = line.strip().upper()
        if marker == HIDDEN_BEGIN:
            inside = True
        elif marker == HIDDEN_END:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return "\n".join(visible), "\n".join(hidden)


HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@functools.lru_cache(maxsize=512)
def _compiled(source: str, filename: str):
    return compile(source, filename, "exec")


@functools.lru_cache(maxsize=512)
def _names_used(source: str, provided: frozenset[str]) -> tuple[str, ...]:
    tree = ast.parse(source)
    assigned, loaded = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loaded.append(node.id)
            else:
                assigned.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            assigned.add(node.name)
            assigned.update(arg.arg for arg in node.args.args + node.args.kwonlyargs) \
                if not isinstance(node, ast.ClassDef) else None
        elif isinstance(node, ast.arg):
            assigned.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            assigned.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    seen, names = set(), []
    for name in loaded:
        if name in seen or name in assigned or name in provided or hasattr(builtins, name):
            continue
        seen.add(name)
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Master:
    """A lesson's master as the grader uses it."""

    lesson: str
    setup: str
    tests: tuple[TestCell, ...]
    cell_timeout: float | None = None  # CPU seconds a student cell may use, when the master says (metadata)
    budget: float | None = None  # wall-clock seconds the whole grading of a submission may take, when it says
    demonstrations: frozenset[str] = frozenset()  # the demonstration cells' code (see same_code): skipped unchanged
    language: str = i18n.DEFAULT  # the language its words are in (notebook metadata coursekit.language)
    editions: tuple[tuple[str, Master], ...] = ()  # (language, the same master translated), see load_masters

    def edition(self, language: str) -> Master:
        """This master in ``language`` when that edition was loaded (the Japanese tree's), else this one."""
        return dict(self.editions).get(language, self)

    def same_tests(self, other: Master) -> bool:
        """True when ``other`` grades as this one does: the same tests (grade_id and points), in the same order."""
        return [(t.grade_id, t.points) for t in self.tests] == [(t.grade_id, t.points) for t in other.tests]

    @property
    def max_points(self) -> float:
        return sum(test.points for test in self.tests)

    def modules(self) -> list[str]:
        """The modules the lesson's setup imports (what a sandbox for this lesson should preload)."""
        names = []
        for node in ast.walk(ast.parse(self.setup)):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names
                                          if node.module == "coursekit"]
        return names

    def sandbox_modules(self) -> list[str]:
        """What a sandbox server for this lesson should import before it forks: the setup's imports (``modules``), what
        learners import whatever the lesson (LEARNERS_IMPORT), and the library modules the lesson's exercise set
        withholds names from (``ExerciseSet.withhold``). Every worker takes those names out before any student code
        runs; where its server had not imported their module, each worker would import it for that (lesson 01:
        coursekit.gradcheck, 15 ms a submission)."""
        names = self.modules() + list(LEARNERS_IMPORT)
        for name in [name for name in names if name.startswith("coursekit.lessons.")]:
            exercises = getattr(importlib.import_module(name), "exercises", None)  # this process trusts the lessons
            names += [spec.partition(":")[0] for spec in getattr(exercises, "withheld", ())]
        return names


# Imported by every lesson's sandbox server, whatever the lesson's own setup imports: learners plot, and a worker
# cannot import matplotlib itself (matplotlib needs a cache folder it can write, and a worker writes nowhere: red team
# T's `import matplotlib.pyplot as plt` first in an import cell lost that cell, and 14 of 14 points in lesson 05).
LEARNERS_IMPORT = ("matplotlib.pyplot",)


def load_master(path: Path | str) -> Master:
    """The trusted setup (the code cells before the first exercise that are neither solution nor test) and the tests."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))  # a master the instructor wrote: plain JSON is enough
    setup, tests, started, demonstrations = [], [], False, set()
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (cell.get("metadata", {}).get("coursekit") or {}).get("demonstration"):
            demonstrations.add(same_code(source))  # shown to the learner, needed by no test: not in the setup
        elif meta.get("grade"):
            tests.append(TestCell(str(meta["grade_id"]), float(meta.get("points", 0)), source))
            started = True
        elif meta.get("solution"):
            started = True
        elif not started:
            setup.append(source)
    declared = nb.get("metadata", {}).get("coursekit", {})
    language = declared.get("language") if declared.get("language") in i18n.LANGUAGES else i18n.DEFAULT
    return Master(path.stem, "\n\n".join(setup), tuple(tests), _seconds(declared.get("cell_timeout")),
                  _seconds(declared.get("submission_budget")), frozenset(demonstrations), language)


def same_code(source: str) -> str:
    """A cell's code as compared with a demonstration's: line endings and trailing blanks do not count."""
    return "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").strip().split("\n"))


def _seconds(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def load_masters(folder: Path | str) -> dict[str, Master]:
    """Every master in ``folder`` (the course's solutions/), by lesson name (the file's stem), each with its
    translated editions: the master of the same name in ``<course>/<language>/solutions/`` (``ja/solutions``),
    kept when its tests are the same (grade_ids and points), so that a submission in that language is graded with
    the words of its own master and exactly the same points."""
    folder = Path(folder)
    masters = {path.stem: load_master(path) for path in sorted(folder.glob("*.ipynb"))}
    for language in i18n.LANGUAGES:
        translated = folder.parent / language / folder.name
        if language == i18n.DEFAULT or not translated.is_dir():
            continue
        for path in sorted(translated.glob("*.ipynb")):
            master = masters.get(path.stem)
            edition = load_master(path)
            if master is not None and master.same_tests(edition):
                masters[path.stem] = dataclasses.replace(master, editions=(*master.editions, (language, edition)))
    return masters


def submission_language(nb: dict) -> str:
    """The language a submitted notebook speaks: its metadata's ``coursekit.language`` (the Japanese exercise sets
    carry "ja"), else the language its code chooses with ``coursekit.use_language(...)`` (metadata stripped), else
    English. Only a known language is taken: the notebook is the student's."""
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    declared = metadata.get("coursekit") if isinstance(metadata, dict) else None
    language = declared.get("language") if isinstance(declared, dict) else None
    if isinstance(language, str) and language in i18n.LANGUAGES:
        return language
    cells = nb.get("cells") if isinstance(nb, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        source = cell.get("source", "") if isinstance(cell, dict) and cell.get("cell_type") == "code" else ""
        source = "".join(source) if isinstance(source, list) else str(source)
        found = _USE_LANGUAGE.search(source[:_SCANNED])
        if found and found.group(1) in i18n.LANGUAGES:
            return found.group(1)
    return i18n.DEFAULT


_USE_LANGUAGE = re.compile(r"""use_language\(\s*["']([a-z]{2})["']\s*\)""")
_SCANNED = 10_000  # characters of a cell searched for use_language (it is at the top of the first cell)
