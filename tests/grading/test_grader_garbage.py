"""What a grading process keeps: the cyclic collector looks only at what one grading made, and collects it all."""

import gc
import weakref

import pytest

from coursekit.grading import grader
from graded_submissions import grade, solution

pytestmark = pytest.mark.slow  # grades through a sandbox server


class Node:
    """A cycle's member: only the cyclic collector frees it."""


def cycle() -> weakref.ref:
    node = Node()
    node.me = node
    return weakref.ref(node)


@pytest.fixture()
def collector_by_hand():
    """Automatic collection off, so that only the grader's own collection can free a cycle."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


def test_a_grading_collects_its_own_garbage_and_only_its_own(server, monkeypatch, collector_by_hand):
    made_before, made_during = cycle(), []
    real = grader.grade_tests

    def grade_tests_that_leave_a_cycle(*args):
        made_during.append(cycle())
        return real(*args)

    monkeypatch.setattr(grader, "grade_tests", grade_tests_that_leave_a_cycle)
    graded = grade(server, solution("07_efficiency"), "07_efficiency")
    assert graded.points == graded.max_points > 0
    assert made_during and made_during[0]() is None  # the grading's garbage is gone when it returns
    assert made_before() is not None  # what was there before was not looked at (frozen meanwhile)
    assert gc.get_freeze_count() == 0


def test_a_grading_that_raises_leaves_nothing_frozen(server, monkeypatch):
    def failing(*args):
        raise RuntimeError("a failure of the grader itself")

    monkeypatch.setattr(grader, "grade_tests", failing)
    with pytest.raises(RuntimeError):
        grade(server, solution("07_efficiency"), "07_efficiency")
    assert gc.get_freeze_count() == 0
