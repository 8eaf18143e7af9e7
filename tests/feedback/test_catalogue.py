"""The catalogue (tests/feedback/catalogue/): check() rejects every wrong implementation, names the mistake in at
least the share measured when the generic diagnoses were written, and accepts every correct one."""

import importlib
from functools import cache

import pytest

from tests.feedback.catalogue import l01, l02, l03, l04, l05, l06, l07

MODULES = (l01, l02, l03, l04, l05, l06, l07)
WRONG = [entry for module in MODULES for entry in module.WRONG]
CORRECT = [entry for module in MODULES for entry in module.CORRECT]
# Measured on this catalogue when the generic diagnoses went in (see the figures this module prints); a floor, so
# that a change that names fewer mistakes fails.
NAMED_REGISTERED_FLOOR = 1.0      # measured: 100% (31 of 31)
NAMED_UNREGISTERED_FLOOR = 0.84   # measured: 84.5% (71 of 84); the registered ones' words are the course's own
NAMED_ALL_FLOOR = 0.88            # measured: 88.7% (102 of 115)
CORRECT_PER_EXERCISE = 3          # correct entries of every exercise, in the styles of other courses


def _exercises(lesson: str):
    return importlib.import_module(f"coursekit.lessons.{lesson}").exercises


@cache
def verdict(entry):
    return _exercises(entry.lesson).evaluate(entry.exercise, entry.obj)


def named(entry) -> bool:
    """Whether the verdict on a wrong entry names its mistake: the registered one's hint, or one of its words."""
    result = verdict(entry)
    if entry.registered is not None:
        return result.mistake == entry.registered
    return any(word in result.message for word in entry.names)


def _id(entry):
    return f"{entry.lesson[:3]}:{entry.exercise}:{entry.label}"


def test_the_catalogue_is_large_enough_and_covers_every_exercise():
    assert len(WRONG) >= 110 and len(CORRECT) >= 90
    for module in MODULES:
        lesson = module.L
        for name in _exercises(lesson).names():
            assert any(e.exercise == name for e in module.WRONG if e.lesson == lesson), f"{lesson}: {name} wrong"
            right = sum(e.exercise == name for e in module.CORRECT if e.lesson == lesson)
            assert right >= CORRECT_PER_EXERCISE, f"{lesson}: {name} has {right} correct entries"
    assert any(e.registered for e in WRONG) and any(not e.registered for e in WRONG)


@pytest.mark.parametrize("entry", WRONG, ids=_id)
def test_a_wrong_implementation_is_rejected(entry):
    assert verdict(entry).status in ("failed", "error"), verdict(entry).message


@pytest.mark.parametrize("entry", CORRECT, ids=_id)
def test_a_correct_implementation_is_accepted(entry):
    assert verdict(entry).status == "passed", verdict(entry).message


@pytest.mark.parametrize("entry", [e for e in WRONG if e.registered], ids=_id)
def test_a_registered_mistake_gets_its_hint(entry):
    assert named(entry), f"matched {verdict(entry).mistake!r}: {verdict(entry).message}"


def figures() -> dict:
    """Share of wrong entries rejected, and named, registered and unregistered apart; correct ones rejected."""
    registered = [e for e in WRONG if e.registered]
    unregistered = [e for e in WRONG if not e.registered]
    return {
        "wrong": len(WRONG), "correct": len(CORRECT),
        "wrong rejected": sum(verdict(e).status != "passed" for e in WRONG) / len(WRONG),
        "named (registered)": sum(map(named, registered)) / len(registered),
        "named (unregistered)": sum(map(named, unregistered)) / len(unregistered),
        "named (all)": sum(map(named, WRONG)) / len(WRONG),
        "correct rejected": sum(verdict(e).status != "passed" for e in CORRECT),
    }


def test_the_figures_hold(capsys):
    found = figures()
    with capsys.disabled():
        print("\ncatalogue:", ", ".join(f"{k} {v:.0%}" if isinstance(v, float) else f"{k} {v}"
                                         for k, v in found.items()))
    assert found["wrong rejected"] == 1.0 and found["correct rejected"] == 0
    assert found["named (registered)"] >= NAMED_REGISTERED_FLOOR
    assert found["named (unregistered)"] >= NAMED_UNREGISTERED_FLOOR
    assert found["named (all)"] >= NAMED_ALL_FLOOR
