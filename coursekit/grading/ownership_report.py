"""Whose a batch's submissions are, seen whole: a student folder that looks like a folder of students.

Who a bare notebook belongs to comes from the first folder below the folder or zip given (see intake). A folder
given one level too high, or a zip of the inbox folder itself (``zip -r inbox.zip inbox``: every member under
``inbox/``), makes that folder the student of every notebook in it, and the CSV keeps only the latest of them.
Nothing about one notebook shows it; the batch does: one student, different notebooks of one lesson, each from
another place (red team V, W); or a folder or zip given whose inputs all lie in one folder (red team Z).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from coursekit.grading.intake import path_parts


@dataclass(frozen=True)
class SeveralPlaces:
    """One student's different notebooks of one lesson, found in different places."""

    student: str
    lesson: str
    places: tuple[str, ...]  # below the student folder, or whole paths; sorted


def several_places(outcomes: Iterable) -> list[SeveralPlaces]:
    """Each (student, lesson) whose submissions in ``outcomes`` (batch.Outcome: graded, or already graded) are
    different notebooks from two or more places: below the folder that names the student, each file's path there
    (``inbox/week3/ada.ipynb`` and ``.../bob.ipynb``, both graded as student "week3"); for a student that no folder
    names, each file's whole path (``inbox/ada/Untitled.ipynb`` and ``inbox/bob/Untitled.ipynb``, given as
    ``grade inbox/*``: both student "Untitled", red team W)."""
    found: dict[tuple[str, str], dict[str, set[str]]] = {}
    for outcome in outcomes:
        if outcome.student is None or outcome.lesson is None or outcome.content_hash is None or outcome.reason:
            continue
        place = _place(outcome.source, outcome.student)
        found.setdefault((outcome.student, outcome.lesson), {}).setdefault(place, set()).add(outcome.content_hash)
    return [SeveralPlaces(student, lesson, tuple(sorted(places)))
            for (student, lesson), places in sorted(found.items())
            if len(places) > 1 and len(set().union(*places.values())) > 1]


def _place(source: str, student: str) -> str:
    """Where ``source`` (a path, or ``path!member``) is: its path below the last folder named ``student`` (compared
    in NFKC form, as ids are), else its whole path."""
    path, _, member = source.partition("!")
    parts = path_parts(path.replace(os.sep, "/")) + path_parts(member)
    for index in range(len(parts) - 2, -1, -1):
        if unicodedata.normalize("NFKC", parts[index]) == student:
            return "/".join(parts[index + 1:])
    return "/".join(parts)


@dataclass(frozen=True)
class LoneFolder:
    """A folder or zip given whose every input lies in one folder: that folder is every input's student."""

    given: str
    folder: str


def lone_folders(paths: Iterable, outcomes: Iterable) -> list[LoneFolder]:
    """Each of ``paths`` (the folders and zips given) all of whose inputs in ``outcomes`` lie in one folder, which
    names every one's student: ``grade inbox/*`` with each student's notebooks in ``work/`` graded ada's and bob's as
    one student "work" (red team Z), and so did each student's zip of ``hw1/``. One place each, both escaped
    ``several_places``."""
    tops: dict[str, set[str | None]] = {os.path.abspath(os.fspath(path)): set() for path in paths}
    for outcome in outcomes:
        file, _, member = outcome.source.partition("!")
        file = os.path.abspath(file)
        if file in tops:  # a file given: a zip's members are named by their own folders
            given, inside = file, member
        else:  # a file found in a folder given: named by its folders there
            given = next((folder for folder in tops if file.startswith(folder.rstrip(os.sep) + os.sep)), None)
            if given is None:
                continue
            inside = file[len(given.rstrip(os.sep)) + 1:]
        parts = path_parts(inside.replace(os.sep, "/"))
        tops[given].add(parts[0] if len(parts) > 1 else None)
    return [LoneFolder(given, found.pop()) for given, found in tops.items() if len(found) == 1 and None not in found]
