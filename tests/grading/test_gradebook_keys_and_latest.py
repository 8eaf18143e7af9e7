"""The gradebook's key is (student, lesson, notebook bytes, submitted time): no merging of students, the latest by
time submitted, idempotent and resumable batches, and every hostile input a row.

These tests grade through ``grade_paths`` with a stand-in for the sandbox (``fake_grading``): they check the
batch's bookkeeping, not grading itself (test_grading_e2e.py and test_hostile.py do that with a real sandbox).
"""

import contextlib
import copy
import csv
import json
import os
import struct
import time
import uuid
import warnings
import zipfile

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursekit.cli import main
from coursekit.grading import batch
from coursekit.grading.batch import grade_paths
from coursekit.grading.gradebook import Gradebook, IdenticalSubmissions
from coursekit.grading.verdicts import Grade
from coursekit.grading.verdicts import TestResult as Result  # not collected as a test class
from coursekit.server import queue
from graded_submissions import ROOT

LESSON = "07_efficiency"
SOLUTIONS = ROOT / "solutions"
EXERCISE = json.loads((ROOT / "exercises" / f"{LESSON}.ipynb").read_text(encoding="utf-8"))
MARK = "# SOLVED"  # a notebook holding this line gets full marks from the stand-in grader


@pytest.fixture
def fake_grading(monkeypatch):
    """grade_paths without a sandbox: a notebook with MARK in a cell passes every test of its master, others fail."""
    class NoServer:
        def __init__(self, *args, **kwargs):
            pass

        def close(self):
            pass

    def grade(notebook, master, server, settings, setup):
        solved = any(MARK in cell.get("source", "") for cell in notebook["cells"])
        return Grade(master.lesson, [Result(t.grade_id, "passed" if solved else "failed",
                                                t.points if solved else 0.0, t.points) for t in master.tests])

    monkeypatch.setattr(batch, "WarmServer", NoServer)
    monkeypatch.setattr(batch, "sandbox_server", lambda sandbox, preload: contextlib.nullcontext(None))
    monkeypatch.setattr(batch, "grade_notebook", grade)
    monkeypatch.setattr(batch, "trusted_setup", lambda master: {})


def notebook(*lines: str) -> bytes:
    nb = copy.deepcopy(EXERCISE)
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "\n".join(lines), "outputs": [],
                        "execution_count": None})
    return json.dumps(nb).encode()


FULL, EMPTY = notebook(MARK), notebook()
MAX_POINTS = sum(t.points for t in batch.load_masters(SOLUTIONS)[LESSON].tests)


def submission_file(path, student: str, raw: bytes, submitted_at: str):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"lesson": LESSON, "student": student,
                                                      "submitted_at": submitted_at}))
        archive.writestr("notebook.ipynb", raw)
    return path


def grade(book, *paths, **options):
    return grade_paths(list(paths), SOLUTIONS, book, jobs=1, **options)


def totals(book, tmp_path) -> dict[str, float]:
    rows = list(csv.reader(book.export_csv(tmp_path / "grades.csv").open(encoding="utf-8")))
    return {row[0]: float(row[-1]) for row in rows[1:]}


def test_two_students_with_identical_bytes_are_two_rows_and_the_coincidence_is_reported(fake_grading, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for student in ("ada", "bob"):
        (inbox / f"{LESSON}--{student}.ipynb").write_bytes(FULL)
    (inbox / f"{LESSON}--cyd.ipynb").write_bytes(EMPTY)
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade(book, inbox)
        assert sorted(o.student for o in outcomes if o.grade) == ["ada", "bob", "cyd"]
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 3
        assert totals(book, tmp_path) == {"ada": MAX_POINTS, "bob": MAX_POINTS, "cyd": 0.0}
        (same,) = book.identical_submissions()
        assert same == IdenticalSubmissions(LESSON, outcomes[0].content_hash, ("ada", "bob"))


def test_the_latest_submission_is_the_last_submitted_not_the_last_graded(fake_grading, tmp_path):
    later_full = submission_file(tmp_path / "a.submission.zip", "ada", FULL, "2025-03-01T11:00:00+00:00")
    earlier_empty = submission_file(tmp_path / "b.submission.zip", "ada", EMPTY, "2025-03-01T10:00:00Z")
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, later_full)
        grade(book, earlier_empty)  # graded after, submitted before
        assert totals(book, tmp_path) == {"ada": MAX_POINTS}
        ((student, lesson, key),) = book.latest()
        assert book.graded(key) == ("ada", LESSON, MAX_POINTS, MAX_POINTS)


