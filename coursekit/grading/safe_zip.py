"""Reading zip files that may be hostile: counted before listing, members read streaming and capped, never extracted.

A zip bomb is a small file that inflates to gigabytes; a long central directory costs memory to
list; a member named ``../../x.ipynb`` or ``/etc/x.ipynb`` aims outside the archive. Nothing here
writes a member to disk, but every one of these is refused with its reason, before Python's
``zipfile`` reads what the cap is about. The caps are in ``limits``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from coursekit.grading import limits
from coursekit.grading.notebook_json import NotASubmission
from coursekit.grading.reasons import quoted, size

_END = struct.Struct("<4s4H2LH")            # end of central directory record
_END_64_LOCATOR = struct.Struct("<4sLQL")    # zip64 end of central directory locator
_END_64 = struct.Struct("<4sQ2H2L4Q")        # zip64 end of central directory record
_MAX_COMMENT = 65535
_READ_CHUNK = 256 * 1024
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_OTHER_METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64"}
_EXTENDED_TIMESTAMP = 0x5455  # the "UT" extra field: the modification time in UTC seconds


class InflateBudgetSpent(NotASubmission):
    """The members of one zip inflated past MAX_ZIP_TOTAL_BYTES together."""


@dataclass
class InflateBudget:
    """What the members of one zip may still inflate to, together."""

    remaining: int

    @property
    def spent(self) -> bool:
        return self.remaining < 0

    def spend(self, count: int) -> None:
        """Count ``count`` more inflated bytes; InflateBudgetSpent once the total passes the cap."""
        self.remaining -= count
        if self.remaining < 0:
            raise InflateBudgetSpent(_budget_reason())


def _budget_reason() -> str:
    return (f"not read: the zip's members together inflate to more than {size(limits.MAX_ZIP_TOTAL_BYTES)}, "
            f"the most one zip may")


def new_budget() -> InflateBudget:
    """The inflate budget of one zip: MAX_ZIP_TOTAL_BYTES."""
    return InflateBudget(limits.MAX_ZIP_TOTAL_BYTES)


def open_archive(handle: BinaryIO) -> zipfile.ZipFile:
    """A ZipFile over ``handle`` (a seekable binary file), once its end record shows it lists at most
    MAX_ZIP_MEMBERS members in a central directory of at most MAX_CENTRAL_DIRECTORY_BYTES; NotASubmission if not,
    or if it is damaged."""
    extent = _central_directory_extent(handle)
    if extent is not None:
        count, directory_bytes, _, _ = extent
        if count > limits.MAX_ZIP_MEMBERS:
            raise NotASubmission(f"a zip of {count:,} members: more than the {limits.MAX_ZIP_MEMBERS:,} one zip may "
                                 f"hold")
        if directory_bytes > limits.MAX_CENTRAL_DIRECTORY_BYTES:
            raise NotASubmission(f"a zip whose list of members takes {size(directory_bytes)}: more than "
                                 f"{size(limits.MAX_CENTRAL_DIRECTORY_BYTES)} (the list of "
                                 f"{limits.MAX_ZIP_MEMBERS:,} members)")
    handle.seek(0)
    try:
        try:
            archive = zipfile.ZipFile(handle)
        except UnicodeDecodeError:  # a name flagged as UTF-8 that is not: zipfile refuses to list any member
            archive = zipfile.ZipFile(_RelabelledNames(handle, _names_not_utf_8(handle, extent)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error) as error:
        raise NotASubmission(f"a damaged zip file: {error}") from error
    if len(archive.infolist()) > limits.MAX_ZIP_MEMBERS:  # the end record under-counted: the list is what counts
        archive.close()
        raise NotASubmission(f"a zip of more than {limits.MAX_ZIP_MEMBERS:,} members, the most one zip may hold")
    return archive


def _central_directory_extent(handle: BinaryIO) -> tuple[int, int, int, int] | None:
    """(members, bytes, where it starts in the file, bytes before the zip) of the central directory, as the end
    record that ``zipfile`` will use states them (the last: a self-extracting zip's program, which the offsets of its
    records do not count); None when there is no end record (``zipfile`` then refuses the file itself)."""
    handle.seek(0, 2)
    file_size = handle.tell()
    # The end record sits in the last 22 bytes plus a comment of up to 65,535; the zip64 records just before it.
    start = max(0, file_size - (_END.size + _MAX_COMMENT + _END_64_LOCATOR.size + _END_64.size))
    handle.seek(start)
    tail = handle.read()
    # Searched as zipfile searches: a record with no comment at the very end, else the last signature.
    at = len(tail) - _END.size
    if not (at >= 0 and tail[at:at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06", max(0, len(tail) - _END.size - _MAX_COMMENT))
    if at < 0 or at + _END.size > len(tail):
        return None
    fields = _END.unpack_from(tail, at)
    count, directory_bytes, offset, ends = fields[4], fields[5], fields[6], start + at
    locator = at - _END_64_LOCATOR.size
    record = locator - _END_64.size
    if record >= 0 and tail[locator:locator + 4] == b"PK\x06\x07" and tail[record:record + 4] == b"PK\x06\x06":
        fields_64 = _END_64.unpack_from(tail, record)
        count, directory_bytes, offset = fields_64[7], fields_64[8], fields_64[9]  # entries in all, size, offset
        ends = start + record
    return count, directory_bytes, ends - directory_bytes, ends - directory_bytes - offset


_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # a central directory record (46 bytes, then name, extra, comment)
_UTF_8_NAME = 0x800  # the general purpose flag that says a name is UTF-8


def _names_not_utf_8(handle: BinaryIO, extent: tuple[int, int, int, int] | None) -> dict[int, int]:
    """{position in the file: byte} that clears the UTF-8 flag of each member whose name claims UTF-8 and is not,
    in its central directory record and its local header: zipfile then reads the name as code page 437, as it reads
    any name without the flag, and lists the zip (one such name made every member of a class's export unread)."""
    if extent is None:
        return {}
    _, directory_bytes, start, prepended = extent
    handle.seek(start)
    directory = handle.read(directory_bytes)
    patches, at = {}, 0
    while at + _CENTRAL.size <= len(directory) and directory[at:at + 4] == b"PK\x01\x02":
        record = _CENTRAL.unpack_from(directory, at)
        flags, (name_length, extra_length, comment_length), local = record[5], record[12:15], record[18]
        name = directory[at + _CENTRAL.size:at + _CENTRAL.size + name_length]
        if flags & _UTF_8_NAME and not _is_utf_8(name):
            patches[start + at + 9] = (flags >> 8) & ~(_UTF_8_NAME >> 8)  # the flags' high byte
            if prepended + local >= 0:  # else zipfile refuses the member, with or without the flag
                handle.seek(prepended + local + 6)
                local_flags = handle.read(2)
                if len(local_flags) == 2:
                    patches[prepended + local + 7] = local_flags[1] & ~(_UTF_8_NAME >> 8)
        at += _CENTRAL.size + name_length + extra_length + comment_length
    handle.seek(0)
    return patches


def _is_utf_8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _RelabelledNames:
    """A zip file as read with a few of its bytes replaced (``_names_not_utf_8``): what zipfile reads, not what it
    inflates (no replaced byte is in a member's data)."""

    def __init__(self, handle: BinaryIO, patches: dict[int, int]):
        self.handle, self.patches = handle, patches
        self.positions = sorted(patches)  # found by bisection: a zip may hold 10,000 such names, read 3 times each

    def read(self, count: int = -1) -> bytes:
        at = self.handle.tell()
        data = self.handle.read(count)
        first = bisect.bisect_left(self.positions, at)
        last = bisect.bisect_left(self.positions, at + len(data), first)
        if first == last:
            return data
        data = bytearray(data)
        for position in self.positions[first:last]:
            data[position - at] = self.patches[position]
        return bytes(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self.handle.close()


def member_name_problem(name: str) -> str | None:
    """Why a member's name is refused (absolute, leading out of the zip, control characters), or None."""
    if re.match(r"[/\\]|[A-Za-z]:", name):
        return f"its name {quoted(name)} is an absolute path: refused, not read"
    if ".." in re.split(r"[/\\]", name):
        return f"its name {quoted(name)} leads out of the zip (..): refused, not read"
    if any(ord(character) < 32 or ord(character) == 127 for character in name):
        return f"its name {quoted(name)} holds control characters: refused, not read"
    return None


def is_symbolic_link(info: zipfile.ZipInfo) -> bool:
    """True for a member stored as a symbolic link (Unix mode bits in its external attributes)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def member_time(info: zipfile.ZipInfo) -> dt.datetime | None:
    """When the member was last modified: its UTC time from the "UT" extra field when present, else the zip's
    date and time as written, a naive datetime (zip stores no zone: the caller decides which to read it in); None
    when that date is invalid."""
    extra = info.extra
    while len(extra) >= 4:
        tag, length = struct.unpack_from("<HH", extra)
        body = extra[4:4 + length]
        if tag == _EXTENDED_TIMESTAMP and len(body) >= 5 and body[0] & 1:
            try:
                return dt.datetime.fromtimestamp(int.from_bytes(body[1:5], "little", signed=True), dt.UTC)
            except (OverflowError, OSError, ValueError):
                break
        extra = extra[4 + length:]
    try:
        return dt.datetime(*info.date_time)
    except (TypeError, ValueError):
        return None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, budget: InflateBudget,
                what: str = "a zip member") -> bytes:
    """The member's bytes, inflated piece by piece and never past ``cap``, MAX_COMPRESSION_RATIO or ``budget``;
    NotASubmission with the reason (naming the member as ``what``) when one would be passed, or when the member is
    damaged or encrypted."""
    if info.flag_bits & 0x1:
        raise NotASubmission("an encrypted zip member: the grader has no password")
    if info.compress_type not in _METHODS:
        method = _OTHER_METHODS.get(info.compress_type, f"method {info.compress_type}")
        raise NotASubmission(f"a zip member compressed with {method}: the grader reads only stored and deflate "
                             f"members")
    if info.file_size > cap:
        raise NotASubmission(_too_large(what, info.file_size, cap))
    if _ratio_exceeded(info.file_size, info.compress_size):
        raise NotASubmission(_too_compressed(info.file_size, info.compress_size))
    if budget.spent:
        raise InflateBudgetSpent(_budget_reason())
    if id(info) in _overlapping(archive):
        raise NotASubmission("a zip member whose compressed bytes are also another member's: refused, not read (one "
                             "stream listed many times inflates many times, as zip bombs do)")
    pieces, total = [], 0
    try:
        with archive.open(info) as stream:
            while piece := stream.read(_READ_CHUNK):
                total += len(piece)
                # zipfile stops at the declared size; these hold even if it did not
                if total > cap:
                    raise NotASubmission(_too_large(what, total, cap, at_least=True))
                if _ratio_exceeded(total, info.compress_size):
                    raise NotASubmission(_too_compressed(total, info.compress_size))
                budget.spend(len(piece))
                pieces.append(piece)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        raise NotASubmission(f"a damaged zip member: {error}") from error
    return b"".join(pieces)


def _overlapping(archive: zipfile.ZipFile) -> frozenset[int]:
    """The members (their ``id``) whose data begins inside an earlier member's, found once per archive. zipfile reads
    each member on its own: a directory that lists one deflate stream 70 times under one name made a 170 kB zip hand
    in 1 GiB, every copy within the compression ratio its declared sizes claim."""
    known = getattr(archive, "_coursekit_overlapping", None)
    if known is None:
        found, end = set(), -1
        for info in sorted(archive.infolist(), key=lambda info: info.header_offset):
            if info.header_offset < end:
                found.add(id(info))
            end = max(end, info.header_offset + info.compress_size)
        known = archive._coursekit_overlapping = frozenset(found)
    return known


def _ratio_exceeded(inflated: int, compressed: int) -> bool:
    return inflated > limits.MIN_RATIO_CHECKED_BYTES and inflated > limits.MAX_COMPRESSION_RATIO * max(compressed, 1)


def _too_large(what: str, inflated: int, cap: int, at_least: bool = False) -> str:
    return f"{what} inflates to {'more than ' if at_least else ''}{size(inflated)}: more than the {size(cap)} allowed"


def _too_compressed(inflated: int, compressed: int) -> str:
    return (f"a zip member that inflates from {size(compressed)} to {size(inflated)} or more: over "
            f"{limits.MAX_COMPRESSION_RATIO} times, as zip bombs do, where notebooks compress 3 to 10 times")
