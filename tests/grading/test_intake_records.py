"""What a red team's inputs did to the records: a name that is not UTF-8, a manifest's lone surrogate, a notebook
of another lesson, the same folder by two paths, a zip with nothing to grade. Each is a row, and nothing else is
lost."""

import io
import json
import os
import zipfile

import pytest

from coursekit.assignment.notebooks import write_notebook
from coursekit.grading import batch
from coursekit.grading.batch import grade_paths
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.gradebook_schema import storable_text
from coursekit.grading.intake import Rejected, Submission, read_bytes, read_submissions
from coursekit.grading.submission import pack
from graded_submissions import FAST, MASTERS, ROOT, solution

LESSON = "07_efficiency"
EXERCISE = (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()
WHEN = "2025-01-01T00:00:00.000000+00:00"


def test_text_that_is_not_utf_8_is_stored_as_escapes():
    assert storable_text(os.fsdecode(b"caf\xe9.ipynb")) == "caf\\xe9.ipynb"  # a file name's undecodable byte
    assert storable_text("\ud800x") == "\\ud800x"                            # a lone surrogate from JSON
    assert storable_text("日本語 ada") == "日本語 ada" and storable_text(None) is None


def test_a_rejected_input_with_a_name_that_is_not_utf_8_is_a_row(tmp_path):
    # every write of such a row raised (SQLite stores UTF-8), and the batch with it: no row for anyone
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / os.fsdecode(b"\xff.ipynb")).write_bytes(b"{")
    (folder / "junk.ipynb").write_bytes(b"{")
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade_paths([folder], ROOT / "solutions", book, jobs=1)
        assert sorted(source.rsplit("/", 1)[1] for source, _ in book.rejected()) == ["\\xff.ipynb", "junk.ipynb"]


def test_a_graded_submission_with_a_name_that_is_not_utf_8_is_recorded(tmp_path):
    item = read_bytes(os.fsdecode(b"in/ada/07_efficiency\xe9.ipynb"), EXERCISE, "ada/07_efficiency.ipynb", WHEN)
    assert isinstance(item, Submission)
    with Gradebook(tmp_path / "book.sqlite") as book:
        from coursekit.grading.verdicts import Grade

        book.record(Entry.of_submission(item, LESSON), Grade(LESSON))
        assert book.db.execute("SELECT source FROM submissions").fetchone()[0] == "in/ada/07_efficiency\\xe9.ipynb"


def _submission_file(manifest: dict, notebook: bytes = EXERCISE) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("notebook.ipynb", notebook)
    return buffer.getvalue()


def test_a_manifest_whose_lesson_is_a_lone_surrogate_is_rejected_and_the_class_is_graded(tmp_path):
    # one student's file stopped the whole class's grading: every run, with no row for anyone
    export = tmp_path / "class"
    (export / "mallory").mkdir(parents=True)
    (export / "mallory" / f"{LESSON}--mallory.submission.zip").write_bytes(_submission_file(
        {"lesson": "\ud800", "student": "mallory", "submitted_at": WHEN, "notebook_sha256": "0" * 64}))
    (export / "eve").mkdir()
    (export / "eve" / "junk.ipynb").write_bytes(b"{")
    item = next(item for item in read_submissions(export) if "mallory" in item.source)
    assert isinstance(item, Rejected) and "its manifest's lesson is not a lesson's name" in item.reason
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade_paths([export], ROOT / "solutions", book, jobs=1)
        assert len(book.rejected()) == 2


def test_a_zip_with_nothing_to_grade_is_a_row_saying_so(tmp_path):
    empty, code_only = tmp_path / "empty.zip", tmp_path / "work.zip"
    zipfile.ZipFile(empty, "w").close()
    with zipfile.ZipFile(code_only, "w") as archive:
        archive.writestr("01_chain_rule.py", "x = 1\n")
    for path, members in ((empty, 0), (code_only, 1)):
        (item,) = read_submissions(path)
        assert isinstance(item, Rejected)
        assert item.reason == f"a zip with no notebook (.ipynb) and no submission file in it ({members} members): " \
                              "nothing to grade"