def test_bare_notebooks_are_ordered_by_their_modification_time(fake_grading, tmp_path):
    for folder, raw, modified in (("new", FULL, 1_700_000_000), ("old", EMPTY, 1_000_000_000)):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / f"{LESSON}--ada.ipynb"
        path.write_bytes(raw)
        os.utime(path, (modified, modified))
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, tmp_path / "new", tmp_path / "old")  # the older one is read, and graded, last
        assert totals(book, tmp_path) == {"ada": MAX_POINTS}


def test_two_members_of_one_name_and_one_time_are_both_recorded_and_the_one_read_last_is_latest(fake_grading,
                                                                                                  tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # zipfile warns, and writes both
        for raw in (EMPTY, FULL):
            archive.writestr(zipfile.ZipInfo(f"{LESSON}--ada.ipynb", (2025, 1, 1, 0, 0, 0)), raw)
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade(book, export)
        assert sorted(o.source.rsplit(" (", 1)[1] for o in outcomes) == ["copy 1 of 2 of that name)",
                                                                         "copy 2 of 2 of that name)"]
        assert book.db.execute("SELECT COUNT(*) FROM submissions WHERE state = 'graded'").fetchone()[0] == 2
        assert totals(book, tmp_path) == {"ada": MAX_POINTS}


@pytest.mark.parametrize("dated", ["by the zip's date", "by a UT extra field"])
def test_a_time_the_student_set_in_the_future_never_makes_a_submission_the_latest(fake_grading, tmp_path, dated):
    # the untouched exercise in a zip dated 2107 (or 2038), then the solved notebook handed in directly
    ada = tmp_path / "inbox" / "ada"
    ada.mkdir(parents=True)
    member = zipfile.ZipInfo(f"{LESSON}.ipynb", (2107, 12, 31, 0, 0, 0) if dated == "by the zip's date"
                             else (2025, 1, 1, 0, 0, 0))
    if dated == "by a UT extra field":
        member.extra = struct.pack("<HHBl", 0x5455, 5, 1, 2_147_483_000)
    with zipfile.ZipFile(ada / "old.zip", "w") as archive:
        archive.writestr(member, EMPTY)
    (ada / f"{LESSON}.ipynb").write_bytes(FULL)
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, tmp_path / "inbox")
        assert totals(book, tmp_path) == {"ada": MAX_POINTS}


def test_a_file_dated_in_the_future_is_one_submission_however_the_clock_has_moved(fake_grading, tmp_path,
                                                                                 monkeypatch):
    # read once while its time is more than a day ahead (it counts as the earliest), then once it no longer is: the
    # same file, the same row, still the earliest (it was keyed by the clock's verdict, and became a second row)
    from coursekit.grading import intake

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / f"{LESSON}--ada.ipynb"
    path.write_bytes(EMPTY)
    ahead = time.time() + 2 * 86_400
    os.utime(path, (ahead, ahead))
    with Gradebook(tmp_path / "book.sqlite") as book:
        first = grade(book, inbox)
        monkeypatch.setattr(intake, "CLOCK_TOLERANCE", intake.CLOCK_TOLERANCE * 5)  # as if two days had passed
        second = grade(book, inbox)
        assert [o.skipped for o in first + second] == [False, True]
        assert book.db.execute("SELECT COUNT(*), MIN(submitted_at) FROM submissions").fetchone() == (
            1, "1970-01-01T00:00:00.000000+00:00")


