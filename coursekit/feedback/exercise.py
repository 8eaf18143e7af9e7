"""Exercises, their known mistakes, and the set of them a lesson checks and hints from."""

from __future__ import annotations

import contextlib
import copy
import functools
import sysconfig
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.feedback import display, messages, progress
from coursekit.feedback import properties as property_checks
from coursekit.feedback.batched import in_one_trip
from coursekit.feedback.compare import ANY_SEQUENCE, difference, rounded_only
from coursekit.feedback.relations import NOTHING, Diagnosis, diagnose_case, diagnose_probe
from coursekit.feedback.result import CheckFailed, CheckResult
from coursekit.i18n import Message, key
from coursekit.library import library_object

_COURSEKIT = str(Path(__file__).resolve().parents[1])
_STDLIB = sysconfig.get_paths()["stdlib"]


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation; when a learner's results match it, ``hint`` is shown."""

    name: Message | str  # shown translated; stored (gradebook, dashboard) by its English text, i18n.key
    variant: Callable
    hint: Message | str


@dataclass(frozen=True)
class NameRules:
    """How the autograder may use a name the learner defines (a function or a class), declared by the lesson.

    ``arithmetic``: its objects take part in arithmetic in the grader's tests (a ``Value`` class that builds a
    graph); otherwise an object it returns is never combined with the tests' numbers, which a hostile
    ``__sub__`` could answer. ``mutates``: the positions of the arguments it is meant to change in place (an
    SGD step); a change to any other argument fails the test, and the caller's data never changes.
    """

    name: str = ""
    arithmetic: bool = False
    mutates: tuple[int, ...] = ()

    def of_results(self) -> NameRules:
        """The rules for what a call returns: arithmetic carries over, argument changes belong to the call."""
        return NameRules(self.name, self.arithmetic) if self.mutates else self


@dataclass
class Exercise:
    """One graded exercise: cases with expected results, or a ``test`` callable for objects.

    ``expected`` is an oracle called with each case's arguments, or a list of literal results.
    ``test(obj)`` raises AssertionError or returns a message when ``obj`` is wrong; ``probe(obj)``
    (optional) returns data that is compared with each Mistake's to recognise it. ``diagnosis`` tells the
    generic diagnoses (for mistakes no Mistake describes) about the exercise; ``sequences`` are the types a
    tuple or list result may come as (any sequence, unless the exercise teaches the type and says so).
    ``properties`` hold for any correct ``obj`` whatever the values (coursekit.feedback.properties): checked
    once the values are right.
    """

    name: str
    cases: Sequence[tuple] = ()
    expected: Callable | Sequence | None = None
    test: Callable | None = None
    probe: Callable | None = None
    mistakes: Sequence[Mistake] = ()
    hints: Sequence[Message | str] = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    diagnosis: Diagnosis = NOTHING
    sequences: tuple[type, ...] = ANY_SEQUENCE
    properties: Sequence[property_checks.Property] = ()
    _hints_shown: int = field(default=0, repr=False)
    # What the lesson's own code (a registered mistake, the diagnosis's reference) gives on this exercise's cases:
    # the same every time, so computed once (see lesson_value); lesson 01's SymPy variants cost a grader 100 ms for
    # every wrong submission.
    _lesson_values: dict = field(default_factory=dict, repr=False, compare=False)

    def lesson_value(self, code: Callable, slot, compute: Callable):
        """``compute()``, which runs the lesson's ``code`` (a mistake's variant, a reference) on ``slot`` (a case's
        index, or "probe"), computed once; _LessonCodeFailed, each time, when it raised."""
        key = (id(code), slot)
        if key not in self._lesson_values:
            try:
                self._lesson_values[key] = (True, compute())
            except Exception:  # noqa: BLE001 -- a variant that cannot run on a case matches nothing
                self._lesson_values[key] = (False, None)
        ran, value = self._lesson_values[key]
        if not ran:
            raise _LessonCodeFailed
        return value

    def output_of(self, code: Callable, index: int):
        """What the lesson's ``code`` (a mistake's variant) gives on case ``index``, computed once (lesson_value)."""
        return self.lesson_value(code, index, lambda: code(*copy.deepcopy(self.cases[index])))

    def probe_of(self, code: Callable):
        """What ``probe`` gives on the lesson's ``code`` (a mistake's variant, a reference), computed once."""
        return self.lesson_value(code, "probe", lambda: self.probe(code))

    def compute_lesson_values(self) -> None:
        """Compute now all that recognising a wrong answer may ask of the lesson's own code: each mistake's variant
        on every case (or its probe) and the diagnosis's reference probe. A batch grader does it before it forks its
        grading processes, which then share the values instead of each computing them on its first wrong answer."""
        codes = [mistake.variant for mistake in self.mistakes]
        if self.test is None:  # a mistake is recognised by its outputs on the cases
            computations = [functools.partial(self.output_of, code, index) for code in codes
                            for index in range(len(self.cases))]
        elif self.probe is not None:  # by what the probe finds in it; the reference's, for a diagnosis
            references = [self.diagnosis.reference] if self.diagnosis.reference is not None else []
            computations = [functools.partial(self.probe_of, code) for code in codes + references]
        else:  # by the test's message, which depends on the learner's answer: nothing to compute ahead
            computations = []
        for compute in computations:
            with contextlib.suppress(_LessonCodeFailed):  # remembered as such: it matches nothing
                compute()

    def expected_for(self, index: int):
        """The expected result of case ``index``."""
        if callable(self.expected):
            return self.expected(*self.cases[index])
        return self.expected[index]


