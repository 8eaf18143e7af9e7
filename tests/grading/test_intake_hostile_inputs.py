"""Hostile files and folders given to the grader: each becomes a row with a reason in plain words, never a crash.

(Zips have their own file, test_intake_zips.py; student ids theirs, test_intake_student_ids.py.)
"""

import json
import os
import threading
import tracemalloc
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.grading import intake, limits
from coursekit.grading.intake import Rejected, Submission, read_bytes, read_submissions
from coursekit.grading.notebook_json import NotASubmission, check_json_size, parse_notebook
from coursekit.grading.student_code import student_cells
from graded_submissions import ROOT

LESSON = "07_efficiency"
EXERCISE = (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()
NAME = f"{LESSON}--ada.ipynb"
WHEN = "2025-01-01T00:00:00.000000+00:00"


def only(path) -> Submission | Rejected:
    (item,) = read_submissions(path)
    return item


def rejected_with(path, words: str) -> Rejected:
    item = only(path)
    assert isinstance(item, Rejected), f"{path} was read as a submission"
    assert words in item.reason, item.reason
    return item


def cell(**fields) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None, **fields}


def notebook_with(*cells) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}).encode()


# ---------------------------------------------------------------- nesting
def test_a_list_nested_100000_deep_is_rejected_not_a_recursion_error(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    rejected_with(path, f"nests lists or objects more than {limits.MAX_JSON_DEPTH} deep")


def test_objects_nested_100000_deep_in_a_cells_metadata_are_rejected(tmp_path):
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    path = tmp_path / NAME
    path.write_bytes(b'{"cells": [{"cell_type": "code", "source": "x", "metadata": ' + deep + b"}]}")
    rejected_with(path, "too deep to read")


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = "[" * 10_000 + '\\"{'  # a cell's text full of brackets and an escaped quote is not nesting
    item = read_bytes("s", notebook_with(cell(source=text)), NAME, WHEN)
    assert isinstance(item, Submission)


def test_the_scan_holds_no_memory_of_its_own_even_on_a_string_of_a_million_escapes():
    raw = b'{"cells": [], "x": "' + b"\\n" * 1_000_000 + b'\\"[[["}'
    tracemalloc.start()
    try:
        check_json_size(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak


def test_a_notebook_of_more_values_than_the_cap_is_rejected_before_it_is_parsed(monkeypatch, tmp_path):
    monkeypatch.setattr(limits, "MAX_JSON_VALUES", 1000)
    path = tmp_path / NAME
    path.write_bytes(notebook_with(cell(), cell(metadata={"many": [{}] * 2000})))
    rejected_with(path, "more than 1,000 values")


# ---------------------------------------------------------------- junk and wrong types
@pytest.mark.parametrize(("content", "reason"), [
    (bytes(range(256)) * 4, "not UTF-8 text"),
    (b"\x00" * 100, "invalid JSON"),
    (b'{"cells": [], "x": ' + b"1" * 5000 + b"}", "a value too long to read"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (b'{"cells": {"a": 1}}', "its cells are an object, not a list"),
    (b'{"cells": [5]}', "cell 1 is a number, not a cell"),
    (b'{"cells": [], "nbformat": "4"}', "its nbformat is text, not a version number"),
    (b'{"cells": [], "nbformat": 5}', "format version 5: the grader reads versions 3 and 4"),
    (b'{"cells": [], "nbformat": 2}', "format version 2"),
    (notebook_with(cell(source=5)), "cell 1's source is a number, not text"),
    (notebook_with(cell(), cell(source=["a", 1])), "cell 2's source is a list holding a number"),
    (notebook_with(cell(cell_type=["code"])), "cell 1's type is a list, not text"),
    (notebook_with(cell(metadata=[])), "cell 1's metadata is a list, not an object"),
    (notebook_with(cell(metadata={"nbgrader": "yes"})), "cell 1's nbgrader metadata is text, not an object"),
    (notebook_with(cell(metadata={"nbgrader": {"grade_id": ["a"]}})), "cell 1's grade_id is a list, not text"),
    (notebook_with(cell(source="\ud800")), "a lone surrogate"),
])
def test_junk_and_fields_of_the_wrong_type_are_rejected_with_the_field_named(tmp_path, content, reason):
    path = tmp_path / NAME
    path.write_bytes(content)
    rejected_with(path, reason)


def test_nulls_where_the_grader_reads_count_as_absent():
    item = read_bytes("s", notebook_with(cell(source=None, metadata={"nbgrader": None}), cell(metadata=None)),
                      NAME, WHEN)
    assert isinstance(item, Submission)
    assert student_cells(parse_notebook(item.notebook_raw)) == ["x = 1"]


def test_a_byte_order_mark_is_accepted():
    assert isinstance(read_bytes("s", b"\xef\xbb\xbf" + EXERCISE, NAME, WHEN), Submission)


def test_a_version_3_notebook_is_converted_and_read():
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "x = 1", "language": "python", "outputs": [], "metadata": {}}],
        "metadata": {}}]}
    item = read_bytes("s", json.dumps(v3).encode(), NAME, WHEN)
    assert isinstance(item, Submission)
    assert student_cells(parse_notebook(item.notebook_raw)) == ["x = 1"]


