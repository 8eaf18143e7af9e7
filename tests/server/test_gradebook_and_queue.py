"""Schema version 4: a version-3 gradebook gains the server's tables and columns, keeping its rows; a mistake is
recorded per result; the queue records each upload once, even when a worker outlives its server's restart; tokens
are stored hashed."""

import datetime as dt
import io
import json
import os
import sqlite3
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from server_helpers import LESSON, MASTERS, ROOT, ROSTER, UNTOUCHED

from coursekit.grading import gradebook_schema
from coursekit.grading.gradebook import Entry, Gradebook
from coursekit.grading.intake import Rejected, read_submissions
from coursekit.grading.verdicts import Grade
from coursekit.grading.verdicts import TestResult as Result
from coursekit.server import queue, tokens, worker

THIRD_SCHEMA = """
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, notebook_hash TEXT,
    source TEXT NOT NULL, student TEXT, lesson TEXT, submitted_at TEXT, arrival INTEGER NOT NULL,
    received_at TEXT NOT NULL, content BLOB, state TEXT NOT NULL, reason TEXT,
    points REAL, max_points REAL, protections TEXT, seconds REAL);
CREATE TABLE results (
    submission INTEGER NOT NULL REFERENCES submissions (id), grade_id TEXT NOT NULL, status TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, message TEXT, PRIMARY KEY (submission, grade_id));
CREATE TABLE cell_problems (
    submission INTEGER NOT NULL REFERENCES submissions (id), cell INTEGER NOT NULL, status TEXT NOT NULL,
    cause TEXT NOT NULL, start TEXT NOT NULL, names TEXT NOT NULL);
INSERT INTO submissions VALUES (1, 'k', 'h', 'n', 'in/ada.ipynb', 'ada', '07_efficiency', '2025-01-01', 1,
    '2025-01-02', x'7b7d', 'graded', NULL, 2.0, 3.0, '[]', 0.1);
INSERT INTO results VALUES (1, 'first', 'passed', 2.0, 2.0, 'well done'), (1, 'second', 'failed', 0.0, 1.0, 'no');
PRAGMA user_version = 3;
"""


MASTER = MASTERS[LESSON]


def entry(key: str) -> Entry:
    return Entry(key, "upload", b"{}", "h2", "n2", "bob", LESSON, "2025-02-01T00:00:00.000000+00:00", 2)


def test_a_version_3_gradebook_gains_the_server_tables_and_columns_keeping_its_rows(tmp_path):
    db = sqlite3.connect(tmp_path / "book.sqlite")
    db.executescript(THIRD_SCHEMA)
    db.close()
    with Gradebook(tmp_path / "book.sqlite") as book:
        assert book.db.execute("PRAGMA user_version").fetchone()[0] == gradebook_schema.SCHEMA_VERSION == 4
        assert book.results("k") == [("first", "passed", 2.0, 2.0, "well done"), ("second", "failed", 0.0, 1.0, "no")]
        assert book.mistakes("k") == {} and book.db.execute("SELECT late FROM submissions").fetchone() == (0,)
        tables = {name for (name,) in book.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"queue", "roster", "tokens"} <= tables
        book.record(entry("k2"), Grade(LESSON, [Result("first", "failed", 0.0, 2.0, "x", "same for both")]))
        assert book.mistakes("k2") == {"first": "same for both"}
    with Gradebook(tmp_path / "book.sqlite") as book:  # opening again changes nothing
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 2


