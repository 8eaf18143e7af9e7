"""Helpers for the reasons written about rejected inputs: they quote untrusted text and give sizes in plain words.

A reason is stored in the gradebook and shown to the instructor, so text taken from an input (a
member's name, a student id) is shortened and shown with its control characters escaped.
"""

from __future__ import annotations

import re
import traceback

from coursekit.grading.limits import MiB


def failure_words(error: BaseException) -> str:
    """What failed, for a reason a learner may read: the exception's type and where in coursekit it was raised, never
    its text (student code may choose an exception's text, and carry a hidden input out in it: red team R)."""
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        parts = _PATH_PARTS.split(frame.filename)
        if "coursekit" in parts:
            where = f" at {parts[-1]}:{frame.lineno}"
    return type(error).__name__ + where


_PATH_PARTS = re.compile(r"[/\\]")


def quoted(text: str, limit: int = 60) -> str:
    """``text`` in quotes, control characters escaped, cut to ``limit`` characters (saying how long it was)."""
    # repr escapes controls, not what shows as nothing
    shown = _DEFAULT_IGNORABLE.sub(lambda match: _escaped(match.group()), repr(text[:limit]))
    if len(text) > limit:
        shown += f"... ({len(text):,} characters)"
    return shown


def escaped_controls(text: str, keep: str = "") -> str:
    """``text`` with its control characters (ANSI and OSC escapes, NUL, a right-to-left override) and the characters
    that show as nothing (``invisible``), but those in ``keep``, shown as escapes: a terminal or a page shows them,
    never obeys them, and no text hides in them."""
    if text.isprintable() and not _DEFAULT_IGNORABLE.search(text):
        return text
    return "".join(c if (c.isprintable() and not _DEFAULT_IGNORABLE.match(c)) or c in keep else _escaped(c)
                   for c in text)


# Unicode's default-ignorable code points (Default_Ignorable_Code_Point in DerivedCoreProperties.txt): drawn as
# nothing, or as a blank (the Hangul fillers), and kept by NFKC. "ada" and "ada" + U+034F look alike; U+3164 looks
# like no text at all. Some are letters or marks by category, so ``str.isprintable`` passes them.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]")


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def invisible(character: str) -> bool:
    """True for a character that shows as nothing: a control or format character, a space, or a default-ignorable
    code point (a variation selector, a combining grapheme joiner, a Hangul filler)."""
    return not character.isprintable() or character.isspace() or bool(_DEFAULT_IGNORABLE.match(character))


def size(count: int) -> str:
    """A byte count as people read it: 712 bytes, 64 kB, 16 MB (binary units, as the caps are set)."""
    if count < 1024:
        return f"{count:,} bytes"
    if count < MiB:
        return f"{count / 1024:,.0f} kB"
    return f"{count / MiB:,.1f} MB".replace(".0 MB", " MB")


def kind(value: object) -> str:
    """The JSON type of ``value`` in words: an object, a list, text, a number, true or false, null."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__
