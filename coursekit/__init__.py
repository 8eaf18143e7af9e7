"""coursekit: the toolkit behind the backpropagation course.

Roles, one subpackage each:

- ``coursekit.gradcheck``  numerical derivatives and gradient checks that locate the bug
- ``coursekit.feedback``   ``check()`` and ``hint()`` for exercise cells
- ``coursekit.assignment`` solutions -> exercises, sync checks, re-execution
- ``coursekit.viz``        figures and widgets shared by the lessons
- ``coursekit.lessons``    each lesson's exercise set (cases, known mistakes, hints)
- ``coursekit.cli``        the ``coursekit`` command, thin on top of the above
"""

__version__ = "0.1.0"