def same_named_members(path, contents, date_time=(2025, 1, 1, 0, 0, 0)):
    """A platform's export holding ``contents`` as members of one name and one time, in that order."""
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
        for raw in contents:
            archive.writestr(zipfile.ZipInfo(f"{LESSON}--ada.ipynb", date_time), raw)
    return path


def test_a_copy_of_bytes_already_graded_read_last_is_the_latest_and_is_not_graded_twice(fake_grading, tmp_path):
    """The red team's export: full marks, the blank exercise, full marks again, all of one name and time. The third
    is the first submission arriving again: it is the one read last, so the latest (it was 0: the second's)."""
    export = same_named_members(tmp_path / "export.zip", [FULL, EMPTY, FULL])
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = sorted(grade(book, export), key=lambda o: o.source)  # copy 1, 2, 3 (a skip is reported first)
        assert [(bool(o.grade), o.skipped) for o in outcomes] == [(True, False), (True, False), (False, True)]
        assert outcomes[2].key == outcomes[0].key
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 2
        assert totals(book, tmp_path) == {"ada": MAX_POINTS}


def test_a_submission_read_again_in_a_later_batch_counts_as_arriving_then(fake_grading, tmp_path):
    first = same_named_members(tmp_path / "first.zip", [FULL, EMPTY])
    again = same_named_members(tmp_path / "again.zip", [FULL])
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, first)
        assert totals(book, tmp_path) == {"ada": 0.0}
        (outcome,) = grade(book, again)
        assert outcome.skipped and totals(book, tmp_path) == {"ada": MAX_POINTS}
        results = book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        grade(book, first, regrade=True)  # read again, and graded again: the one read last is latest again
        assert totals(book, tmp_path) == {"ada": 0.0}
        assert book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == results


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["full", "empty"]), min_size=1, max_size=6))
def test_on_equal_times_the_member_read_last_is_the_latest_whatever_came_before(fake_grading, tmp_path, order):
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    export = same_named_members(folder / "export.zip", [FULL if one == "full" else EMPTY for one in order])
    with Gradebook(folder / "book.sqlite") as book:
        outcomes = grade(book, export)
        assert sum(1 for o in outcomes if o.grade) == len(set(order))  # each of the bytes graded once
        assert totals(book, folder) == {"ada": MAX_POINTS if order[-1] == "full" else 0.0}


def test_a_manifest_naming_another_student_cannot_overwrite_their_grade(fake_grading, tmp_path):
    """The red team's attack, graded: mallory's blank notebook with a manifest saying it is the victim's, submitted at
    the end of time, beside the victim's solved notebook; and the same inside an export with a folder per student."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    submission_file(inbox / f"{LESSON}--mallory.submission.zip", "victim", EMPTY, "9999-12-31T23:59:59+00:00")
    (inbox / f"{LESSON}--victim.ipynb").write_bytes(FULL)
    blank = submission_file(tmp_path / "blank.zip", "victim2", EMPTY, "9999-12-31T23:59:59+00:00").read_bytes()
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as archive:  # a zip of many is given itself
        archive.writestr(f"victim2/{LESSON}.ipynb", FULL)
        archive.writestr(f"mallory2/{LESSON}.submission.zip", blank)
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, inbox, tmp_path / "export.zip")
        assert totals(book, tmp_path) == {"victim": MAX_POINTS, "victim2": MAX_POINTS}
        reasons = sorted(reason for _, reason in book.rejected())
        assert reasons == [
            "its file name names the student 'mallory' and its manifest names 'victim': it is graded as neither",
            "its student folder names the student 'mallory2' and its manifest names 'victim2': it is graded as neither"]


def test_a_zip_in_a_folder_given_is_the_student_its_name_names_and_cannot_hand_in_for_another(fake_grading,
                                                                                               tmp_path):
    """Red team Z: in a folder of files named after who sent them, mallory.zip held victim/NN_lesson.ipynb (a blank
    notebook, dated later) and replaced victim's grade. A zip found in a folder given is its name's student's folder,
    as a notebook there is its name's; a member whose file name names another student is rejected, saying how to grade
    a zip of many. Members in folders of the zip's own (a course folder zipped whole) are its student's."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "victim.ipynb").write_bytes(FULL)
    for name, members in (("mallory.zip", {f"victim/{LESSON}.ipynb": EMPTY, f"{LESSON}--victim2.ipynb": FULL}),
                          ("Assignment 1.zip", {f"dan/{LESSON}.ipynb": FULL}),
                          ("bob.zip", {f"{LESSON}.ipynb": FULL}),
                          ("carol.zip", {f"backprop-course/exercises/{LESSON}.ipynb": FULL})):
        with zipfile.ZipFile(inbox / name, "w") as archive:
            for member, raw in members.items():
                archive.writestr(zipfile.ZipInfo(member, date_time=(2030, 1, 1, 0, 0, 0)), raw)
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, inbox)
        assert totals(book, tmp_path) == {"bob": MAX_POINTS, "carol": MAX_POINTS, "mallory": 0.0,
                                          "victim": MAX_POINTS}
        reasons = sorted(reason for _, reason in book.rejected())
        assert len(reasons) == 2 and all(reason.endswith("is graded when given itself: coursekit grade export.zip)")
                                         for reason in reasons)
        assert reasons[0].startswith("'Assignment 1' is not a valid student id")
        assert reasons[1].startswith("the name of the zip it is in names the student 'mallory' and its file name "
                                     "names 'victim2': it is graded as neither (a zip found in a folder given is one")


