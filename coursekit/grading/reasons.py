"""Helpers for the reasons written about rejected inputs: they quote untrusted text and give sizes in plain words.

A reason is stored in the gradebook and shown to the instructor, so text taken from an input (a
member's name, a student id) is shortened and shown with its control characters escaped.
"""

from __future__ import annotations

from coursekit.grading.limits import MiB


def quoted(text: str, limit: int = 60) -> str:
    """``text`` in quotes, control characters escaped, cut to ``limit`` characters (saying how long it was)."""
    shown = repr(text[:limit])
    if len(text) > limit:
        shown += f"... ({len(text):,} characters)"
    return shown


def escaped_controls(text: str, keep: str = "") -> str:
    """``text`` with its control characters (ANSI and OSC escapes, NUL, a right-to-left override), but those in
    ``keep``, shown as escapes: a terminal or a page shows them, never obeys them."""
    return "".join(c if c.isprintable() or c in keep else c.encode("unicode_escape").decode("ascii") for c in text)


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