def test_a_version_3_notebook_keeps_what_the_grader_reads_and_nothing_of_its_outputs():
    output = {"output_type": "stream", "stream": "stdout", "text": ["x" * 1000] * 50}
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 2, "source": ["Part ", "one"], "metadata": {}},
        {"cell_type": "code", "input": ["def f(x):\n", "    return x\n"], "language": "python", "metadata":
         {"nbgrader": {"grade_id": "f", "solution": True}}, "outputs": [output] * 20},
        {"cell_type": "markdown", "source": "text", "metadata": {}}], "metadata": {}}]}
    nb = parse_notebook(json.dumps(v3).encode())
    assert [(c["cell_type"], c["source"]) for c in nb["cells"]] == [
        ("markdown", "## Part one"), ("code", "def f(x):\n    return x\n"), ("markdown", "text")]
    assert nb["cells"][1]["metadata"]["nbgrader"]["grade_id"] == "f" and "outputs" not in nb["cells"][1]


def test_a_version_4_notebook_with_stray_worksheets_is_read_as_version_4():
    nb = json.loads(EXERCISE)
    nb["worksheets"] = [{"cells": [{"cell_type": "code", "input": "x = 1", "metadata": {}}] * 5000}]
    assert student_cells(parse_notebook(json.dumps(nb).encode())) == student_cells(json.loads(EXERCISE))


def test_a_malformed_version_3_notebook_is_rejected_with_a_reason():
    item = read_bytes("s", b'{"nbformat": 3, "worksheets": 7}', NAME, WHEN)
    assert isinstance(item, Rejected) and "a malformed notebook of format version 3" in item.reason


@pytest.mark.parametrize("version", [3, 4])
def test_a_notebook_of_more_cells_than_the_cap_is_rejected_before_it_is_converted_or_graded(version):
    # 85,000 empty version-3 cells took nbformat 27 s to convert, twice, before any budget started
    cell = ({"cell_type": "code", "input": "", "language": "python", "outputs": [], "metadata": {}} if version == 3
            else {"cell_type": "code", "source": "", "outputs": [], "metadata": {}, "execution_count": None})
    cells = [cell] * (limits.MAX_CELLS + 1)
    notebook = ({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells, "metadata": {}}]}
                if version == 3 else {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    item = read_bytes("s", json.dumps(notebook).encode(), NAME, WHEN)
    assert isinstance(item, Rejected) and f"more than the {limits.MAX_CELLS:,} a notebook may have" in item.reason


def test_a_file_past_the_size_cap_is_rejected_unread(monkeypatch, tmp_path):
    monkeypatch.setattr(limits, "MAX_NOTEBOOK_BYTES", 1000)
    path = tmp_path / NAME
    path.write_bytes(EXERCISE)
    item = rejected_with(path, "more than the 1,000 bytes a notebook may have")
    assert item.raw == b""


# ---------------------------------------------------------------- folders
def test_a_symbolic_link_out_of_the_folder_is_rejected_not_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / NAME).write_bytes(EXERCISE)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{LESSON}--eve.ipynb").symlink_to(secret / NAME)
    (inbox / "folder").symlink_to(secret)
    items = list(read_submissions(inbox))
    assert all(isinstance(item, Rejected) for item in items) and len(items) == 2
    assert all("outside the folder given: not followed" in item.reason and item.raw == b"" for item in items)


def test_a_symbolic_link_inside_the_folder_is_rejected_and_its_target_read_where_it_is(tmp_path):
    (tmp_path / NAME).write_bytes(EXERCISE)
    (tmp_path / f"{LESSON}--eve.ipynb").symlink_to(tmp_path / NAME)
    items = {os.path.basename(item.source): item for item in read_submissions(tmp_path)}
    assert isinstance(items[NAME], Submission)
    assert "links in a folder are never followed" in items[f"{LESSON}--eve.ipynb"].reason


def test_a_link_swapped_in_after_the_folder_was_listed_is_still_not_followed(tmp_path):
    (tmp_path / "target.ipynb").write_bytes(EXERCISE)
    (tmp_path / NAME).symlink_to(tmp_path / "target.ipynb")
    (item,) = intake._read_file(tmp_path / NAME, str(tmp_path / NAME), NAME, False)
    assert isinstance(item, Rejected) and "symbolic link" in item.reason


