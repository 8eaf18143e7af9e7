"""coursekit: the toolkit behind the backpropagation course.

Roles, one subpackage each:

- ``coursekit.gradcheck``  numerical derivatives and gradient checks that locate the bug
- ``coursekit.feedback``   ``check()``, ``hint()`` and ``progress()`` for exercise cells
- ``coursekit.assignment`` solutions -> exercises, sync checks, re-execution
- ``coursekit.grading``    the autograder: sandbox, proxies, gradebook, submissions
- ``coursekit.viz``        figures and widgets shared by the lessons
- ``coursekit.i18n``       the language it speaks to a learner (English, Japanese)
- ``coursekit.lessons``    each lesson's exercise set (cases, known mistakes, hints)
- ``coursekit.cli``        the ``coursekit`` command, thin on top of the above
"""

__version__ = "0.1.0"


def submit(notebook: str | None = None, student: str | None = None, outbox: str = "outbox") -> None:
    """Save this exercise notebook (in JupyterLab, as you see it), run its visible checks, and write its submission
    file; asks for your student id the first time. See coursekit.grading.learner_submit."""
    from coursekit.grading.learner_submit import submit as _submit

    _submit(notebook, student, outbox)


def use_language(language: str) -> None:
    """Speak ``language`` ("en" or "ja") in this notebook: checks, hints, reports and figure labels."""
    from coursekit.i18n import use

    use(language)


def login(url: str) -> None:
    """Sign in to your class's course server at ``url``, once: in a notebook a small form asks for the token your
    course gave you (elsewhere it is asked for here); coursekit.submit() then sends your notebooks there and shows
    their grade. See coursekit.grading.course_server."""
    from coursekit.grading.course_server import login as _login

    _login(url)