def test_students_in_subfolders_and_submission_files_without_a_manifest_are_rows_of_their_own(fake_grading, tmp_path):
    """The red team's merges: alice/work/ and bob/work/ were one student ``work``; two submission files without a
    manifest were one student ``notebook``."""
    for student, raw in (("alice", FULL), ("bob", EMPTY)):
        (tmp_path / "inbox" / student / "work").mkdir(parents=True)
        (tmp_path / "inbox" / student / "work" / f"{LESSON}.ipynb").write_bytes(raw)
        with zipfile.ZipFile(tmp_path / "inbox" / f"{LESSON}--{student}2.submission.zip", "w") as archive:
            archive.writestr("notebook.ipynb", raw)
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, tmp_path / "inbox")
        assert totals(book, tmp_path) == {"alice": MAX_POINTS, "alice2": MAX_POINTS, "bob": 0.0, "bob2": 0.0}


def test_grading_the_same_submission_again_is_a_no_op_unless_regrade(fake_grading, tmp_path):
    path = submission_file(tmp_path / "a.submission.zip", "ada", FULL, "2025-03-01T11:00:00Z")
    with Gradebook(tmp_path / "book.sqlite") as book:
        (first,) = grade(book, path)
        again = grade(book, path, path)  # twice in one batch, and already in the gradebook
        assert first.grade and [(o.skipped, o.key) for o in again] == [(True, first.key)] * 2
        rows = book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        results = book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        (regraded,) = grade(book, path, regrade=True)
        assert regraded.grade and regraded.key == first.key
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == rows
        assert book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == results  # replaced, not doubled


def test_the_same_bytes_submitted_again_later_is_a_new_submission(fake_grading, tmp_path):
    first = submission_file(tmp_path / "a.submission.zip", "ada", FULL, "2025-03-01T10:00:00Z")
    second = submission_file(tmp_path / "b.submission.zip", "ada", FULL, "2025-03-02T10:00:00Z")
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade(book, first, second)
        assert [bool(o.grade) for o in outcomes] == [True, True] and outcomes[0].key != outcomes[1].key
        assert book.identical_submissions() == []  # one student: no coincidence


