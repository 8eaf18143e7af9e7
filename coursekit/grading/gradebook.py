"""The gradebook: every submission as received (by content hash) and its results, in SQLite.

Each submission is written in one transaction, so a batch killed half way loses nothing it
finished and never counts anything twice; grading the same bytes again is a no-op unless asked.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import sqlite3
from pathlib import Path

from coursekit.grading.grader import Grade

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    hash TEXT PRIMARY KEY, source TEXT, student TEXT, lesson TEXT, received_at TEXT,
    content BLOB, state TEXT NOT NULL, reason TEXT, points REAL, max_points REAL, protections TEXT, seconds REAL
);
CREATE TABLE IF NOT EXISTS results (
    hash TEXT NOT NULL REFERENCES submissions(hash), grade_id TEXT NOT NULL, status TEXT NOT NULL,
    points REAL NOT NULL, max_points REAL NOT NULL, message TEXT, PRIMARY KEY (hash, grade_id)
);
"""


class Gradebook:
    """An SQLite file of submissions and results."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def known(self, content_hash: str) -> bool:
        """True when these exact bytes were already graded or rejected."""
        return self.db.execute("SELECT 1 FROM submissions WHERE hash = ?", (content_hash,)).fetchone() is not None

    def record(self, content_hash: str, source: str, student: str, lesson: str, raw: bytes, grade: Grade) -> None:
        """Store a graded submission and its results, atomically (replacing an earlier grading of the same bytes)."""
        with self.db:
            self.db.execute("DELETE FROM results WHERE hash = ?", (content_hash,))
            self.db.execute(
                "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, 'graded', NULL, ?, ?, ?, ?)",
                (content_hash, source, student, lesson, _now(), raw, grade.points, grade.max_points,
                 json.dumps(grade.protections), grade.seconds))
            self.db.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)",
                                [(content_hash, t.grade_id, t.status, t.points, t.max_points, t.message)
                                 for t in grade.tests])

    def reject(self, content_hash: str, source: str, raw: bytes, reason: str) -> None:
        """Store an input that could not be graded, with its reason."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO submissions VALUES "
                            "(?, ?, NULL, NULL, ?, ?, 'rejected', ?, NULL, NULL, NULL, NULL)",
                            (content_hash, source, _now(), raw, reason))

    def rejected(self) -> list[tuple[str, str]]:
        """(source, reason) of every rejected input."""
        return self.db.execute("SELECT source, reason FROM submissions WHERE state = 'rejected' "
                               "ORDER BY source").fetchall()

    def results(self, content_hash: str) -> list[tuple[str, str, float, float, str]]:
        """(grade_id, status, points, max_points, message) of one submission."""
        return self.db.execute("SELECT grade_id, status, points, max_points, message FROM results WHERE hash = ? "
                               "ORDER BY rowid", (content_hash,)).fetchall()

    def latest(self) -> list[tuple[str, str, str]]:
        """(student, lesson, hash) of each student's latest graded submission per lesson."""
        return self.db.execute(
            "SELECT student, lesson, hash FROM submissions s WHERE state = 'graded' AND received_at = "
            "(SELECT MAX(received_at) FROM submissions t WHERE t.student = s.student AND t.lesson = s.lesson "
            "AND t.state = 'graded') ORDER BY student, lesson").fetchall()

    # -- exports
    def export_csv(self, path: Path | str) -> Path:
        """One row per student, one column per question (lesson:grade_id) and a total."""
        rows: dict[str, dict[str, float]] = {}
        columns: list[str] = []
        for student, lesson, content_hash in self.latest():
            for grade_id, _, points, _, _ in self.results(content_hash):
                column = f"{lesson}:{grade_id}"
                if column not in columns:
                    columns.append(column)
                rows.setdefault(student, {})[column] = points
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", *columns, "total"])
            for student, scores in sorted(rows.items()):
                writer.writerow([student, *(scores.get(c, 0.0) for c in columns), sum(scores.values())])
        return path

    def feedback(self, content_hash: str, fmt: str = "md") -> str:
        """A student's feedback for one submission, in Markdown or HTML: points, status and message per question."""
        row = self.db.execute("SELECT student, lesson, points, max_points, protections FROM submissions "
                              "WHERE hash = ?", (content_hash,)).fetchone()
        student, lesson, points, max_points, _ = row
        lines = [f"# {lesson}: {points:g} / {max_points:g} points", "", f"Student: {student}", "",
                 "| question | status | points | feedback |", "|---|---|---|---|"]
        for grade_id, status, got, full, message in self.results(content_hash):
            text = (message or "").replace("\n", "<br>").replace("|", "\\|")
            lines.append(f"| {grade_id} | {status} | {got:g} / {full:g} | {text} |")
        markdown = "\n".join(lines) + "\n"
        if fmt == "md":
            return markdown
        return "<!doctype html><meta charset=utf-8><pre>" + html.escape(markdown) + "</pre>"

    def export_feedback(self, folder: Path | str, fmt: str = "md") -> list[Path]:
        """One feedback file per student and lesson (their latest submission)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for student, lesson, content_hash in self.latest():
            target = folder / f"{lesson}--{student}.{fmt}"
            target.write_text(self.feedback(content_hash, fmt), encoding="utf-8")
            written.append(target)
        return written

    def gradescope(self, content_hash: str) -> dict:
        """Gradescope's results.json for one submission."""
        tests = [{"name": grade_id, "score": got, "max_score": full, "status": "passed" if status == "passed"
                  else "failed", "output": f"{status}: {message}"}
                 for grade_id, status, got, full, message in self.results(content_hash)]
        return {"score": sum(t["score"] for t in tests), "tests": tests}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
