"""Functions with derivatives known in closed form, which exercises hand to a learner's code as arguments.

They live here, not in ``coursekit.lessons``, because the grader's sandbox can import this module (the lessons are
stubbed there): the grader sends them by name, and the learner's code then calls its own copy, with no round trip
to the grader per evaluation (see ``coursekit.grading.session``). Nothing here may be secret.
"""

from __future__ import annotations

import numpy as np


def cube(x):
    """x**3, whose derivative 3x**2 is known."""
    return x**3


def square(x):
    """x**2, whose derivative is 2x."""
    return x**2


def double(x):
    """2x, the derivative of square."""
    return 2 * x


def cubed_sum(v):
    """(sum of v)**3: every element's slope depends on all the others, 3 (sum v)**2."""
    return float(np.sum(v) ** 3)


def cubed_sum_gradient(v):
    """The gradient of cubed_sum: 3 (sum v)**2 in every element."""
    return np.full(np.shape(v), 3 * np.sum(v) ** 2)


def leading_squares(v):
    """v[0]**2 + v[1]**2 of the flattened v: the other elements do not change it (their slope is exactly 0)."""
    return float(np.sum(np.ravel(v)[:2] ** 2))


def leading_squares_gradient(v):
    """The gradient of leading_squares: 2 v in its first two elements, 0 in the others."""
    gradient = np.zeros(np.shape(v))
    gradient.reshape(-1)[:2] = 2 * np.ravel(v)[:2]
    return gradient


def log_sum_exp(v):
    """log sum exp(v) over all elements; its gradient is the softmax of v (of the same shape)."""
    return float(np.log(np.sum(np.exp(v))))


def log_sum_exp_gradient(v):
    """The gradient of log_sum_exp: the softmax of v over all its elements."""
    return np.exp(v) / np.sum(np.exp(v))


def squares_times_sum(v):
    """(sum of v**2) * (sum of v), gradient 2 v (sum v) + sum v**2."""
    return float(np.sum(v**2) * np.sum(v))


def squares_times_sum_gradient(v):
    """The gradient of squares_times_sum: 2 v (sum v) + sum v**2."""
    return 2 * v * np.sum(v) + np.sum(v**2)


def sines_times_sum(v):
    """(sum of sin v) * (sum of v), gradient cos(v) (sum v) + sum sin v."""
    return float(np.sum(np.sin(v)) * np.sum(v))


def sines_times_sum_gradient(v):
    """The gradient of sines_times_sum: cos(v) (sum v) + sum sin v."""
    return np.cos(v) * np.sum(v) + np.sum(np.sin(v))


# A fixed batch of 5 inputs with 4 features. batch_outputs_squared takes a weight W of shape (n_out, n_in), as a
# Linear layer's, and needs that shape: the batch's first n_in features go through W (a W flattened to 1-D has another
# n_in, and no batch of its width).
BATCH_INPUTS = np.array([[0.5, -1.0, 2.0, 0.25], [1.5, 0.25, -0.5, -1.0], [-2.0, 1.0, 0.75, 0.5],
                         [0.25, 0.5, -1.25, 1.5], [1.0, -0.75, 0.5, -0.25]])


def batch_outputs_squared(W):
    """The sum of (X W^T)**2, X the first n_in = W.shape[-1] columns of BATCH_INPUTS: a Linear layer's squared
    outputs (without bias) as a function of its weight."""
    X = BATCH_INPUTS[:, : np.shape(W)[-1]]
    return float(np.sum((X @ np.transpose(W)) ** 2))


def batch_outputs_squared_gradient(W):
    """The gradient of batch_outputs_squared: 2 (X W^T)^T X, of W's shape (exactly 0 at W = 0)."""
    X = BATCH_INPUTS[:, : np.shape(W)[-1]]
    return np.transpose(2 * X.T @ (X @ np.transpose(W)))
