"""The gradebook's tables, the keys of its rows, and the upgrade of a gradebook written by an earlier coursekit.

A submission is (student, lesson, notebook bytes, submitted time): its row's key hashes the four,
so two students who hand in the same bytes are two rows, and one student's resubmission of the
same bytes at a later time is a new row. An input that was rejected before any of the four could
be known is keyed by where it came from and its bytes.

The first schema keyed a submission by its content hash alone (``submissions.hash`` the primary
key). Opening such a gradebook converts it, in one transaction, keeping every row and result.
Version 2 (the keys above) had no ``cell_problems`` table: opening it adds the table, in one
transaction with the new version number, and its rows stay as they are (they have no cell problems
recorded: they were graded before cell problems were kept). Version 3 had no course server: opening it
adds the server's tables (the queue of uploads, the roster, the tokens) and two columns,
``results.mistake`` (the registered mistake a failed check recognised) and ``submissions.late``
(handed in after its lesson's deadline), empty and 0 on the rows it holds, in one transaction with
the new version number. Columns added since (``submissions.language``, ``queue.regrade_of``) are added where
missing, empty, whatever the version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3

SCHEMA_VERSION = 4  # PRAGMA user_version of a gradebook with these tables

TABLES = (
    """CREATE TABLE IF NOT EXISTS submissions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,      -- submission_key or rejection_key
        hash TEXT NOT NULL,            -- SHA-256 of the bytes as received (content)
        notebook_hash TEXT,            -- SHA-256 of the notebook's bytes (a submission file's notebook member)
        source TEXT NOT NULL, student TEXT, lesson TEXT,
        submitted_at TEXT,             -- ISO 8601, UTC, to the microsecond: the manifest's, or the file's time
        arrival INTEGER NOT NULL,      -- the order the grader read inputs in, across batches: ties on time
        received_at TEXT NOT NULL,     -- when this row was last written
        content BLOB, state TEXT NOT NULL, reason TEXT,
        points REAL, max_points REAL, protections TEXT, seconds REAL,
        late INTEGER NOT NULL DEFAULT 0, -- since version 4: received after its lesson's deadline (the server's)
        language TEXT                  -- the language its messages were written in (en, ja); added where missing
    )""",
    "CREATE INDEX IF NOT EXISTS submissions_by_student ON submissions (student, lesson)",
    "CREATE INDEX IF NOT EXISTS submissions_by_notebook ON submissions (notebook_hash)",
    # Recording a grade removes earlier rejections of the same bytes: found by this index rather than by a scan of
    # every row, which reads every row's content (25 ms a grade in a gradebook of 2,000 submissions).
    "CREATE INDEX IF NOT EXISTS submissions_by_hash ON submissions (hash)",
    """CREATE TABLE IF NOT EXISTS results (
        submission INTEGER NOT NULL REFERENCES submissions (id), grade_id TEXT NOT NULL, status TEXT NOT NULL,
        points REAL NOT NULL, max_points REAL NOT NULL, message TEXT,
        mistake TEXT,                  -- since version 4: the registered mistake the check recognised, if any
        PRIMARY KEY (submission, grade_id)
    )""",
    # Since version 3: the student cells that did not run to their end (verdicts.CellProblem), in cell order.
    """CREATE TABLE IF NOT EXISTS cell_problems (
        submission INTEGER NOT NULL REFERENCES submissions (id), cell INTEGER NOT NULL, status TEXT NOT NULL,
        cause TEXT NOT NULL, start TEXT NOT NULL,
        names TEXT NOT NULL            -- JSON list of the names the cell defines
    )""",
    "CREATE INDEX IF NOT EXISTS cell_problems_by_submission ON cell_problems (submission, cell)",
    # Since version 4, the course server's tables. The queue: every upload as received, until a worker has
    # recorded its result in the same transaction that marks it done (see coursekit/server/queue.py).
    """CREATE TABLE IF NOT EXISTS queue (
        id INTEGER PRIMARY KEY,
        student TEXT NOT NULL, lesson TEXT NOT NULL,
        name TEXT NOT NULL,            -- the upload's file name as the intake reads it (lesson--student.ipynb)
        content BLOB,                  -- the bytes as received; cleared once done (the gradebook keeps them)
        received_at TEXT NOT NULL,     -- the server's clock (ISO 8601, UTC): the submitted time, and lateness
        late INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'queued',  -- queued, grading, done
        claim TEXT, claimed_at TEXT,   -- the worker's claim on a row being graded (a random token)
        attempts INTEGER NOT NULL DEFAULT 0,   -- claims so far: a row that stops its worker again and again ends
        recorded INTEGER NOT NULL DEFAULT 0,   -- results recorded for it: 1 once done, never more
        submission_key TEXT, done_at TEXT,
        regrade_of TEXT                -- the key of the gradebook row a regrade replaces; added where missing
    )""",
    "CREATE INDEX IF NOT EXISTS queue_by_state ON queue (state, id)",
    "CREATE INDEX IF NOT EXISTS queue_by_student ON queue (student, id)",
    # the next row to claim, chosen per student (see coursekit/server/queue.py): what each student has being graded,
    # and when they were last served, each read from an index
    "CREATE INDEX IF NOT EXISTS queue_by_student_state ON queue (student, state, id)",
    "CREATE INDEX IF NOT EXISTS queue_by_student_claimed ON queue (student, claimed_at)",
    # a submission's uploads (the instructor's history of a student): without it, a scan of the queue per submission
    "CREATE INDEX IF NOT EXISTS queue_by_submission ON queue (submission_key, id)",
    """CREATE TABLE IF NOT EXISTS roster (
        student TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, added_at TEXT NOT NULL
    )""",
    # Tokens are kept as SHA-256 hashes only (see coursekit/server/tokens.py); role: student or instructor.
    """CREATE TABLE IF NOT EXISTS tokens (
        hash TEXT PRIMARY KEY, role TEXT NOT NULL, student TEXT, issued_at TEXT NOT NULL, revoked_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS tokens_by_student ON tokens (student)",
)
# Columns added to a table that an earlier version created: (table, column, its definition).
ADDED_COLUMNS = (
    ("results", "mistake", "TEXT"),
    ("submissions", "late", "INTEGER NOT NULL DEFAULT 0"),
    ("submissions", "language", "TEXT"),  # issue 16; a NULL language is English
    ("queue", "regrade_of", "TEXT"),  # a regrade records under the key it regrades, whatever its time or source
)


