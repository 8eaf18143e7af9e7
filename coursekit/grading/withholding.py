"""Names a lesson withholds from student code, inside the sandbox: the library's own answers to its exercises.

A lesson's exercise set lists them ("module:name", ``ExerciseSet.withhold``); the grader asks a worker to withhold
them before any student cell runs (``protocol.WITHHOLD``). Every coursekit module holding one then raises ImportError
in the lesson's words when it is read, imported or reloaded, except for the course's own tools (COURSE_TOOLS).
"""

from __future__ import annotations

import sys
import types

from coursekit.library import library_object


def withhold(names: list[str], words: str) -> None:
    """Make each of ``names`` ("module:name") unimportable from every coursekit module that holds it (a package
    re-exports what its modules define): ``from coursekit.engine import Value``, ``coursekit.engine.Value``, a
    subclass of it, or the same after ``importlib.reload`` raise ImportError in ``words``; the course's tools
    (COURSE_TOOLS) keep them. Run before any student code; a copy of the library's source in a cell, or code that
    poses as one of the tools, is another matter (see the README's threat model)."""
    for spec in names:
        target = library_object(spec)
        if target is None:
            continue
        module_name, _, name = spec.partition(":")
        _WITHHELD_OBJECTS[id(target)] = (name, words.format(name=f"{module_name}.{name}"), target)
        for module in library_modules():
            if vars(module).get(name) is target:
                _WITHHELD.setdefault(module.__name__, {})[name] = _WITHHELD_OBJECTS[id(target)][1:]
                _apply_withheld(module)
    if _WITHHELD and not any(isinstance(finder, _Rewithholding) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Rewithholding())


# module name -> {withheld name: (the words of its ImportError, the object)}; id of a withheld object -> (its name,
# the words, the object), to find it again in a library module imported later
_WITHHELD: dict[str, dict[str, tuple[str, object]]] = {}
_WITHHELD_OBJECTS: dict[int, tuple[str, str, object]] = {}
_REMEMBERED: dict[str, object] = {}  # see remember_library_modules
# The course's own tools (its figures), which use the library's answers to draw: they keep them, and may reach them.
# Refused them, the learner's copy of a lesson's import line lost every test (red team Q: viz.activations reads
# nn.ACTIVATIONS as it is imported; viz.graphs.from_value orders a graph with engine.topological_order).
COURSE_TOOLS = "coursekit.viz"


def remember_library_modules() -> None:
    """In the server, once it has imported everything and before it forks: note coursekit's modules among those
    imported (see library_modules)."""
    _REMEMBERED["count"] = len(sys.modules)
    _REMEMBERED["modules"] = _scan_library_modules()


def library_modules() -> tuple:
    """coursekit's modules imported so far. A worker that has imported nothing since its server noted them (no student
    code runs before the names are withheld) takes the server's list: a scan of sys.modules would change the
    reference count of every module there, and so copy 400 pages of the server's memory (3 ms a worker)."""
    if _REMEMBERED.get("count") == len(sys.modules):
        return _REMEMBERED["modules"]
    return _scan_library_modules()


def _scan_library_modules() -> tuple:
    return tuple(m for key, m in list(sys.modules.items()) if key.startswith("coursekit") and m is not None)


def _apply_withheld(module) -> None:
    """Refuse ``module``'s withheld names to any code but the course's tools (ImportError in their words), and take
    them out of its ``__all__``; out of the module itself too, unless it is one of the tools, which uses them."""
    refused = _WITHHELD[module.__name__]
    if not module.__name__.startswith(COURSE_TOOLS):
        for name in refused:
            vars(module).pop(name, None)
    exported = vars(module).get("__all__")
    if isinstance(exported, (list, tuple)):  # a star import takes the rest, as it would without the withheld ones
        module.__all__ = [name for name in exported if name not in refused]  # (red team Q: it raised, and lost all)
    if type(module) is types.ModuleType:
        module.__class__ = _WithholdingModule


def _withhold_in_new(module) -> None:
    """A library module imported after the names were withheld: withhold those it holds too."""
    held = {name: value for name, value in list(vars(module).items()) if id(value) in _WITHHELD_OBJECTS
            and _WITHHELD_OBJECTS[id(value)][2] is value}
    if held:
        _WITHHELD.setdefault(module.__name__, {}).update(
            (name, _WITHHELD_OBJECTS[id(value)][1:]) for name, value in held.items())
    if module.__name__ in _WITHHELD:
        _apply_withheld(module)


class _WithholdingModule(types.ModuleType):
    """A library module whose withheld names, read as its attributes (``module.name``, ``from module import name``),
    raise ImportError, but for the course's own tools."""

    def __getattribute__(self, attribute: str):
        refused = _WITHHELD.get(types.ModuleType.__getattribute__(self, "__name__"))
        if refused is not None and attribute in refused:
            words, target = refused[attribute]
            if _asked_by_a_course_tool():
                return target
            raise ImportError(words)
        return types.ModuleType.__getattribute__(self, attribute)


def _asked_by_a_course_tool() -> bool:
    """Whether the code reading a withheld name is one of the course's tools (import machinery passed over)."""
    frame = sys._getframe(2)
    while frame is not None and str(frame.f_globals.get("__name__")).startswith(("importlib", "_frozen_importlib")):
        frame = frame.f_back
    return frame is not None and str(frame.f_globals.get("__name__")).startswith(COURSE_TOOLS)


class _Rewithholding:
    """On sys.meta_path: a library module imported (again, or for the first time) withholds the names it holds."""

    def find_spec(self, fullname, path, target=None):
        import importlib.machinery

        if not fullname.startswith("coursekit"):  # a library module, new or imported again, may hold one
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _RewithholdingLoader(spec.loader)
        return spec


class _RewithholdingLoader:
    """A module's own loader, followed by its withholding."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        _withhold_in_new(module)
