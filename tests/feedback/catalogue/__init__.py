"""A catalogue of wrong and of correct implementations of every exercise, written for this test independently of
the course's registered mistakes: check() must reject every wrong one (naming the mistake as often as measured) and
accept every correct one, written in the styles of other courses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One implementation of ``exercise`` of lesson module ``lesson``.

    ``wrong`` entries carry either ``registered``, the name of the course's Mistake they commit, or ``names``:
    words of which one must appear in the verdict for it to name the mistake (empty: nothing names it yet).
    """

    lesson: str
    exercise: str
    label: str
    obj: object
    wrong: bool = True
    registered: str | None = None
    names: tuple[str, ...] = ()


def wrong(lesson, exercise, label, obj, *, registered=None, names=()):
    return Entry(lesson, exercise, label, obj, True, registered, tuple(names))


def correct(lesson, exercise, label, obj):
    return Entry(lesson, exercise, label, obj, wrong=False)
