"""Figures and widgets shared by the lessons; their labels come from coursekit's catalogue, in the current language.

Importing it prepares the font the language needs (Japanese: IPAexGothic, see coursekit.i18n.fonts).
"""

from coursekit.i18n import fonts

fonts.for_figures()
