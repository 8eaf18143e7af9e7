"""`coursekit grade` when its gradebook cannot be written: it ends saying so, in plain words, and keeps what it
recorded before."""

import sqlite3

import pytest
from click.testing import CliRunner

from coursekit.cli import main
from coursekit.grading.gradebook import Gradebook
from graded_submissions import ROOT

pytestmark = pytest.mark.slow  # grades through a sandbox server

LESSON = "07_efficiency"


def test_a_full_disk_ends_the_command_saying_so_and_keeps_what_was_recorded(tmp_path, monkeypatch):
    # a red team filled the disk from a student's cell: the command died on a traceback, with no row recorded
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for student in ("ada", "bob"):
        (inbox / f"{LESSON}--{student}.ipynb").write_bytes((ROOT / "solutions" / f"{LESSON}.ipynb").read_bytes())
    recorded = Gradebook.record

    def record_until_full(book, entry, *args, **kwargs):
        if entry.student == "bob":
            raise sqlite3.OperationalError("database or disk is full")
        return recorded(book, entry, *args, **kwargs)

    monkeypatch.setattr(Gradebook, "record", record_until_full)
    book = tmp_path / "book.sqlite"
    result = CliRunner().invoke(main, ["grade", str(inbox), "--root", str(ROOT), "--gradebook", str(book),
                                       "--jobs", "1", "--no-keep-warm"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: the gradebook {book} could not be written (database or disk is full)" in \
        " ".join(result.output.split())
    monkeypatch.undo()
    with Gradebook(book) as kept:
        assert [student for student, _, _ in kept.latest()] == ["ada"]


def test_an_output_path_below_a_file_is_said_in_plain_words_and_the_other_outputs_are_written(tmp_path):
    # red team V: a traceback, after grading, and the feedback and Gradescope's results never written
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{LESSON}--ada.ipynb").write_bytes((ROOT / "solutions" / f"{LESSON}.ipynb").read_bytes())
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    result = CliRunner().invoke(main, ["grade", str(inbox), "--root", str(ROOT), "--jobs", "1", "--no-keep-warm",
                                       "--gradebook", str(tmp_path / "book.sqlite"), "--csv", str(in_the_way / "g.csv"),
                                       "--feedback", str(tmp_path / "feedback"),
                                       "--gradescope", str(tmp_path / "results.json")])
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in said, said
    assert f"error: the CSV gradebook could not be written to {in_the_way / 'g.csv'} (NotADirectoryError" in said
    assert (tmp_path / "feedback" / f"{LESSON}--ada.md").exists() and (tmp_path / "results.json").exists()
    result = CliRunner().invoke(main, ["grade", str(inbox), "--root", str(ROOT), "--no-keep-warm",
                                       "--gradebook", str(in_the_way / "book.sqlite")])
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in said and "cannot be used (FileExistsError" in said, said
