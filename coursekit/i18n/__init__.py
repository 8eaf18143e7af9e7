"""The language coursekit speaks to a learner: English, or Japanese for the Japanese edition.

Chosen, first match wins, by ``use(...)`` (a Japanese notebook's first cell calls ``coursekit.use_language("ja")``),
by ``COURSEKIT_LANG``, or by the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); English otherwise. The choice is
held in a context variable, so that a grader can speak each submission's language without changing another's.
"""

from __future__ import annotations

import contextvars
import os

LANGUAGES = ("en", "ja")
DEFAULT = "en"

_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("coursekit_language", default=None)


class UnknownLanguage(ValueError):
    """A language coursekit has no catalogue for."""


def use(language: str) -> None:
    """Speak ``language`` ("en" or "ja") from now on, in this context."""
    _chosen.set(_checked(language))


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
