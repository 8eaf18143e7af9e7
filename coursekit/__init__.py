"""coursekit: the toolkit behind the backpropagation course.

Roles, one subpackage each:

- ``coursekit.gradcheck``  numerical derivatives and gradient checks that locate the bug
- ``coursekit.feedback``   ``check()``, ``hint()`` and ``progress()`` for exercise cells
- ``coursekit.assignment`` solutions -> exercises, sync checks, re-execution
- ``coursekit.grading``    the autograder: sandbox, proxies, gradebook, submissions
- ``coursekit.viz``        figures and widgets shared by the lessons
- ``coursekit.lessons``    each lesson's exercise set (cases, known mistakes, hints)
- ``coursekit.cli``        the ``coursekit`` command, thin on top of the above
"""

__version__ = "0.1.0"


def submit(notebook: str | None = None, student: str | None = None, outbox: str = "outbox"):
    """Save this exercise notebook, run its visible checks, and write its submission file (see coursekit.grading)."""
    from coursekit.grading.submission import submit as _submit

    return _submit(notebook, student, outbox)