def test_a_worker_whose_row_was_handed_to_another_after_a_restart_records_nothing(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        queue.enqueue(book.db, "ada", LESSON, f"{LESSON}--ada.ipynb", b"{}", dt.datetime.now(dt.UTC), False)
        stale = queue.claim(book.db)
        assert queue.recover(book.db) == 1  # the server restarted while the row was being graded
        fresh = queue.claim(book.db)
        assert fresh.id == stale.id and fresh.claim != stale.claim and queue.claim(book.db) is None
        grade = Grade(LESSON, [Result("first", "passed", 1.0, 1.0)])
        with pytest.raises(queue.ClaimLost):
            book.record(entry("late"), grade, then=queue.finish(stale))
        assert not book.known("late")  # rolled back with the claim's check
        book.record(entry("k"), grade, then=queue.finish(fresh))
        assert book.db.execute("SELECT state, recorded, content FROM queue").fetchone() == ("done", 1, None)


def test_tokens_are_stored_hashed_and_a_reissued_one_replaces_the_old(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        issued = {one.student: one.token for one in tokens.import_roster(book.db, ROSTER)}
        stored = "".join(str(row) for row in book.db.execute("SELECT * FROM tokens"))
        assert all(token not in stored for token in issued.values())
        assert tokens.who_has(book.db, issued["ada"]) == tokens.Person("student", "ada")
        new = tokens.reissue(book.db, "ada")
        assert tokens.who_has(book.db, issued["ada"]) is None
        assert tokens.who_has(book.db, new.token) == tokens.Person("student", "ada")
        assert tokens.import_roster(book.db, ROSTER) == []  # no new student: no token


def test_the_roster_is_listed_one_student_a_line_in_tab_separated_fields(tmp_path):
    from click.testing import CliRunner

    from coursekit.cli import main

    with Gradebook(tmp_path / "book.sqlite") as book:
        tokens.import_roster(book.db, ROSTER)
    listed = CliRunner().invoke(main, ["roster", "list", "--gradebook", str(tmp_path / "book.sqlite")])
    assert listed.exit_code == 0, listed.output
    # tabs (it printed a backslash and a t), and a name's markup as text
    assert listed.output.splitlines() == ["ada\tAda Lovelace\tada@example.org", "bob\t<b>Bob</b>\tbob@example.org",
                                          "cy\tCy\tcy@example.org"]


def test_a_roster_whose_tokens_cannot_be_delivered_is_not_imported(tmp_path):
    def lost(_issued):
        raise OSError("disk full")

    with Gradebook(tmp_path / "book.sqlite") as book:
        with pytest.raises(OSError):
            tokens.import_roster(book.db, ROSTER, deliver=lost)
        assert tokens.roster(book.db) == [] and book.db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0] == 0


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='",\r\n'), min_size=1, max_size=30))
def test_a_roster_with_an_invalid_id_is_refused_naming_its_line(text):
    from coursekit.grading.student_ids import is_valid_student_id

    raw = f"id,name,email\nada,Ada,a@x\n{text},X,x@x\n".encode()
    line = text.strip()
    if line and not is_valid_student_id(line):
        with pytest.raises(tokens.RosterError, match="line 3"):
            tokens.read_roster(raw)


@pytest.mark.parametrize("manifest", [
    {"student": "bob", "submitted_at": "9999-12-31T23:59:59+00:00"},  # another student, the end of time
    {"student": "ada", "submitted_at": "2025-01-02T03:04:05"},        # no time zone
    {},                                                               # no student, no time
])
def test_an_upload_is_the_signed_in_students_at_the_servers_time_whatever_its_manifest_says(tmp_path, manifest):
    """The course server's identity is the login's and its time the server's clock: the intake's checks of a
    manifest against its file name (for `coursekit grade`) neither reject an upload nor change its owner."""
    class Grader:
        masters = {LESSON: MASTER}

        def grade(self, lesson, raw_notebook):
            return Grade(lesson, [Result("first", "passed", 1.0, 1.0)])

    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"lesson": LESSON} | manifest))
        archive.writestr("notebook.ipynb", UNTOUCHED)
    received = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    with Gradebook(tmp_path / "book.sqlite") as book:
        queue.enqueue(book.db, "ada", LESSON, f"{LESSON}--ada.submission.zip", content.getvalue(), received, False)
        worker.grade_job(queue.claim(book.db), Grader(), book)
        row = book.db.execute("SELECT student, lesson, submitted_at, state FROM submissions").fetchone()
    assert row == ("ada", LESSON, "2026-03-01T12:00:00.000000+00:00", "graded")


class _PassingGrader:
    """Grades any notebook of LESSON 1 / 1 (what the queue and the gradebook do with a result is what is tested)."""

    masters = {LESSON: MASTER}

    def grade(self, lesson, raw_notebook):
        return Grade(lesson, [Result("first", "passed", 1.0, 1.0)])


