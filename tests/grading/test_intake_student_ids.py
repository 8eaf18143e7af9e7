"""Student ids: what a valid one is; refused in plain words when packing, rejected with the reason when grading."""

import io
import json
import zipfile

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from coursekit.cli import main
from coursekit.grading.intake import Rejected, Submission, read_submissions
from coursekit.grading.reasons import escaped_controls, invisible
from coursekit.grading.student_ids import InvalidStudentId, is_valid_student_id, normalize_student_id
from coursekit.grading.submission import NotASubmission, pack
from graded_submissions import ROOT

LESSON = "07_efficiency"
EXERCISES = ROOT / "exercises" / f"{LESSON}.ipynb"
# The ids of the attack, and why each is refused.
HOSTILE = {
    "a/b": "it holds a slash",
    "../../etc/passwd": "it starts with '.'",
    "/home/ada": "it starts with a slash",
    "ada\x00bob": "it holds a NUL character",
    "a" * 10_000: "it has 10,000 characters",
    "": "it is empty",
    ".hidden": "it starts with '.'",
    "-rf": "it starts with '-'",
    "=cmd()": "it starts with '='",
    "ada lovelace": "it holds a space",
    "ada\u202ebob": "it holds an invisible character (U+202E)",
    "a\\b": "it holds a backslash",
    # look-alikes of "ada", each graded as another student and shown as "ada" (a red team's)
    "ada\u034f": "it holds an invisible character (U+034F)",         # a combining grapheme joiner
    "ada\U000e0100": "it holds an invisible character (U+E0100)",    # a variation selector
    "ada\u180b": "it holds an invisible character (U+180B)",
    "ada\u00ad": "it holds an invisible character (U+00AD)",         # a soft hyphen
    "\u3164ada": "it starts with an invisible character (U+1160)",   # a Hangul filler (NFKC's form of it)
    "\u115f\u1160": "it starts with an invisible character (U+115F)",  # a blank id
    "ad\u0430": "it mixes the letters of two scripts (Latin and Cyrillic)",
    "ada\u0640": "it mixes the letters of two scripts (Latin and Arabic)",  # a tatweel, a modifier letter: "ada_"
    "a.\u0301": "it holds a combining mark (U+0301) on no letter",
    "x" + "\u0300\u0301\u0302\u0303\u0304": "it stacks more than 4 combining marks on one letter",
    # the katakana middle dot stands between Japanese letters only: elsewhere it is a dot that is not "."
    "ada・bob": "it holds '・'",
    "・ジョン": "it starts with '・'",
    "ジョン・": "it holds '・'",
    "ジョン・・スミス": "it holds '・'",
    "ジョン・smith": "it holds '・'",
    # whole ids of letters that look like ASCII ones (UTS #39's confusables), in one script or in a mix ids allow
    "\u0430\u0441\u0430": "each of its characters looks like one of 'aca', an id in plain ASCII",  # all Cyrillic
    "\u0391\u0392\u0395": "each of its characters looks like one of 'ABE'",  # all Greek
    "ada\u4e002": "each of its characters looks like one of 'ada-2'",  # a kanji "one"
    "ada\u30fc2": "each of its characters looks like one of 'ada-2'",  # the prolonged sound mark
    "a\u3163ice": "each of its characters looks like one of 'alice'",  # a Hangul vowel
}


@pytest.mark.parametrize("text", ["ada", "Ada.Lovelace", "s1234567", "ada@example.org", "ada+07", "a_b-c",
                                  "José", "太郎", "देवनागरी", "a" * 64,
                                  "山田たろう", "yamadaタロウ", "김철수", "kim김", "ภาษาไทย", "Ελένη", "Иван",
                                  "Kaʻiulani", "カトー", "佐々木", "ジョン・スミス", "一", "一郎", "ロン", "Ирина"])
def test_letters_of_any_script_digits_and_a_little_punctuation_are_valid_ids(text):
    assert normalize_student_id(text) == text and is_valid_student_id(text)


@pytest.mark.parametrize(("text", "problem"), HOSTILE.items())
def test_invalid_ids_are_refused_saying_what_is_wrong(text, problem):
    with pytest.raises(InvalidStudentId) as refused:
        normalize_student_id(text)
    message = str(refused.value)
    assert problem in message and "a student id is 1 to 64 letters" in message
    assert len(message) < 300 and "\x00" not in message  # the id is shown shortened, its controls escaped


