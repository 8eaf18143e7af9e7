"""A gradebook written by an earlier coursekit (keyed by content hash) is upgraded on open, in one transaction."""

import hashlib
import io
import json
import sqlite3
import zipfile

import pytest

from coursekit.grading import batch, gradebook_schema
from coursekit.grading.batch import grade_paths
from coursekit.grading.gradebook import Entry, Gradebook
from graded_submissions import ROOT

LESSON = "07_efficiency"
EXERCISE = (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()
# The first schema, as coursekit 0.1.0 wrote it.
FIRST_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    hash TEXT PRIMARY KEY, source TEXT, student TEXT, lesson TEXT, received_at TEXT,
    content BLOB, state TEXT NOT NULL, reason TEXT, points REAL, max_points REAL, protections TEXT, seconds REAL
);
CREATE TABLE IF NOT EXISTS results (
    hash TEXT NOT NULL REFERENCES submissions(hash), grade_id TEXT NOT NULL, status TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, message TEXT, PRIMARY KEY (hash, grade_id)
);
"""


def submission_file(student: str, submitted_at: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"lesson": LESSON, "student": student,
                                                      "submitted_at": submitted_at}))
        archive.writestr("notebook.ipynb", EXERCISE)
    return buffer.getvalue()


def first_schema_gradebook(path, bob_file: bytes):
    """A first-schema gradebook: ada twice (bare notebooks, 1 then 3 points), bob once (a submission file, 2 points),
    and a rejected input."""
    ada_early, ada_late = EXERCISE + b"\n", EXERCISE + b"\n\n"
    rows = [
        (ada_early, "in/07--ada.ipynb", "ada", "2025-01-01T00:00:00.000000+00:00", "graded", None, 1.0),
        (bob_file, "in/07--bob.submission.zip", "bob", "2025-01-02T00:00:00.000000+00:00", "graded", None, 2.0),
        (ada_late, "later/07--ada.ipynb", "ada", "2025-01-03T00:00:00.000000+00:00", "graded", None, 3.0),
        (b"{", "in/junk.ipynb", None, "2025-01-01T00:00:00.000000+00:00", "rejected", "invalid JSON", None),
    ]
    db = sqlite3.connect(path)
    db.executescript(FIRST_SCHEMA)
    with db:
        for content, source, student, received, state, reason, points in rows:
            digest = hashlib.sha256(content).hexdigest()
            db.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', 0.1)",
                       (digest, source, student, LESSON if student else None, received, content, state, reason,
                        points, 3.0 if points is not None else None))
            if points is not None:
                db.executemany("INSERT INTO results VALUES (?, ?, 'passed', ?, ?, 'ok')",
                               [(digest, "first", points, 1.0), (digest, "second", 0.0, 2.0)])
    db.close()


def test_a_first_schema_gradebook_is_upgraded_keeping_every_row_and_result(tmp_path):
    first_schema_gradebook(tmp_path / "book.sqlite", submission_file("bob", "2024-12-31T09:00:00Z"))
    with Gradebook(tmp_path / "book.sqlite") as book:
        assert book.db.execute("PRAGMA user_version").fetchone()[0] == gradebook_schema.SCHEMA_VERSION
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 4
        assert book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 6
        assert book.rejected() == [("in/junk.ipynb", "invalid JSON")]
        latest = {student: book.graded(key) for student, _, key in book.latest()}
        assert latest == {"ada": ("ada", LESSON, 3.0, 3.0), "bob": ("bob", LESSON, 2.0, 3.0)}
        bob_time = book.db.execute("SELECT submitted_at FROM submissions WHERE student = 'bob'").fetchone()[0]
        assert bob_time == "2024-12-31T09:00:00.000000+00:00"  # read back from its manifest
        assert [r[:3] for r in book.results(dict((s, k) for s, _, k in book.latest())["bob"])] == [
            ("first", "passed", 2.0), ("second", "passed", 0.0)]
    with Gradebook(tmp_path / "book.sqlite") as book:  # opening again changes nothing
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 4


def test_a_submission_graded_before_the_upgrade_is_not_graded_again(tmp_path, monkeypatch):
    bob_file = submission_file("bob", "2024-12-31T09:00:00Z")
    first_schema_gradebook(tmp_path / "book.sqlite", bob_file)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / f"{LESSON}--bob.submission.zip").write_bytes(bob_file)
    monkeypatch.setattr(batch, "sandbox_server", None)  # nothing is graded: no server may even be started
    monkeypatch.setattr(batch, "grade_notebook", None)  # grading anything would fail this test
    with Gradebook(tmp_path / "book.sqlite") as book:
        (outcome,) = grade_paths([tmp_path / "in"], ROOT / "solutions", book, jobs=1)
    assert outcome.skipped and outcome.student == "bob"


def test_an_upgrade_that_fails_half_way_changes_nothing(tmp_path, monkeypatch):
    first_schema_gradebook(tmp_path / "book.sqlite", submission_file("bob", "2024-12-31T09:00:00Z"))
    copied = []
    real = gradebook_schema._copy_first_schema_row

    def fails_on_the_third(db, row, arrival):
        if len(copied) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        copied.append(row)
        real(db, row, arrival)

    monkeypatch.setattr(gradebook_schema, "_copy_first_schema_row", fails_on_the_third)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        Gradebook(tmp_path / "book.sqlite")
    db = sqlite3.connect(tmp_path / "book.sqlite")
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"submissions", "results"}
    assert "key" not in {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 4
    assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 6
    db.close()
    monkeypatch.undo()
    with Gradebook(tmp_path / "book.sqlite") as book:  # and the next open upgrades it
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 4


# The second schema (user_version 2), as coursekit wrote it before cell problems were kept.
SECOND_SCHEMA = """
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, notebook_hash TEXT,
    source TEXT NOT NULL, student TEXT, lesson TEXT, submitted_at TEXT, arrival INTEGER NOT NULL,
    received_at TEXT NOT NULL, content BLOB, state TEXT NOT NULL, reason TEXT,
    points REAL, max_points REAL, protections TEXT, seconds REAL
);
CREATE INDEX submissions_by_student ON submissions (student, lesson);
CREATE INDEX submissions_by_notebook ON submissions (notebook_hash);
CREATE TABLE results (
    submission INTEGER NOT NULL REFERENCES submissions (id), grade_id TEXT NOT NULL, status TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, message TEXT, PRIMARY KEY (submission, grade_id)
);
PRAGMA user_version = 2;
"""


def second_schema_gradebook(path):
    """A version-2 gradebook: ada and bob graded (2 results each), and a rejected input."""
    db = sqlite3.connect(path)
    db.executescript(SECOND_SCHEMA)
    with db:
        for number, (student, state, points) in enumerate([("ada", "graded", 3.0), ("bob", "graded", 1.0),
                                                           (None, "rejected", None)], start=1):
            key = gradebook_schema.submission_key(student, LESSON, "0" * 64, "2025-01-01T00:00:00.000000+00:00") \
                if student else gradebook_schema.rejection_key("in/junk.ipynb", "f" * 64)
            db.execute("INSERT INTO submissions (id, key, hash, notebook_hash, source, student, lesson, submitted_at, "
                       "arrival, received_at, content, state, reason, points, max_points, protections, seconds) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', 0.1)",
                       (number, key, "f" * 64, "0" * 64 if student else None, f"in/{student or 'junk'}.ipynb",
                        student, LESSON if student else None, "2025-01-01T00:00:00.000000+00:00", number,
                        "2025-01-02T00:00:00.000000+00:00", b"{}", state, None if student else "invalid JSON",
                        points, 3.0 if student else None))
            if student:
                db.executemany("INSERT INTO results VALUES (?, ?, 'passed', ?, ?, 'well done')",
                               [(number, "first", points, 2.0), (number, "second", 0.0, 1.0)])
    db.close()


def test_a_second_schema_gradebook_gains_the_cell_problems_table_keeping_every_row(tmp_path):
    from coursekit.grading.verdicts import CellProblem, Grade
    from coursekit.grading.verdicts import TestResult as Result

    second_schema_gradebook(tmp_path / "book.sqlite")
    with Gradebook(tmp_path / "book.sqlite") as book:
        assert book.db.execute("PRAGMA user_version").fetchone()[0] == gradebook_schema.SCHEMA_VERSION
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 3
        assert book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 4
        assert book.rejected() == [("in/junk.ipynb", "invalid JSON")]
        keys = {student: key for student, _, key in book.latest()}
        assert {student: book.graded(key)[2] for student, key in keys.items()} == {"ada": 3.0, "bob": 1.0}
        assert book.cell_problems(keys["ada"]) == []  # graded before cell problems were kept: none recorded
        feedback = book.feedback(keys["ada"])
        assert "## Cells that did not run" not in feedback and "well done" in feedback
        # and the upgraded gradebook keeps the problems of what is graded next
        problem = CellProblem(2, "timeout", "ran past its 0.5 s CPU limit", "while True:", ("x",))
        entry = Entry(keys["bob"], "in/bob.ipynb", b"{}", "f" * 64, "0" * 64, "bob", LESSON,
                            "2025-01-01T00:00:00.000000+00:00", 2)
        book.record(entry, Grade(LESSON, [Result("first", "error", 0.0, 2.0, "x")], cell_problems=[problem]))
        assert book.cell_problems(keys["bob"]) == [problem]
    with Gradebook(tmp_path / "book.sqlite") as book:  # opening again changes nothing
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 3
        assert book.db.execute("SELECT COUNT(*) FROM cell_problems").fetchone()[0] == 1


def test_an_upgrade_keeps_a_row_with_the_student_it_was_filed_under_whatever_its_manifest_says(tmp_path):
    # A red team's: mallory's graded submission file names "victim" in its manifest; read back without its folder,
    # the upgrade handed the row, and its grade, to victim.
    first_schema_gradebook(tmp_path / "book.sqlite", submission_file("victim", "2024-12-31T09:00:00Z"))
    db = sqlite3.connect(tmp_path / "book.sqlite")
    with db:
        db.execute("UPDATE submissions SET student = 'mallory', source = 'in/mallory/07.submission.zip' "
                   "WHERE source = 'in/07--bob.submission.zip'")
    db.close()
    with Gradebook(tmp_path / "book.sqlite") as book:
        students = {student for student, _, _ in book.latest()}
        assert students == {"ada", "mallory"}
