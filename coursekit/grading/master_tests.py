"""Step 2 of grading: the master's tests, run here, with the student's names as proxies.

Every test's visible part runs before any hidden part, so that nothing a hidden case sent to the
student's code can come back in a visible message; in a hidden part, the student's exceptions are
reported by kind only.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import warnings

from coursekit.feedback.exercise import NameRules
from coursekit.feedback.result import CheckFailed
from coursekit.gradcheck.checks import screening
from coursekit.grading import messages
from coursekit.grading.grader_budget import grader_budget
from coursekit.grading.limits import MAX_VERDICT_TEXT, Settings, wall_backstop
from coursekit.grading.master import Master, TestCell
from coursekit.grading.proxies import ChangedArgument, NotPlainData
from coursekit.grading.session import ProtocolError, SandboxCrashed, SandboxTimeout, StudentError
from coursekit.grading.student_code import EveryCellNeeded, StudentCode
from coursekit.grading.verdicts import TestResult


def _rules(setup: dict, name: str) -> NameRules:
    """How the lesson lets the grader use the student's ``name`` (its exercise set declares it)."""
    exercises = setup.get("exercises")
    return exercises.rules(name) if hasattr(exercises, "rules") else NameRules(name)


def _fetch_names(test: TestCell, setup: dict, student: StudentCode, namespace: dict,
                 hidden: bool = False) -> TestResult | None:
    """Put the student's names that ``test`` uses into ``namespace``; a verdict when one cannot be had (in fixed
    words when ``hidden``: a name fetched again for a hidden part, after a new worker was started)."""
    if student.out_of_time():
        return out_of_budget(test, student.settings.budget)
    # Fetched again for a hidden part: the worker that replays the cells may have been chosen to die by a hidden
    # input, so what the fetch says (a warning) is treated as a hidden case's. The test's own part resets it.
    student.session.hidden = hidden
    for name in test.names_used(set(setup)):
        try:
            with grader_budget(student.settings.test_timeout, student.deadline):  # its value is decoded here
                namespace[name] = student.session.get(name, _rules(setup, name))
        except NameError as missing:  # and when a cell that defines it failed, that is why
            status, message = student.why_missing(name) or ("error", str(missing))
            return _verdict(test, status, message)
        except (SandboxTimeout, SandboxCrashed) as problem:
            return _worker_lost(test, student, problem, hidden)
        except Exception as error:  # noqa: BLE001 -- the student's object failed to be handed over
            return _verdict(test, "error", _raised(error, hidden))
    return None


def _worker_lost(test: TestCell, student: StudentCode, problem: BaseException, hidden: bool) -> TestResult:
    """The verdict when the worker was killed during the test (time up, a crash, a message the grader cannot
    read); a new worker, with the student's cells replayed, serves the next tests."""
    student.restart()
    status = "timeout" if isinstance(problem, SandboxTimeout) else \
        "error" if isinstance(problem, ProtocolError) else "crashed"
    if hidden:  # what the worker sent, or when it stopped, may carry a hidden input: fixed words instead
        return _verdict(test, status, str({"timeout": messages.HIDDEN_TIMEOUT, "error": messages.HIDDEN_PROTOCOL_ERROR,
                                           "crashed": messages.CRASHED}[status]))
    return _verdict(test, status, str(problem))


def out_of_budget(test: TestCell, budget: float) -> TestResult:
    """The verdict of a test not run: the submission spent its budget of ``budget`` seconds."""
    return _verdict(test, "timeout", messages.OUT_OF_BUDGET.format(seconds=budget))


def _verdict(test: TestCell, status: str, message: str, mistake: str | None = None) -> TestResult:
    if len(message) > MAX_VERDICT_TEXT:  # it may quote what the student's code gave (a check's scenario does)
        message = message[:MAX_VERDICT_TEXT] + " [...]"
    return TestResult(test.grade_id, status, 0.0, test.points, message, mistake)


