"""The IPython shell student cells run in, inside the sandbox, and the stand-ins the sandbox's library holds.

Both are made once, in the warm server before any fork (``forkserver.warm_up``), and inherited by every worker: the
shell, headless, with ``%timeit`` run once; the lessons' oracles, ``coursekit.submit`` and a figure's fonts replaced by
inert stand-ins.
"""

from __future__ import annotations

import sys
import types


class _NoExercises:
    """Stands in for a lesson's exercise set inside the sandbox: checks run in the grader, not here."""

    def check(self, *args, **kwargs):
        return None

    def hint(self, *args, **kwargs):
        return None

    def progress(self, *args, **kwargs):
        return None


def _stub_attribute(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return _NoExercises()


def _stub_lessons() -> None:
    """``coursekit.lessons.*`` (the oracles) is replaced by modules with an inert ``exercises``."""
    for name in [name for name in sys.modules if name.startswith("coursekit.lessons")]:
        del sys.modules[name]

    class Finder:
        @staticmethod
        def find_spec(fullname, path=None, target=None):
            if fullname == "coursekit.lessons" or fullname.startswith("coursekit.lessons."):
                import importlib.machinery
                return importlib.machinery.ModuleSpec(fullname, Loader(), is_package=True)
            return None

    class Loader:
        @staticmethod
        def create_module(spec):
            module = types.ModuleType(spec.name)
            module.exercises = _NoExercises()
            module.__path__ = []
            module.__getattr__ = _stub_attribute
            return module

        @staticmethod
        def exec_module(module):
            return None

    sys.meta_path.insert(0, Finder())


def _stub_submit() -> None:
    """``coursekit.submit()`` does nothing in the sandbox: a notebook being graded has been submitted already, and
    its submit cell (the README puts one last) must not count as a cell that failed."""
    import coursekit

    def submit(*args, **kwargs) -> None:
        return None

    coursekit.submit = submit


def _stub_fonts() -> None:
    """A figure's fonts are not prepared in the sandbox, where no figure leaves it: not by its server, and not by a
    Japanese submission's ``coursekit.use_language("ja")`` in its first cell (preparing the Japanese font reads and
    registers a font file, in a cell that has 0.1 s)."""
    from coursekit.i18n import fonts

    def prepare(language: str) -> bool:
        return False

    fonts.prepare = prepare


def install_stubs() -> None:
    """The sandbox's stand-ins (in its server, before any fork): the lessons' oracles, ``coursekit.submit``, a
    figure's fonts."""
    _stub_lessons()
    _stub_submit()
    _stub_fonts()


def new_shell():
    """The InteractiveShell student cells run in (created once in the warm server, inherited by each fork)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        return InteractiveShell.instance()
    config = Config()
    config.HistoryManager.enabled = False  # no sqlite file, no history thread
    shell = InteractiveShell.instance(config=config)
    shell.colors = "nocolor"
    _time_once(shell)
    _headless(shell)
    return shell


def _headless(shell) -> None:
    """What a notebook's kernel does for the screen, done for none: a value is shown as text only; ``%matplotlib
    inline`` (or any backend) changes nothing, since figures are drawn with Agg and never shown (this shell has no
    GUI: the magic raised NotImplementedError, which reads as an exercise not attempted, after 0.15 s of imports
    that ran the cell past its limit and lost its assignments: red team Q); a GUI asked for otherwise (``%pylab``)
    is none; and IPython's formatted traceback of a failing magic cell is never made (the grader reads the exception
    itself), so a worker's first one costs no 80 ms of imports."""
    shell.enable_gui = lambda gui=None: None
    # A cell's displayed value as text only: its PNG, LaTeX or HTML would be made for no one (a SymPy expression
    # after sp.init_printing(), typeset through matplotlib: 0.15 s, past a cell's limit: red team Q; a figure: more)
    shell.display_formatter.active_types = ["text/plain"]
    shell.showtraceback = lambda *args, **kwargs: None
    shell.showsyntaxerror = lambda *args, **kwargs: None
    shell.register_magic_function(lambda line="": None, magic_kind="line", magic_name="matplotlib")


def _time_once(shell) -> None:
    """Make ``%timeit`` and ``%%timeit`` run their statement once (one loop, one repeat), whatever counts they ask
    for: the grader measures nothing, and IPython's default (loops until 0.2 s, seven times over) is far past a
    cell's CPU limit: an honest timing cell would lose what it defines."""
    from IPython.core.magic import needs_local_scope, no_var_expand

    try:  # the registry loads its magics when indexed (its get() finds none yet)
        execution = shell.magics_manager.registry["ExecutionMagics"]
    except KeyError:
        return
    timed = getattr(execution, "timeit", None)
    if timed is None:  # an IPython without it: %timeit then fails in the student's cell, as it would at home
        return

    @no_var_expand
    @needs_local_scope
    def timeit(line="", cell=None, local_ns=None):
        options, statement = execution.parse_options(line, "n:r:tcp:qov:", posix=False, strict=False,
                                                     preserve_non_opts=True)
        kept = [f"-{flag}" for flag in "tcqo" if flag in options]
        kept += [f"-{flag} {options[flag]}" for flag in "pv" if flag in options]
        return timed(" ".join(["-n1 -r1", *kept, statement]), cell, local_ns)

    shell.register_magic_function(timeit, magic_kind="line_cell", magic_name="timeit")
