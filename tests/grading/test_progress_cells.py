"""A learner's notebook may call exercises.progress(), hint() and coursekit.submit(): in the grader's sandbox they do
nothing."""

import pytest

from graded_submissions import MASTERS, grade, solution, with_cell

pytestmark = pytest.mark.slow  # grades through a sandbox server

LESSON = "03_activations"


def test_progress_and_hint_cells_grade_like_the_rest(server):
    nb = with_cell(LESSON, 'exercises.hint("ReLU")\nexercises.progress()', at=len(solution(LESSON).cells))
    graded = grade(server, nb, LESSON)
    assert graded.points == MASTERS[LESSON].max_points
    assert not graded.cell_problems, graded.cell_problems


def test_a_submit_cell_grades_like_the_rest(server):
    nb = with_cell(LESSON, "import coursekit\ncoursekit.submit()", at=len(solution(LESSON).cells))
    graded = grade(server, nb, LESSON)
    assert graded.points == MASTERS[LESSON].max_points
    assert not graded.cell_problems, graded.cell_problems


def test_the_sandbox_stands_in_for_check_hint_and_progress(session_for):
    session_for("from coursekit.lessons.l03_activations import exercises\n"
                'exercises.check("ReLU", None)\nexercises.hint("ReLU")\nexercises.progress()')
