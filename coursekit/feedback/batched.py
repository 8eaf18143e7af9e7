"""Calls to a learner's function in one round trip, where the grader's sandbox offers it.

In the grader a learner's function is a proxy whose class has ``_coursekit_many``: a list of calls goes to the
sandbox in one message, and each call's changes to its arguments come back as a single call's would. Elsewhere (a
learner's own kernel) there is nothing to save, and the callers call one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def in_one_trip(func: Callable, calls: Sequence[tuple]) -> list | None:
    """``[func(*args) for args in calls]`` in one round trip when ``func`` offers it; None when it does not, or when a
    call raised (the caller then runs them one by one, so that the failing call is found and reported alone)."""
    many = getattr(type(func), "_coursekit_many", None)
    if many is None:
        return None
    try:
        return list(many(func, list(calls)))
    except Exception:  # noqa: BLE001 -- found again by the caller, one call at a time
        return None
