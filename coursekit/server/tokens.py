"""The roster (id, name, e-mail per student) and the tokens that let each one in, stored hashed.

A token is ``secrets.token_urlsafe(32)``: 256 random bits. Only its SHA-256 is stored. A slow password hash
(bcrypt, scrypt) exists to make guessing a *human-chosen* password from its hash expensive; nobody can guess
256 random bits, fast hash or not, so SHA-256 protects a stolen gradebook just as well, and it lets the server
find a token's row by its hash in one index lookup. The token itself is shown once, when it is issued (the CSV
to mail out, or the instructor's line in the terminal), and is never stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coursekit.grading.gradebook_schema import now
from coursekit.grading.notebook_json import NotASubmission
from coursekit.grading.student_ids import normalize_student_id
from coursekit.server import messages

STUDENT, INSTRUCTOR = "student", "instructor"
TOKEN_BYTES = 32
MAX_ROSTER_BYTES = 10 * 1024 * 1024  # a roster of 100,000 students is a few MB


class RosterError(ValueError):
    """A roster that cannot be imported, with the line and what is wrong; nothing of it was imported."""


@dataclass(frozen=True)
class Person:
    """Who a token belongs to: a student (with their id) or the instructor (student None)."""

    role: str
    student: str | None = None

    @property
    def is_instructor(self) -> bool:
        return self.role == INSTRUCTOR


@dataclass(frozen=True)
class Issued:
    """A token just issued, to hand out once: the student's row of the roster, and the token."""

    student: str
    name: str
    email: str
    token: str


def hash_token(token: str) -> str:
    """The SHA-256 of a token, as stored (see the module's docstring for why a fast hash is right here)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def read_roster(raw: bytes) -> list[tuple[str, str, str]]:
    """(id, name, e-mail) of each student in a roster CSV (a header row ``id,name,email`` in any order and case;
    ``student`` or ``student_id`` may name the id column). RosterError naming the line for anything wrong."""
    if len(raw) > MAX_ROSTER_BYTES:
        raise RosterError(messages.ROSTER_TOO_LARGE.format(limit=MAX_ROSTER_BYTES // 1024 // 1024))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterError(messages.ROSTER_NOT_TEXT.format(error=error)) from error
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise RosterError(str(messages.ROSTER_EMPTY))
    header = [cell.strip().lower() for cell in rows[0]]
    columns = {}
    for wanted, names in (("id", ("id", "student", "student_id")), ("name", ("name",)), ("email", ("email", "e-mail"))):
        found = [index for index, cell in enumerate(header) if cell in names]
        if not found:
            raise RosterError(messages.ROSTER_NO_COLUMN.format(column=wanted))
        columns[wanted] = found[0]
    students, seen = [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(columns.values()):
            raise RosterError(messages.ROSTER_SHORT_ROW.format(line=line, count=len(row)))
        try:
            student = normalize_student_id(row[columns["id"]].strip())
        except NotASubmission as problem:
            raise RosterError(messages.ROSTER_BAD_ID.format(line=line, problem=problem)) from problem
        if student in seen:
            raise RosterError(messages.ROSTER_TWICE.format(line=line, student=student, first=seen[student]))
        seen[student] = line
        students.append((student, row[columns["name"]].strip()[:200], row[columns["email"]].strip()[:200]))
    return students


def import_roster(db: sqlite3.Connection, raw: bytes, reissue: bool = False,
                  deliver: Callable[[list[Issued]], object] | None = None) -> list[Issued]:
    """Add the students of a roster CSV (see ``read_roster``), in one transaction; a token for each new student
    (and, with ``reissue``, a new one for every student of the roster, the old one revoked). The tokens issued.

    ``deliver(issued)`` runs inside the transaction (the CLI writes the CSV to mail out there): should it fail,
    nothing is imported, so that no token exists whose only copy was lost."""
    students = read_roster(raw)
    issued = []
    with db:
        for student, name, email in students:
            known = db.execute("SELECT 1 FROM roster WHERE student = ?", (student,)).fetchone() is not None
            db.execute("INSERT INTO roster (student, name, email, added_at) VALUES (?, ?, ?, ?) ON CONFLICT (student) "
                       "DO UPDATE SET name = excluded.name, email = excluded.email", (student, name, email, now()))
            if not known or reissue:
                issued.append(Issued(student, name, email, _issue(db, STUDENT, student)))
        if deliver is not None and issued:
            deliver(issued)
    return issued


def reissue(db: sqlite3.Connection, student: str) -> Issued:
    """A new token for one student on the roster (the old one stops working); KeyError when not on it."""
    with db:
        row = db.execute("SELECT student, name, email FROM roster WHERE student = ?", (student,)).fetchone()
        if row is None:
            raise KeyError(messages.ROSTER_UNKNOWN.format(student=student))
        return Issued(*row, _issue(db, STUDENT, row[0]))


def issue_instructor_token(db: sqlite3.Connection) -> str:
    """A new instructor token (an earlier one stops working)."""
    with db:
        return _issue(db, INSTRUCTOR, None)


def _issue(db: sqlite3.Connection, role: str, student: str | None) -> str:
    token = new_token()
    db.execute("UPDATE tokens SET revoked_at = ? WHERE role = ? AND student IS ? AND revoked_at IS NULL",
               (now(), role, student))
    db.execute("INSERT INTO tokens (hash, role, student, issued_at) VALUES (?, ?, ?, ?)",
               (hash_token(token), role, student, now()))
    return token


def who_has(db: sqlite3.Connection, token: str) -> Person | None:
    """The person a token lets in, or None for a token never issued, revoked, or of a student no longer listed."""
    if not token or len(token) > 200:
        return None
    return who_has_hashed(db, hash_token(token))


def who_has_hashed(db: sqlite3.Connection, token_hash: str) -> Person | None:
    """``who_has`` for the token of that hash (a session keeps the hash of the token it was opened with)."""
    row = db.execute("SELECT role, student FROM tokens WHERE hash = ? AND revoked_at IS NULL",
                     (token_hash,)).fetchone()
    if row is None:
        return None
    role, student = row
    if role == STUDENT and db.execute("SELECT 1 FROM roster WHERE student = ?", (student,)).fetchone() is None:
        return None
    return Person(role, student)


def roster(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(id, name, e-mail) of every student on the roster, by id."""
    return db.execute("SELECT student, name, email FROM roster ORDER BY student").fetchall()


def write_tokens_csv(issued: list[Issued], path: Path | str) -> Path:
    """The CSV to mail out: id, name, e-mail, token (created readable by its owner only: it holds secrets)."""
    path = Path(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "name", "email", "token"])
    for one in issued:
        writer.writerow([_cell(one.student), _cell(one.name), _cell(one.email), one.token])
    with open(path, "w", encoding="utf-8", newline="", opener=_private) as handle:
        os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its mode through open(): make it private
        handle.write(buffer.getvalue())
    return path


def _private(name: str, flags: int) -> int:
    return os.open(name, flags, 0o600)


def _cell(text: str) -> str:
    """A name or e-mail as a spreadsheet shows it, never runs it (a roster's text is the instructor's, but passes
    through mail merges)."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
