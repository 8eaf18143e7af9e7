"""The public sample functions that exercises hand to a learner's code: each stated gradient is the true one."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit.feedback import sample_functions
from coursekit.gradcheck import check_gradient

PAIRS = sorted(name[: -len("_gradient")] for name in vars(sample_functions) if name.endswith("_gradient"))


def test_every_function_with_a_stated_gradient_is_found():
    assert {"cubed_sum", "log_sum_exp", "squares_times_sum", "sines_times_sum"} <= set(PAIRS)


@pytest.mark.parametrize("name", PAIRS)
@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-2, 2)))
def test_each_stated_gradient_agrees_with_central_differences(name, x):
    function, gradient = getattr(sample_functions, name), getattr(sample_functions, f"{name}_gradient")
    assert check_gradient(function, gradient, x).passed


def test_double_is_the_derivative_of_square_and_cube_has_slope_three_x_squared():
    for x in np.linspace(-2, 2, 9):
        h = 1e-6
        assert abs((sample_functions.square(x + h) - sample_functions.square(x - h)) / (2 * h)
                   - sample_functions.double(x)) < 1e-6
        assert abs((sample_functions.cube(x + h) - sample_functions.cube(x - h)) / (2 * h) - 3 * x**2) < 1e-6
