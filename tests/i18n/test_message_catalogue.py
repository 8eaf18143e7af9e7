"""The message catalogue: every learner-facing message of coursekit has a Japanese translation with the same
placeholders, the compiled catalogue is that of the .po file, and the lessons' words are catalogue messages."""

import gettext
import importlib
import pickle
import string
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from coursekit import i18n
from coursekit.feedback import messages as feedback_messages
from coursekit.gradcheck import messages as gradcheck_messages
from coursekit.grading import messages as grading_messages
from coursekit.server import messages as server_messages

ROOT = Path(__file__).resolve().parents[2]
PO = i18n.LOCALE_DIR / "ja" / "LC_MESSAGES" / "coursekit.po"
MO = PO.with_suffix(".mo")


def extracted() -> set[str]:
    """The msgids of coursekit's source, found as babel.cfg and the README's extraction command find them."""
    found = extract_from_dir(str(ROOT), method_map=[("coursekit/**.py", "python")], keywords={"N_": None})
    return {message for _, _, message, _, _ in found}


def japanese() -> dict[str, tuple[str, bool]]:
    """msgid -> (translation, fuzzy) of the Japanese .po file."""
    with PO.open("rb") as file:
        return {m.id: (m.string, m.fuzzy) for m in read_po(file) if m.id}


def placeholders(text: str) -> Counter:
    """The replacement fields of a format string, with their conversions and format specs."""
    return Counter((name, conversion, spec) for _, name, spec, conversion in string.Formatter().parse(text)
                   if name is not None)


def test_every_message_has_a_japanese_translation_with_the_same_placeholders():
    catalogue, problems = japanese(), []
    for msgid in sorted(extracted()):
        translation, fuzzy = catalogue.get(msgid, ("", False))
        if not translation or fuzzy:
            problems.append(f"no Japanese translation: {msgid!r}")
        elif placeholders(translation) != placeholders(msgid):
            problems.append(f"placeholders differ: {msgid!r} -> {translation!r}")
    assert not problems, "\n".join(problems)


def test_the_catalogue_holds_no_message_the_source_has_lost():
    assert not set(japanese()) - extracted(), "run the README's extraction and update commands"


def test_the_compiled_catalogue_is_the_po_file():
    """The .mo shipped with the package is the .po compiled (pybabel compile, see the README)."""
    with MO.open("rb") as file:
        compiled = {key: value for key, value in gettext.GNUTranslations(file)._catalog.items() if key}
    written = {msgid: translation for msgid, (translation, fuzzy) in japanese().items() if translation and not fuzzy}
    assert compiled == written, "the .mo is stale: pybabel compile -D coursekit -d coursekit/i18n/locale"


def _lesson_words(exercises):
    """Every text a lesson's exercise set shows a learner: its title, hints, mistakes, diagnoses."""
    yield "title", exercises.title
    for name in exercises.names():
        exercise = exercises[name]
        yield from ((f"{name}: hint", hint) for hint in exercise.hints)
        for mistake in exercise.mistakes:
            yield f"{name}: mistake name", mistake.name
            yield f"{name}: mistake hint", mistake.hint
        diagnosis = exercise.diagnosis
        yield from ((f"{name}: point", words) for words in diagnosis.points)
        yield from ((f"{name}: sibling", words) for words in diagnosis.siblings)
        yield from ((f"{name}: part", words) for words in diagnosis.parts)
        yield from ((f"{name}: factor", words) for words in diagnosis.factors.values())
        yield from ((f"{name}: property", prop.words) for prop in exercise.properties)


LESSONS = sorted(path.stem for path in (ROOT / "coursekit" / "lessons").glob("l0*.py"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lessons_words_are_catalogue_messages(lesson):
    exercises = importlib.import_module(f"coursekit.lessons.{lesson}").exercises
    plain = [f"{where}: {words!r}" for where, words in _lesson_words(exercises) if not isinstance(words, i18n.Message)]
    assert not plain, "wrap these in N_(...):\n" + "\n".join(plain)


@pytest.mark.parametrize("module", [feedback_messages, gradcheck_messages, grading_messages, server_messages])
def test_a_messages_module_holds_catalogue_messages_only(module):
    def plain(value) -> bool:
        if isinstance(value, (tuple, list)):
            return any(map(plain, value))
        if isinstance(value, dict):
            return any(map(plain, value.values()))
        return not isinstance(value, i18n.Message)

    assert not [name for name, value in vars(module).items() if name.isupper() and not callable(value) and plain(value)]


def test_a_message_is_translated_when_used_in_the_language_of_that_moment():
    message = feedback_messages.PASSED
    with i18n.speaking("en"):
        assert message.format(name="f", cases=3) == "f: passed (3 cases)."
        assert f"{feedback_messages.STATE_NAMES['failed']}" == "failed"
    with i18n.speaking("ja"):
        assert message.format(name="f", cases=3) == "f: 合格 (3 ケース)。"
        assert str(feedback_messages.STATE_NAMES["failed"]) == "不合格"
        assert "x " + grading_messages.PASSED == "x 合格"
    # a lesson pickled for the sandbox keeps its msgids
    assert pickle.loads(pickle.dumps(message)) == message  # noqa: S301 -- our own bytes


def test_a_check_speaks_japanese_and_names_its_mistake_in_english_for_the_gradebook():
    from coursekit.lessons.l03_activations import exercises

    with i18n.speaking("ja"):
        result = exercises.evaluate("sigmoid_grad", lambda x: x * (1 - x))
    assert result.status == "failed" and result.mistake == "x(1-x)"  # the key the dashboard counts, in any language
    assert "不合格" in result.message and "よくある間違い" in result.message and "Likely" not in result.message
    assert result.hint.startswith("y(1 - y) が成り立つのは")
