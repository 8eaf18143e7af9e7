"""Step 1 of grading: the student's cells, run in a sandbox session that is replaced (and replayed) when it dies.

Every code cell of the submission runs, in order, except its copies of the test cells and, where it
holds them unchanged, the master's demonstration cells (a training run shown to the learner); a cell that
raises is run again after the others (it may need a name defined further down), one that kills its
process is skipped (and the worker replaced), one that runs past its CPU limit too, but its definitions
(imports, functions, classes, constants) are then run alone, under a larger limit, so that a learner's
functions stay though the demonstration below them was stopped; and once the submission's time budget
is spent nothing more runs. Each cell that did not run to its end is noted in the grade, with the names
it defines, so that a test needing one of them can say why it is missing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from coursekit.grading import messages, protocol
from coursekit.grading.cell_source import LINE_CHARS, Statement, first_line, names_defined, statements_apart
from coursekit.grading.client import WarmServer
from coursekit.grading.limits import MAX_PARSED_PER_SUBMISSION, Settings
from coursekit.grading.master import same_code
from coursekit.grading.session import CpuTimeout, ProtocolError, SandboxCrashed, SandboxTimeout, Session
from coursekit.grading.verdicts import CellProblem, Grade, TestResult


def student_cells(nb: dict) -> list[str]:
    """The code the student's notebook holds, cell by cell, except its copies of the test cells.

    A test cell is recognised by its metadata or, metadata stripped, by its content (it starts with
    a visible check); it only ever checks, so running it in the sandbox would only cost time: the
    tests that count are the master's. IPython magics are kept: the sandbox's InteractiveShell handles them.
    """
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") != "code" or not source.strip():
            continue
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") or source.lstrip().startswith("exercises.check("):
            continue
        cells.append(source)
    return cells


class EveryCellNeeded(Exception):
    """Raised before the hidden parts when the submission is to be graded again with every cell (see
    ``StudentCode.may_have_needed_a_skipped_cell``)."""


class StudentCode:
    """The student's code, running in a sandbox session that is replaced (and replayed) when it dies.

    What went wrong with a cell is kept in ``grade.cell_problems`` (at most one problem per cell, the latest), so
    that a test needing a name the cell would have defined can say why it is missing (``why_missing``).
    """

    def __init__(self, server: WarmServer, cells: list[str], settings: Settings, grade: Grade,
                 skip: frozenset[str] = frozenset(), deadline: float | None = None, language: str | None = None,
                 withheld: tuple[str, ...] = ()):
        """Run ``cells`` (numbered from 1), except those whose code is in ``skip`` (see ``master.same_code``),
        by ``deadline`` (``time.monotonic()``; default: the submission's budget from now); coursekit speaks
        ``language`` in the sandbox (default: as the sandbox's environment says); ``withheld``: coursekit's own
        answers to the lesson (``ExerciseSet.withhold``), which the student's code may not import."""
        self.server, self.cells, self.settings, self.grade = server, cells, settings, grade
        self.language, self.withheld = language, tuple(withheld)
        # the whole submission's, which nothing extends
        self.deadline = deadline if deadline is not None else time.monotonic() + settings.budget
        skipped = {index for index, code in enumerate(cells, start=1) if skip and same_code(code) in skip}
        self.skipped = len(skipped)
        # (number, code, CPU limit) of the cells that ran, to replay in a new worker
        self.good: list[tuple[int, str, float]] = []
        self.problems: dict[int, CellProblem] = {}
        self._names: dict[int, tuple[str, ...]] = {}  # what each cell with a problem defines, parsed once
        self._parse_left = MAX_PARSED_PER_SUBMISSION
        self.generation = 0  # how many workers this submission has had (names fetched from an older one are stale)
        # Set once a hidden test has run: the cells replayed after that are not reported (see restart).
        self.hidden_started = False
        self.session = self._start()
        try:
            self._run_all(cells, skipped)
        except BaseException:  # whatever stops it, no worker is left running
            self.close()
            raise

    def _run_all(self, cells: list[str], skipped: set[int]) -> None:
        failed = [(index, code) for index, code in enumerate(cells, start=1)
                  if index not in skipped and not self._run(code, index)]
        # Cells may come in any order (moved, shuffled): a cell that failed, e.g. on a name defined further
        # down, runs again after the others, as long as that helps.
        while failed and not self.out_of_time():
            still = [(index, code) for index, code in failed if not self._run(code, index, again=True)]
            if len(still) == len(failed):
                break
            failed = still

    def may_have_needed_a_skipped_cell(self, visible: Iterable[TestResult | None]) -> bool:
        """True when cells were skipped and a cell or a test's visible part (``visible``: their verdicts) then raised
        NameError: the submission's code may use what a demonstration defines (its grader then runs every cell, see
        ``grader.grade_notebook``). Asked before any hidden part runs, never after: code that chose to raise
        NameError on a hidden input would otherwise have its cells run again, and what they say (a clock read, a
        process id) would carry that input to the learner."""
        return self.skipped > 0 and (any("NameError" in problem.cause for problem in self.grade.cell_problems)
                                     or any(test is not None and test.status == "error" and "NameError" in test.message
                                            for test in visible))

    def out_of_time(self) -> bool:
        """True once the submission's budget is spent."""
        return time.monotonic() >= self.deadline

    def why_missing(self, name: str) -> tuple[str, str] | None:
        """(status, message) of a test that needs the student's ``name`` and cannot have it, when a cell that
        defines it had a problem: "not attempted" when that cell is not done yet, else "error"; else None."""
        for problem in reversed(self.grade.cell_problems):
            if name in problem.names:
                status = "not attempted" if problem.status == "not attempted" else "error"
                return status, messages.NOT_DEFINED_BECAUSE.format(name=name, cause=problem.cause)
        return None

    def _note(self, index: int, status: str, cause: str) -> None:
        """Keep what happened to cell ``index`` (replacing what happened to it before)."""
        code = self.cells[index - 1]
        known = index in self.problems
        self.problems[index] = CellProblem(index, status, cause, first_line(code), self._names_of(index, code))
        noted = self.grade.cell_problems
        if not known and (not noted or noted[-1].cell < index):
            self.grade.cell_problems.append(self.problems[index])  # in order already: cells are noted as they run
        else:
            self.grade.cell_problems = [self.problems[i] for i in sorted(self.problems)]

    def _names_of(self, index: int, code: str) -> tuple[str, ...]:
        """The names cell ``index`` defines, while the submission's parsing allowance lasts (then none known)."""
        if index not in self._names:
            self._names[index] = names_defined(code) if self._parsing(code) else ()
        return self._names[index]

    def _parsing(self, code: str) -> bool:
        """Whether ``code`` may still be parsed: the grader parses a submission's cells up to an allowance in all."""
        if len(code) > self._parse_left:
            return False
        self._parse_left -= len(code)
        return True

    def _start(self) -> Session:
        session = self.server.session(self.settings.call_timeout, self.deadline)
        session.wall_grace = self.settings.wall_grace
        self.grade.protections = session.protections
        if self.withheld:  # posted: it goes with the first cell, before it
            session.post({protocol.OP: protocol.WITHHOLD, protocol.NAMES: list(self.withheld),
                          protocol.VALUE: str(messages.WITHHELD)})
        if self.language is not None:  # binds no name: the student's namespace stays as the student's cells make it
            session.run_cell(f"__import__('coursekit.i18n', fromlist=['use']).use({self.language!r})",
                             self.settings.cell_timeout)
        self.generation += 1
        return session

    def _run(self, code: str, index: int, again: bool = False) -> bool:
        """Run one cell; True when it ran without raising. Loops and crashes are skipped for good."""
        if self.out_of_time():
            if not again:
                self._note(index, "not run", messages.CELL_NOT_RUN.format(seconds=self.settings.budget))
            return True
        try:
            # Located only before any hidden test: where a cell replayed after one stops is not the learner's to know
            outcome = self.session.run_cell(code, self.settings.cell_timeout, locate=not self.hidden_started)
        except SandboxTimeout as timeout:
            cause = self._timeout_cause(timeout)
            self._note(index, "timeout", cause)
            self.restart()
            self._run_apart(index, code, cause, stopped_at=getattr(timeout, "line", None))
            return True
        except ProtocolError as problem:  # it wrote on the grader's socket what no worker sends
            self._note(index, "error", str(problem))
            self.restart()
            return True
        except SandboxCrashed:
            self._note(index, "crashed", str(messages.CELL_CRASHED))
            self.restart()
            return True
        self.good.append((index, code, self.settings.cell_timeout))
        if outcome.get(protocol.OK):
            if index in self.problems:  # it raised before, and ran once run again
                del self.problems[index]
                self.grade.cell_problems = [self.problems[i] for i in sorted(self.problems)]
            return True
        error = outcome.get(protocol.ERROR) or outcome.get(protocol.RAISED)  # RAISED: the worker could not run it
        if isinstance(error, dict) and error.get("type") == "NotImplementedError":  # the exercise's stub: not done
            self._note(index, "not attempted", str(messages.CELL_NOT_ATTEMPTED))
        else:
            self._note(index, "error", _raised(error))
            if _refused_by_sandbox(error):
                self.restart()  # what ran of the cell before its refusal must not run twice
                return self._run_apart(index, code, refused=error)
        return False

    def _run_apart(self, index: int, code: str, cause: str = "", refused: dict | None = None,
                   stopped_at: int | None = None) -> bool:
        """Run cell ``index`` again one top-level statement at a time (see ``cell_source.statements_apart``), each
        under its own limit (an import's, the largest; a definition's; else the cell's): what runs is kept and
        replayed; what runs past its limit, crashes or raises is left out, and the rest still runs, as the learner's
        own kernel would have run the cell to its end. The cell ran past its limit (``cause``: why it was stopped,
        in the learner's words), or (``refused``: the error) the sandbox refused what it did (a file written, a
        thread started). A cell of one statement is that statement: it is not run again; nor is the statement
        the cell was stopped in (``stopped_at``: a line in it, when the worker said), unless it is a definition,
        whose larger limit it did not have (red team T: ``import sympy``, 0.2 s where no server preloads it, was lost
        alone in its cell, and first in an import cell; on a slow machine it takes 0.4-0.6 s, past a definition's
        0.5 s, and so has an import's limit of its own). True when any is kept.

        Keeping its definitions alone lost honest points: ``import torch`` above ``import numpy`` lost every import,
        ``TINY = np.finfo(float).tiny`` beside a slow plot was dropped, and so were operations attached to a class
        in a loop above a long experiment (red team Q)."""
        statements = statements_apart(code) if self._parsing(code) else None

        def larger(statement: Statement) -> bool:  # stopped at the cell's limit, it may run within its own, larger one
            return refused is None and self._limit_of(statement) > self.settings.cell_timeout

        if not statements or self.out_of_time() or (len(statements) < 2 and not larger(statements[0])):
            return False
        kept, left_out = False, []  # (statement, why it was left out)
        for each in statements:
            statement, lines = each.source, each.lines
            stopped_here = stopped_at is not None and lines is not None and stopped_at in lines
            if self.out_of_time() or (stopped_here and not larger(each)):
                left_out.append((statement, messages.LEFT_OUT_SLOW))
                continue
            limit = self._limit_of(each)
            try:
                ran = self.session.run_cell(statement, limit).get(protocol.OK)
            except SandboxTimeout:
                self.restart()
                left_out.append((statement, messages.LEFT_OUT_SLOW))
                continue
            except SandboxCrashed:
                self.restart()
                ran = False
            if ran:
                self.good.append((index, statement, limit))
                kept = True
            else:
                left_out.append((statement, messages.LEFT_OUT_FAILED))
        if kept:
            self._note(index, "error" if refused is not None else "timeout", _run_apart_words(
                _raised(refused) if refused is not None else cause, refused is not None, left_out))
        return kept

    def _limit_of(self, statement: Statement) -> float:
        """The CPU seconds a statement run on its own may use: an import's, a definition's, or the cell's."""
        if statement.imports:
            return self.settings.import_timeout
        return self.settings.definitions_timeout if statement.defines else self.settings.cell_timeout

    def _timeout_cause(self, timeout: SandboxTimeout) -> str:
        if isinstance(timeout, CpuTimeout):
            return messages.CELL_TIMEOUT.format(seconds=self.settings.cell_timeout)
        if self.out_of_time():
            return messages.CELL_STOPPED_BY_BUDGET.format(seconds=self.settings.budget)
        return messages.CELL_WAITED.format(problem=timeout)

    def restart(self) -> None:
        """A fresh worker with the cells that ran before replayed; a cell that now loops or crashes is dropped
        and the replay starts over without it. Nothing is started once the budget is spent.

        The dropped cell is noted, unless a hidden test has run: the worker that test stopped may have chosen when
        it died from the hidden inputs it was given, and a cell replayed after it can read the clock, so that which
        cell fails in the replay would carry them to the learner (a red team read a hidden learning rate so)."""
        self.session.kill()
        while not self.out_of_time():
            try:
                self.session = self._start()
            except (SandboxCrashed, SandboxTimeout):
                if self.out_of_time():  # the budget ran out while the worker started: nothing more runs
                    return
                raise
            for index, code, limit in list(self.good):
                try:
                    self.session.run_cell(code, limit)
                except (SandboxTimeout, SandboxCrashed) as problem:
                    self.good.remove((index, code, limit))
                    self.session.kill()
                    if self.hidden_started:
                        break
                    if isinstance(problem, SandboxTimeout):
                        self._note(index, "timeout", messages.CELL_REPLAYED.format(cause=self._timeout_cause(problem)))
                    else:
                        self._note(index, "crashed", messages.CELL_REPLAYED.format(cause=messages.CELL_CRASHED))
                    break
            else:
                return

    def close(self) -> None:
        self.session.kill()


def _run_apart_words(cause: str, refused: bool, left_out: list[tuple[str, object]]) -> str:
    """What happened to a cell run again a statement at a time (see StudentCode._run_apart), in the learner's words:
    why, and what was left out (the first of them, and why)."""
    why = (messages.CELL_REFUSED_RUN_APART.format(raised=cause) if refused else
           messages.CELL_RUN_APART.format(cause=cause))
    if not left_out:
        return str(messages.ALL_KEPT.format(why=why))
    (statement, what), count = left_out[0], len(left_out)
    if count == 1:
        return str(messages.ALL_KEPT_BUT.format(why=why, line=first_line(statement), what=what))
    return str(messages.ALL_KEPT_BUT_SOME.format(why=why, count=count, line=first_line(statement), what=what))


def _refused_by_sandbox(error: dict) -> bool:
    """Whether a cell's error is the sandbox's refusal of what the learner's own kernel allows: writing a file
    (PermissionError from Landlock, or OSError from the read-only file systems), starting a thread or a process."""
    if not isinstance(error, dict):  # what a worker sent is untrusted: a reply of another shape is no refusal
        return False
    kind, text = str(error.get("type")), str(error.get("message"))
    return kind == "PermissionError" or (kind == "OSError" and text.startswith("[Errno 30]")) or \
        (kind == "RuntimeError" and "can't start new thread" in text)  # (errno 30: a read-only file system)


def _raised(error) -> str:
    """What a cell raised, in the learner's words: its type, message and line (all the student's own: no hidden
    value has been sent to the sandbox when cells run). The worker's report is untrusted data: only text is kept,
    shortened."""
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or "an exception")[:100]
    text = str(error.get("message") or "")[:_ERROR_CHARS]
    described = f"{kind}: {text}" if text else kind
    line = error.get("line")
    if isinstance(line, str) and line.strip():
        return messages.CELL_RAISED_AT.format(error=described, line=line.strip()[:LINE_CHARS])
    return messages.CELL_RAISED.format(error=described)


_ERROR_CHARS = 300
