"""batched's helpers outside the grader's sandbox (a learner's kernel): they do what the plain Python would."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.engine import Value
from coursekit.feedback.batched import chained

# Each operator as a learner writes it: value (a) on the left, or on the right for the reflected ones.
WRITTEN = {
    "__add__": lambda a, b: a + b, "__radd__": lambda a, b: b + a,
    "__sub__": lambda a, b: a - b, "__rsub__": lambda a, b: b - a,
    "__mul__": lambda a, b: a * b, "__rmul__": lambda a, b: b * a,
    "__truediv__": lambda a, b: a / b, "__rtruediv__": lambda a, b: b / a,
    "__pow__": lambda a, b: a**b, "__rpow__": lambda a, b: b**a,
}


@settings(max_examples=500, deadline=None)
@given(st.floats(0.5, 2.0),
       st.lists(st.tuples(st.sampled_from(sorted(WRITTEN)), st.floats(0.5, 2.0)), min_size=1, max_size=3),
       st.integers(0, 4))
def test_a_chain_is_the_operations_written_out_reflected_ones_included(start, steps, count):
    expected = start
    try:
        for _ in range(count):
            for name, operand in steps:
                expected = WRITTEN[name](expected, operand)
    except ArithmeticError as error:  # a power of a power overflows, 2 / (x - x) divides by 0: the same end
        with pytest.raises(type(error)):
            chained(start, steps, count)
        return
    assert chained(start, steps, count) == expected


def test_a_chain_of_values_builds_a_graph_deeper_than_the_recursion_limit():
    x = Value(1.0)
    y = chained(x, [("__mul__", 1.0001)], 1500)
    y.backward()
    assert abs(x.grad - 1.0001**1500) < 1e-9 * 1.0001**1500