def test_ids_are_compared_in_nfkc_form():
    assert normalize_student_id("ａｄａ") == "ada"                 # full-width letters
    assert normalize_student_id("Jose\u0301") == "Jos\u00e9"        # a combining accent, composed
    assert normalize_student_id("ﾏﾘｰ･ｷｭﾘｰ") == "マリー・キュリー"      # half-width katakana and middle dot


@given(st.text(max_size=80))
def test_any_text_is_a_valid_id_whose_normal_form_is_stable_or_is_refused(text):
    try:
        normal = normalize_student_id(text)
    except InvalidStudentId as refused:
        assert "is not a valid student id" in str(refused)
        return
    assert normalize_student_id(normal) == normal and 1 <= len(normal) <= 64
    assert not normal.startswith(".") and not {"/", "\\", "\x00", " "} & set(normal)
    assert not any(invisible(character) for character in normal)  # nothing in it shows as nothing


@pytest.mark.parametrize("hidden", ["\u034f", "\U000e0100", "\u3164", "\u200b", "\x1b"])
def test_what_shows_as_nothing_is_escaped_in_reasons_and_pages(hidden):
    assert escaped_controls(f"ada{hidden}") == "ada" + hidden.encode("unicode_escape").decode("ascii")
    assert escaped_controls("ada\tx", keep="\t") == "ada\tx" and escaped_controls("山田 ada") == "山田 ada"


def test_a_look_alike_of_another_students_id_is_rejected_and_the_student_is_graded(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for student in ("ada", "ada\u034f", "ad\u0430"):
        (inbox / f"{LESSON}--{student}.ipynb").write_bytes(EXERCISES.read_bytes())
    items = sorted(read_submissions(inbox), key=lambda item: item.source)
    assert [type(item) for item in items] == [Submission, Rejected, Rejected]
    assert items[0].student == "ada"
    assert "'ada\\u034f' is not a valid student id: it holds an invisible character (U+034F)" in items[1].reason
    assert "'adа' is not a valid student id: it mixes the letters of two scripts (Latin and Cyrillic)" \
        in items[2].reason


@pytest.mark.parametrize("text", ["a/b", "../x", "a" * 10_000])
def test_pack_refuses_an_invalid_id_and_writes_nothing(tmp_path, text):
    with pytest.raises(NotASubmission, match="is not a valid student id"):
        pack(EXERCISES, text, tmp_path / "outbox")
    assert not (tmp_path / "outbox").exists()


def test_submit_from_the_command_line_refuses_an_invalid_id_in_plain_words(tmp_path):
    result = CliRunner().invoke(main, ["submit", str(EXERCISES), "--student", "../../x", "--outbox", str(tmp_path)])
    assert result.exit_code == 1 and "'../../x' is not a valid student id: it starts with '.'" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_an_id_that_looks_like_terminal_markup_is_refused_in_plain_words(tmp_path):
    result = CliRunner().invoke(main, ["submit", str(EXERCISES), "--student", "[/bold]x", "--outbox", str(tmp_path)])
    assert result.exit_code == 1 and "'[/bold]x' is not a valid student id" in result.output


def submission_file(student) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"lesson": LESSON, "student": student,
                                                      "submitted_at": "2025-01-01T00:00:00Z"}))
        archive.writestr("notebook.ipynb", EXERCISES.read_bytes())
    return buffer.getvalue()


def test_at_grade_time_a_manifest_with_an_invalid_id_is_rejected_with_the_reason_and_the_rest_read(tmp_path):
    for number, text in enumerate(HOSTILE):
        (tmp_path / f"{number:02d}.submission.zip").write_bytes(submission_file(text))
    (tmp_path / "99.submission.zip").write_bytes(submission_file("ada"))
    (tmp_path / "98.submission.zip").write_bytes(submission_file(["not", "text"]))
    items = list(read_submissions(tmp_path))
    assert len(items) == len(HOSTILE) + 2
    *bad, not_text, good = items
    for item, problem in zip(bad, HOSTILE.values(), strict=True):
        assert isinstance(item, Rejected) and "is not a valid student id" in item.reason and problem in item.reason
    assert isinstance(not_text, Rejected) and "the student id is not text" in not_text.reason
    assert isinstance(good, Submission) and good.student == "ada"


def test_at_grade_time_a_file_name_whose_student_part_is_invalid_is_rejected(tmp_path):
    (tmp_path / f"{LESSON}--ada lovelace (1).ipynb").write_bytes(EXERCISES.read_bytes())
    (item,) = read_submissions(tmp_path)
    assert isinstance(item, Rejected)
    assert "'ada lovelace (1)' is not a valid student id: it holds a space" in item.reason
