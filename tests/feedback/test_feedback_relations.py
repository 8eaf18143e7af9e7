"""Generic diagnoses (coursekit.feedback.relations) and NumPy-style mismatch reports (coursekit.feedback.compare)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from coursekit.feedback.compare import difference
from coursekit.feedback.relations import Diagnosis, relate

ARRAYS = st.lists(st.floats(-10, 10), min_size=3, max_size=12).map(np.array).filter(lambda a: np.ptp(a) > 0.1)


@given(ARRAYS, st.sampled_from([(-1.0, "negated"), (2.0, "twice"), (0.5, "half")]))
def test_a_simple_factor_is_named_for_any_array(expected, factor_and_words):
    factor, words = factor_and_words
    assert words in relate(factor * expected, expected)


@given(ARRAYS)
def test_a_sum_over_the_batch_is_named_with_the_batch_size(expected):
    batch = np.zeros((len(expected), 2))
    assert f"N = {len(expected)} times" in relate(len(expected) * expected, expected, args=(batch,))


def test_transposed_keepdims_not_summed_and_float32_are_named():
    e = np.arange(6.0).reshape(2, 3) + 1
    assert "transpose" in relate(e.T, e)
    assert "keepdims" in relate(e.sum(0, keepdims=True), e.sum(0))
    assert "not summed over axis 0" in relate(e, e.sum(0))
    assert "float32" in relate(e.astype(np.float32) * (1 + 1e-7), e)


def test_swapped_parts_name_the_sibling_they_hold():
    found = relate((2.0, 1.0), (1.0, 2.0), diagnosis=Diagnosis(parts=("your a", "your b")))
    assert "your a holds the value of the expected b" in found


def test_two_single_numbers_get_no_invented_factor():
    assert relate(4.33058, 1.97766) is None


def test_a_mismatch_report_counts_lists_and_measures_like_numpy():
    e = np.arange(10.0)
    g = e.copy()
    g[[2, 5, 7, 9]] += [0.5, 1.0, -2.0, 0.25]
    report = difference(g, e, rtol=1e-9, atol=1e-12)
    assert "4 of 10 elements differ" in report and "result[2]: expected 2, got 2.5" in report
    assert "... and 1 more" in report and "Largest absolute difference: 2 at [7]" in report
    assert "largest relative difference: 0.286 at [7]" in report


def test_any_sequence_holds_a_pair_unless_the_exercise_teaches_the_type():
    assert difference(np.array([1.0, 2.0]), (1.0, 2.0), rtol=1e-9, atol=0) is None
    assert difference([1.0, 2.0], (1.0, 2.0), rtol=1e-9, atol=0) is None
    assert "expected a tuple" in difference([1.0, 2.0], (1.0, 2.0), rtol=1e-9, atol=0, sequences=(tuple,))


def test_an_element_far_below_the_arrays_scale_has_an_absolute_floor():
    expected = np.array([1.9287e-22, 0.5, 1.0])
    assert difference(np.array([0.0, 0.5, 1.0]), expected, rtol=1e-12, atol=0) is None
    assert difference(np.array([1e-12, 0.5, 1.0]), expected, rtol=1e-12, atol=0) is not None


def test_a_piece_holding_another_piece_anywhere_in_a_nested_result_is_named():
    z = [np.array([[0.5, -1.0]]), np.array([[0.3, 0.2]])]
    a = [np.array([[1.0, 2.0]]), np.array([[0.46, -0.76]]), np.array([[0.29, 0.2]])]
    got = (a[-1], {"z": [a[1], z[1]], "a": a})
    found = relate(got, (a[-1], {"z": z, "a": a}), diagnosis=Diagnosis(parts=("your output", "your cache")))
    assert "your cache['z'][0] holds the value of the expected cache['a'][1]" in found


@given(ARRAYS)
def test_a_factor_the_exercise_declares_is_named_with_its_cause(expected):
    found = relate(0.1 * expected, expected, diagnosis=Diagnosis(factors={0.1: "the learning rate applied twice"}))
    assert "the learning rate applied twice" in found


def test_an_ignored_argument_is_preferred_to_all_zeros():
    from coursekit.feedback.relations import diagnose_case

    def mine(w, b):
        return (np.zeros(2), w)  # b never reaches the result

    def right(w, b):
        return (w + b, w)

    cases = [(np.array([0.5, 0.0]), np.array([1.0, 2.0])), (np.ones(2), np.array([3.0, -1.0]))]
    found = diagnose_case(lambda args: mine(*args), cases, 0, mine(*cases[0]), right(*cases[0]), right,
                          Diagnosis(arguments=("w", "b")), mine)
    assert "ignores its argument" in found


def test_an_ignored_argument_is_found_beside_networks_of_arrays_of_other_shapes():
    # Two networks of two layers each: == between them compares arrays of different shapes, which raises; the
    # search must go on to the argument that is ignored, not give up.
    from coursekit.feedback.relations import ignored_argument

    rng = np.random.default_rng(0)

    def network(*sizes):
        return [(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out))
                for n_in, n_out in zip(sizes, sizes[1:], strict=False)]

    def right(params, x, scale):
        for W, b in params:
            x = x @ W.T + b
        return scale * x

    def mine(params, x, scale):  # scale is ignored
        return right(params, x, 2.0)

    cases = [(network(3, 4, 2), rng.standard_normal((2, 3)), 3.0),
             (network(4, 3, 1), rng.standard_normal((2, 4)), 2.0)]
    assert ignored_argument(lambda args: mine(*args), cases, 0, mine(*cases[0]), lambda args: right(*args)) == 2


def test_a_result_with_zeros_where_a_factor_is_looked_for_warns_nothing():
    # a wrong answer of zeros in some places printed "divide by zero encountered in log" on the grader's terminal,
    # once a submission
    import warnings

    from coursekit.feedback.relations import _compounded

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _compounded(np.array([0.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0]), 3) is None
