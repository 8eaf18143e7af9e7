"""The fonts figures need to show a language's characters: Japanese text in IPAexGothic.

IPAexGothic ships in matplotlib-fontja (a dependency: offline, no system font needed). Its file is found without
importing ``matplotlib_fontja``, whose import would make it every figure's only font. It is added after the
families already set: Latin letters and digits keep the English figures' font, and matplotlib's per-glyph font
fallback draws each Japanese character with IPAexGothic.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

FAMILIES = {"ja": "IPAexGothic"}  # language -> the family its characters come from
_FILES = {"ja": "ipaexg.ttf"}


def font_file(language: str) -> Path:
    """The font file of ``language``'s family (in matplotlib-fontja's package)."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("figures in Japanese need matplotlib-fontja: pip install matplotlib-fontja")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / _FILES[language]


def prepare(language: str) -> bool:
    """Make ``language``'s family known to matplotlib and add it to the families figures use; True if done.

    Nothing happens for a language whose characters the default font has (English). ``use_language`` calls this
    (a notebook's own figures then show Japanese labels), and so does ``coursekit.viz`` before it draws (the
    language may come from COURSEKIT_LANG or the locale).
    """
    family = FAMILIES.get(language)
    if family is None:
        return False
    import matplotlib
    from matplotlib import font_manager

    if family not in {entry.name for entry in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(font_file(language)))
    families = list(matplotlib.rcParams["font.family"])
    if family not in families:
        matplotlib.rcParams["font.family"] = [*families, family]
    return True


def families(generic: str) -> list[str]:
    """The family list for a text drawn in the ``generic`` family ("monospace", ...): that family, then the current
    language's, so that its characters have glyphs (matplotlib falls back through the families of a list, never
    through the fonts of one generic family)."""
    from coursekit.i18n import current

    language = current()
    return [generic, FAMILIES[language]] if prepare(language) else [generic]


def for_figures() -> None:
    """Before a figure is drawn: the current language's font, when it needs one."""
    from coursekit.i18n import current

    prepare(current())