class _LessonCodeFailed(Exception):
    """The lesson's own code (a mistake's variant, a reference) raised on a case: it matches nothing there."""


class _Raised(Exception):
    """The learner's code raised; carries the original exception and the case it ran on."""

    def __init__(self, error: BaseException, case: str):
        super().__init__(error)
        self.error = error
        self.case = case
        self.mistake: Mistake | None = None  # a registered mistake that fails the same way


def _call(func: Callable, args: tuple):
    """Call the learner's ``func`` on copies of ``args``; report writes into them as an error."""
    copies = copy.deepcopy(args)
    try:
        out = func(*copies)
    except Exception as error:
        raise _Raised(error, _short(args)) from error
    for index, (before, after) in enumerate(zip(args, copies, strict=True)):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            rounded = f" {messages.ROUNDED_ONLY}" if rounded_only(before, after) else ""
            raise AssertionError(messages.MUTATED.format(index=index + 1) + rounded)
    return out


def _is_library(filename: str) -> bool:
    return filename.startswith((_COURSEKIT, _STDLIB)) or "site-packages" in filename


def _learner_line(error: BaseException) -> str | None:
    """The last line of the traceback that belongs to the learner's code, not to a library.

    An error raised in the autograder's sandbox carries that line with it (``student_line``).
    """
    if getattr(error, "student_line", None):
        return error.student_line
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not _is_library(f.filename)]
    return frames[-1].line if frames and frames[-1].line else None


