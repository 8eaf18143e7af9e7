"""The grader's intake: every input (a file, a folder, a zip of many) becomes a Submission, or Rejected with a reason.

Reading never raises: whatever an input holds (nesting 100,000 deep, a zip bomb, a member named
``../../x.ipynb``, a symbolic link out of the folder, binary junk, fields of the wrong type), it
becomes a row the gradebook records, and the rest of the batch is read. What a submission is:
its student, its lesson, its notebook's bytes and when it was submitted (the manifest's
``submitted_at``; for a bare notebook, the file's or zip member's modification time).

Who a submission is for comes from where it was found before what it says: the student folder (the
first folder below the folder or zip given, at any depth above the file), then the ``--id`` part of
its file name, then its manifest (which the learner's own tool writes). Each of them that names a
student must name the same one, or the input is rejected naming both: a student cannot hand in work
as another by writing another's id into a manifest or a file name.
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
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from coursekit.grading import limits, messages
from coursekit.grading.notebook_json import NotASubmission, load_json, parse_notebook
from coursekit.grading.reasons import quoted, size
from coursekit.grading.safe_zip import (
    InflateBudget,
    is_symbolic_link,
    member_name_problem,
    member_time,
    new_budget,
    open_archive,
    read_member,
)
from coursekit.grading.student_ids import InvalidStudentId, normalize_student_id
from coursekit.grading.submission import MANIFEST, NOTEBOOK, SUFFIX, file_stem, names_in_file_name

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip
# Folders that hold copies rather than submissions: Jupyter's checkpoints, and macOS's resource forks in zips.
SKIPPED_FOLDERS = frozenset({".ipynb_checkpoints", "__MACOSX"})
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# How far ahead of the grader's clock a manifest's submitted_at may be (a learner's clock a little fast, time zones
# written wrongly): past it, the time is a claim to be the latest for ever, and the submission is rejected.
CLOCK_TOLERANCE = dt.timedelta(days=1)


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
    # Its student is its file's name, nothing else naming one (``ada.ipynb``): the batch refuses such a name that is
    # the lesson's (``03_activations.ipynb``, every student's name for it: red team V merged a class into one "student")
    named_by_file: bool = False
    # The file's or member's time as it came, when it is not ``submitted_at`` (one too far in the future counts as
    # the earliest, see _believed): the key uses it, so that the same file read again is the same submission
    # whatever the clock says by then.
    time_as_given: str | None = None

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
    return _lesson_of_cells(submission, lessons)


def lesson_of_its_cells(submission: Submission, lessons: dict[str, set[str]], lesson: str) -> str | None:
    """Another lesson whose grade_ids the submission's cells carry, where they carry none of ``lesson``'s (the one
    its name or manifest claims): a notebook of lesson 03 handed in as lesson 01 would get 0 points for 01, and
    replace a better grade as the latest. None when its cells fit ``lesson``, or carry no known grade_id."""
    if not submission.grade_ids or lessons.get(lesson, set()) & submission.grade_ids:
        return None
    return _lesson_of_cells(submission, lessons)


def _lesson_of_cells(submission: Submission, lessons: dict[str, set[str]]) -> str | None:
    best = max(lessons, key=lambda name: len(lessons[name] & submission.grade_ids), default=None)
    return best if best is not None and lessons[best] & submission.grade_ids else None


@dataclass(frozen=True)
class Names:
    """What an input's place says about it (see ``names_of``)."""

    lesson: str | None          # the lesson its file name starts with, if any
    folder: str | None          # the student folder: the first folder below the folder or zip given, if any
    file_id: str | None         # the ``--id`` part of its file name, if it has one
    stem: str                   # its file name without the suffix: a bare notebook's id when nothing else names one
    file_name: str
    submission_file: bool       # named ``*.submission.zip``: a submission file, never a zip of many
    # the student a zip directly in the folder given names by its own file name (``ada.zip``), for its members
    zip_student: str | None = None


def path_parts(name: str) -> list[str]:
    """The folders and file of a path inside a folder or zip, either slash apart; none empty, none "."
    (``./frank/x.ipynb`` is frank's)."""
    return [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]


