"""The grader's intake: every input (a file, a folder, a zip of many) becomes a Submission, or Rejected with a reason.

Reading never raises: whatever an input holds (nesting 100,000 deep, a zip bomb, a member named
``../../x.ipynb``, a symbolic link out of the folder, binary junk, fields of the wrong type), it
becomes a row the gradebook records, and the rest of the batch is read. What a submission is:
its student, its lesson, its notebook's bytes and when it was submitted (the manifest's
``submitted_at``; for a bare notebook, the file's or zip member's modification time).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import os
import re
import stat
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from coursekit.grading import limits
from coursekit.grading.notebook_json import NotASubmission, load_json, parse_notebook
from coursekit.grading.reasons import quoted, size
from coursekit.grading.safe_zip import (
    is_symbolic_link,
    member_name_problem,
    member_time,
    new_budget,
    open_archive,
    read_member,
)
from coursekit.grading.student_ids import normalize_student_id
from coursekit.grading.submission import MANIFEST, NOTEBOOK, names_in_file_name

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip
# Folders that hold copies rather than submissions: Jupyter's checkpoints, and macOS's resource forks in zips.
SKIPPED_FOLDERS = frozenset({".ipynb_checkpoints", "__MACOSX"})
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Submission:
    """One learner's notebook as received, and what identifies it: student, lesson, notebook bytes, time."""

    source: str                 # where it came from: a path, or path!member for a zip's member
    raw: bytes                  # the bytes as received (a submission zip, or the notebook): what the gradebook stores
    notebook_raw: bytes         # the notebook's own bytes (inside a submission zip: its notebook member)
    student: str                # a valid id (see student_ids), in NFKC form
    lesson: str | None          # the lesson it says it is for (manifest or file name), if any
    submitted_at: str           # ISO 8601, UTC, to the microsecond (sortable as text)
    grade_ids: frozenset[str] = frozenset()   # the nbgrader grade_ids its cells carry (to identify the lesson)
    manifest: dict = field(default_factory=dict)
    arrival: int = 0            # the order in which the grader read it (set by the batch): ties on time go to the last

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the bytes as received."""
        return hashlib.sha256(self.raw).hexdigest()

    @cached_property
    def notebook_hash(self) -> str:
        """SHA-256 of the notebook's bytes: equal for two students who submitted the same notebook."""
        return hashlib.sha256(self.notebook_raw).hexdigest()


