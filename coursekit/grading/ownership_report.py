"""Whose a batch's submissions are, seen whole: a student folder that looks like a folder of students.

Who a bare notebook belongs to comes from the first folder below the folder or zip given (see intake). A folder
given one level too high, or a zip of the inbox folder itself (``zip -r inbox.zip inbox``: every member under
``inbox/``), makes that folder the student of every notebook in it, and the CSV keeps only the latest of them.
Nothing about one notebook shows it; the batch does: one student, different notebooks of one lesson, each in
another folder below the one that names the student (red team V).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SeveralFolders:
    """One student's different notebooks of one lesson, found in different folders below their student folder."""

    student: str
    lesson: str
    folders: tuple[str, ...]  # below the student folder, sorted


def several_folders(outcomes: Iterable) -> list[SeveralFolders]:
    """Each (student, lesson) whose submissions in ``outcomes`` (batch.Outcome: graded, or already graded) are
    different notebooks in two or more folders below the folder that names the student."""
    found: dict[tuple[str, str], dict[str, set[str]]] = {}
    for outcome in outcomes:
        if outcome.student is None or outcome.lesson is None or outcome.content_hash is None or outcome.reason:
            continue
        below = _below_student_folder(outcome.source, outcome.student)
        if below is not None:
            found.setdefault((outcome.student, outcome.lesson), {}).setdefault(below, set()).add(outcome.content_hash)
    return [SeveralFolders(student, lesson, tuple(sorted(folders)))
            for (student, lesson), folders in sorted(found.items())
            if len(folders) > 1 and len(set().union(*folders.values())) > 1]


def _below_student_folder(source: str, student: str) -> str | None:
    """The folder of ``source`` (a path, or ``path!member``) below the last folder named ``student`` (compared in NFKC
    form, as ids are), "" for a file right in it; None when no folder of it is named so (its file name or manifest
    named the student)."""
    path, _, member = source.partition("!")
    parts = [part for part in re.split(r"[/\\]", path.replace(os.sep, "/")) + re.split(r"[/\\]", member) if part]
    folders = parts[:-1]
    for index in range(len(folders) - 1, -1, -1):
        if unicodedata.normalize("NFKC", folders[index]) == student:
            return "/".join(folders[index + 1:])
    return None