def names_of(name: str) -> Names:
    """What ``name`` says: a file's path inside the folder or zip given (``ada/work/07_x.ipynb``,
    ``07_x--ada.submission.zip``; through a zip inside a folder, the zip's student folder then the member's path)."""
    parts = path_parts(name)
    file_name = parts[-1] if parts else ""
    stem = file_stem(file_name)
    _, dashes, named = stem.partition("--")
    return Names(names_in_file_name(file_name)[0], parts[0] if len(parts) > 1 else None, named if dashes else None,
                 stem, file_name, file_name.lower().endswith(SUFFIX))


def owner(names: Names, manifest: dict | None) -> str:
    """The student an input is for, as a valid id in NFKC form: the one its student folder, its file name's ``--id``
    and its manifest's ``student`` name (``manifest``: None for a bare notebook). A bare notebook that none names
    is its file name's (``ada.ipynb``: see Submission.named_by_file); a submission file that none names, and any
    two of them that name different students, are NotASubmission with the reason; an invalid id is
    InvalidStudentId."""
    claims: list[tuple[object, object]] = []
    if names.zip_student is not None:
        claims.append((messages.BY_ZIP_NAME, names.zip_student))
    if names.folder is not None:
        claims.append((messages.BY_FOLDER, names.folder))
    if names.file_id is not None:
        claims.append((messages.BY_FILE_NAME, names.file_id))
    if manifest is not None and "student" in manifest:
        claims.append((messages.BY_MANIFEST, manifest["student"]))
    if not claims:
        if manifest is not None:
            raise NotASubmission(messages.NO_STUDENT.format(name=quoted(names.file_name)))
        claims.append((messages.BY_FILE_NAME, names.stem))
    try:
        ids = [(who, normalize_student_id(text)) for who, text in claims]
    except InvalidStudentId as invalid:  # a zip's name that names nobody ("Assignment 1.zip"): a platform's export?
        if names.zip_student is None:
            raise
        raise NotASubmission(str(invalid) + str(messages.GIVE_A_ZIP_OF_MANY)) from invalid
    (first, one), *others = ids
    for second, other in others:
        if other != one:
            reason = messages.TWO_STUDENTS.format(first=first, one=quoted(one), second=second, other=quoted(other))
            raise NotASubmission(reason + (str(messages.GIVE_A_ZIP_OF_MANY) if names.zip_student is not None else ""))
    return one