def test_a_killed_batch_resumes_where_it_stopped(fake_grading, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for student in ("ada", "bob", "cyd"):
        (inbox / f"{LESSON}--{student}.ipynb").write_bytes(notebook(MARK, student))

    def killed_after_the_first(outcome):
        raise KeyboardInterrupt

    with Gradebook(tmp_path / "book.sqlite") as book:
        with pytest.raises(KeyboardInterrupt):
            grade(book, inbox, progress=killed_after_the_first)
        assert book.db.execute("SELECT student FROM submissions").fetchall() == [("ada",)]
        outcomes = grade(book, inbox)
        assert [(o.student, o.skipped, bool(o.grade)) for o in outcomes] == [
            ("ada", True, False), ("bob", False, True), ("cyd", False, True)]


def test_every_outcome_carries_its_key_and_content_hash(fake_grading, tmp_path):
    (tmp_path / f"{LESSON}--ada.ipynb").write_bytes(FULL)
    (tmp_path / "junk.ipynb").write_bytes(b"\xff")
    with Gradebook(tmp_path / "book.sqlite") as book:
        graded, junk = sorted(grade(book, tmp_path), key=lambda o: o.source)
        assert book.graded(graded.key)[:2] == ("ada", LESSON)
        assert book.gradescope(graded.key)["score"] == MAX_POINTS
        assert junk.reason and book.known(junk.key)
        stored = book.db.execute("SELECT hash FROM submissions WHERE key = ?", (graded.key,)).fetchone()[0]
        assert stored == graded.content_hash


def test_every_hostile_input_is_a_row_with_a_reason_and_the_honest_one_is_graded(fake_grading, tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    (outside / f"{LESSON}--eve.ipynb").write_bytes(FULL)
    (inbox / f"{LESSON}--ada.ipynb").write_bytes(FULL)
    (inbox / "deep.ipynb").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    (inbox / "junk.ipynb").write_bytes(os.urandom(4096))
    (inbox / "types.ipynb").write_bytes(b'{"cells": [{"source": 5}]}')
    (inbox / "link.ipynb").symlink_to(outside / f"{LESSON}--eve.ipynb")
    submission_file(inbox / "x.submission.zip", "../../root", FULL, "2025-01-01T00:00:00Z")
    with zipfile.ZipFile(outside / "export.zip", "w") as archive:
        archive.writestr(f"../../{LESSON}--mallory.ipynb", FULL)
        archive.writestr(f"{LESSON}--bob.ipynb", FULL)
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade(book, inbox, outside / "export.zip")
        assert sorted(o.student for o in outcomes if o.grade) == ["ada", "bob"]
        rejected = dict(book.rejected())
        assert len(rejected) == len(outcomes) - 2 == 6 and all(rejected.values())
        assert "not followed" in rejected[str(inbox / "link.ipynb")]
        assert "too deep to read" in rejected[str(inbox / "deep.ipynb")]


@pytest.mark.parametrize("name", ["[/bold]x.ipynb", "[red]x\x1b[2J.ipynb"])
def test_the_cli_summary_shows_hostile_names_as_plain_text(fake_grading, tmp_path, name):
    (tmp_path / "inbox").mkdir()
    with zipfile.ZipFile(tmp_path / "inbox" / "export.zip", "w") as archive:
        archive.writestr(name, b"junk")
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "inbox"), "--root", str(ROOT), "--jobs", "1",
                                       "--no-keep-warm", "--gradebook", str(tmp_path / "book.sqlite")])
    assert result.exit_code == 0, result.output
    assert "\x1b[2J" not in result.output and "rejected" in result.output


@pytest.mark.parametrize("how", ["the same path", "a symbolic link", "a hard link", "its write-ahead log"])
@pytest.mark.parametrize("option", ["--csv", "--gradescope", "--tokens"])
def test_no_output_file_can_be_the_gradebook(fake_grading, tmp_path, how, option):
    # red team Z: `--csv book.sqlite` replaced the gradebook with the CSV text, every grade lost, and said it went well
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / f"{LESSON}--ada.ipynb").write_bytes(FULL)
    book = tmp_path / "book.sqlite"
    with Gradebook(book) as opened:
        grade(opened, tmp_path / "inbox")
    before = book.read_bytes()
    output = {"the same path": book, "a symbolic link": tmp_path / "link.csv", "a hard link": tmp_path / "hard.csv",
              "its write-ahead log": tmp_path / "book.sqlite-wal"}[how]
    if how == "a symbolic link":
        output.symlink_to(book)
    elif how == "a hard link":
        os.link(book, output)
    if option == "--tokens":
        (tmp_path / "roster.csv").write_text("id,name,email\nbob,Bob,bob@example.org\n", encoding="utf-8")
        command = ["roster", "import", str(tmp_path / "roster.csv"), "--tokens", str(output)]
    else:
        command = ["grade", str(tmp_path / "inbox"), "--root", str(ROOT), "--jobs", "1", "--no-keep-warm", option,
                   str(output)]
    result = CliRunner().invoke(main, [*command, "--gradebook", str(book)])
    assert result.exit_code == 1
    assert "is the gradebook" in result.stderr and "writing it would lose every grade" in result.stderr
    assert book.read_bytes() == before


