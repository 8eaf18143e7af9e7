"""Every registered mistake of every lesson's exercise set is rejected with its own hint."""

import importlib
import pkgutil

import pytest
import sympy as sp

import coursekit.lessons


def registered_mistakes():
    for module in pkgutil.iter_modules(coursekit.lessons.__path__):
        exercises = importlib.import_module(f"coursekit.lessons.{module.name}").exercises
        for name in exercises.names():
            for mistake in exercises[name].mistakes:
                yield pytest.param(exercises, name, mistake, id=f"{module.name}:{name}:{mistake.name}")


@pytest.mark.parametrize(("exercises", "name", "mistake"), list(registered_mistakes()))
def test_mistake_is_rejected_with_its_hint(exercises, name, mistake):
    result = exercises.evaluate(name, mistake.variant)
    assert result.status in ("failed", "error")  # a shape mistake may raise, and is recognised by its error
    assert result.hint == str(mistake.hint), f"matched {result.mistake!r} instead"


def test_every_exercise_registers_at_least_two_mistakes_and_hints():
    for module in pkgutil.iter_modules(coursekit.lessons.__path__):
        exercises = importlib.import_module(f"coursekit.lessons.{module.name}").exercises
        for name in exercises.names():
            assert len(exercises[name].mistakes) >= 2, f"{module.name}: {name}"
            assert exercises[name].hints, f"{module.name}: {name} has no hints"


def test_a_wrong_hand_derivative_is_shown_by_values_without_giving_the_answer_away():
    from coursekit.lessons.l01_chain_rule import exercises

    result = exercises.evaluate("hand_derivative", lambda v: v * sp.cos(v**2))
    assert result.status == "failed"
    assert "at x = 0.7" in result.message and "2*x**2*cos(x**2)" not in result.message


@pytest.mark.parametrize(("lesson", "exercise", "library"), [
    ("l02_computation_graphs", "value_add_mul", "coursekit.engine:Value"),
    ("l03_activations", "Sigmoid", "coursekit.nn:Sigmoid"),
    ("l04_linear_losses", "mse_loss", "coursekit.nn:mse_loss"),
    ("l06_training", "train", "coursekit.training:fit"),
])
def test_checking_coursekits_own_answer_says_the_grader_gives_it_no_points(lesson, exercise, library):
    import importlib

    module, _, name = library.partition(":")
    exercises = importlib.import_module(f"coursekit.lessons.{lesson}").exercises
    assert library in exercises.withheld
    result = exercises.evaluate(exercise, getattr(importlib.import_module(module), name))
    assert result.status == "failed" and f"this is {module}.{name}" in result.message
    assert "the grader gives it no points" in result.message


def test_a_class_built_on_a_withheld_library_answer_fails_here_as_the_grader_would_fail_it():
    # red team Q: an MLP built on nn.Sequential passed check() and scored 0 in the grader, whose sandbox refuses the
    # import of the library's own answer to the exercise
    from coursekit import nn
    from coursekit.lessons.l05_delta_recursion import exercises

    class MLP(nn.Sequential):
        def __init__(self, sizes, activation, rng):
            kind = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
            layers = []
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                layers.append(nn.Linear(n_in, n_out, rng))
                if index < len(sizes) - 2:
                    layers.append(kind())
            super().__init__(layers)

    result = exercises.evaluate("MLP", MLP)
    assert result.status == "failed"
    assert "it builds on coursekit.nn.Sequential, coursekit's own answer to the exercise" in result.message
