"""coursekit's own objects, named as ``"module:name"``: how an exercise set names the library's answers it withholds.

A module of its own, importing nothing of coursekit, because the sandbox worker needs it too: there it costs
nothing to import, where ``coursekit.feedback`` would cost every worker 15 ms on a lesson whose server had not
loaded it.
"""

from __future__ import annotations

import importlib


def library_object(spec: str):
    """The object of coursekit's library that ``spec`` ("module:name", see ``ExerciseSet.withhold``) names; None when
    there is none."""
    module_name, _, name = spec.partition(":")
    if not module_name.startswith("coursekit."):
        return None
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None
