"""Which language coursekit speaks: the one a notebook chose, else COURSEKIT_LANG, else the locale, else English."""

import contextvars

import pytest

import coursekit
from coursekit import i18n


def fresh(function, *args):
    """Run ``function`` in a context of its own (a choice made there does not leak into the next test)."""
    return contextvars.Context().run(function, *args)


@pytest.mark.parametrize(("environment", "expected"), [
    ({}, "en"),
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_ALL": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, "ja"),
    ({"LC_ALL": "fr_FR.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),  # the first locale variable set decides
    ({"COURSEKIT_LANG": "ja", "LANG": "en_US.UTF-8"}, "ja"),
    ({"COURSEKIT_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),
])
def test_the_environment_chooses_when_the_notebook_did_not(monkeypatch, environment, expected):
    for variable in ("COURSEKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert fresh(i18n.current) == expected


def test_a_notebooks_choice_wins_and_stays_in_its_context(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "en")

    def choose_japanese():
        coursekit.use_language("ja_JP")
        return i18n.current()

    assert fresh(choose_japanese) == "ja"
    assert fresh(i18n.current) == "en"


def test_an_unknown_language_is_refused_in_plain_words():
    with pytest.raises(i18n.UnknownLanguage, match="coursekit speaks en and ja, not 'fr'"):
        fresh(i18n.use, "fr")


def test_a_learner_choosing_japanese_gets_its_font_and_the_grader_which_draws_nothing_does_not(monkeypatch):
    from coursekit.i18n import fonts

    prepared = []
    monkeypatch.setattr(fonts, "prepare", lambda language: prepared.append(language) or True)
    fresh(coursekit.use_language, "ja")  # a learner's notebook: its figures must show Japanese labels
    fresh(i18n.use, "ja", False)  # the grader, in its own process and its sandbox: no figure leaves either
    assert prepared == ["ja"]