def _class_with_stray_files(write) -> None:
    """A class's hand-ins where some students gave no notebook: ``write(path, data)`` makes each file."""
    write("ada/hw.py", b"x = 1\n")
    write("ada/.DS_Store", b"\0")
    write("bob/01_chain_rule.html", b"<html></html>")
    write("bob/sub/a.py", b"")
    write("bob/sub/b.py", b"")
    write("bob/c.txt", b"")
    write("carol/.DS_Store", b"\0")               # nothing but the system's own file: nothing handed in
    write("dave/work/hw.py", b"")                  # deeper down: still dave's
    write("not an id/hw.py", b"")
    write("eve/junk.ipynb", b"{")                  # an input (rejected for what it holds): no folder row
    write("frank/work/01_chain_rule.ipynb", b"{")  # an input deeper down
    write("frank/notes.txt", b"")
    write("gina/.ipynb_checkpoints/01_chain_rule-checkpoint.ipynb", b"{}")  # Jupyter's copy only: a red team's
    write("gina/.ipynb_checkpoints/02_computation_graphs-checkpoint.ipynb", b"{}")
    write("./hal/hw.py", b"")                      # "./" before the student folder (a zip made so): still hal's


FOLDER_ROWS = {
    "ada": ("ada", "1 file: 'hw.py'"),
    "bob": ("bob", "4 files, such as '01_chain_rule.html', 'a.py', 'b.py'"),
    "dave": ("dave", "1 file: 'hw.py'"),
    "not an id": (None, "1 file: 'hw.py'"),
    "gina": ("gina", "1 file: '.ipynb_checkpoints/'"),
    "hal": ("hal", "1 file: 'hw.py'"),
}


def _folder_rows(items) -> dict:
    rows = {}
    for item in items:
        if isinstance(item, Rejected) and "student folder" in item.reason:
            name = item.source.rstrip("/").rsplit("!", 1)[-1].rsplit("/", 1)[-1]
            rows[name] = (item.student, item.reason)
    return rows


def _expected_rows() -> dict:
    return {name: (student, f"a student folder with no notebook (.ipynb) and no zip in it ({files}): nothing to "
                            "grade") for name, (student, files) in FOLDER_ROWS.items()}


def test_a_student_folder_with_files_but_no_notebook_is_a_row_naming_them(tmp_path):
    # a student who handed in hw.py, or the notebook saved as HTML, was silently missing from the gradebook
    def write(name, data):
        (tmp_path / "class" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "class" / name).write_bytes(data)

    _class_with_stray_files(write)
    (tmp_path / "class" / "empty").mkdir()
    items = list(read_submissions(tmp_path / "class"))
    assert _folder_rows(items) == _expected_rows()
    assert sum(isinstance(item, Rejected) for item in items) == len(FOLDER_ROWS) + 2  # eve's and frank's junk
    with Gradebook(tmp_path / "book.sqlite") as book:
        for _ in range(2):  # graded again: the same rows, not doubled
            grade_paths([tmp_path / "class"], ROOT / "solutions", book, jobs=1)
        assert len(book.rejected()) == len(FOLDER_ROWS) + 2


def test_a_student_folder_in_a_zip_of_many_with_files_but_no_notebook_is_a_row(tmp_path):
    export = tmp_path / "class.zip"
    with zipfile.ZipFile(export, "w") as archive:
        _class_with_stray_files(archive.writestr)
        archive.writestr("empty/", b"")
    assert _folder_rows(read_submissions(export)) == _expected_rows()


def test_the_same_folder_graded_by_another_path_keeps_one_row_per_rejected_input(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "junk.ipynb").write_bytes(b"{")
    (folder / "empty.ipynb").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    with Gradebook(tmp_path / "book.sqlite") as book:
        for given in ("in", str(folder), "in", "./in"):
            grade_paths([given], ROOT / "solutions", book, jobs=1)
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 2


