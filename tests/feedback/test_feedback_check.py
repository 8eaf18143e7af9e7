"""check(): the four states, where-and-by-how-much messages, known mistakes, tiered hints."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coursekit.feedback import CheckFailed, Exercise, ExerciseSet, Mistake
from coursekit.feedback.compare import rounded_only


def square_set():
    ex = ExerciseSet("demo")
    ex.add(Exercise(
        "square", cases=[(np.array([1.0, -2.0, 3.0]),), (np.array([[0.5]]),)], expected=lambda a: a * a,
        mistakes=[Mistake("doubled", lambda a: 2 * a, "you doubled instead of squaring."),
                  Mistake("abs", lambda a: np.abs(a), "abs is not a square.")],
        hints=["multiply", "a * a"],
    ))
    return ex


def verdict(ex, func, name="square"):
    with pytest.raises(CheckFailed) as err:
        ex.check(name, func)
    return err.value.result


def test_a_right_answer_passes_and_check_returns_nothing_to_display(capsys):
    ex = square_set()
    assert ex.check("square", lambda a: a**2) is None
    assert capsys.readouterr().out == "square: passed (2 cases).\n"
    result = ex.evaluate("square", lambda a: a**2)
    assert result.status == "passed" and "passed" in str(result)


def test_a_stub_is_not_attempted():
    def stub(a):
        raise NotImplementedError()

    result = verdict(square_set(), stub)
    assert result.status == "not attempted" and "not attempted" in result.message


def test_an_exception_is_an_error_quoting_the_learners_line():
    def broken(a):
        return a @ a.T + undefined_name  # noqa: F821

    result = verdict(square_set(), broken)
    assert result.status == "error"
    assert "NameError" in result.message and "undefined_name" in result.message
    assert "return a @ a.T + undefined_name" in result.message


def test_a_wrong_value_names_where_and_by_how_much():
    result = verdict(square_set(), lambda a: a * a + np.array([0, 0, 0.5])[: a.shape[-1]] if a.ndim == 1 else a * a)
    assert result.status == "failed"
    assert "result[2]" in result.message and "expected 9" in result.message and "got 9.5" in result.message


def test_a_wrong_shape_fails_even_when_broadcasting_would_hide_it():
    result = verdict(square_set(), lambda a: (a * a).reshape(-1, 1))
    assert "shape (3, 1)" in result.message and "expected shape (3,)" in result.message


def test_nan_in_the_result_is_reported_in_plain_words():
    result = verdict(square_set(), lambda a: np.where(a < 0, np.nan, a * a))
    assert "NaN or infinity" in result.message and "[1]" in result.message


def test_writing_into_the_argument_is_caught():
    def in_place(a):
        a *= a
        return a

    result = verdict(square_set(), in_place)
    assert "changed its input argument 1 in place" in result.message


def test_a_known_mistake_gets_its_hint():
    result = verdict(square_set(), lambda a: a + a)
    assert result.mistake == "doubled" and result.hint == "you doubled instead of squaring."
    assert "Likely mistake: you doubled" in result.message


def test_an_unknown_mistake_gets_no_hint():
    result = verdict(square_set(), lambda a: a * 3)
    assert result.mistake is None and "Likely mistake" not in result.message


def test_hints_come_in_tiers_and_the_last_repeats(capsys):
    ex = square_set()
    assert [ex.hint("square") for _ in range(3)] == [None, None, None]
    assert capsys.readouterr().out.splitlines() == ["Hint 1/2 for 'square': multiply",
                                                    "Hint 2/2 for 'square': a * a", "Hint 2/2 for 'square': a * a"]


def test_test_based_exercise_uses_probe_to_recognise_mistakes():
    ex = ExerciseSet("demo")
    ex.add(Exercise("obj", test=lambda obj: None if obj.value() == 4 else f"value {obj.value()} is not 4",
                    probe=lambda obj: obj.value(),
                    mistakes=[Mistake("three", type("Three", (), {"value": lambda self: 3})(), "off by one")]))
    good = type("Four", (), {"value": lambda self: 4})()
    bad = type("AlsoThree", (), {"value": lambda self: 3})()
    assert ex.evaluate("obj", good).passed
    result = verdict(ex, bad, "obj")
    assert result.mistake == "three" and "value 3 is not 4" in result.message


def test_unknown_exercise_names_the_known_ones():
    with pytest.raises(KeyError) as err:
        square_set().check("cube", lambda a: a)
    assert "square" in str(err.value)


def layer_set():
    from coursekit import nn
    from coursekit.gradcheck import check_layer

    x = np.random.default_rng(0).standard_normal((3, 4))
    ex = ExerciseSet("layers")
    ex.add(Exercise("tanh_layer", test=lambda cls: check_layer(cls(), x).assert_ok(),
                    mistakes=[Mistake("1 - y", type("T", (nn.Tanh,), {"backward": lambda s, d: d * (1 - s.y)}),
                                      "tanh' is 1 - y**2.")]))
    return ex, nn


def test_a_layer_exercise_passes_on_a_right_layer_even_though_its_report_is_an_object():
    ex, nn = layer_set()
    assert ex.evaluate("tanh_layer", nn.Tanh).status == "passed"


def test_a_layer_exercise_fails_with_the_gradient_report():
    ex, nn = layer_set()
    wrong = type("Wrong", (nn.Tanh,), {"backward": lambda s, d: -d * (1 - s.y**2)})
    result = verdict(ex, wrong, "tanh_layer")
    assert result.status == "failed" and "opposite sign" in result.message


def test_a_layer_exercise_recognises_a_registered_wrong_layer():
    ex, nn = layer_set()
    result = verdict(ex, type("Mine", (nn.Tanh,), {"backward": lambda s, d: d * (1 - s.y)}), "tanh_layer")
    assert result.mistake == "1 - y" and "1 - y**2" in result.message


def test_a_mistake_that_raises_the_same_error_is_recognised():
    ex = ExerciseSet("shapes")
    ex.add(Exercise("matvec", cases=[(np.ones((2, 3)), np.ones(3))], expected=lambda W, x: W @ x,
                    mistakes=[Mistake("doubled", lambda W, x: 2 * (W @ x), "no factor 2."),
                              Mistake("transposed", lambda W, x: W.T @ x, "W is (out, in): use W @ x.")]))
    result = verdict(ex, lambda W, x: W.T @ x, "matvec")
    assert result.status == "error" and result.mistake == "transposed"
    assert "W @ x" in result.message and "matmul" in result.message


def test_an_error_no_mistake_shares_gets_no_hint():
    ex = ExerciseSet("shapes")
    ex.add(Exercise("matvec", cases=[(np.ones((2, 3)), np.ones(3))], expected=lambda W, x: W @ x,
                    mistakes=[Mistake("transposed", lambda W, x: W.T @ x, "W is (out, in).")]))
    result = verdict(ex, lambda W, x: W @ x[:2], "matvec")
    assert result.status == "error" and result.mistake is None


def test_a_mistakes_outputs_are_computed_once_and_name_it_every_time():
    calls = []

    def failing(a):
        calls.append("failing")
        raise ValueError("cannot")

    def doubled(a):
        calls.append("doubled")
        return 2 * a

    ex = ExerciseSet("demo")
    ex.add(Exercise("square", cases=[(np.array([1.0, -2.0]),), (np.array([[0.5]]),)], expected=lambda a: a * a,
                    mistakes=[Mistake("fails", failing, "it fails."), Mistake("doubled", doubled, "doubled.")]))
    for _ in range(3):  # a grader sees one wrong submission after another
        result = ex.evaluate("square", lambda a: a + a)
        assert result.status == "failed" and result.mistake == "doubled"
        assert ex.evaluate("square", lambda a: a - 1).mistake is None  # matches neither
    assert calls.count("doubled") == 2 and calls.count("failing") == 1  # once per case; a raise, once and for all


def test_a_probed_mistake_is_probed_once_and_recognised_every_time():
    probed = []

    def probe(f):
        probed.append(f)
        return np.array([f(x) for x in (0.5, 1.5)])

    def halved(x):
        return x / 2

    ex = ExerciseSet("demo")
    ex.add(Exercise("double", test=lambda f: None if f(3.0) == 6.0 else "wrong", probe=probe,
                    mistakes=[Mistake("halved", halved, "halved.")]))
    for _ in range(3):
        assert ex.evaluate("double", lambda x: x / 2).mistake == "halved"
    assert probed.count(halved) == 1


def test_the_lesson_values_computed_ahead_leave_a_wrong_answer_nothing_to_compute():
    calls = []

    def counted(name, variant):
        def run(*args):
            calls.append(name)
            return variant(*args)
        return run

    probe = counted("probe", lambda f: np.array([f(x) for x in (0.5, 1.5)]))
    ex = ExerciseSet("demo")
    ex.add(Exercise("square", cases=[(np.array([1.0, -2.0]),), (np.array([[0.5]]),)], expected=lambda a: a * a,
                    mistakes=[Mistake("doubled", counted("doubled", lambda a: 2 * a), "doubled.")]))
    ex.add(Exercise("double", test=lambda f: None if f(3.0) == 6.0 else "wrong", probe=probe,
                    mistakes=[Mistake("halved", lambda x: x / 2, "halved.")]))
    ex.compute_lesson_values()  # what a batch grader does before it forks its grading processes
    assert calls == ["doubled", "doubled", "probe"]  # each case's output; the probe of the one mistake
    for _ in range(3):
        assert ex.evaluate("square", lambda a: a + a).mistake == "doubled"
        assert ex.evaluate("double", lambda x: x / 2).mistake == "halved"
    assert calls == ["doubled", "doubled", "probe", "probe", "probe", "probe"]  # only the learner's answers probed


@given(values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5),
                         elements=st.floats(-1e6, 1e6, allow_nan=False)),
       h=st.sampled_from([1e-5, 1e-3, 0.1]))
def test_an_argument_moved_and_moved_back_by_a_step_is_off_by_rounding_at_most(values, h):
    moved = values.copy()
    for index in np.ndindex(moved.shape):
        moved[index] += h
        moved[index] -= 2 * h
        moved[index] += h
    assert np.array_equal(moved, values) or rounded_only(values, moved)
    assert not rounded_only(values, values + 1e-9 * (1 + np.abs(values)))  # a real change is not rounding


def test_a_gradient_check_that_restores_x_by_steps_is_told_it_is_off_by_rounding_only():
    # red team Q: told only "argument 2 was changed in place", the learner could not see what was wrong
    from coursekit.lessons.l04_linear_losses import exercises

    def gradient_check(f, x, grad, h=1e-5):
        numerical = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            x[index] += h
            plus = f(x)
            x[index] -= 2 * h
            minus = f(x)
            x[index] += h
            numerical[index] = (plus - minus) / (2 * h)
        scale = np.maximum(np.maximum(np.abs(grad), np.abs(numerical)), np.finfo(float).tiny)
        return numerical, float(np.max(np.abs(grad - numerical) / scale))

    result = exercises.evaluate("gradient_check", gradient_check)
    assert result.status == "failed" and "differs only by rounding: x + h - 2h + h is not always x" in result.message


def test_an_error_during_a_property_check_names_the_mistake_looked_for_not_its_opposite():
    # red team Q: a keyword-only h raised "... while checking that your h is not used", when the check is that it is
    from coursekit.lessons.l01_chain_rule import exercises

    message = exercises.evaluate("central_difference", lambda f, x, *, h=1e-5: (f(x + h) - f(x - h)) / (2 * h)).message
    assert "in the check for this mistake: your h is not used." in message and "checking that" not in message
