"""End to end: every master graded as a submission gets full marks; every untouched exercise set gets 0."""

import pytest

from conftest import MASTERS, ROOT, grade
from coursekit.assignment.notebooks import read_notebook


@pytest.mark.parametrize("lesson", sorted(MASTERS))
def test_the_solutions_get_full_marks(server, lesson):
    graded = grade(server, read_notebook(ROOT / "solutions" / f"{lesson}.ipynb"), lesson)
    failures = [(t.grade_id, t.status, t.message[:200]) for t in graded.tests if t.status != "passed"]
    assert not failures and graded.points == graded.max_points > 0


@pytest.mark.parametrize("lesson", sorted(MASTERS))
def test_untouched_exercises_get_zero_with_not_attempted_everywhere(server, lesson):
    graded = grade(server, read_notebook(ROOT / "exercises" / f"{lesson}.ipynb"), lesson)
    assert graded.points == 0
    assert {t.status for t in graded.tests} == {"not attempted"}, [(t.grade_id, t.message) for t in graded.tests]


def test_the_report_says_which_protections_were_active(server):
    graded = grade(server, read_notebook(ROOT / "exercises" / "07_efficiency.ipynb"), "07_efficiency")
    text = " ".join(graded.protections)
    assert "limits" in text and "empty working folder" in text
    landlock_abi = _landlock_abi()
    assert ("landlock" in text) == (landlock_abi > 0), (landlock_abi, text)


def _landlock_abi() -> int:
    import ctypes

    return max(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1), 0)
