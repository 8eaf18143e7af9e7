"""The catalogue's own copies of coursekit's layers, losses and training loop (``nn``, ``training``).

Through the grader, an entry reaches the sandbox as a pickle of this package's code, made by value, while what it
takes from coursekit goes by reference: the library's answer to a lesson (its Sigmoid for lesson 03, its fit for
lesson 06) is withheld there (``ExerciseSet.withhold``). Built on these copies, an entry is what a learner who
wrote that code in a cell would hand in. The copies are made from coursekit's own source, so they never drift.
"""

import inspect
import sys
import types

import coursekit.nn
import coursekit.training


def _copy(original: types.ModuleType, name: str, **replacing) -> types.ModuleType:
    """A module ``name`` of this package running ``original``'s source, with ``replacing``'s names rebound after."""
    module = types.ModuleType(f"{__name__}.{name}", original.__doc__)
    module.__file__ = original.__file__
    sys.modules[module.__name__] = module
    exec(compile(inspect.getsource(original), original.__file__, "exec"), vars(module))  # noqa: S102 -- our own
    vars(module).update(replacing)
    return module


nn = _copy(coursekit.nn, "nn")
training = _copy(coursekit.training, "training", nn=nn)
