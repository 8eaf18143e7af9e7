"""Learner feedback for exercise cells: ``exercises.check(name, obj)`` and ``exercises.hint(name)``."""

from coursekit.feedback.exercise import Exercise, ExerciseSet, Mistake, NameRules
from coursekit.feedback.result import STATES, CheckFailed, CheckResult

__all__ = ["STATES", "CheckFailed", "CheckResult", "Exercise", "ExerciseSet", "Mistake", "NameRules"]