@dataclass
class Rejected:
    """An input the grader could not read or will not grade; recorded with its reason."""

    source: str
    raw: bytes                  # the bytes as received when they were read within the caps, else empty
    reason: str
    student: str | None = None  # when a valid id was found before the problem
    lesson: str | None = None
    arrival: int = 0

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the bytes kept."""
        return hashlib.sha256(self.raw).hexdigest()


Item = Submission | Rejected


def read_submissions(path: Path | str) -> Iterator[Item]:
    """Every input in a file, a folder (recursively, never following a symbolic link), or a zip of many.

    Never raises: an input that cannot be read, for whatever reason, comes back as Rejected with that reason.
    """
    path = Path(path)
    try:
        is_folder = path.is_dir()  # a path given explicitly may itself be a link: it is what the instructor chose
    except (OSError, ValueError):  # no permission to look, or a NUL in the path: reading it will say which
        is_folder = False
    if is_folder:
        yield from _guarded(str(path), _read_folder, path)
    else:
        yield from _guarded(str(path), _read_file, path, str(path), path.name, True)


def identify_lesson(submission: Submission, lessons: dict[str, set[str]]) -> str | None:
    """The lesson of a submission: its manifest or file name, else the master sharing most grade_ids."""
    if submission.lesson in lessons:
        return submission.lesson
    best = max(lessons, key=lambda name: len(lessons[name] & submission.grade_ids), default=None)
    return best if best is not None and lessons[best] & submission.grade_ids else None


def lesson_and_student(name: str) -> tuple[str | None, str]:
    """(lesson, student) from a file's name and the folders it is in inside the input given: ``07_x--ada.ipynb``
    gives both; ``ada/07_x.ipynb`` (one folder per student, as platforms export) takes the student from the folder;
    a name that is no lesson's, ``ada.ipynb``, is the student's."""
    parts = [part for part in re.split(r"[/\\]", name) if part]
    lesson, student = names_in_file_name(parts[-1] if parts else "")
    if lesson is not None and "--" not in parts[-1] and len(parts) > 1:
        student = parts[-2]
    return lesson, student


def utc_text(moment: dt.datetime) -> str:
    """``moment`` as the gradebook stores times: ISO 8601 in UTC to the microsecond (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def submitted_time(value: object, fallback: str) -> str:
    """The manifest's ``submitted_at`` (ISO 8601) as ``utc_text``; ``fallback`` when absent; NotASubmission when
    it is not a time."""
    if value is None:
        return fallback
    if not isinstance(value, str) or len(value) > 64:
        raise NotASubmission("its manifest's submitted_at is not a time (ISO 8601 text)")
    try:
        return utc_text(dt.datetime.fromisoformat(value))
    except (ValueError, OverflowError) as error:
        raise NotASubmission(f"its manifest's submitted_at, {quoted(value)}, is not an ISO 8601 time") from error


# ---------------------------------------------------------------- one input, guarded
def _guarded(source: str, reader: Callable[..., Iterator[Item]], *args) -> Iterator[Item]:
    """What ``reader(*args)`` yields; then, should it raise, one Rejected for ``source`` with the reason."""
    count = 0
    try:
        for item in reader(*args):
            count += 1
            yield item
    except NotASubmission as problem:
        yield Rejected(source, b"", str(problem))
    except Exception as error:  # noqa: BLE001 -- one input that breaks the reader is a row, never the batch's end
        yield Rejected(source, b"", _unexpected(error, count))


def _unexpected(error: Exception, count: int) -> str:
    if isinstance(error, MemoryError):
        reason = "the grader ran out of memory reading it"
    else:
        reason = f"the grader could not read it ({type(error).__name__}: {str(error)[:200]})"
    return reason + (f", after {count} of its members" if count else "")


# ---------------------------------------------------------------- folders
def _read_folder(root: Path) -> Iterator[Item]:
    """Every input under ``root``, in name order; symbolic links are rejected, never followed. No recursion."""
    listings = [_listing(root)]
    while listings:
        entry = next(listings[-1], None)
        if entry is None:
            listings.pop()
            continue
        if isinstance(entry, Rejected):
            yield entry
            continue
        try:
            is_link, is_folder = entry.is_symlink(), entry.is_dir(follow_symlinks=False)
        except OSError as error:
            yield Rejected(entry.path, b"", f"cannot read it: {error.strerror}")
            continue
        if is_link:
            if _looks_like_input(entry.name) or os.path.isdir(entry.path):
                yield Rejected(entry.path, b"", _link_reason(entry.path, root))
        elif is_folder:
            if entry.name not in SKIPPED_FOLDERS:
                listings.append(_listing(Path(entry.path)))
        elif _looks_like_input(entry.name):
            yield from _guarded(entry.path, _read_file, Path(entry.path), entry.path,
                                os.path.relpath(entry.path, root), False)


def _listing(folder: Path) -> Iterator[os.DirEntry | Rejected]:
    try:
        with os.scandir(folder) as entries:
            listed = sorted(entries, key=lambda entry: entry.name)
    except OSError as error:
        yield Rejected(str(folder), b"", f"cannot list the folder: {error.strerror}")
        return
    yield from listed


def _link_reason(link: str, root: Path) -> str:
    try:
        target = quoted(os.readlink(link))
    except OSError:
        target = "a place it cannot say"
    inside = os.path.commonpath([os.path.realpath(link), os.path.realpath(root)]) == os.path.realpath(root)
    where = "; links in a folder are never followed" if inside else ", outside the folder given: not followed"
    return f"a symbolic link to {target}{where}"


def _looks_like_input(name: str) -> bool:
    return name.lower().endswith((".ipynb", ".zip"))


# ---------------------------------------------------------------- files
def _read_file(path: Path, source: str, name: str, follow: bool) -> Iterator[Item]:
    """The inputs in one file: a notebook, a submission zip, or a zip of many. ``name``: its path inside the folder
    given (which may name the student), ``follow``: whether a symbolic link is followed (only for a path given)."""
    try:
        handle = open_input(path, follow)  # a link put in its place after the folder was listed is still not followed
    except OSError as error:
        if error.errno == errno.ELOOP:
            yield Rejected(source, b"", "a symbolic link; links in a folder are never followed")
        else:
            yield Rejected(source, b"", f"cannot read the file: {error.strerror}")
        return
    with handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            yield Rejected(source, b"", "not a regular file (a device, a pipe or a socket): not read")
            return
        modified = _file_time(status.st_mtime)
        head = handle.read(4)
        handle.seek(0)
        if head in ZIP_SIGNATURES:
            yield from _read_zip_file(source, name, handle, status.st_size, modified)
            return
        if status.st_size > limits.MAX_NOTEBOOK_BYTES:
            yield Rejected(source, b"", _file_too_large(status.st_size, limits.MAX_NOTEBOOK_BYTES, "a notebook"))
            return
        raw = read_capped(handle, limits.MAX_NOTEBOOK_BYTES)
        if raw is None:
            yield Rejected(source, b"", _file_too_large(None, limits.MAX_NOTEBOOK_BYTES, "a notebook"))
            return
        yield from _notebook_or_rejected(source, raw, name, modified)


def _file_time(seconds: float) -> str:
    try:
        return utc_text(dt.datetime.fromtimestamp(seconds, dt.UTC))
    except (OverflowError, OSError, ValueError):  # a time out of range: the epoch, so the same file keeps one key
        return utc_text(EPOCH)


def open_input(path: Path | str, follow: bool) -> BinaryIO:
    """``path`` opened to read an input from: never blocking (a named pipe must not hang the grader), and never
    through a symbolic link unless ``follow`` (OSError with errno ELOOP then)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags), "rb")


def read_capped(handle: BinaryIO, cap: int) -> bytes | None:
    """The rest of ``handle``, or None when it holds more than ``cap`` bytes (a file may grow while it is read)."""
    data = handle.read(cap + 1)
    return None if len(data) > cap else data


def _file_too_large(count: int | None, cap: int, what: str) -> str:
    shown = f"a file of {size(count)}" if count is not None else "a file that grew while it was read"
    return f"{shown}: more than the {size(cap)} {what} may have; not read"


# ---------------------------------------------------------------- zips
def _read_zip_file(source: str, name: str, handle: BinaryIO, file_bytes: int, modified: str) -> Iterator[Item]:
    """A submission zip (it holds manifest.json) or a zip of many, read from an open file."""
    if file_bytes > limits.MAX_ZIP_FILE_BYTES:
        yield Rejected(source, b"", _file_too_large(file_bytes, limits.MAX_ZIP_FILE_BYTES, "a zip"))
        return
    # A submission file is small: kept whole, as received. A platform's export is read member by member from disk.
    raw = read_capped(handle, limits.MAX_MEMBER_BYTES) if file_bytes <= limits.MAX_MEMBER_BYTES else None
    handle.seek(0)
    try:
        archive = open_archive(io.BytesIO(raw) if raw is not None else handle)
    except NotASubmission as problem:
        yield Rejected(source, raw or b"", str(problem))
        return
    with archive:
        if MANIFEST not in archive.namelist():
            yield from _read_export(source, archive, modified)
        elif raw is None:
            yield Rejected(source, b"", _file_too_large(file_bytes, limits.MAX_MEMBER_BYTES, "a submission file"))
        else:
            yield from _submission_from_archive(source, raw, archive, name, modified)


def _read_export(source: str, archive: zipfile.ZipFile, modified: str) -> Iterator[Item]:
    """Each notebook and submission file in a zip of many; two members of one name are both read, named apart."""
    infos = [info for info in archive.infolist() if _is_input_member(info)]
    counts = Counter(info.filename for info in infos)
    seen: Counter[str] = Counter()
    budget = new_budget()
    for info in infos:
        seen[info.filename] += 1
        member = f"{source}!{info.filename}"
        if counts[info.filename] > 1:
            member += f" (copy {seen[info.filename]} of {counts[info.filename]} of that name)"
        yield from _guarded(member, _read_export_member, member, archive, info, budget, modified)


def _is_input_member(info: zipfile.ZipInfo) -> bool:
    parts = re.split(r"[/\\]", info.filename)
    return not info.is_dir() and _looks_like_input(info.filename) and not SKIPPED_FOLDERS & set(parts)


def _read_export_member(source: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget, modified: str
                        ) -> Iterator[Item]:
    problem = member_name_problem(info.filename)
    if problem:
        yield Rejected(source, b"", problem)
        return
    if is_symbolic_link(info):
        yield Rejected(source, b"", "a symbolic link stored in the zip: not followed")
        return
    try:
        data = read_member(archive, info, limits.MAX_MEMBER_BYTES, budget)
    except NotASubmission as problem:
        yield Rejected(source, b"", str(problem))
        return
    moment = member_time(info)
    yield from _read_bytes(source, data, info.filename, utc_text(moment) if moment is not None else modified)


def read_bytes(source: str, raw: bytes, name: str, submitted: str) -> Item:
    """One input given as its bytes: a notebook or a submission file. ``name`` is its file name, with the folders it
    is in inside the input given (see ``lesson_and_student``), ``submitted`` its time when it has no manifest.
    Never raises."""
    return next(_guarded(source, _read_bytes, source, raw, name, submitted))


def _read_bytes(source: str, raw: bytes, name: str, submitted: str) -> Iterator[Item]:
    if raw[:4] not in ZIP_SIGNATURES:
        yield from _notebook_or_rejected(source, raw, name, submitted)
        return
    try:
        archive = open_archive(io.BytesIO(raw))
    except NotASubmission as problem:
        yield Rejected(source, raw, str(problem))
        return
    with archive:
        if MANIFEST not in archive.namelist():
            yield Rejected(source, raw, "a zip that is not a submission file (no manifest.json) inside another: "
                                        "only submission files are opened there")
        else:
            yield from _submission_from_archive(source, raw, archive, name, submitted)


def _submission_from_archive(source: str, raw: bytes, archive: zipfile.ZipFile, name: str, modified: str
                             ) -> Iterator[Item]:
    """The submission in a submission file (``raw``, open as ``archive``), or Rejected with the reason."""
    counts = Counter(archive.namelist())
    for member in (MANIFEST, NOTEBOOK):
        if counts[member] > 1:
            yield Rejected(source, raw, f"a submission file with {counts[member]} members named {member}: which one "
                                        f"is meant is unclear")
            return
    if NOTEBOOK not in counts:
        yield Rejected(source, raw, f"a submission file without its {NOTEBOOK}")
        return
    budget = new_budget()
    try:
        manifest = load_json(read_member(archive, archive.getinfo(MANIFEST), limits.MAX_MANIFEST_BYTES, budget,
                                         "its manifest"), "its manifest")
        if not isinstance(manifest, dict):
            raise NotASubmission("its manifest is not a JSON object")
        notebook_raw = read_member(archive, archive.getinfo(NOTEBOOK), limits.MAX_NOTEBOOK_BYTES, budget,
                                   "its notebook")
        submitted = submitted_time(manifest.get("submitted_at"), modified)
    except NotASubmission as problem:
        yield Rejected(source, raw, str(problem))
        return
    lesson, student = lesson_and_student(name)
    yield _submission(source, raw, notebook_raw, student=manifest.get("student", student),
                      lesson=manifest.get("lesson") or lesson, submitted_at=submitted, manifest=manifest)


# ---------------------------------------------------------------- notebooks
def _notebook_or_rejected(source: str, raw: bytes, name: str, submitted: str) -> Iterator[Item]:
    lesson, student = lesson_and_student(name)
    yield _submission(source, raw, raw, student=student, lesson=lesson, submitted_at=submitted, manifest={})


def _submission(source: str, raw: bytes, notebook_raw: bytes, *, student: object, lesson: object,
                submitted_at: str, manifest: dict) -> Item:
    """A Submission once its student id and notebook check out; else Rejected with the first problem found."""
    if lesson is not None and not (isinstance(lesson, str) and len(lesson) <= 100):
        return Rejected(source, raw, "its manifest's lesson is not a lesson's name")
    try:
        student = normalize_student_id(student)
    except NotASubmission as problem:
        return Rejected(source, raw, str(problem), lesson=lesson)
    try:
        notebook = parse_notebook(notebook_raw)
    except NotASubmission as problem:
        return Rejected(source, raw, str(problem), student=student, lesson=lesson)
    grade_ids = frozenset(cell["metadata"]["nbgrader"]["grade_id"] for cell in notebook["cells"]
                          if "grade_id" in cell.get("metadata", {}).get("nbgrader", {}))
    return Submission(source, raw, notebook_raw, student, lesson, submitted_at, grade_ids, manifest)
