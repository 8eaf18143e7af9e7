"""Which language the course server answers in (``coursekit.server.language``), and what `coursekit roster` prints
in a Japanese terminal: pure functions and an in-process command, no server."""

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from coursekit.server import language


@pytest.mark.parametrize(("header", "chosen"), [
    ("ja", "ja"), ("ja-JP,ja;q=0.9,en;q=0.8", "ja"), ("en-US,en;q=0.9,ja;q=0.8", "en"),
    ("fr-FR,ja;q=0.5,en;q=0.4", "ja"),  # the first that coursekit speaks
    ("en;q=0.5,ja;q=0.9", "ja"),  # by quality, not order
    ("ja;q=0,en", "en"),  # q=0: not acceptable
    ("de,fr", None), ("*", None), ("", None), (None, None), ("ja;q=nan,en;q=x", None),
])
def test_accept_language_chooses_the_preferred_language_coursekit_speaks(header, chosen):
    assert language.from_accept_language(header) == chosen


@given(st.text(max_size=300))
def test_any_accept_language_header_gives_a_known_language_or_none_and_never_an_error(header):
    assert language.from_accept_language(header) in (None, "en", "ja")


def test_the_switchs_cookie_wins_over_accept_language_and_an_unknown_one_is_ignored():
    assert language.of_request({b"cookie": b"coursekit_lang=ja", b"accept-language": b"en"}) == "ja"
    assert language.of_request({b"cookie": b"coursekit_lang=xx", b"accept-language": b"ja"}) == "ja"
    assert language.of_request({}) == "en"


@pytest.mark.parametrize(("target", "back_to"), [
    ("/me", "/me"), ("/instructor/mistakes?lesson=07", "/instructor/mistakes?lesson=07"), (None, "/"),
    ("//evil.example/", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("/me\r\nSet-Cookie: x", "/"),
])
def test_the_switch_goes_back_only_to_a_page_of_this_site(target, back_to):
    assert language.local_path(target) == back_to


def test_coursekit_roster_prints_in_the_terminals_language(tmp_path, monkeypatch):
    from coursekit.cli import main

    monkeypatch.setenv("COURSEKIT_LANG", "ja")
    gradebook = str(tmp_path / "gradebook.sqlite")
    token = CliRunner().invoke(main, ["roster", "instructor", "--gradebook", gradebook])
    assert token.exit_code == 0 and token.output.startswith("講師のトークン: ")
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nada,Ada,a@example.org\nada,Ada again,b@example.org\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["roster", "import", str(roster), "--gradebook", gradebook,
                                        "--tokens", str(tmp_path / "tokens.csv")])
    assert refused.exit_code == 1
    assert "3 行目: ID 'ada' は、すでに 2 行目にあります (何もインポートしていません)" in refused.output