def _describe(value) -> str:
    """A short description of one argument, for messages; never fails."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str):
        return repr(value)
    name = getattr(value, "__name__", None)
    if name:
        return name
    try:
        return np.array2string(np.asarray(value, dtype=np.float64), precision=4, threshold=6)
    except (TypeError, ValueError):  # nested or ragged: a network as a list of (W, b), ...
        size = f" of {len(value)}" if hasattr(value, "__len__") else ""
        return f"<{type(value).__name__}{size}>"


def _short(args: tuple) -> str:
    return "(" + ", ".join(_describe(a) for a in args) + ")"


class ExerciseSet:
    """A lesson's exercises: ``check(name, obj)`` gives a verdict, ``hint(name)`` help in tiers."""

    def __init__(self, title: str):
        self.title = title
        self._exercises: dict[str, Exercise] = {}
        self._rules: dict[str, NameRules] = {}
        self.withheld: tuple[str, ...] = ()  # see withhold

    def withhold(self, *objects: str) -> None:
        """Name coursekit's own answers to these exercises, as ``"module:name"`` ("coursekit.engine:Value"): the
        autograder's sandbox refuses to import them, so that a submission cannot pass with the library's code."""
        self.withheld += objects

    def declare(self, name: str, *, arithmetic: bool = False, mutates: tuple[int, ...] = ()) -> None:
        """Say how the autograder may use the learner's ``name`` (see NameRules); undeclared names get neither."""
        self._rules[name] = NameRules(name, arithmetic, tuple(mutates))

    def rules(self, name: str) -> NameRules:
        """The declared rules for the learner's ``name``."""
        return self._rules.get(name, NameRules(name))

    def add(self, exercise: Exercise) -> Exercise:
        """Register ``exercise`` under its name and return it."""
        self._exercises[exercise.name] = exercise
        return exercise

    def compute_lesson_values(self) -> None:
        """Compute now, for every exercise, what recognising a wrong answer asks of the lesson's own code (see
        Exercise.compute_lesson_values)."""
        for exercise in self._exercises.values():
            exercise.compute_lesson_values()

    def names(self) -> list[str]:
        """The registered exercise names, in the order added."""
        return list(self._exercises)

    def __getitem__(self, name: str) -> Exercise:
        if name not in self._exercises:
            raise KeyError(messages.UNKNOWN_EXERCISE.format(name=name, known=", ".join(self._exercises)))
        return self._exercises[name]

    def evaluate(self, name: str, obj) -> CheckResult:
        """The verdict on ``obj`` for exercise ``name``, without printing or raising."""
        exercise = self[name]
        borrowed = self._borrowed(obj)
        if borrowed is not None:  # said here, in the learner's kernel, before the grader refuses it
            return CheckResult(name, "failed", messages.BORROWED.format(name=name, library=borrowed))
        try:
            result = self._evaluate_test(exercise, obj) if exercise.test is not None else \
                self._evaluate_cases(exercise, obj)
            # the properties every correct answer has, on visible inputs, once its values are right
            result = (result.passed and property_checks.verdict(name, exercise.properties, obj)) or result
            built_on = self._built_on(name, obj) if result.passed else None
            if built_on is not None:
                return CheckResult(name, "failed", messages.BUILT_ON.format(name=name, library=built_on))
            return result
        except _Raised as raised:
            error = raised.error
            if isinstance(error, NotImplementedError):
                return CheckResult(name, "not attempted", messages.NOT_ATTEMPTED.format(name=name))
            text = messages.ERROR.format(name=name, error=f"{type(error).__name__}: {error}", case=raised.case)
            line = _learner_line(error)
            if line:
                text += "\n" + messages.ERROR_LINE.format(line=line)
            if raised.mistake is not None:
                hint = str(raised.mistake.hint)
                text += "\n" + messages.LIKELY_MISTAKE.format(hint=hint)
                return CheckResult(name, "error", text, hint=hint, mistake=key(raised.mistake.name))
            return CheckResult(name, "error", text)

    def _borrowed(self, obj) -> str | None:
        """The withheld library object (``withhold``) that ``obj`` is, as "module.name"; else None."""
        for spec in self.withheld:
            if library_object(spec) is obj:
                return spec.replace(":", ".")
        return None

    def _built_on(self, name: str, obj) -> str | None:
        """The withheld library class that the class ``obj`` builds on, as "module.name"; else None. The grader's
        sandbox cannot import it, so there such a class gets nothing (red team Q's MLP on nn.Sequential passed
        here and scored 0 there). Asked of a passing answer only: the lessons' tests break the library's classes by
        subclassing them, and a broken one keeps its own verdict."""
        if not isinstance(obj, type) or any(obj is mistake.variant for mistake in self[name].mistakes):
            return None
        for spec in self.withheld:
            answer = library_object(spec)
            if answer is not None and any(base is answer for base in obj.__mro__[1:]):
                return spec.replace(":", ".")
        return None

    def _evaluate_cases(self, exercise: Exercise, func) -> CheckResult:
        outputs = in_one_trip(func, [copy.deepcopy(args) for args in exercise.cases])
        if outputs is None:
            outputs = []
            for args in exercise.cases:
                try:
                    outputs.append(_call(func, args))
                except AssertionError as mutated:
                    failed = messages.FAILED.format(name=exercise.name, case=_short(args))
                    return CheckResult(exercise.name, "failed", f"{failed}\n{mutated}")
                except _Raised as raised:
                    raised.mistake = self._mistake_raising_alike(exercise, args, raised.error)
                    raise
        for index, got in enumerate(outputs):
            expected = exercise.expected_for(index)
            found = difference(got, expected, rtol=exercise.rtol, atol=exercise.atol, sequences=exercise.sequences)
            if found:
                case = _short(exercise.cases[index])
                oracle = exercise.diagnosis.reference or (exercise.expected if callable(exercise.expected) else None)
                return self._failure(exercise, messages.FAILED.format(name=exercise.name, case=case) + "\n" + found,
                                     lambda variant: self._same_outputs(exercise, variant, outputs),
                                     lambda index=index, got=got, expected=expected, oracle=oracle: diagnose_case(
                                         lambda args: _call(func, args), exercise.cases, index, got, expected,
                                         oracle, exercise.diagnosis, func))
        return CheckResult(exercise.name, "passed", messages.PASSED.format(name=exercise.name, cases=len(outputs)))

    @staticmethod
    def _mistake_raising_alike(exercise: Exercise, args: tuple, error: BaseException) -> Mistake | None:
        """The registered mistake that raises the same error on the same case, if any (e.g. a shape error)."""
        if isinstance(error, NotImplementedError):
            return None
        for mistake in exercise.mistakes:
            try:
                mistake.variant(*copy.deepcopy(args))
            except Exception as theirs:  # noqa: BLE001 -- comparing how the two fail
                if type(theirs) is type(error) and str(theirs) == str(error):
                    return mistake
        return None

    def _same_outputs(self, exercise: Exercise, variant: Callable, outputs: list) -> bool:
        for index, got in enumerate(outputs):
            try:
                theirs = exercise.output_of(variant, index)
            except _LessonCodeFailed:
                return False
            if difference(got, theirs, rtol=exercise.rtol, atol=exercise.atol):
                return False
        return True

    def _evaluate_test(self, exercise: Exercise, obj) -> CheckResult:
        problem = self._run_test(exercise, obj)
        if problem is None:
            return CheckResult(exercise.name, "passed", messages.PASSED_ALL.format(name=exercise.name))

        def matches(variant) -> bool:
            if exercise.probe is not None:
                try:
                    mine = exercise.probe(obj)
                    theirs = exercise.probe_of(variant)
                except Exception:  # noqa: BLE001 -- _LessonCodeFailed, or the learner's object failed to be probed
                    return False
                return difference(mine, theirs, rtol=exercise.rtol, atol=exercise.atol) is None
            try:
                return self._run_test(exercise, variant) == problem
            except _Raised:
                return False

        def diagnose() -> str | None:
            if exercise.probe is None or exercise.diagnosis.reference is None:
                return None
            reference = exercise.diagnosis.reference
            try:
                mine = exercise.probe(obj)
                theirs = exercise.probe_of(reference)
            except Exception:  # noqa: BLE001 -- the test's own message stands alone
                return None
            return diagnose_probe(mine, theirs, exercise.diagnosis)

        return self._failure(exercise, messages.TEST_FAILED.format(name=exercise.name, message=problem), matches,
                             diagnose)

    @staticmethod
    def _run_test(exercise: Exercise, obj) -> str | None:
        try:
            outcome = exercise.test(obj)
        except AssertionError as failure:
            return str(failure)
        except Exception as error:
            raise _Raised(error, str(messages.THE_TEST)) from error
        # A test may return a report object (truthy when it passed): only a string is a problem.
        if isinstance(outcome, Message):  # a lesson's message: in the learner's language
            outcome = str(outcome)
        return outcome if isinstance(outcome, str) and outcome else None

    @staticmethod
    def _failure(exercise: Exercise, text: str, matches: Callable[[Callable], bool],
                 diagnose: Callable[[], str | None] | None = None) -> CheckResult:
        """The failed verdict: with a registered mistake's hint when one matches, else with a generic diagnosis."""
        for mistake in exercise.mistakes:
            if matches(mistake.variant):
                hint = str(mistake.hint)
                likely = messages.LIKELY_MISTAKE.format(hint=hint)
                return CheckResult(exercise.name, "failed", f"{text}\n{likely}", hint=hint, mistake=key(mistake.name))
        found = diagnose() if diagnose is not None else None
        return CheckResult(exercise.name, "failed", f"{text}\n{found}" if found else text)

    def check(self, name: str, obj) -> None:
        """Check ``obj`` against exercise ``name``: show the verdict once; raise CheckFailed unless passed.

        Returns nothing, so that Jupyter shows no ``Out[n]`` beside the verdict (``evaluate`` returns it).
        """
        __tracebackhide__ = True  # pytest: the test's own line, not this one
        result = self.evaluate(name, obj)
        progress.record(self, result)
        _show(result)
        if not result.passed:
            raise CheckFailed(result)

    def hint(self, name: str) -> None:
        """Show the next tier of help for exercise ``name`` (the last tier repeats); returns nothing."""
        exercise = self[name]
        if not exercise.hints:
            text = messages.NO_HINTS.format(name=name)
        else:
            tier = min(exercise._hints_shown, len(exercise.hints) - 1)
            exercise._hints_shown += 1
            text = messages.HINT.format(tier=tier + 1, tiers=len(exercise.hints), name=name, hint=exercise.hints[tier])
        _show(display.Hint(text))

    def progress(self) -> None:
        """Show each exercise's state in this kernel: the last verdict check() gave, or "not checked yet"."""
        _show(progress.progress_of(self))


def _show(view) -> None:
    """Display ``view`` once: rich HTML in Jupyter, plain text elsewhere."""
    display.show(view)