def test_the_cli_reports_identical_notebooks_and_writes_gradescope_results_by_key(fake_grading, tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / f"{LESSON}--ada.ipynb").write_bytes(FULL)
    with Gradebook(tmp_path / "book.sqlite") as book:
        grade(book, tmp_path / "inbox")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / f"{LESSON}--bob.ipynb").write_bytes(FULL)
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "bob"), "--root", str(ROOT), "--jobs", "1",
                                       "--no-keep-warm", "--gradebook", str(tmp_path / "book.sqlite"),
                                       "--gradescope", str(tmp_path / "results.json")])
    assert result.exit_code == 0, result.output
    assert "1 graded, 0 already graded, 0 rejected" in result.output
    assert "identical notebooks from different students: 1" in result.output
    assert f"{LESSON}: ada, bob" in result.output
    assert json.loads((tmp_path / "results.json").read_text())["score"] == MAX_POINTS


def test_the_cli_writes_gradescope_results_again_for_a_submission_already_graded(fake_grading, tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / f"{LESSON}--ada.ipynb").write_bytes(FULL)
    for run in (1, 2):  # the second run grades nothing: the row it holds is the answer
        target = tmp_path / f"results{run}.json"
        result = CliRunner().invoke(main, ["grade", str(tmp_path / "inbox"), "--root", str(ROOT), "--jobs", "1",
                                           "--no-keep-warm", "--gradebook", str(tmp_path / "book.sqlite"),
                                           "--gradescope", str(target)])
        assert result.exit_code == 0, result.output
        assert json.loads(target.read_text())["score"] == MAX_POINTS


def test_the_cli_runs_no_sql_of_its_own():
    source = (ROOT / "coursekit" / "cli.py").read_text(encoding="utf-8")
    assert ".db." not in source and "SELECT" not in source


def test_what_a_batch_runs_for_each_input_finds_its_rows_by_index_never_by_reading_every_row(fake_grading, tmp_path):
    # A scan of submissions reads every row's content (the notebook's bytes): each input would cost the size of the
    # whole gradebook (25 ms a grade at 2,000 submissions), and a class's batch would grow with its square.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{LESSON}--ada.ipynb").write_bytes(FULL)
    (inbox / f"{LESSON}--bob.ipynb").write_bytes(b"not a notebook")
    statements = []
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.db.set_trace_callback(statements.append)
        grade(book, inbox)
        grade(book, inbox, regrade=True)  # graded again: a row replaced, its results cleared
        book.db.set_trace_callback(None)
        per_input = {s for s in statements if s.split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}
                     and "MAX(arrival)" not in s}  # the arrival count: read once per batch
        assert any(s.startswith("DELETE FROM submissions") for s in per_input)
        scans = {s: plan for s in per_input
                 for plan in [[row[-1] for row in book.db.execute(f"EXPLAIN QUERY PLAN {s}")]]
                 if any(step.startswith("SCAN submissions") for step in plan)}
    assert not scans, scans