def test_another_weeks_folder_given_by_the_same_relative_path_keeps_its_own_rejected_rows(tmp_path, monkeypatch):
    # a red team graded w1/inbox, then w2/inbox, each as "inbox": week 1's row saying ada handed in no notebook went
    for week, stray in (("w1", "week1.py"), ("w2", "week2.html")):
        (tmp_path / week / "inbox" / "ada").mkdir(parents=True)
        (tmp_path / week / "inbox" / "ada" / stray).write_text("x")
    with Gradebook(tmp_path / "book.sqlite") as book:
        for week in ("w1", "w2"):
            monkeypatch.chdir(tmp_path / week)
            grade_paths(["inbox"], ROOT / "solutions", book, jobs=1)
        reasons = sorted(reason for _, reason in book.rejected())
    assert len(reasons) == 2 and "'week1.py'" in reasons[0] and "'week2.html'" in reasons[1]


def test_a_row_of_an_earlier_key_rule_is_replaced_not_doubled(tmp_path):
    rejected = Rejected("in/junk.ipynb", b"{", "invalid JSON")
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.reject(Entry.of_rejected(rejected), "invalid JSON")  # keyed by the path as given
        book.reject(Entry.of_rejected(rejected, place=os.path.abspath("in/junk.ipynb")), "invalid JSON")
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1


def test_a_notebook_named_with_a_double_dash_packs_to_a_file_that_reads_back_as_its_student(tmp_path):
    notebook = tmp_path / "work--v2.ipynb"
    notebook.write_bytes(EXERCISE)
    target = pack(notebook, "ada", tmp_path / "outbox")
    (item,) = read_submissions(target)
    assert isinstance(item, Submission) and item.student == "ada", item
    assert batch.identify_lesson(item, {name: {t.grade_id for t in m.tests} for name, m in MASTERS.items()}) == LESSON


@pytest.mark.slow  # grades through a sandbox server
def test_a_graded_notebook_with_a_name_that_is_not_utf_8_is_recorded_and_the_class_too(tmp_path):
    folder = tmp_path / "class"
    for student in ("ada", "bob", "eve"):
        (folder / student).mkdir(parents=True)
    write_notebook(solution(LESSON), folder / "ada" / f"{LESSON}.ipynb")
    write_notebook(solution(LESSON), folder / "bob" / os.fsdecode(f"{LESSON}\xe9.ipynb".encode("latin-1")))
    (folder / "eve" / os.fsdecode(b"caf\xe9.ipynb")).write_bytes(b"{")
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade_paths([folder], ROOT / "solutions", book, settings=FAST, jobs=1)
        assert sorted((o.student, o.grade.points if o.grade else None) for o in outcomes) == [
            ("ada", MASTERS[LESSON].max_points), ("bob", MASTERS[LESSON].max_points), ("eve", None)]
        book.export_csv(tmp_path / "grades.csv")


@pytest.mark.slow  # grades through a sandbox server
def test_a_notebook_of_another_lesson_under_this_lessons_name_is_not_graded_and_keeps_the_latest(tmp_path):
    # lesson 03's notebook handed in as 07: graded as 07 it got 0 points, with no reason, and became the latest
    folder = tmp_path / "class" / "ada"
    (folder / "old").mkdir(parents=True)
    (folder / "new").mkdir()
    write_notebook(solution(LESSON), folder / "old" / f"{LESSON}.ipynb")
    write_notebook(solution("03_activations"), folder / "new" / f"{LESSON}.ipynb")
    os.utime(folder / "old" / f"{LESSON}.ipynb", (1.7e9, 1.7e9))
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade_paths([tmp_path / "class"], ROOT / "solutions", book, settings=FAST, jobs=1)
        [(source, reason)] = book.rejected()
        assert source.endswith(f"new/{LESSON}.ipynb")
        assert reason.startswith(f"handed in as {LESSON}, but its cells are those of 03_activations")
        [(student, lesson, key)] = book.latest()
        assert (student, lesson) == ("ada", LESSON) and book.graded(key)[2] == MASTERS[LESSON].max_points


def test_a_zip_whose_members_start_with_dot_slash_names_their_student_folder(tmp_path):
    # a red team's zip of "./frank/..." members filed them under the student "."
    export = tmp_path / "class.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(f"./frank/{LESSON}.ipynb", EXERCISE)
    (item,) = read_submissions(export)
    assert isinstance(item, Submission) and item.student == "frank"