def test_a_named_pipe_is_rejected_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / NAME)
    result = []
    reader = threading.Thread(target=lambda: result.extend(read_submissions(tmp_path)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a named pipe blocked"
    assert len(result) == 1 and "not a regular file" in result[0].reason


def test_a_socket_a_loop_of_links_and_a_name_not_in_utf8_are_rejected_for_what_they_are(tmp_path):
    # red team V: "No such device or address", "links in a folder are never followed" (for a link given), and "an
    # invisible character (U+DCE9)": each reason named the wrong cause
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / f"{LESSON}--sock.ipynb"))
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    latin = os.fsdecode(f"{LESSON}--caf".encode() + b"\xe9.ipynb")  # as an export unpacked in Latin-1 names it
    (tmp_path / latin).write_bytes(b"{}")
    try:
        (sock,) = read_submissions(tmp_path / f"{LESSON}--sock.ipynb")
        (loop,) = read_submissions(tmp_path / "a")
        (named,) = read_submissions(tmp_path / latin)
    finally:
        listener.close()
    assert sock.reason == "not a regular file (a device, a pipe or a socket): not read"
    assert loop.reason == "a loop of symbolic links: they never reach a file"
    assert "its bytes are not UTF-8 (a byte 0xE9)" in named.reason and "invisible" not in named.reason


def test_checkpoint_copies_are_not_read(tmp_path):
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / f"{LESSON}--ada-checkpoint.ipynb").write_bytes(EXERCISE)
    (tmp_path / NAME).write_bytes(EXERCISE)
    assert [os.path.basename(item.source) for item in read_submissions(tmp_path)] == [NAME]


def test_a_folder_per_student_names_the_student_and_a_file_name_in_it_naming_another_is_rejected(tmp_path):
    for student in ("ada", "bob"):
        (tmp_path / student).mkdir()
        (tmp_path / student / f"{LESSON}.ipynb").write_bytes(EXERCISE)
    (tmp_path / "cyd.ipynb").write_bytes(EXERCISE)
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / f"{LESSON}--dan.ipynb").write_bytes(EXERCISE)  # in eve's folder: never dan's
    (tmp_path / "eve" / f"{LESSON}--eve.ipynb").write_bytes(EXERCISE)
    ada, bob, cyd, dan, eve = read_submissions(tmp_path)
    assert [(item.student, item.lesson) for item in (ada, bob, cyd, eve)] == [
        ("ada", LESSON), ("bob", LESSON), ("cyd", None), ("eve", LESSON)]
    assert isinstance(dan, Rejected) and "'eve'" in dan.reason and "'dan'" in dan.reason


def test_a_missing_path_is_a_row_with_the_reason(tmp_path):
    rejected_with(tmp_path / "nowhere.ipynb", "cannot read the file: No such file or directory")


@pytest.mark.parametrize(("error", "reason"), [
    (RuntimeError("boom"), "the grader could not read it (RuntimeError: boom)"),
    (MemoryError(), "the grader ran out of memory reading it"),
    (RecursionError("deep"), "the grader could not read it (RecursionError: deep)"),
])
def test_an_unexpected_error_on_one_input_is_a_row_and_the_next_inputs_are_read(monkeypatch, tmp_path, error, reason):
    (tmp_path / f"{LESSON}--ada.ipynb").write_bytes(EXERCISE)
    (tmp_path / f"{LESSON}--bob.ipynb").write_bytes(EXERCISE + b" ")
    (tmp_path / f"{LESSON}--cyd.ipynb").write_bytes(EXERCISE)
    real = intake.parse_notebook

    def breaks_on_bob(raw):
        if raw.endswith(b" "):
            raise error
        return real(raw)

    monkeypatch.setattr(intake, "parse_notebook", breaks_on_bob)
    items = list(read_submissions(tmp_path))
    assert [type(item).__name__ for item in items] == ["Submission", "Rejected", "Submission"]
    assert items[1].reason == reason and items[1].source.endswith("--bob.ipynb")


# ---------------------------------------------------------------- properties
def depth_and_values(value) -> tuple[int, int]:
    """The nesting depth of lists and objects in ``value``, and its count of values (keys too)."""
    depth, values, pending = 0, 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if item is None or isinstance(item, str | int | float):
            values += 1
        elif isinstance(item, list | dict):
            depth, values = max(depth, level), values + 1
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending += [(child, level + 1) for child in children]
    return depth, values


