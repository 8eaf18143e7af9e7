"""Hypothesis profiles. `python3 course.py test` runs the suite with "suite"; a bare `pytest` keeps Hypothesis's own.

Shrinking a failing example runs the test again and again, for up to five minutes (Hypothesis's own limit), and
pytest-timeout stops a test after five minutes by ending its test process: when each example costs a sandbox or a
kernel, the failure is lost with the process, and the run shows only a crashed worker. So the suite reports the
first failing example Hypothesis finds, as found, with a blob that replays it (``@reproduce_failure``); a developer
shrinks it with a bare `pytest` on that test, or `--hypothesis-profile=shrink` when running through course.py.
"""

from hypothesis import Phase, settings

settings.register_profile("suite", phases=tuple(phase for phase in Phase if phase is not Phase.shrink), print_blob=True)
settings.register_profile("shrink", print_blob=True)