def utc_text(moment: dt.datetime) -> str:
    """``moment`` as the gradebook stores times: ISO 8601 in UTC to the microsecond (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def submitted_time(value: object, fallback: str, now: dt.datetime | None = None) -> str:
    """The manifest's ``submitted_at`` (ISO 8601 with its time zone) as ``utc_text``; ``fallback`` when absent;
    NotASubmission when it is not a time, has no time zone, or is more than ``CLOCK_TOLERANCE`` past ``now`` (the
    grader's clock)."""
    if value is None:
        return fallback
    if not isinstance(value, str) or len(value) > 64:
        raise NotASubmission("its manifest's submitted_at is not a time (ISO 8601 text)")
    try:
        moment = dt.datetime.fromisoformat(value)
        utc_text(moment)
    except (ValueError, OverflowError) as error:
        raise NotASubmission(f"its manifest's submitted_at, {quoted(value)}, is not an ISO 8601 time") from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NotASubmission(messages.NO_TIME_ZONE.format(time=quoted(value)))
    now = now or dt.datetime.now(dt.UTC)
    if moment - now > CLOCK_TOLERANCE:
        raise NotASubmission(messages.IN_THE_FUTURE.format(time=quoted(value), now=utc_text(now)[:19] + "Z"))
    return utc_text(moment)


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
    """Every input under ``root``, in name order; symbolic links are rejected, never followed. No recursion.

    A student folder (a folder right below ``root``) in which nothing is an input, yet files were handed in (a
    ``.py``, a notebook saved as HTML), is a row that says so: the student is not silently missing."""
    listings: list[tuple[Iterator, _StudentFolder | None]] = [(_listing(root), None)]
    while listings:
        listing, student_folder = listings[-1]
        entry = next(listing, None)
        if entry is None:
            listings.pop()
            if student_folder is not None and len(listings) == 1:  # the student folder's own listing ended
                yield from student_folder.nothing_to_grade()
            continue
        if isinstance(entry, Rejected):  # a folder that cannot be listed: its student's, as below (red team AB)
            yield entry if student_folder is None else replace(entry, student=_student_or_none(student_folder.name))
            continue
        try:
            is_link, is_folder = entry.is_symlink(), entry.is_dir(follow_symlinks=False)
        except OSError as error:
            yield Rejected(entry.path, b"", f"cannot read it: {error.strerror}")
            continue
        if student_folder is not None and not is_folder:
            student_folder.saw(entry.name)
        if is_link:
            if _looks_like_input(entry.name) or os.path.isdir(entry.path):
                if student_folder is not None:
                    student_folder.inputs += 1  # a row says what it was
                yield Rejected(entry.path, b"", _link_reason(entry.path, root))
        elif is_folder:
            if _looks_like_input(entry.name):  # a row, besides what is read inside it: one may expect a notebook
                yield Rejected(entry.path, b"", "a folder named like a notebook or a zip: its own files are read, "
                                                "it is not")
            if entry.name not in SKIPPED_FOLDERS:
                below = student_folder or _StudentFolder(entry.path, entry.name)
                listings.append((_listing(Path(entry.path)), below))
            elif student_folder is not None:  # copies only (checkpoints): handed in, yet nothing to grade
                student_folder.files.append(entry.name + "/")
        elif _looks_like_input(entry.name):
            yield from _guarded(entry.path, _read_file, Path(entry.path), entry.path,
                                os.path.relpath(entry.path, root), False)
        elif _nearly_an_input(entry.name):  # "x.ipynb " (a trailing space), "x.ipynb.json": one expects it read
            if student_folder is not None:
                student_folder.inputs += 1  # this row says what it was
            yield Rejected(entry.path, b"", f"named like a notebook or a zip, but its name is {quoted(entry.name)}: "
                                            "not read (a notebook's name ends in .ipynb, a zip's in .zip)")


NOTHING_TO_GRADE_IN_FOLDER = "a student folder with no notebook (.ipynb) and no zip in it ({files}): nothing to grade"


@dataclass
class _StudentFolder:
    """What was found in one student folder (and the folders inside it): whether anything was an input."""

    path: str
    name: str
    inputs: int = 0
    files: list[str] = field(default_factory=list)  # the other entries' names, hidden ones (.DS_Store) left out

    def saw(self, name: str) -> None:
        if _looks_like_input(name):
            self.inputs += 1
        elif not name.startswith("."):
            self.files.append(name)

    def nothing_to_grade(self) -> Iterator[Rejected]:
        """The folder's row when it held files but not one input; an empty folder hands in nothing."""
        if self.inputs or not self.files:
            return
        yield Rejected(self.path, b"", _nothing_to_grade(self.files), student=_student_or_none(self.name))


def _nothing_to_grade(files: list[str]) -> str:
    names = ", ".join(quoted(name) for name in sorted(files)[:3])
    shown = f"1 file: {names}" if len(files) == 1 else f"{len(files):,} files, such as {names}"
    return NOTHING_TO_GRADE_IN_FOLDER.format(files=shown)


def _student_or_none(name: str) -> str | None:
    """``name`` as a student id when it is a valid one (a row for the student), else None."""
    try:
        return normalize_student_id(name)
    except ValueError:
        return None


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


def _nearly_an_input(name: str) -> bool:
    """A name that is not an input's but would be taken for one (red team V: such files got no row at all)."""
    return ".ipynb" in name.lower() or name.strip().lower().endswith(".zip")


# ---------------------------------------------------------------- files
def _read_file(path: Path, source: str, name: str, follow: bool) -> Iterator[Item]:
    """The inputs in one file: a notebook, a submission zip, or a zip of many. ``name``: its path inside the folder
    given (which may name the student), ``follow``: whether a symbolic link is followed (only for a path given)."""
    try:
        handle = open_input(path, follow)  # a link put in its place after the folder was listed is still not followed
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link, or a link given met a loop of links
            yield Rejected(source, b"", "a symbolic link; links in a folder are never followed" if not follow
                           else "a loop of symbolic links: they never reach a file")
        elif error.errno == errno.ENXIO and _is_socket(path):  # a socket cannot be opened at all
            yield Rejected(source, b"", "not a regular file (a device, a pipe or a socket): not read")
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
            yield from _read_zip_file(source, name, handle, status.st_size, modified, given=follow)
            return
        if status.st_size > limits.MAX_NOTEBOOK_BYTES:
            yield Rejected(source, b"", _file_too_large(status.st_size, limits.MAX_NOTEBOOK_BYTES, "a notebook"))
            return
        raw = read_capped(handle, limits.MAX_NOTEBOOK_BYTES)
        if raw is None:
            yield Rejected(source, b"", _file_too_large(None, limits.MAX_NOTEBOOK_BYTES, "a notebook"))
            return
        yield from _notebook_or_rejected(source, raw, name, modified)


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def _file_time(seconds: float) -> str:
    try:
        return _believed(dt.datetime.fromtimestamp(seconds, dt.UTC))
    except (OverflowError, OSError, ValueError):  # a time out of range: the epoch, so the same file keeps one key
        return utc_text(EPOCH)


class FileTime(str):
    """A file's or a zip member's time (``utc_text``), and ``believed``: the time it counts as, which is the epoch, the
    earliest, when it is later than the grader's clock allows (the student may have set it: a member dated 2038 would
    otherwise be the latest for ever)."""

    believed: str


def _believed(moment: dt.datetime | None) -> str:
    """``moment`` as a FileTime (the epoch, when it cannot be read). A naive ``moment`` (a zip's date and time, which
    carry no zone) counts as the grader's local time (``TZ``), as unzip reads it: read as UTC, a notebook zipped in
    Tokyo sorted nine hours late, after a later submission. It is given (and keyed) as written, read as UTC, so that
    the same zip read again under another zone is the same submission, and "latest" does not flip with it."""
    given = FileTime(utc_text(moment if moment is not None else EPOCH))
    if moment is not None and moment.tzinfo is None:
        try:
            moment = moment.astimezone(dt.UTC)
        except (OverflowError, OSError, ValueError):  # out of the local zone's range: as written
            moment = moment.replace(tzinfo=dt.UTC)
    future = moment is not None and moment - dt.datetime.now(dt.UTC) > CLOCK_TOLERANCE
    given.believed = utc_text(EPOCH) if future else utc_text(moment) if moment is not None else str(given)
    return given


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
def _read_zip_file(source: str, name: str, handle: BinaryIO, file_bytes: int, modified: str, given: bool
                   ) -> Iterator[Item]:
    """A submission file (named ``*.submission.zip``, or holding manifest.json) or a zip of many, read from an open
    file. ``given``: the path given itself, rather than a file found in a folder given.

    A zip of many found directly in a folder given is one student's, named by its file name as a notebook there is
    (``mallory.zip`` is mallory's), and read as that student's folder: in a folder of files named after who sent them,
    a student's zip whose members were in a folder ``victim/`` was graded as victim's (red team Z). A member whose
    file name or manifest names another student is rejected. A platform's export is given itself."""
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
    names = names_of(name)
    with archive:
        if MANIFEST not in archive.namelist() and not names.submission_file:
            zip_student = None if given or names.folder is not None else names.file_id or names.stem
            yield from _read_export(source, archive, modified, names.folder, zip_student)
        elif raw is None:
            yield Rejected(source, b"", _file_too_large(file_bytes, limits.MAX_MEMBER_BYTES, "a submission file"))
        else:
            yield from _submission_from_archive(source, raw, archive, names, modified, False)


def _read_export(source: str, archive: zipfile.ZipFile, modified: str, folder: str | None,
                 zip_student: str | None = None) -> Iterator[Item]:
    """Each notebook and submission file in a zip of many; two members of one name are both read, named apart.
    ``folder``: the student folder the zip itself is in, if any (every member is then that student's); else
    ``zip_student``: the student the zip's own name names, when it was found directly in a folder given (a member
    whose file name or manifest names another is rejected)."""
    infos = [info for info in archive.infolist() if _is_input_member(info)]
    if not infos:  # it was handed in, or found where hand-ins are: a row says what it held
        yield Rejected(source, b"", NO_NOTEBOOK_IN_ZIP.format(count=len(archive.infolist())))
        return
    counts = Counter(info.filename for info in infos)
    seen: Counter[str] = Counter()
    budget = new_budget()
    for info in infos:
        seen[info.filename] += 1
        member = f"{source}!{info.filename}"
        if counts[info.filename] > 1:
            member += f" (copy {seen[info.filename]} of {counts[info.filename]} of that name)"
        yield from _guarded(member, _read_export_member, member, archive, info, budget, modified, folder, zip_student)
    if folder is None and zip_student is None:  # the zip's own folders are its students' (see names_of)
        yield from _zip_folders_with_nothing_to_grade(source, archive.infolist())


def _zip_folders_with_nothing_to_grade(source: str, infos: list[zipfile.ZipInfo]) -> Iterator[Rejected]:
    """A row for each student folder of a zip of many that holds files but not one input (see _read_folder)."""
    folders: dict[str, _StudentFolder] = {}
    for info in infos:
        parts = path_parts(info.filename)
        if len(parts) < 2 or parts[0] in SKIPPED_FOLDERS:
            continue
        student_folder = folders.setdefault(parts[0], _StudentFolder(f"{source}!{parts[0]}/", parts[0]))
        skipped = next((part for part in parts[1:] if part in SKIPPED_FOLDERS), None)
        if skipped:  # copies only (checkpoints): handed in, yet nothing to grade
            if skipped + "/" not in student_folder.files:
                student_folder.files.append(skipped + "/")
        elif not info.is_dir():
            student_folder.saw(parts[-1])
    for student_folder in folders.values():
        yield from student_folder.nothing_to_grade()


NO_NOTEBOOK_IN_ZIP = ("a zip with no notebook (.ipynb) and no submission file in it ({count} members): nothing to "
                      "grade")


def _is_input_member(info: zipfile.ZipInfo) -> bool:
    parts = path_parts(info.filename)
    return not info.is_dir() and _looks_like_input(info.filename) and not SKIPPED_FOLDERS & set(parts)


def _read_export_member(source: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget, modified: str,
                        folder: str | None, zip_student: str | None) -> Iterator[Item]:
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
    name = f"{folder}/{info.filename}" if folder is not None else info.filename  # the zip's student folder first
    yield from _read_bytes(source, data, name, _believed(moment) if moment is not None else modified, False, budget,
                           zip_student)


def read_bytes(source: str, raw: bytes, name: str, submitted: str, *, identified: bool = False) -> Item:
    """One input given as its bytes: a notebook or a submission file. ``name`` is its file name, with the folders it
    is in inside the input given (see ``names_of``), ``submitted`` its time when it has no manifest.

    ``identified``: the caller knows who handed it in and when (the course server's login and clock, Gradescope's
    upload): the student is the one ``name`` gives and the time is ``submitted``; a manifest's student and time are
    neither used nor checked. Never raises."""
    return next(_guarded(source, _read_bytes, source, raw, name, submitted, identified))


def _read_bytes(source: str, raw: bytes, name: str, submitted: str, identified: bool,
                budget: InflateBudget | None = None, zip_student: str | None = None) -> Iterator[Item]:
    """``budget``: the inflation allowance of the zip this input came from, which a submission file inside it spends
    too (each one with an allowance of its own, a zip of 10,000 of them could inflate 160 GiB); ``zip_student``: the
    student that zip's name names (see _read_zip_file)."""
    names = names_of(name)
    if zip_student is not None:  # the zip is the student's folder: the member's own folders are folders in it
        names = replace(names, zip_student=zip_student, folder=None)
    if raw[:4] not in ZIP_SIGNATURES:
        yield _submission(source, raw, raw, names, None, submitted, identified)
        return
    try:
        archive = open_archive(io.BytesIO(raw))
    except NotASubmission as problem:
        yield Rejected(source, raw, str(problem))
        return
    with archive:
        if MANIFEST not in archive.namelist() and not names.submission_file:
            yield Rejected(source, raw, "a zip that is not a submission file (no manifest.json) inside another: "
                                        "only submission files are opened there")
        else:
            yield from _submission_from_archive(source, raw, archive, names, submitted, identified, budget)


def _submission_from_archive(source: str, raw: bytes, archive: zipfile.ZipFile, names: Names, modified: str,
                             identified: bool, budget: InflateBudget | None = None) -> Iterator[Item]:
    """The submission in a submission file (``raw``, open as ``archive``), or Rejected with the reason. A submission
    file without a manifest is its file name's (``07_x--ada.submission.zip``), at ``modified``."""
    counts = Counter(archive.namelist())
    for member in (MANIFEST, NOTEBOOK):
        if counts[member] > 1:
            yield Rejected(source, raw, f"a submission file with {counts[member]} members named {member}: which one "
                                        f"is meant is unclear")
            return
    if NOTEBOOK not in counts:
        yield Rejected(source, raw, f"a submission file without its {NOTEBOOK}")
        return
    budget = budget if budget is not None else new_budget()
    manifest: dict = {}
    try:
        if MANIFEST in counts:
            manifest = load_json(read_member(archive, archive.getinfo(MANIFEST), limits.MAX_MANIFEST_BYTES, budget,
                                             "its manifest"), "its manifest")
            if not isinstance(manifest, dict):
                raise NotASubmission("its manifest is not a JSON object")
        notebook_raw = read_member(archive, archive.getinfo(NOTEBOOK), limits.MAX_NOTEBOOK_BYTES, budget,
                                   "its notebook")
    except NotASubmission as problem:
        yield Rejected(source, raw, str(problem))
        return
    yield _submission(source, raw, notebook_raw, names, manifest, modified, identified)


def _hash_mismatch(declared, notebook_raw: bytes) -> str | None:
    """Why the notebook is not the one its manifest's ``notebook_sha256`` (written by ``submit``) describes; None
    when it is, or when the manifest gives no hash. A mismatch means the file was changed after it was packed."""
    if declared is None:
        return None
    if not (isinstance(declared, str) and len(declared) == 64 and all(c in "0123456789abcdef" for c in declared)):
        return "its manifest's notebook_sha256 is not a SHA-256 (64 lowercase hexadecimal digits)"
    if hashlib.sha256(notebook_raw).hexdigest() != declared:
        return ("its notebook is not the one its manifest describes (notebook_sha256 differs): the submission file "
                "was changed after it was packed; pack it again")
    return None


# ---------------------------------------------------------------- notebooks
def _notebook_or_rejected(source: str, raw: bytes, name: str, submitted: str) -> Iterator[Item]:
    """A bare notebook found in a folder given, or given itself."""
    yield _submission(source, raw, raw, names_of(name), None, submitted, False)


def _submission(source: str, raw: bytes, notebook_raw: bytes, names: Names, manifest: dict | None, submitted: str,
                identified: bool) -> Item:
    """A Submission once its student, its time and its notebook check out; else Rejected with the first problem found.
    ``manifest``: a submission file's (empty when it has none), None for a bare notebook; ``submitted``: its time when
    the manifest gives none (or ``identified``, see ``read_bytes``)."""
    manifest_or_none = manifest if manifest is not None else {}
    lesson = manifest_or_none.get("lesson") or names.lesson
    # printable: no control character, and no lone surrogate (one stopped every write of its row, and the batch)
    if lesson is not None and not (isinstance(lesson, str) and len(lesson) <= 100 and lesson.isprintable()):
        return Rejected(source, raw, "its manifest's lesson is not a lesson's name")
    try:
        student = owner(names, None if identified else manifest)
        if not identified:
            submitted = submitted_time(manifest_or_none.get("submitted_at"), submitted)
    except NotASubmission as problem:
        return Rejected(source, raw, str(problem), lesson=lesson)
    damaged = _hash_mismatch(manifest_or_none.get("notebook_sha256"), notebook_raw)
    if damaged:
        return Rejected(source, raw, damaged, student=student, lesson=lesson)
    try:
        notebook = parse_notebook(notebook_raw)
    except NotASubmission as problem:
        return Rejected(source, raw, str(problem), student=student, lesson=lesson)
    grade_ids = frozenset(cell["metadata"]["nbgrader"]["grade_id"] for cell in notebook["cells"]
                          if "grade_id" in cell.get("metadata", {}).get("nbgrader", {}))
    believed = getattr(submitted, "believed", str(submitted))  # a manifest's time is believed (or refused) as it is
    by_file = not identified and names.folder is None and names.file_id is None and "student" not in manifest_or_none
    return Submission(source, raw, notebook_raw, student, lesson, believed, grade_ids, manifest_or_none,
                      time_as_given=str(submitted) if believed != str(submitted) else None, named_by_file=by_file)
