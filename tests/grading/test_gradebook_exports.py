"""Exports: feedback files under safe and unique names for any student id, one bad row never stops the others."""

import csv
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.grading.exports import feedback_file_name
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.gradebook_schema import submission_key
from coursekit.grading.verdicts import Grade
from coursekit.grading.verdicts import TestResult as Result  # not collected as a test class

LESSON = "07_efficiency"
# Ids graded before ids were checked (or written into a gradebook by other means): the attack's, and look-alikes.
HOSTILE = ["a/b", "../../etc/passwd", "/etc/passwd", "ada\x00bob", "x" * 10_000, "CON", ".bashrc", "-rf", "=1+1"]
LOOKALIKES = ["ada", "Ada", "ADA", "Jos\u00e9", "Jose\u0301", "ｊｏｓé", "ǆ", "ǅ", "Ǆ"]


def record(book: Gradebook, student: str, points: float = 1.0, lesson: str = LESSON) -> str:
    key = submission_key(student, lesson, "0" * 64, "2025-01-01T00:00:00.000000+00:00")
    entry = Entry(key, f"in/{len(student)}", b"{}", "0" * 64, "0" * 64, student, lesson,
                  "2025-01-01T00:00:00.000000+00:00", 1)
    book.record(entry, Grade(lesson, [Result("q1", "passed", points, 1.0, "well done")]))
    return key


def is_safe_file_name(name: str) -> bool:
    return (name.isascii() and name.isprintable() and len(name.encode()) <= 255 and not name.startswith(".")
            and not set(name) & set('/\\:*?"<>|'))


def test_a_plain_id_keeps_its_name_as_before():
    assert feedback_file_name(LESSON, "ada", "md") == f"{LESSON}--ada.md"
    assert feedback_file_name(LESSON, "s123.x@y+z", "html") == f"{LESSON}--s123.x@y+z.html"


def test_hostile_and_look_alike_ids_get_safe_names_distinct_even_where_a_file_system_folds_them():
    names = [feedback_file_name(LESSON, student, "md") for student in HOSTILE + LOOKALIKES]
    assert all(is_safe_file_name(name) for name in names), names
    assert len({unicodedata.normalize("NFKC", name).casefold() for name in names}) == len(names)
    assert feedback_file_name(LESSON, "Ada", "md").startswith(f"{LESSON}--ada~")  # readable, then the hash


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=8, unique=True), st.text(min_size=1))
def test_any_ids_map_to_safe_names_unique_under_case_and_unicode_folding(students, lesson):
    names = [feedback_file_name(lesson, student, "md") for student in students]
    assert all(is_safe_file_name(name) for name in names)
    assert len({unicodedata.normalize("NFKC", name).casefold() for name in names}) == len(names)


