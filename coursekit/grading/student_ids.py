"""What a valid student id is, checked where a submission is packed and again where it is graded.

A valid id is 1 to 64 characters: letters (any script) and digits, and ``. _ - @ +``, starting with
a letter or a digit; up to four combining marks may follow a letter (as in Hindi or Thai), and the
katakana middle dot may stand between two Japanese letters (ジョン・スミス). Ids are
compared in Unicode's NFKC form, so ``ａｄａ`` (full width) and ``ada`` are one id. Such an id holds no
path separator, no ``..`` at its start, no control character, no space and no quote, and cannot be
read as a command-line option or a spreadsheet formula. Nor can it look like another id: it holds
nothing that shows as nothing (a variation selector, a combining grapheme joiner, a Hangul filler),
and its letters are of one script, or of those that one language writes together (Latin with
Japanese's kana and kanji, with Korean's hangul and hanja, with Chinese's bopomofo): ``adа``, whose
last letter is Cyrillic, is refused, and so is an id that another script's letters make look like an
ASCII one (``аса``, all Cyrillic, is ``aca`` to the eye).
"""

from __future__ import annotations

import unicodedata

from coursekit.grading.notebook_json import NotASubmission
from coursekit.grading.reasons import invisible, quoted
from coursekit.i18n import N_

MAX_LENGTH = 64
PUNCTUATION = "._-@+"
RULE = N_("a student id is 1 to {length} letters, digits and {punctuation}, starting with a letter or a digit").bind(
    length=MAX_LENGTH, punctuation=" ".join(PUNCTUATION))
_WORD = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd"}   # letters and decimal digits, in any script
# letters, modifier ones too (Arabic's tatweel made "ada" + U+0640 pass for "ada_"): those whose script is checked
_LETTERS = _WORD - {"Nd"}
_MARKS = {"Mn", "Mc"}                          # combining marks, which some scripts need after a letter
MAX_MARKS = 4                                  # on one letter: Hindi and Thai need two or three; "Zalgo" text, dozens
# Scripts that one language writes together (UTS #39's "highly restrictive" sets), by the first word of a letter's
# Unicode name: Japanese, Korean, Chinese, each with Latin.
_WRITTEN_TOGETHER = ({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}, {"LATIN", "CJK", "HANGUL"}, {"LATIN", "CJK", "BOPOMOFO"})
# The katakana middle dot, which separates the parts of a foreign name written in katakana (ジョン・スミス): allowed
# between two letters of Japanese's scripts, where it can stand for nothing else (as IDNA allows it).
NAKAGURO = "\u30fb"
_JAPANESE = {"HIRAGANA", "KATAKANA", "CJK"}
_NAMES = {"/": N_("a slash"), "\\": N_("a backslash"), "\x00": N_("a NUL character"), " ": N_("a space"),
          ":": N_("a colon")}
NOT_TEXT = N_("the student id is not text: {rule}")
NOT_VALID = N_("{text} is not a valid student id: {problem} ({rule})")
EMPTY = N_("it is empty")
TOO_LONG = N_("it has {count:,} characters")
STARTS_WITH = N_("it starts with {character}")
HOLDS = N_("it holds {character}")
INVISIBLE = N_("an invisible character (U+{code:04X})")
NOT_UTF8 = N_("its bytes are not UTF-8 (a byte 0x{byte:02X}): rename the file or folder, or unpack the export with the "
              "encoding it was made in")
LONE_MARK = N_("a combining mark (U+{code:04X}) on no letter")
MARKS = N_("it stacks more than {count} combining marks on one letter")
DISGUISED = N_("each of its characters looks like one of {skeleton}, an id in plain ASCII, as a look-alike of that id "
               "would")
MIXED_SCRIPTS = N_("it mixes the letters of two scripts ({first} and {second}), as a look-alike of another id would")


class InvalidStudentId(NotASubmission):
    """A student id that breaks the rule (``RULE``); the message says which character or why."""


def normalize_student_id(text: object) -> str:
    """``text`` as a student id in NFKC form; InvalidStudentId, saying what is wrong, if it is not a valid one."""
    if not isinstance(text, str):
        raise InvalidStudentId(NOT_TEXT.format(rule=RULE))
    problem = student_id_problem(text)
    if problem:
        raise InvalidStudentId(NOT_VALID.format(text=quoted(text, 40), problem=problem, rule=RULE))
    return unicodedata.normalize("NFKC", text)


def is_valid_student_id(text: object) -> bool:
    """True when ``text`` is a valid student id."""
    return isinstance(text, str) and student_id_problem(text) is None