def submission_key(student: str, lesson: str | None, notebook_hash: str, submitted_at: str) -> str:
    """The key of a submission: its student, lesson, notebook bytes (their hash) and submitted time."""
    return _digest(["submission", student, lesson, notebook_hash, submitted_at])


def rejection_key(source: str, content_hash: str) -> str:
    """The key of an input rejected before it could be told apart otherwise: where it came from, and its bytes."""
    return _digest(["rejected", source, content_hash])


def storable_text(text: str | None) -> str | None:
    """``text`` as SQLite can keep it (UTF-8): the bytes of a file name that are not UTF-8 (surrogate escapes, as
    Python reads such a name) written ``\\xff``, any other lone surrogate (JSON can write one) ``\\ud800``. A
    student's ``caf\\xe9.ipynb`` or a manifest's lesson "\\ud800" made every write of the row raise, and the whole
    batch with it."""
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _digest(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts).encode("utf-8", "surrogatepass")).hexdigest()


def now() -> str:
    """The current time as the gradebook stores times."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def prepare(db: sqlite3.Connection) -> None:
    """Make ``db`` a gradebook of the current schema: create its tables, or upgrade one of an earlier schema."""
    if _is_first_schema(db):
        _upgrade_first_schema(db)
    db.execute("BEGIN IMMEDIATE")  # one transaction: the tables added and the version, or nothing
    try:
        for statement in TABLES:  # each creates only what is missing: a version-2 gradebook gets cell_problems
            db.execute(statement)
        for table, column, definition in ADDED_COLUMNS:  # a version-3 gradebook gets the columns of version 4
            if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.rollback()
        raise
    db.commit()


def _is_first_schema(db: sqlite3.Connection) -> bool:
    columns = {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
    return bool(columns) and "key" not in columns


def _upgrade_first_schema(db: sqlite3.Connection) -> None:
    """Copy the first schema's rows into the current tables, all in one transaction: a failure changes nothing."""
    db.execute("BEGIN IMMEDIATE")  # also keeps a second grader from writing the old tables meanwhile
    if not _is_first_schema(db):  # another process upgraded it while this one waited for the lock
        db.rollback()
        return
    try:
        db.execute("ALTER TABLE submissions RENAME TO submissions_first_schema")
        db.execute("ALTER TABLE results RENAME TO results_first_schema")
        for statement in TABLES:
            db.execute(statement)
        old_rows = db.execute(
            "SELECT hash, source, student, lesson, received_at, content, state, reason, points, max_points, "
            "protections, seconds FROM submissions_first_schema ORDER BY received_at, rowid").fetchall()
        for arrival, row in enumerate(old_rows, start=1):
            _copy_first_schema_row(db, row, arrival)
        db.execute("DROP TABLE results_first_schema")
        db.execute("DROP TABLE submissions_first_schema")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.rollback()
        raise
    db.commit()


def _copy_first_schema_row(db: sqlite3.Connection, row: tuple, arrival: int) -> None:
    """One first-schema row in the current tables, with its results; the submitted time and notebook hash are read
    back from its content (a submission file's manifest), else taken as its grading time and content hash."""
    content_hash, source, student, lesson, received_at, content, state, *rest = row
    content = content if content is not None else b""
    notebook_hash, submitted_at = content_hash, received_at
    if state == "graded":
        from coursekit.grading.intake import Submission, read_bytes

        item = read_bytes(source or "", content, "", received_at)
        if isinstance(item, Submission):
            # The row stays the student's it was filed under: the manifest read back (without the folder it came
            # from) could name another, who would be handed the grade
            notebook_hash, submitted_at, student = item.notebook_hash, item.submitted_at, student or item.student
        key = submission_key(student, lesson, notebook_hash, submitted_at)
    else:
        notebook_hash = None
        key = rejection_key(source or "", content_hash)
    if db.execute("SELECT 1 FROM submissions WHERE key = ?", (key,)).fetchone():
        return  # the same submission under two content hashes (zipped twice): its first grading is kept
    cursor = db.execute(
        "INSERT INTO submissions (key, hash, notebook_hash, source, student, lesson, submitted_at, arrival, "
        "received_at, content, state, reason, points, max_points, protections, seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key, content_hash, notebook_hash, source or "", student, lesson, submitted_at, arrival, received_at or now(),
         content, state, *rest))
    db.execute("INSERT INTO results (submission, grade_id, status, points, max_points, message) "
               "SELECT ?, grade_id, status, points, max_points, message FROM results_first_schema WHERE hash = ?",
               (cursor.lastrowid, content_hash))