def test_the_export_writes_every_student_even_with_hostile_ids(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        for student in HOSTILE + LOOKALIKES:
            record(book, student)
        export = book.export_feedback(tmp_path / "feedback")
    assert export.problems == []
    assert len(export.written) == len(HOSTILE + LOOKALIKES)
    assert sorted(path.name for path in (tmp_path / "feedback").iterdir()) == sorted(p.name for p in export.written)
    assert not list(tmp_path.glob("etc*")) and not (tmp_path / "feedback" / "a").exists()  # nothing outside, no dirs


def test_one_row_that_cannot_be_written_is_reported_and_the_others_are_written(tmp_path):
    folder = tmp_path / "feedback"
    (folder / feedback_file_name(LESSON, "bob", "md")).mkdir(parents=True)  # bob's file cannot be written
    with Gradebook(tmp_path / "book.sqlite") as book:
        for student in ("ada", "bob", "cyd"):
            record(book, student)
        book.db.execute("UPDATE submissions SET points = NULL WHERE student = 'cyd'")  # and cyd's row is broken
        book.db.commit()
        record(book, "dan")
        export = book.export_feedback(folder)
    assert [path.name for path in export.written] == [f"{LESSON}--ada.md", f"{LESSON}--dan.md"]
    assert [(student, reason.split(":")[0]) for student, _, reason in export.problems] == [
        ("bob", "not written"), ("cyd", "not written")]
    assert "IsADirectoryError" in export.problems[0][2]


def test_the_csv_never_starts_a_cell_with_a_formula(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        for student in ("=HYPERLINK(1)", "+1", "@x", "ada"):
            record(book, student)
        rows = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    assert sorted(row[0] for row in rows[1:]) == ["'+1", "'=HYPERLINK(1)", "'@x", "ada"]


def test_feedback_in_html_escapes_what_the_student_wrote(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        key = record(book, "ada")
        book.db.execute("UPDATE results SET message = '<script>alert(1)</script>'")
        book.db.commit()
        page = book.feedback(key, "html")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_gradescope_results_show_control_characters_as_escapes_and_keep_lines(tmp_path):
    # Gradescope shows the output as text: an ANSI escape, a NUL or a right-to-left override would act on the page
    with Gradebook(tmp_path / "book.sqlite") as book:
        key = record(book, "ada")
        book.db.execute("UPDATE results SET message = ?", ("red \x1b[31mtext\x00 \u202edesrever\nnext line",))
        book.db.commit()
        output = book.gradescope(key)["tests"][0]["output"]
    assert not any(not c.isprintable() and c != "\n" for c in output), repr(output)
    assert "\\x1b[31m" in output and "\\x00" in output and "\\u202e" in output and output.endswith("\nnext line")


def test_the_csv_leaves_a_lesson_not_submitted_empty_and_keeps_a_zero_scored(tmp_path):
    # an instructor must tell "did not hand it in" from "handed it in and scored 0"
    with Gradebook(tmp_path / "book.sqlite") as book:
        record(book, "ada", points=0.0, lesson="03_activations")
        record(book, "bob", points=1.0, lesson=LESSON)
        rows = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    header, ada, bob = rows
    assert header == ["student", "03_activations:q1", f"{LESSON}:q1", "cells not run to their end", "inputs rejected",
                      "total"]
    assert ada == ["ada", "0.0", "", "", "", "0.0"]
    assert bob == ["bob", "", "1.0", "", "", "1.0"]


def test_a_student_whose_input_was_rejected_is_in_the_csv_with_the_reason(tmp_path):
    # the owner's check: nothing lost. Rejected inputs were in the gradebook and the summary only, so a student whose
    # one notebook could not be read was missing from the CSV an instructor hands on, as if nothing had come
    from coursekit.grading.intake import Rejected

    with Gradebook(tmp_path / "book.sqlite") as book:
        record(book, "ada", lesson=LESSON)
        for student, source in (("bob", "in/bob.ipynb"), ("ada", "in/ada-2.ipynb"), (None, "in/junk.bin")):
            item = Rejected(source, b"", "invalid JSON at line 1, column 1", student=student, lesson=LESSON)
            book.reject(Entry.of_rejected(item), item.reason)
        rows = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    header, ada, bob = rows  # an input that names no student has no row to go to: the summary names it
    assert header[-2:] == ["inputs rejected", "total"]
    assert ada == ["ada", "1.0", "", f"{LESSON}: invalid JSON at line 1, column 1", "1.0"]
    assert bob == ["bob", "", "", f"{LESSON}: invalid JSON at line 1, column 1", ""]  # no total: nothing graded


def test_a_student_with_thousands_of_rejected_inputs_has_a_short_cell_that_counts_them(tmp_path):
    from coursekit.grading.intake import Rejected

    with Gradebook(tmp_path / "book.sqlite") as book:
        for number in range(1_000):
            item = Rejected(f"in/ada/{number}.ipynb", b"", "invalid JSON", student="ada", lesson=LESSON)
            book.reject(Entry.of_rejected(item), item.reason)
        (_, ada) = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    assert ada[-2].count("invalid JSON") == 5 and ada[-2].endswith("; 995 more") and len(ada[-2]) < 300
