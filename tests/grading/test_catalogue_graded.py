"""A sample of the feedback catalogue (tests/feedback/catalogue/) through the grader: correct code the checks once
rejected scores, and a mistake nobody registered is named in the grader's message as in check()'s."""

import pytest

from tests.grading.graded_submissions import by_id, grade, replacing

SAMPLE = [  # (lesson, grade id, code, status, words the message must contain)
    ("01_chain_rule", "branch_gradient", """
def branch_gradient(x, y):
    u, v = x * y, x + y**2
    return np.array([np.cos(u) * v * y + np.sin(u), np.cos(u) * v * x + np.sin(u) * 2 * y])
""", "passed", ""),
    ("03_activations", "stable_sigmoid", """
def stable_sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))
""", "passed", ""),
    ("04_linear_and_losses", "mse_loss", """
def mse_loss(y, t):
    n = y.shape[0]
    return float(0.5 * np.sum((y - t) ** 2) / n), 2 * (y - t) / n
""", "failed", "twice the expected value"),
    ("05_delta_recursion", "backward_step", """
def backward_step(delta, W, z_prev, hidden):
    return (1 - np.tanh(z_prev) ** 2) * (delta @ W)
""", "failed", "ignores its argument `hidden`"),
]


@pytest.mark.parametrize(("lesson", "grade_id", "code", "status", "words"), SAMPLE, ids=[s[1] for s in SAMPLE])
def test_a_catalogue_entry_gets_the_same_verdict_from_the_grader(server, lesson, grade_id, code, status, words):
    result = by_id(grade(server, replacing(lesson, grade_id, code), lesson))[f"{grade_id}_test"]
    assert result.status == status, result.message
    assert words in result.message