TRICKY_TEXT = st.text(st.sampled_from('[]{}"\\/ aé\n'), max_size=8)
TRICKY_JSON = st.recursive(st.none() | st.integers() | TRICKY_TEXT,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY_TEXT, inner, max_size=4),
                           max_leaves=30)


@settings(max_examples=100, deadline=None)
@given(TRICKY_JSON, st.booleans())
def test_the_scan_counts_exactly_the_depth_and_values_that_json_will_find(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    depth, values = depth_and_values(value)
    with mock.patch.multiple(limits, MAX_JSON_DEPTH=depth, MAX_JSON_VALUES=values):
        check_json_size(raw)  # exactly at the caps: accepted
    if depth:
        with mock.patch.object(limits, "MAX_JSON_DEPTH", depth - 1), pytest.raises(NotASubmission, match="deep"):
            check_json_size(raw)
    if values:
        with mock.patch.object(limits, "MAX_JSON_VALUES", values - 1), pytest.raises(NotASubmission, match="many"):
            check_json_size(raw)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b'{"cells": [', b'{"nbformat": 3, "worksheets": [']),
       st.binary(max_size=3000))
def test_any_bytes_become_a_submission_or_a_rejection_with_a_reason_and_never_raise(start, data):
    item = read_bytes("input", start + data, NAME, WHEN)
    assert isinstance(item, Submission | Rejected)
    assert isinstance(item, Submission) or item.reason


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"cell_type": JSON, "source": JSON, "metadata": JSON}),
       st.fixed_dictionaries({"metadata": st.fixed_dictionaries({"nbgrader": JSON}), "source": JSON}),
       st.fixed_dictionaries({"metadata": st.fixed_dictionaries({"nbgrader": st.fixed_dictionaries(
           {"grade_id": JSON, "grade": JSON})})}),
       JSON)
def test_a_notebook_whose_fields_have_any_types_is_rejected_or_safe_for_the_grader(first, second, third, nbformat):
    raw = json.dumps({"nbformat": nbformat, "cells": [first, second, third]}).encode()
    item = read_bytes("input", raw, NAME, WHEN)
    if isinstance(item, Rejected):
        assert item.reason
        return
    notebook = parse_notebook(item.notebook_raw)  # what a grading worker does with it
    assert all(isinstance(code, str) for code in student_cells(notebook))
    assert all(isinstance(grade_id, str) for grade_id in item.grade_ids)


@pytest.mark.parametrize("source", [["Part ", 1], [None], 5, {"a": 1}])
def test_a_version_3_heading_whose_source_is_not_text_is_refused_with_the_cell_named(source):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 1, "source": source, "metadata": {}}], "metadata": {}}]}
    with pytest.raises(NotASubmission, match="cell 1's source"):
        parse_notebook(json.dumps(v3).encode())


def test_a_name_taken_for_a_notebook_but_not_one_is_a_row_that_says_so(tmp_path):
    # red team V: "x.ipynb " (a trailing space) and a folder named "x.ipynb" got no row, beside a student's notebook
    ada = tmp_path / "ada"
    ada.mkdir()
    (ada / NAME).write_bytes((ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes())
    (ada / f"{LESSON}.ipynb ").write_bytes(b"{}")
    (ada / "old.ipynb.json").write_bytes(b"{}")
    (ada / "folder.ipynb").mkdir()
    (ada / "notes.txt").write_text("not an input: no row")
    items = list(read_submissions(tmp_path))
    assert [item.student for item in items if isinstance(item, Submission)] == ["ada"]
    assert sorted(item.reason for item in items if isinstance(item, Rejected)) == [
        "a folder named like a notebook or a zip: its own files are read, it is not",
        f"named like a notebook or a zip, but its name is '{LESSON}.ipynb ': not read (a notebook's name ends in "
        ".ipynb, a zip's in .zip)",
        "named like a notebook or a zip, but its name is 'old.ipynb.json': not read (a notebook's name ends in .ipynb, "
        "a zip's in .zip)"]


def test_a_folder_that_cannot_be_listed_is_a_row_of_its_student(tmp_path, monkeypatch):
    # red team AB: a folder nested 2,100 deep in erin/ was "cannot list the folder: File name too long", naming nobody
    deep = tmp_path / "inbox" / "erin" / "work" / "deeper"
    deep.mkdir(parents=True)
    scandir = os.scandir

    def refusing(path):
        if os.fspath(path) == str(deep):
            raise OSError(36, "File name too long")
        return scandir(path)
    monkeypatch.setattr(intake.os, "scandir", refusing)
    (item,) = read_submissions(tmp_path / "inbox")
    assert isinstance(item, Rejected) and item.student == "erin" and "cannot list the folder" in item.reason