def test_a_batch_larger_than_it_may_hold_is_graded_in_parts_each_submission_once(fake_grading, tmp_path, monkeypatch):
    # a few zips of a thousand 1 MiB notebooks held 3 GB before anything was graded: past MAX_BATCH_BYTES, what was
    # read is graded (and let go) before the batch reads on
    monkeypatch.setattr(batch.limits, "MAX_BATCH_BYTES", 2 * len(FULL))
    parts = []
    real_grade_todo = batch._grade_todo
    monkeypatch.setattr(batch, "_grade_todo", lambda todo, *args, **kwargs: (parts.append(len(todo)),
                                                                               real_grade_todo(todo, *args, **kwargs)))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    students = [f"s{index}" for index in range(7)]
    for student in students:
        (inbox / f"{LESSON}--{student}.ipynb").write_bytes(FULL)
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade(book, inbox, inbox)  # each file read twice: the second time in a later part
        assert len(parts) > 2 and sum(parts) == len(students)
        assert totals(book, tmp_path) == dict.fromkeys(students, MAX_POINTS)
        assert sorted(o.student for o in outcomes if o.grade is not None) == students
        assert sorted(o.student for o in outcomes if o.skipped) == students


def test_a_zip_of_the_inbox_folder_itself_is_reported_as_one_student_with_several_places(fake_grading, tmp_path):
    # red team V: `zip -r inbox.zip inbox` made "inbox" every notebook's student folder, and the CSV kept one of them
    export = tmp_path / "inbox.zip"
    with zipfile.ZipFile(export, "w") as archive:
        for student, raw in (("ada", FULL), ("bob", EMPTY)):
            archive.writestr(zipfile.ZipInfo(f"inbox/{student}/{LESSON}.ipynb", (2025, 1, 1, 0, 0, 0)), raw)
    result = CliRunner().invoke(main, ["grade", str(export), "--root", str(ROOT), "--jobs", "1",
                                       "--no-keep-warm", "--gradebook", str(tmp_path / "book.sqlite")])
    assert result.exit_code == 0, result.output
    assert "one student, different notebooks of one lesson from different places: 1" in result.stderr
    assert f"inbox ({LESSON}): ada/{LESSON}.ipynb, bob/{LESSON}.ipynb" in result.stderr


def test_students_folders_given_one_by_one_or_a_folder_of_their_notebooks_are_reported(fake_grading, tmp_path):
    # red team W: `grade inbox/*` with each student's Untitled.ipynb, and inbox/week3/{ada,bob}.ipynb, each one
    # "student" (Untitled, week3) whose CSV row kept the latest, with no warning
    for student, raw in (("ada", FULL), ("bob", EMPTY)):
        (tmp_path / "inbox" / student).mkdir(parents=True)
        (tmp_path / "inbox" / student / "Untitled.ipynb").write_bytes(raw)
        (tmp_path / "week" / "week3").mkdir(parents=True, exist_ok=True)
        (tmp_path / "week" / "week3" / f"{student}.ipynb").write_bytes(raw)
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "inbox" / "ada"), str(tmp_path / "inbox" / "bob"),
                                       str(tmp_path / "week"), "--root", str(ROOT), "--jobs", "1", "--no-keep-warm",
                                       "--gradebook", str(tmp_path / "book.sqlite")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "one student, different notebooks of one lesson from different places: 2" in said
    assert f"Untitled ({LESSON}): {tmp_path.as_posix().strip('/')}/inbox/ada/Untitled.ipynb" in said
    assert f"week3 ({LESSON}): ada.ipynb, bob.ipynb" in said


