"""Submissions in and out, rejected inputs with reasons, an idempotent and resumable gradebook, and the exports."""

import csv
import json
import zipfile
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.assignment.notebooks import write_notebook
from coursekit.cli import main
from coursekit.grading.batch import fairly_ordered, grade_paths
from coursekit.grading.gradebook import Gradebook
from coursekit.grading.intake import Rejected, Submission, read_submissions
from coursekit.grading.submission import pack
from graded_submissions import FAST, MASTERS, ROOT, solution

LESSON = "07_efficiency"
EXERCISES = ROOT / "exercises" / f"{LESSON}.ipynb"


def test_pack_writes_the_notebook_and_a_manifest_that_read_back(tmp_path):
    target = pack(EXERCISES, "ada", tmp_path / "outbox")
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["lesson"] == LESSON and manifest["student"] == "ada" and manifest["coursekit_version"]
    assert manifest["submitted_at"].endswith("+00:00") and len(manifest["notebook_sha256"]) == 64
    (item,) = read_submissions(target)
    assert isinstance(item, Submission) and item.student == "ada" and item.lesson == LESSON


@pytest.mark.parametrize("name", ["work--v2.ipynb", "01_chain_rule-.ipynb", "-.ipynb", "a\\b.ipynb", "--x--.ipynb"])
def test_pack_writes_a_file_the_grader_reads_as_the_students_whatever_the_notebooks_name(tmp_path, name):
    # red team Z: "01_chain_rule-.ipynb" was packed as "01_chain_rule---ada.submission.zip", which the grader rejected
    # as the work of student "-ada", though its manifest said "ada"
    notebook = tmp_path / name
    notebook.write_bytes(EXERCISES.read_bytes())
    target = pack(notebook, "ada", tmp_path / "outbox")
    (item,) = read_submissions(tmp_path / "outbox")
    assert isinstance(item, Submission) and item.student == "ada", item
    assert target.parent == tmp_path / "outbox" and "\\" not in target.name


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"), (b"{not json", "invalid JSON"), (b'{"a": 1}', "not a Jupyter notebook"),
    ("caf\u00e9".encode("latin-1"), "not UTF-8"), (b"PK\x03\x04broken", "damaged zip"),
])
def test_unreadable_inputs_are_rejected_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    (item,) = read_submissions(path)
    assert isinstance(item, Rejected) and reason in item.reason


def test_a_zip_of_many_submissions_is_read_member_by_member(tmp_path):
    bulk = tmp_path / "export.zip"
    with zipfile.ZipFile(bulk, "w") as archive:
        archive.write(EXERCISES, f"{LESSON}--bob.ipynb")
        archive.write(pack(EXERCISES, "ada", tmp_path), f"{LESSON}--ada.submission.zip")
        archive.writestr("notes.txt", "ignored")
    students = sorted(item.student for item in read_submissions(bulk))
    assert students == ["ada", "bob"]


