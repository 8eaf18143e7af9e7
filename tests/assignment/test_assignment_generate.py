"""`coursekit generate`: writes exercises, is idempotent, and --check catches hand edits."""

import json

import pytest
from click.testing import CliRunner

from coursekit.assignment.course import Course
from coursekit.assignment.generate import generate, out_of_sync
from coursekit.assignment.notebooks import NotebookError, read_notebook, write_notebook
from coursekit.cli import main
from master_builders import read, solution_cell


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_generate_writes_the_student_copy(course):
    changes = generate(Course(course))
    assert [(c.path.name, c.action) for c in changes] == [("01_squares.ipynb", "created")]
    exercise = read(course / "exercises" / "01_squares.ipynb")
    assert "raise NotImplementedError()" in exercise.cells[2].source
    assert "square(-2)" not in exercise.cells[3].source


def test_generate_twice_changes_nothing(course):
    generate(Course(course))
    before = (course / "exercises" / "01_squares.ipynb").read_bytes()
    assert {c.action for c in generate(Course(course))} == {"unchanged"}
    assert (course / "exercises" / "01_squares.ipynb").read_bytes() == before


def test_check_passes_when_in_sync_and_fails_after_a_hand_edit(course):
    assert run("generate", "--root", str(course)).exit_code == 0
    assert run("generate", "--check", "--root", str(course)).exit_code == 0
    path = course / "exercises" / "01_squares.ipynb"
    nb = read(path)
    nb.cells[2].source = nb.cells[2].source.replace("raise NotImplementedError()", "return x * x")
    write_notebook(nb, path)
    result = CliRunner().invoke(main, ["generate", "--check", "--root", str(course)])
    assert result.exit_code == 1
    assert "out of sync: exercises/01_squares.ipynb" in result.output
    assert path.read_bytes() != b""  # --check wrote nothing back
    assert "return x * x" in read(path).cells[2].source


def test_check_fails_for_a_missing_exercise_and_an_orphan(course):
    write_notebook(read(course / "solutions" / "01_squares.ipynb"), course / "exercises" / "02_orphan.ipynb")
    actions = {(c.path.name, c.action) for c in out_of_sync(Course(course))}
    assert actions == {("01_squares.ipynb", "created"), ("02_orphan.ipynb", "removed")}
    generate(Course(course))
    assert not (course / "exercises" / "02_orphan.ipynb").exists()
    assert out_of_sync(Course(course)) == []


def test_master_edit_makes_check_fail_until_regenerated(course):
    generate(Course(course))
    master_path = course / "solutions" / "01_squares.ipynb"
    nb = read(master_path)
    nb.cells[0].source = "# Squares, revised"
    write_notebook(nb, master_path)
    assert [c.action for c in out_of_sync(Course(course))] == ["updated"]


def test_broken_master_stops_before_any_file_is_written(course):
    bad = read(course / "solutions" / "01_squares.ipynb")
    bad.cells.append(solution_cell("### BEGIN SOLUTION\nx = 1", "square"))
    write_notebook(bad, course / "solutions" / "02_bad.ipynb")
    result = CliRunner().invoke(main, ["generate", "--root", str(course)])
    assert result.exit_code == 1
    assert "02_bad.ipynb, cell 8 (grade_id 'square')" in result.output
    assert "unbalanced markers" in result.output and "repeats grade_id 'square'" in result.output
    assert list((course / "exercises").iterdir()) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", "is not valid JSON"),
        (b"", "is empty"),
        (b"\xff\xfe{}", "is not UTF-8"),
        (json.dumps({"hello": 1}).encode(), "not a Jupyter notebook"),
        (json.dumps({"cells": [], "nbformat": 3, "metadata": {}, "nbformat_minor": 0}).encode(), "format 3"),
    ],
)
def test_unreadable_master_gets_a_plain_error(course, content, words):
    (course / "solutions" / "02_broken.ipynb").write_bytes(content)
    with pytest.raises(NotebookError) as err:
        read_notebook(course / "solutions" / "02_broken.ipynb")
    assert words in str(err.value) and "02_broken.ipynb" in str(err.value)
    result = CliRunner().invoke(main, ["generate", "--root", str(course)])
    assert result.exit_code == 1 and words in result.output


def test_names_restrict_the_work_and_unknown_names_are_errors(course):
    assert run("generate", "01", "--root", str(course)).exit_code == 0
    result = CliRunner().invoke(main, ["generate", "07", "--root", str(course)])
    assert result.exit_code == 1 and "no notebook matches 07" in result.output


def test_check_and_execute_together_is_a_usage_error(course):
    result = CliRunner().invoke(main, ["generate", "--check", "--execute", "--root", str(course)])
    assert result.exit_code == 2 and "cannot be combined" in result.output


def test_no_course_found_is_a_plain_error(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--root", str(tmp_path)])
    assert result.exit_code == 1 and "no course found" in result.output


def test_a_lesson_without_a_master_can_be_named_and_a_name_that_matches_nothing_is_an_error(course):
    start = read(course / "solutions" / "01_squares.ipynb")
    start.cells = start.cells[:1]  # a start page: a markdown cell, no exercise
    write_notebook(start, course / "notebooks" / "00_start_here.ipynb")
    result = CliRunner().invoke(main, ["generate", "00", "--root", str(course)])
    assert result.exit_code == 0, result.output
    assert not (course / "exercises" / "01_squares.ipynb").exists()  # 00 names no exercise set: nothing written
    result = CliRunner().invoke(main, ["generate", "00", "01", "--root", str(course)])
    assert result.exit_code == 0 and (course / "exercises" / "01_squares.ipynb").exists(), result.output
    result = CliRunner().invoke(main, ["generate", "99", "--root", str(course)])
    assert result.exit_code == 1 and "no notebook matches 99" in result.output
