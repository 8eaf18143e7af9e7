"""Figures in Japanese: labels from the catalogue, drawn in IPAexGothic (matplotlib-fontja, offline), no tofu."""

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import font_manager

from coursekit import i18n
from coursekit.i18n import fonts

LABEL = "勾配の大きさ (誤差逆伝播法)"


@pytest.fixture()
def japanese_figures():
    """Japanese for the test, and matplotlib's settings as they were afterwards."""
    with matplotlib.rc_context(), i18n.speaking("ja"):
        fonts.for_figures()
        yield


def test_a_japanese_label_is_drawn_with_the_japanese_font_and_no_missing_glyph(japanese_figures):
    figure, ax = plt.subplots()
    label = ax.set_xlabel(LABEL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for a tofu box
        figure.canvas.draw()
    # The fonts matplotlib falls back through for this text, in order: each character is drawn by the first that
    # has a glyph for it (glyph 0 is the .notdef box, the "tofu").
    families = label.get_fontproperties().get_family()
    chain = [font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=[family]),
                                                         fallback_to_default=False)) for family in families]
    drawn_by = {char: next(font.fname for font in chain if font.get_char_index(ord(char))) for char in LABEL}
    japanese = str(fonts.font_file("ja"))
    assert {drawn_by[char] for char in LABEL if not char.isascii()} == {japanese}, drawn_by
    assert drawn_by["("] != japanese  # Latin text keeps the English figures' font
    plt.close(figure)


def test_figure_labels_come_from_the_catalogue_in_the_current_language(japanese_figures):
    from coursekit.viz import numerical_error

    figure = numerical_error.plot_step_error(numerical_error.step_error_curve(np.sin, np.cos, 1.0))
    axis = figure.axes[0]
    assert axis.get_xlabel() == "刻み幅 h" and axis.get_ylabel() == "絶対誤差"
    assert [text.get_text() for text in axis.get_legend().get_texts()][:2] == ["前方差分", "中心差分"]
    plt.close(figure)
    with i18n.speaking("en"):
        figure = numerical_error.plot_step_error(numerical_error.step_error_curve(np.sin, np.cos, 1.0))
        assert figure.axes[0].get_xlabel() == "step h"
        plt.close(figure)


@pytest.mark.parametrize("family", ["sans-serif", "serif", "monospace"])
def test_a_japanese_text_in_a_generic_family_has_every_glyph(japanese_figures, family):
    """A graph's node labels are drawn in a monospace font: Japanese in them must not be tofu either."""
    figure, ax = plt.subplots()
    ax.text(0.5, 0.5, "値 0.25 勾配", family=fonts.families(family))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)"
        figure.canvas.draw()
    plt.close(figure)