def _run_part(code, test: TestCell, namespace: dict, student: StudentCode, settings: Settings,
              hidden: bool) -> TestResult | None:
    """Run one part of a test here, with the student's names as proxies; a verdict if it fails, else None.

    In a hidden part, nothing that came from the student's code reaches the message (an exception's text
    could carry the hidden inputs it was given): only the kind of exception and the test's own words.
    """
    session = student.session
    if student.out_of_time():
        return out_of_budget(test, settings.budget)
    session.deadline = min(student.deadline, time.monotonic() + wall_backstop(settings.test_timeout,
                                                                              settings.wall_grace))
    session.test_cpu = (session.cpu_seconds(), settings.test_timeout)
    session.hidden = hidden
    try:
        # A check's printed verdict is not parsed, only its result; layers are screened along random directions
        # first (each evaluation is a round trip to the sandbox), element by element only to diagnose an error.
        # The grader's own work on what the student's code returned (decoding, comparing, simplifying) has a budget
        # of its own, as the sandbox's work has.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), screening(), \
                grader_budget(settings.test_timeout, session.deadline):
            # What NumPy warns while the test computes on the student's values is shown nowhere: from a hidden part it
            # told the terminal which of its lines a hidden value reached (red team U). A check that watches for
            # warnings records them under a filter of its own.
            warnings.simplefilter("ignore")
            exec(code, namespace)  # noqa: S102 -- the master's
            session.flush()  # a parameter write still owed its answer: its error counts too
    except CheckFailed as failed:
        # the registered mistake the check recognised: its name only (the lesson's own words, never a hidden value)
        message = failed.result.message
        if failed.result.status == "error" and not hidden:
            message = _why_not_defined(message, student)
        return _verdict(test, failed.result.status, message, failed.result.mistake)
    except (SandboxTimeout, SandboxCrashed) as problem:
        return _worker_lost(test, student, problem, hidden)
    except NotImplementedError:
        return _verdict(test, "not attempted", str(messages.NOT_ATTEMPTED))
    except (NotPlainData, ChangedArgument) as misuse:  # the grader's own words, around names the student's code chose
        if hidden:
            return _verdict(test, "failed", str(messages.HIDDEN_NOT_PLAIN_DATA if isinstance(misuse, NotPlainData)
                                                else messages.HIDDEN_CHANGED_ARGUMENT))
        return _verdict(test, "failed", str(misuse))
    except AssertionError as failure:
        if getattr(failure, "from_student", False):  # the student's code raised it: not the test's words
            return _verdict(test, "error", _raised(failure, hidden))
        text = str(failure).strip()
        # a bare assert of a hidden test says nothing; its source is never shown
        return _verdict(test, "failed", text if text else str(messages.HIDDEN_FAILED))
    except Exception as error:  # noqa: BLE001 -- any other error of the student's code is a verdict
        if getattr(error, "from_student", False):
            return _verdict(test, "error", _raised(error, hidden) if hidden else
                            _why_not_defined(_raised(error, hidden), student))
        if hidden:  # raised here, by the test, on what the student's code returned
            return _verdict(test, "error", messages.HIDDEN_FAILED_AT.format(error=type(error).__name__))
        return _verdict(test, "error", messages.ERROR.format(error=f"{type(error).__name__}: {str(error)[:500]}"))
    finally:
        session.deadline, session.test_cpu, session.hidden = student.deadline, None, False
    return None


def _raised(error: BaseException, hidden: bool) -> str:
    """The message for an exception the student's code raised: in full for a visible case, by kind for a hidden
    one (a built-in exception by its name, any other as "an exception of your own")."""
    if hidden:
        kind = f"`{type(error).__name__}`" if not isinstance(error, StudentError) else messages.OWN_EXCEPTION
        return messages.HIDDEN_RAISED.format(kind=kind)
    message = messages.ERROR.format(error=_student_words(error))
    line = getattr(error, "student_line", None)
    return message + (messages.AT_LINE.format(line=line) if line else "")


_NOT_DEFINED = re.compile(r"NameError: name '(\w+)' is not defined")


def _why_not_defined(message: str, student: StudentCode) -> str:
    """``message`` (a visible case's error), and, when the student's code met a name that one of its cells would
    have defined but for a problem (a CPU limit, a crash), that cell's problem: the learner's code was right."""
    found = _NOT_DEFINED.search(message)
    why = student.why_missing(found.group(1)) if found else None
    return f"{message}\n{why[1]}" if why else message


def _student_words(error: BaseException) -> str:
    if isinstance(error, StudentError) and error.args:
        return str(error.args[0])[:500]
    return f"{type(error).__name__}: {str(error)[:500]}"


def grade_tests(master: Master, setup: dict, student: StudentCode, settings: Settings) -> list[TestResult]:
    """Every test of ``master``: first the visible part of each, then the hidden parts of those still passing.
    EveryCellNeeded, between the two, when the submission is to be graded again with every cell."""
    namespaces, verdicts, generations = {}, {}, {}
    for test in master.tests:
        visible, _ = test.compiled_parts()
        namespace = dict(setup)
        verdict = _fetch_names(test, setup, student, namespace)
        generations[test.grade_id] = student.generation
        if verdict is None:
            verdict = _run_part(visible, test, namespace, student, settings, hidden=False)
        namespaces[test.grade_id], verdicts[test.grade_id] = namespace, verdict
    if student.may_have_needed_a_skipped_cell(verdicts.values()) and not student.out_of_time():
        raise EveryCellNeeded  # decided here, before any hidden input has reached the student's code
    for test in master.tests:
        if verdicts[test.grade_id] is not None or not test.parts()[1].strip():
            continue
        namespace = namespaces[test.grade_id]
        student.hidden_started = True
        if generations[test.grade_id] != student.generation:  # a new worker since: its objects, not the old ones
            verdicts[test.grade_id] = _fetch_names(test, setup, student, namespace, hidden=True)
            if verdicts[test.grade_id] is not None:
                continue
        verdicts[test.grade_id] = _run_part(test.compiled_parts()[1], test, namespace, student, settings, hidden=True)
    passed = str(messages.PASSED)
    return [verdicts[test.grade_id] or TestResult(test.grade_id, "passed", test.points, test.points, passed)
            for test in master.tests]