def test_a_students_own_folder_or_zip_given_with_everything_in_one_folder_is_reported(fake_grading, tmp_path):
    # red team Z: `grade inbox/*` with each student's notebook in work/, and each student's zip of hw1/, graded ada's
    # and bob's as one student ("work", "hw1") with no warning: one place each, below the folder that names them
    for student, raw in (("ada", FULL), ("bob", EMPTY)):
        (tmp_path / "inbox" / student / "work").mkdir(parents=True)
        (tmp_path / "inbox" / student / "work" / f"{LESSON}.ipynb").write_bytes(raw)
        with zipfile.ZipFile(tmp_path / f"{student}.zip", "w") as archive:
            archive.writestr(f"hw1/{LESSON}.ipynb", raw)
    given = [tmp_path / "inbox" / "ada", tmp_path / "inbox" / "bob", tmp_path / "ada.zip", tmp_path / "bob.zip"]
    result = CliRunner().invoke(main, ["grade", *map(str, given), "--root", str(ROOT), "--jobs", "1",
                                       "--no-keep-warm", "--gradebook", str(tmp_path / "book.sqlite")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    for path, folder in zip(given, ["work", "work", "hw1", "hw1"], strict=True):
        assert f"every input in {path} lies in its folder '{folder}', which names their student" in said


def test_a_folder_of_students_or_a_notebook_given_is_no_lone_folder():
    from coursekit.grading.batch import Outcome
    from coursekit.grading.ownership_report import LoneFolder, lone_folders

    outcomes = [Outcome(source, None, LESSON) for source in (
        "/in/ada/x.ipynb", "/in/bob/work/x.ipynb", "/in/x--cyd.ipynb", "/one/x.ipynb", "/e.zip!ada/x.ipynb",
        "/e.zip!bob/x.ipynb", "/solo/ada/work/x.ipynb", "/solo/ada/y.ipynb", "/z.zip!hw/a/x.ipynb")]
    assert lone_folders(["/in", "/one/x.ipynb", "/e.zip", "/solo", "/z.zip", "/none"], outcomes) == [
        LoneFolder("/solo", "ada"), LoneFolder("/z.zip", "hw")]


def test_a_students_own_places_with_the_same_bytes_or_one_place_over_time_are_not_reported():
    from coursekit.grading.batch import Outcome
    from coursekit.grading.ownership_report import SeveralPlaces, several_places

    def outcome(source, student, content_hash, lesson=LESSON):
        return Outcome(source, student, lesson, content_hash=content_hash)

    assert several_places([outcome("/in/ada/work/x.ipynb", "ada", "1"), outcome("/in/ada/x.ipynb", "ada", "1"),
                           outcome("/in/bob/x.ipynb", "bob", "2"), outcome("/in/x--cyd.ipynb", "cyd", "3"),
                           outcome("/old/ada/y.ipynb", "ada", "4", lesson="01_chain_rule"),
                           outcome("/new/ada/y.ipynb", "ada", "5", lesson="01_chain_rule")]) == []
    assert several_places([outcome("/s/section1/ada/x.ipynb", "section1", "1"),
                           outcome("/s/section1/bob/x.ipynb", "section1", "2"),
                           outcome("/i.zip!inbox/ｃｙｄ/x.ipynb", "ｃｙｄ", "3")]) == [
        SeveralPlaces("section1", LESSON, ("ada/x.ipynb", "bob/x.ipynb"))]


def test_a_notebook_named_after_its_lesson_alone_names_nobody_but_an_id_that_looks_like_one_does(fake_grading,
                                                                                               tmp_path):
    # red team V: `grade inbox/*` made each student's LESSON.ipynb the work of one student named LESSON; red team W:
    # the first fix refused 23_bob.ipynb too, an id that only looks like a lesson's name
    for student in ("ada", "bob"):
        (tmp_path / student).mkdir()
        (tmp_path / student / f"{LESSON}.ipynb").write_bytes(FULL)
    (tmp_path / "23_cyd.ipynb").write_bytes(FULL)
    with Gradebook(tmp_path / "book.sqlite") as book:
        outcomes = grade(book, tmp_path / "ada", tmp_path / "bob", tmp_path / "23_cyd.ipynb")
        assert sorted((str(o.student), o.grade is not None) for o in outcomes) == [
            ("23_cyd", True), ("None", False), ("None", False)]
        assert all(o.reason.startswith(f"nothing names the student of '{LESSON}.ipynb'") for o in outcomes if o.reason)
        assert totals(book, tmp_path) == {"23_cyd": MAX_POINTS}
        # red team Z: the rows kept the lesson's name as their student, and the dashboard's "grade again" (which
        # takes a row's student as it is) graded the class as one student
        keys = [o.key for o in outcomes if o.reason]
        assert [row[0] for row in book.db.execute("SELECT student FROM submissions WHERE key IN (?, ?)", keys)] == [
            None, None]
        assert all(queue.enqueue_regrade(book.db, key) is None for key in keys)
