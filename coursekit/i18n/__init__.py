"""The language coursekit speaks to a learner: English, or Japanese for the Japanese edition.

Chosen, first match wins, by ``use(...)`` (a Japanese notebook's first cell calls ``coursekit.use_language("ja")``),
by ``COURSEKIT_LANG``, or by the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); English otherwise. The choice is
held in a context variable, so that a grader can speak each submission's language without changing another's.

Every learner-facing sentence of coursekit is a ``Message`` made with ``N_("...")`` where it is defined (a
``messages`` module, a lesson's exercise set, a figure). Its English text is the msgid of the gettext domain
``coursekit``; it is translated when it is used, in the language current at that moment: ``str(message)``,
``message.format(...)``, ``f"{message}"`` and ``message + text`` all give the translation. The catalogues are
``locale/<language>/LC_MESSAGES/coursekit.po`` (compiled to ``.mo`` beside it), read with the standard library's
``gettext``; the README's maintainer part says how to extract, translate and compile them (Babel).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import os
from pathlib import Path

LANGUAGES = ("en", "ja")
DEFAULT = "en"
DOMAIN = "coursekit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("coursekit_language", default=None)


class UnknownLanguage(ValueError):
    """A language coursekit has no catalogue for."""


def use(language: str, figures: bool = True) -> None:
    """Speak ``language`` ("en" or "ja") from now on, in this context; with ``figures``, the figures drawn from now
    on can show its characters (matplotlib is imported for that: the grader, which shows no figure, says False)."""
    code = _checked(language)
    _chosen.set(code)
    if code != DEFAULT and figures:
        from coursekit.i18n import fonts

        fonts.prepare(code)


@contextlib.contextmanager
def speaking(language: str):
    """Within the block, speak ``language`` (then what was chosen before, in this context)."""
    token = _chosen.set(_checked(language))
    try:
        yield
    finally:
        _chosen.reset(token)


def current() -> str:
    """The language in use: the one chosen with ``use``, else ``COURSEKIT_LANG``, else the locale's, else English."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    for variable in ("COURSEKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        code = value.split(".")[0].split("_")[0].lower()
        if code in LANGUAGES:
            return code
        if value and variable != "COURSEKIT_LANG":
            break  # the first locale variable that is set decides, as POSIX says
    return DEFAULT


def _checked(language: str) -> str:
    code = str(language).split("_")[0].split("-")[0].lower()
    if code not in LANGUAGES:
        raise UnknownLanguage(f"coursekit speaks {' and '.join(LANGUAGES)}, not {language!r}")
    return code


# ---------------------------------------------------------------- the catalogues
@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language`` (read once per process); English is the msgids themselves."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    # fallback: a package installed without its catalogues speaks English rather than failing (tests/i18n checks
    # that the catalogue is there and complete)
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language], fallback=True)


def translate(msgid: str, language: str | None = None) -> str:
    """``msgid`` in ``language`` (default: the current one); the English text where the catalogue lacks it."""
    return catalogue(language or current()).gettext(msgid)


class Message:
    """A learner-facing sentence: its English text (the msgid), translated each time it is used.

    Not a ``str``, so that no string operation can quietly use the English text: ``str()``, ``format``,
    f-strings and ``+`` translate into the current language; ``msgid`` is the language-independent key (a
    registered mistake's name is stored in the gradebook by it).
    """

    __slots__ = ("msgid",)

    def __init__(self, msgid: str):
        self.msgid = msgid

    def __str__(self) -> str:
        return translate(self.msgid)

    def format(self, *args, **kwargs) -> str:
        return str(self).format(*args, **kwargs)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __add__(self, other) -> str:
        return str(self) + str(other)

    def __radd__(self, other) -> str:
        return str(other) + str(self)

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and other.msgid == self.msgid

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __repr__(self) -> str:
        return f"N_({self.msgid!r})"

    def __reduce__(self):  # pickled (a lesson reaching the grader's sandbox) as its msgid: translated over there
        return (Message, (self.msgid,))

    def bind(self, **values) -> Bound:
        """This message with its placeholders' values, formatted when used (in the language of that moment)."""
        return Bound(self, values)


class Bound(Message):
    """A Message and the values of its placeholders, made once (at import, say) and formatted each time it is
    used; values that are Messages are translated too."""

    __slots__ = ("values",)

    def __init__(self, message: Message, values: dict):
        super().__init__(message.msgid)
        self.values = values

    def __str__(self) -> str:
        return translate(self.msgid).format(**{name: str(value) if isinstance(value, Message) else value
                                               for name, value in self.values.items()})

    def __eq__(self, other) -> bool:
        return isinstance(other, Bound) and (other.msgid, other.values) == (self.msgid, self.values)

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __repr__(self) -> str:
        return f"N_({self.msgid!r}).bind(**{self.values!r})"

    def __reduce__(self):
        return (Bound, (Message(self.msgid), self.values))


def N_(msgid: str) -> Message:
    """Mark ``msgid`` (English) as a message of the catalogue; it is translated when used (see ``Message``)."""
    return Message(msgid)


def key(value) -> str:
    """The language-independent key of ``value``: a Message's msgid, else ``str(value)``."""
    return value.msgid if isinstance(value, Message) else str(value)