def student_id_problem(text: str) -> str | None:
    """What is wrong with ``text`` as a student id, in a few words, or None when it is valid."""
    if not text:
        return str(EMPTY)
    escaped = next((character for character in text[:4 * MAX_LENGTH] if "\udc80" <= character <= "\udcff"), None)
    if escaped is not None:  # a byte of a file name that is not UTF-8, as Python reads it (red team V): not invisible
        return NOT_UTF8.format(byte=ord(escaped) - 0xDC00)
    if len(text) > 4 * MAX_LENGTH:  # checked before normalising: NFKC could take long on a huge string
        return TOO_LONG.format(count=len(text))
    text = unicodedata.normalize("NFKC", text)
    if len(text) > MAX_LENGTH:
        return TOO_LONG.format(count=len(text))
    if invisible(text[0]) or unicodedata.category(text[0]) not in _WORD:
        return STARTS_WITH.format(character=_named(text[0]))
    marks = 0
    for previous, character, following in zip(" " + text, text, text[1:] + " "):  # noqa: B905 -- with its neighbours
        category = unicodedata.category(character)
        if character == NAKAGURO and _japanese(previous) and _japanese(following):
            continue
        if invisible(character) or (category not in _WORD and category not in _MARKS and character not in PUNCTUATION):
            return HOLDS.format(character=_named(character))
        if category in _MARKS:
            if not unicodedata.category(previous).startswith(("L", "M")):
                return HOLDS.format(character=LONE_MARK.format(code=ord(character)))
            marks += 1
            if marks > MAX_MARKS:
                return MARKS.format(count=MAX_MARKS)
        else:
            marks = 0
    return _mixed_scripts(text) or _disguised(text)


def _disguised(text: str) -> str | None:
    """The problem of an id that is not plain ASCII but whose every other character looks like one an ASCII id may
    hold (``аса``, all Cyrillic; ``ada一2``, with a kanji one; ``aㅣice``, with a Hangul vowel), or None: it would
    pass for that ASCII id, whatever the scripts it mixes (UTS #39's confusables, for the scripts ids may hold)."""
    if text.isascii():
        return None
    skeleton = "".join(character if character.isascii() else _LOOKS_LIKE.get(character, "\0") for character in text)
    if "\0" in skeleton or student_id_problem(skeleton) is not None:  # no ASCII id it could pass for
        return None
    return DISGUISED.format(skeleton=quoted(skeleton))


# Letters of the scripts an id may hold that look like a character of an ASCII id (after NFKC: Hangul's
# compatibility jamo are its conjoining ones then, ㅣ is U+1175).
_LOOKS_LIKE = {
    **dict(zip("аеорсухіјѕһԁԛԝАВЕКМНОРСТХІЈЅ", "aeopcyxijshdqwABEKMHOPCTXIJS", strict=True)),  # Cyrillic
    **dict(zip("οινρΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "oivpABEZHIKMNOPTYX", strict=True)),  # Greek
    "\u4e00": "-", "\u30fc": "-", "\u1173": "-",  # 一, ー, ㅡ
    "\u53e3": "o", "\u30ed": "o", "\u110b": "o", "\u11bc": "o",  # 口, ロ, ㅇ
    "\u5de5": "I", "\u30a8": "I", "\u4e28": "l", "\u1175": "l",  # 工, エ, 丨, ㅣ
    "\u5341": "+", "\u4e01": "T", "\u116e": "T", "\u1102": "L", "\u11ab": "L", "\u1110": "E",  # 十, 丁, ㅜ, ㄴ, ㅌ
    NAKAGURO: ".",
}


def _japanese(character: str) -> bool:
    """Whether ``character`` is a letter of Japanese's scripts (kana, kanji, the prolonged sound mark)."""
    return unicodedata.category(character) in _LETTERS and _script(character) in _JAPANESE


def _mixed_scripts(text: str) -> str | None:
    """The problem of an id whose letters are of scripts that no language writes together, or None."""
    scripts = list(dict.fromkeys(script for c in text if unicodedata.category(c) in _LETTERS
                                 and (script := _script(c)) != "MODIFIER"))  # an okina (ʻ) belongs to no script
    if len(scripts) <= 1 or any(set(scripts) <= together for together in _WRITTEN_TOGETHER):
        return None
    first, second = (script.title() for script in scripts[:2])
    return MIXED_SCRIPTS.format(first=first, second=second)


def _script(letter: str) -> str:
    """A letter's script, by the first word of its Unicode name (LATIN, CYRILLIC, CJK, HIRAGANA...); Japanese's
    modifier letters (ー, 々) their script's; MODIFIER for the modifier letters of no script."""
    first = unicodedata.name(letter, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_OF.get(first, first)


_SCRIPT_OF = {"KATAKANA-HIRAGANA": "KATAKANA", "IDEOGRAPHIC": "CJK", "HALFWIDTH": "KATAKANA"}


def _named(character: str) -> str:
    if character in _NAMES:
        return str(_NAMES[character])
    if invisible(character):
        return INVISIBLE.format(code=ord(character))
    return repr(character)