@pytest.mark.slow  # grades through a sandbox server
def test_batches_are_idempotent_resumable_and_record_rejections(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_notebook(solution(LESSON), inbox / f"{LESSON}--ada.ipynb")
    (inbox / "junk.ipynb").write_text("{", encoding="utf-8")
    other = tmp_path / "later"
    other.mkdir()
    write_notebook(solution("03_activations"), other / "03_activations--ada.ipynb")
    with Gradebook(tmp_path / "book.sqlite") as book:
        first = grade_paths([inbox], ROOT / "solutions", book, jobs=1, settings=FAST)
        assert [o.grade.points for o in first if o.grade] == [MASTERS[LESSON].max_points]
        assert book.rejected() == [(str(inbox / "junk.ipynb"), "invalid JSON at line 1, column 2: "
                                    "Expecting property name enclosed in double quotes")]
        again = grade_paths([inbox, other], ROOT / "solutions", book, jobs=1, settings=FAST)
        assert [o.skipped for o in again if o.lesson == LESSON] == [True]        # resumed: not graded twice
        assert sum(1 for o in again if o.grade) == 1
        count = book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        grade_paths([inbox], ROOT / "solutions", book, jobs=1, settings=FAST, regrade=True)
        assert book.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == count  # replaced, not doubled
        rows = list(csv.reader(book.export_csv(tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][0] == "student" and rows[0][-1] == "total"
    both = MASTERS[LESSON].max_points + MASTERS["03_activations"].max_points
    assert rows[1][0] == "ada" and float(rows[1][-1]) == both


@pytest.mark.slow  # grades through a sandbox server
def test_the_cli_grades_and_writes_feedback_csv_and_gradescope_results(tmp_path):
    submission = pack(ROOT / "solutions" / f"{LESSON}.ipynb", "ada", tmp_path / "outbox")
    runner = CliRunner()
    result = runner.invoke(main, ["grade", str(submission), "--root", str(ROOT), "--jobs", "1",
                                  "--gradebook", str(tmp_path / "book.sqlite"), "--csv", str(tmp_path / "g.csv"),
                                  "--feedback", str(tmp_path / "fb"), "--gradescope", str(tmp_path / "results.json")])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == MASTERS[LESSON].max_points and len(results["tests"]) == len(MASTERS[LESSON].tests)
    feedback = (tmp_path / "fb" / f"{LESSON}--ada.md").read_text()
    assert "| numerical_passes_test | passed |" in feedback and "assert" not in feedback
    # the same gradebook again (nothing left to grade), its feedback as HTML pages
    again = runner.invoke(main, ["grade", str(submission), "--root", str(ROOT), "--no-keep-warm", "--gradebook",
                                 str(tmp_path / "book.sqlite"), "--feedback", str(tmp_path / "fb"),
                                 "--feedback-format", "html"])
    assert again.exit_code == 0 and "0 graded, 1 already graded" in again.output, again.output
    page = (tmp_path / "fb" / f"{LESSON}--ada.html").read_text()
    assert page.startswith("<!doctype html>") and "<td>numerical_passes_test</td>\n<td>passed</td>" in page
    assert "<pre>" not in page and "<br>" not in page


def test_the_cli_packs_a_submission(tmp_path):
    result = CliRunner().invoke(main, ["submit", str(EXERCISES), "--student", "bob", "--outbox", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / f"{LESSON}--bob.submission.zip").exists()




SUBMISSIONS = st.lists(st.tuples(st.sampled_from(["ada", "bob", "cyd"]), st.sampled_from(["01", "02"]),
                                 st.integers(0, 3)), max_size=25)


@settings(max_examples=200, deadline=None)
@given(submissions=SUBMISSIONS)
def test_a_batch_grades_every_students_latest_first_then_the_rest_round_by_round(submissions):
    # red team V: a student's dozen submissions, each taking its whole budget, held everyone read after them
    todo = [(SimpleNamespace(student=student, submitted_at=f"2025-01-0{day + 1}", arrival=index), lesson)
            for index, (student, lesson, day) in enumerate(submissions)]
    ordered = fairly_ordered(todo)
    assert sorted(map(id, ordered)) == sorted(map(id, todo))  # the same submissions, each once
    seen: dict = {}
    rounds = []
    for item, lesson in ordered:
        group = seen.setdefault((item.student, lesson), [])
        if not group:  # a student's first for a lesson is their latest: submitted last, read last on a tie
            assert all((other.submitted_at, other.arrival) <= (item.submitted_at, item.arrival)
                       for other, other_lesson in todo if (other.student, other_lesson) == (item.student, lesson))
        rounds.append(len(group))
        group.append(item)
    assert rounds == sorted(rounds)  # every group's first, then every group's second, ...
    for place in set(rounds):  # and within a round, in the order read
        arrivals = [item.arrival for (item, _), r in zip(ordered, rounds, strict=True) if r == place]
        assert arrivals == sorted(arrivals)