def test_a_regrade_replaces_the_row_it_regrades_even_when_its_key_came_from_what_the_row_does_not_keep(tmp_path):
    """`coursekit grade` keys a file dated in the future by that time (and counts it as the epoch), and a rejected
    input by where it came from: a regrade from the dashboard, which knows only what the row stores, records under
    the row's own key, so the row is replaced and no second one appears."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    future = inbox / f"{LESSON}--ada.ipynb"
    future.write_bytes(UNTOUCHED)
    ahead = dt.datetime.now(dt.UTC).timestamp() + 400 * 86400
    os.utime(future, (ahead, ahead))
    (inbox / f"{LESSON}--bob.ipynb").write_bytes(b"\x00not a notebook")
    with Gradebook(tmp_path / "book.sqlite") as book:
        for item in read_submissions(inbox):
            if isinstance(item, Rejected):
                book.reject(Entry.of_rejected(item), item.reason)
            else:
                assert item.time_as_given is not None and item.submitted_at.startswith("1970")
                book.record(Entry.of_submission(item, LESSON), _PassingGrader().grade(LESSON, item.notebook_raw))
        rows = "SELECT key, student, state, received_at FROM submissions ORDER BY student"
        before = book.db.execute(rows).fetchall()
        assert [(student, state) for _, student, state, _ in before] == [("ada", "graded"), ("bob", "rejected")]
        for key, *_ in before:
            assert queue.enqueue_regrade(book.db, key) is not None
            worker.grade_job(queue.claim(book.db), _PassingGrader(), book)
        after = book.db.execute(rows).fetchall()
        assert [key for key, *_ in after] == [key for key, *_ in before]  # the same two rows, no third
        assert all(new[3] > old[3] for new, old in zip(after, before, strict=True))  # each written again
        assert [state for _, _, state, _ in after] == ["graded", "rejected"]
        assert book.db.execute("SELECT regrade_of FROM queue ORDER BY id").fetchall() == [(k,) for k, *_ in before]


class _AllLessonsGrader(_PassingGrader):
    masters = MASTERS


def test_an_upload_of_another_lessons_notebook_is_rejected_saying_so_not_graded_0(tmp_path):
    # lesson 03's notebook uploaded as 07: graded as 07 it got 0 points, and became the latest
    other = (ROOT / "exercises" / "03_activations.ipynb").read_bytes()
    with Gradebook(tmp_path / "book.sqlite") as book:
        queue.enqueue(book.db, "ada", LESSON, f"{LESSON}.ipynb", other, dt.datetime(2026, 3, 1, tzinfo=dt.UTC), False)
        worker.grade_job(queue.claim(book.db), _AllLessonsGrader(), book)
        state, reason = book.db.execute("SELECT state, reason FROM submissions").fetchone()
    assert state == "rejected" and reason.startswith(
        f"handed in as {LESSON}, but its cells are those of 03_activations"), reason


def test_the_queue_grades_students_in_turn_and_first_those_with_nothing_being_graded(tmp_path):
    """One student's many uploads, each holding a worker for its whole budget, kept everyone else waiting: the next
    row is that of a student with nothing being graded, and of those the one served least recently."""
    received = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    with Gradebook(tmp_path / "book.sqlite") as book:
        for student in ["eve"] * 4 + ["ada", "bob", "eve", "ada"]:
            queue.enqueue(book.db, student, LESSON, f"{LESSON}--{student}.ipynb", b"{}", received, False)
        one_worker = []
        while (job := queue.claim(book.db)) is not None:  # each graded before the next is claimed
            one_worker.append(job.student)
            book.db.execute("UPDATE queue SET state = 'done' WHERE id = ?", (job.id,))
            book.db.commit()
        assert one_worker == ["eve", "ada", "bob", "eve", "ada", "eve", "eve", "eve"], one_worker
        book.db.execute("UPDATE queue SET state = 'queued', claimed_at = NULL")
        book.db.commit()
        busy = [queue.claim(book.db).student, queue.claim(book.db).student]  # two workers, eve's first upload sleeps
        assert busy == ["eve", "ada"]


def test_a_gradebooks_write_ahead_log_is_cut_back_after_a_busy_minute(tmp_path):
    """While the web process reads, the log cannot start over and grows; without a limit it kept that size for good
    (642 MB after a flood of uploads)."""
    from coursekit.grading.gradebook import JOURNAL_SIZE_LIMIT

    with Gradebook(tmp_path / "book.sqlite") as book:
        book.db.execute("PRAGMA journal_mode=WAL")
        reader = sqlite3.connect(tmp_path / "book.sqlite")
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM submissions").fetchone()  # a reader's snapshot: the log must keep all
        big = b"x" * (4 * 1024 * 1024)
        for n in range(24):  # 96 MB through the log, past the limit
            book.reject(Entry(f"flood-{n}", "upload", big, f"h{n}", None, "eve", LESSON, None, n), "not a notebook")
        log = tmp_path / "book.sqlite-wal"
        assert log.stat().st_size > JOURNAL_SIZE_LIMIT
        reader.rollback()
        reader.close()
        book.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        book.reject(entry("after"), "not a notebook")  # the log starts over, and is cut back to the limit
        assert log.stat().st_size <= JOURNAL_SIZE_LIMIT


def test_a_row_the_full_disk_kept_from_going_back_to_the_queue_is_put_back_once_it_can_be(config, monkeypatch):
    # a red team's full disk failed the grade's record and then the row's release: it stayed "grading" until a
    # restart of the server
    import threading

    with Gradebook(config.gradebook) as book:
        queue.enqueue(book.db, "ada", LESSON, f"{LESSON}.ipynb", UNTOUCHED, dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                      False)
    grade_job, release, failures = worker.grade_job, queue.release, {"grade": 1, "release": 1}

    def fails_once(name, real):
        def call(*args, **kwargs):
            if failures[name]:
                failures[name] -= 1
                raise sqlite3.OperationalError("database or disk is full")
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(worker, "grade_job", fails_once("grade", grade_job))
    monkeypatch.setattr(queue, "release", fails_once("release", release))
    assert worker.work(config, threading.Event(), masters=MASTERS, until_empty=True) == 1
    with Gradebook(config.gradebook) as book:
        assert book.db.execute("SELECT state, attempts FROM queue").fetchall() == [("done", 2)]
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1


def test_choosing_the_next_upload_looks_at_each_waiting_student_once_not_at_each_row(tmp_path):
    # per row, 4,000 uploads waiting and 4,000 done of one student made a claim take 15 s, holding the write lock
    with Gradebook(tmp_path / "book.sqlite") as book:
        with book.db:
            book.db.executemany(
                "INSERT INTO queue (student, lesson, name, content, received_at, state, claimed_at) "
                "VALUES ('mallory', ?, 'x', NULL, 't', ?, ?)",
                [(LESSON, "done", f"2026-03-01T00:00:00.{i:06d}") for i in range(4000)] +
                [(LESSON, "queued", None) for _ in range(4000)])
            book.db.execute("INSERT INTO queue (student, lesson, name, content, received_at) "
                            "VALUES ('ada', ?, 'x', x'00', 't')", (LESSON,))
        steps = [0]

        def count(_=None):
            steps[0] += 1
            return 0

        book.db.set_progress_handler(count, 1000)  # a call every 1,000 of SQLite's instructions
        assert queue.claim(book.db).student == "ada"  # served least recently (never)
        book.db.set_progress_handler(None, 0)
    assert steps[0] < 200, steps  # per row, it took some 350 million of them


def test_a_student_with_twenty_uploads_waiting_cannot_queue_another(tmp_path):
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with Gradebook(tmp_path / "book.sqlite") as book:
        for _ in range(queue.WAITING_PER_STUDENT):
            queue.enqueue(book.db, "eve", LESSON, "x.ipynb", b"{}", when, False)
        with pytest.raises(queue.TooManyWaiting):
            queue.enqueue(book.db, "eve", LESSON, "x.ipynb", b"{}", when, False)
        queue.enqueue(book.db, "ada", LESSON, "x.ipynb", b"{}", when, False)  # others are not held up
        job = queue.claim(book.db)
        book.db.execute("UPDATE queue SET state = 'done' WHERE id = ?", (job.id,))
        book.db.commit()
        queue.enqueue(book.db, job.student, LESSON, "x.ipynb", b"{}", when, False)  # one graded: room for one more


def test_a_second_server_is_refused_whatever_path_leads_it_to_the_gradebook(tmp_path):
    # red team Z: a second server given a symbolic link to the gradebook took a lock of its own, and at its start put
    # back in the queue an upload the first was grading, which was graded twice
    from dataclasses import replace

    from coursekit.server.config import ConfigError, ServerConfig
    from coursekit.server.run import only_server

    (tmp_path / "book.sqlite").touch()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "book.sqlite").symlink_to(tmp_path / "book.sqlite")
    with only_server(replace(ServerConfig(), gradebook=tmp_path / "book.sqlite")):
        for path in (tmp_path / "book.sqlite", tmp_path / "elsewhere" / "book.sqlite"):
            with pytest.raises(ConfigError, match="one server per gradebook"), \
                    only_server(replace(ServerConfig(), gradebook=path)):
                pass
