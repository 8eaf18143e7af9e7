"""Whose a submission is, and when it was handed in: the place it was found names the student before anything the
student wrote does (red-team findings: a manifest saying ``"student": "victim"`` overwrote the victim's grade; the
students of ``alice/work/`` and ``bob/work/`` became one student ``work``; submission files without a manifest all
became the student ``notebook``).

The student folder (the first folder below the folder or zip given), the ``--id`` of the file name and the manifest
must agree where they name a student; an input where two disagree is rejected naming both. A manifest's time has a
time zone and is not in the future.
"""

import datetime as dt
import io
import json
import unicodedata
import warnings
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.grading.intake import CLOCK_TOLERANCE, Rejected, Submission, read_bytes, read_submissions
from coursekit.grading.student_ids import is_valid_student_id
from graded_submissions import ROOT

LESSON = "07_efficiency"
EXERCISE = (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()
SOLUTION = (ROOT / "solutions" / f"{LESSON}.ipynb").read_bytes()
TIME = "2025-01-02T03:04:05+00:00"
FILE_TIME = "2025-01-01T00:00:00.000000+00:00"
# Valid ids: letters of a few scripts, digits and the punctuation allowed, starting with a letter or a digit.
IDS = st.text(st.sampled_from("abzAZ09é太ａ._-@+"), min_size=1, max_size=12).filter(is_valid_student_id)
FOLDERS = st.text(st.sampled_from("abz09_-."), min_size=1, max_size=8).filter(lambda f: f not in {".", ".."})


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def zip_of(members) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
        for name, data in (members.items() if isinstance(members, dict) else members):
            archive.writestr(zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def submission_file(student=None, submitted_at=TIME, notebook=EXERCISE, manifest=True) -> bytes:
    """A submission file; ``student`` None leaves it out of the manifest; ``manifest`` False leaves the manifest out."""
    fields = {"lesson": LESSON, "submitted_at": submitted_at} | ({"student": student} if student is not None else {})
    members = {"manifest.json": json.dumps(fields)} if manifest else {}
    return zip_of(members | {"notebook.ipynb": notebook})


def read(content: bytes, name: str, **options):
    return read_bytes("in", content, name, FILE_TIME, **options)


# ---------------------------------------------------------------- the manifest against the file name and the folder
def test_a_manifest_naming_another_student_than_its_file_name_is_rejected_naming_both(tmp_path):
    """The red team's attack: mallory's blank notebook, its manifest saying it is the victim's, handed in at the end
    of time, beside the victim's honest notebook."""
    (tmp_path / f"{LESSON}--mallory.submission.zip").write_bytes(
        submission_file("victim", "9999-12-31T23:59:59+00:00"))
    (tmp_path / f"{LESSON}--victim.ipynb").write_bytes(SOLUTION)
    mallory, victim = read_submissions(tmp_path)
    assert isinstance(mallory, Rejected) and mallory.student is None
    assert mallory.reason == ("its file name names the student 'mallory' and its manifest names 'victim': it is "
                              "graded as neither")
    assert isinstance(victim, Submission) and victim.student == "victim"


def test_a_submission_file_in_a_student_folder_of_an_export_naming_another_is_rejected(tmp_path):
    (tmp_path / "export.zip").write_bytes(zip_of({
        f"victim/{LESSON}.ipynb": SOLUTION,
        f"mallory/{LESSON}.submission.zip": submission_file("victim", "9999-12-31T23:59:59+00:00")}))
    victim, mallory = read_submissions(tmp_path / "export.zip")
    assert isinstance(victim, Submission) and victim.student == "victim"
    assert isinstance(mallory, Rejected) and "its student folder names the student 'mallory'" in mallory.reason
    assert "its manifest names 'victim'" in mallory.reason


def test_a_submission_file_in_a_students_folder_naming_another_is_rejected(tmp_path):
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "mine.submission.zip").write_bytes(submission_file("victim"))
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "mine.submission.zip").write_bytes(submission_file("victim"))
    mallory, victim = read_submissions(tmp_path)
    assert isinstance(mallory, Rejected) and "'mallory'" in mallory.reason and "'victim'" in mallory.reason
    assert isinstance(victim, Submission) and victim.student == "victim"


@given(IDS, IDS, st.sampled_from(["{id}", "{folder}"]))
def test_any_two_different_ids_in_the_name_and_the_manifest_are_rejected_and_equal_ones_graded(named, claimed, where):
    """In a file name (``07_efficiency--ID.submission.zip``) or as the student folder of an export
    (``ID/07_efficiency.submission.zip``): ids equal in NFKC form (``ａｄａ`` is ``ada``) are one student."""
    name = f"{LESSON}--{named}.submission.zip" if where == "{id}" else f"{named}/{LESSON}.submission.zip"
    item = read(submission_file(claimed), name)
    if nfkc(named) == nfkc(claimed):
        assert isinstance(item, Submission) and item.student == nfkc(named)
    else:
        assert isinstance(item, Rejected) and item.student is None
        assert repr(nfkc(named)) in item.reason and repr(nfkc(claimed)) in item.reason
        assert "graded as neither" in item.reason


@given(IDS, IDS, IDS)
def test_a_student_folder_a_file_name_and_a_manifest_that_name_anyone_else_are_rejected(folder, named, claimed):
    item = read(submission_file(claimed), f"{folder}/{LESSON}--{named}.submission.zip")
    if len({nfkc(folder), nfkc(named), nfkc(claimed)}) == 1:
        assert isinstance(item, Submission) and item.student == nfkc(folder)
    else:
        assert isinstance(item, Rejected) and "graded as neither" in item.reason


def test_a_file_name_naming_another_student_than_its_folder_is_rejected(tmp_path):
    """A platform puts each student's upload in their folder, under the name the student gave it."""
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / f"{LESSON}--victim.ipynb").write_bytes(EXERCISE)
    (tmp_path / "mallory" / f"{LESSON}--mallory.ipynb").write_bytes(EXERCISE)
    own, other = read_submissions(tmp_path)  # in name order
    assert isinstance(own, Submission) and own.student == "mallory"
    assert isinstance(other, Rejected) and other.reason == (
        "its student folder names the student 'mallory' and its file name names 'victim': it is graded as neither")


def test_the_course_server_and_gradescope_name_the_student_and_the_time_whatever_the_manifest_says():
    """``identified``: the login (or Gradescope's upload) says whose it is and the server's clock when: a manifest
    naming someone else, at a time to come, neither rejects the upload nor changes its owner."""
    content = submission_file("someone-else", "9999-12-31T23:59:59+00:00")
    item = read(content, f"{LESSON}--ada.submission.zip", identified=True)
    assert isinstance(item, Submission) and (item.student, item.submitted_at) == ("ada", FILE_TIME)
    assert item.lesson == LESSON
    item = read(submission_file("ada", "2025-01-02T03:04:05"), f"{LESSON}--ada.submission.zip", identified=True)
    assert isinstance(item, Submission) and item.submitted_at == FILE_TIME


# ---------------------------------------------------------------- the manifest's time
@pytest.mark.parametrize(("submitted_at", "reason"), [
    ("9999-12-31T23:59:59+00:00", "'9999-12-31T23:59:59+00:00', is more than a day after the grader's clock"),
    ("in two days", "is more than a day after the grader's clock"),
    ("2025-01-02T03:04:05", "'2025-01-02T03:04:05', has no time zone"),
    ("2025-01-02", "'2025-01-02', has no time zone"),
])
def test_a_manifest_time_to_come_or_without_a_time_zone_is_rejected_with_the_reason(submitted_at, reason):
    if submitted_at == "in two days":
        submitted_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    item = read(submission_file("ada", submitted_at), f"{LESSON}--ada.submission.zip")
    assert isinstance(item, Rejected) and reason in item.reason


@settings(max_examples=50)
@given(st.integers(-10 * 365 * 86_400, 86_400 - 60), st.sampled_from([0, 9 * 60, -5 * 60, 330]))
def test_any_time_up_to_a_day_ahead_with_a_time_zone_is_the_submitted_time_in_utc(seconds, offset_minutes):
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    moment = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).astimezone(zone).replace(microsecond=0)
    item = read(submission_file("ada", moment.isoformat()), f"{LESSON}--ada.submission.zip")
    assert isinstance(item, Submission)
    assert item.submitted_at == moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


@settings(max_examples=30)
@given(st.integers(int(CLOCK_TOLERANCE.total_seconds()) + 60, 10**9))
def test_any_time_more_than_a_day_ahead_is_rejected(seconds):
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    item = read(submission_file("ada", moment.isoformat()), f"{LESSON}--ada.submission.zip")
    assert isinstance(item, Rejected) and "more than a day after the grader's clock" in item.reason


# ---------------------------------------------------------------- the student folder
def test_students_whose_work_is_in_a_subfolder_of_their_folder_stay_apart(tmp_path):
    """The red team's merge: alice/work/ and bob/work/ both became the student ``work``."""
    for student in ("alice", "bob"):
        (tmp_path / student / "work").mkdir(parents=True)
        (tmp_path / student / "work" / f"{LESSON}.ipynb").write_bytes(EXERCISE)
    assert [(item.student, item.lesson) for item in read_submissions(tmp_path)] == [("alice", LESSON), ("bob", LESSON)]


def test_in_a_zip_with_a_folder_per_student_the_first_folder_is_the_student(tmp_path):
    (tmp_path / "folders.zip").write_bytes(zip_of({f"bob/{LESSON}.ipynb": SOLUTION, f"Bob/{LESSON}.ipynb": EXERCISE,
                                                   f"carol/sub/{LESSON}.ipynb": SOLUTION,
                                                   f"__MACOSX/dave/{LESSON}.ipynb": SOLUTION}))
    assert [item.student for item in read_submissions(tmp_path / "folders.zip")] == ["bob", "Bob", "carol"]


@given(IDS.filter(lambda i: not i.startswith(".")), st.lists(FOLDERS, max_size=6),
       st.sampled_from([f"{LESSON}.ipynb", "notebook.ipynb", "work.ipynb", f"{LESSON}--{{student}}.ipynb"]))
def test_any_depth_below_a_student_folder_keeps_that_student(student, folders, file_name):
    name = "/".join([student, *folders, file_name.format(student=student)])
    item = read(EXERCISE, name)
    assert isinstance(item, Submission) and item.student == nfkc(student)


def test_a_zip_of_many_inside_a_student_folder_is_that_students(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "all.zip").write_bytes(zip_of({f"{LESSON}.ipynb": EXERCISE, f"sub/{LESSON}.ipynb": EXERCISE,
                                                         f"{LESSON}--bob.ipynb": EXERCISE}))
    mine, deeper, other = read_submissions(tmp_path)
    assert [mine.student, deeper.student] == ["alice", "alice"]
    assert isinstance(other, Rejected) and "'alice'" in other.reason and "'bob'" in other.reason


def test_a_notebook_directly_in_the_folder_given_is_named_by_its_file_name_and_says_so(tmp_path):
    # red team V: `grade inbox/*` gave each student's folder alone, and every 03_activations.ipynb in them became the
    # work of one student named "03_activations": the batch refuses that name once it knows the lesson (see
    # test_gradebook_keys_and_latest); an id that only looks like a lesson's (23_bob) is an id (red team W)
    (tmp_path / f"{LESSON}--ada.ipynb").write_bytes(EXERCISE)
    (tmp_path / "bob.ipynb").write_bytes(EXERCISE)
    (tmp_path / f"{LESSON}.ipynb").write_bytes(EXERCISE)
    (tmp_path / "23_cyd.ipynb").write_bytes(EXERCISE)
    assert sorted((item.student, item.lesson, item.named_by_file) for item in read_submissions(tmp_path)) == [
        (LESSON, LESSON, True), ("23_cyd", "23_cyd", True), ("ada", LESSON, False), ("bob", None, True)]


# ---------------------------------------------------------------- submission files without a manifest
def test_a_submission_file_without_a_manifest_is_its_file_names_student_never_its_members(tmp_path):
    """The red team's merge: without a manifest, ``07_efficiency--alice.submission.zip`` was read as a zip of many and
    its member ``notebook.ipynb`` made the student ``notebook``."""
    (tmp_path / f"{LESSON}--alice.submission.zip").write_bytes(submission_file(notebook=SOLUTION, manifest=False))
    (tmp_path / f"{LESSON}--bob.submission.zip").write_bytes(submission_file(manifest=False))
    alice, bob = read_submissions(tmp_path)
    assert [(item.student, item.lesson, item.notebook_raw) for item in (alice, bob)] == [
        ("alice", LESSON, SOLUTION), ("bob", LESSON, EXERCISE)]
    assert alice.source == str(tmp_path / f"{LESSON}--alice.submission.zip")  # the file itself, not a member


def test_a_submission_file_that_names_no_student_is_rejected_with_the_reason(tmp_path):
    (tmp_path / f"{LESSON}.submission.zip").write_bytes(submission_file(manifest=False))
    (tmp_path / "x.submission.zip").write_bytes(submission_file(student=None))
    for item in read_submissions(tmp_path):
        assert isinstance(item, Rejected) and "a submission file that names no student" in item.reason


def test_a_submission_file_without_a_manifest_inside_an_export_is_read_too(tmp_path):
    (tmp_path / "export.zip").write_bytes(zip_of({
        f"{LESSON}--ada.submission.zip": submission_file(manifest=False),
        f"bob/{LESSON}.submission.zip": submission_file(manifest=False),
        f"{LESSON}.submission.zip": submission_file(manifest=False)}))
    ada, bob, nobody = read_submissions(tmp_path / "export.zip")
    assert (ada.student, bob.student) == ("ada", "bob")
    assert isinstance(nobody, Rejected) and "names no student" in nobody.reason


# ---------------------------------------------------------------- the manifest's hash of the notebook
def with_hash(declared, notebook=EXERCISE) -> bytes:
    fields = {"lesson": LESSON, "submitted_at": TIME, "student": "ada", "notebook_sha256": declared}
    return zip_of({"manifest.json": json.dumps(fields), "notebook.ipynb": notebook})


def test_a_notebook_matching_its_manifests_hash_is_graded_and_a_changed_one_rejected_saying_so():
    import hashlib

    item = read(with_hash(hashlib.sha256(EXERCISE).hexdigest()), f"{LESSON}--ada.submission.zip")
    assert isinstance(item, Submission) and item.student == "ada"
    changed = read(with_hash(hashlib.sha256(EXERCISE).hexdigest(), notebook=SOLUTION), f"{LESSON}--ada.submission.zip")
    assert isinstance(changed, Rejected)
    assert "was changed after it was packed" in changed.reason
    assert (changed.student, changed.lesson) == ("ada", LESSON)  # a row the instructor can find


@settings(max_examples=40)
@given(st.one_of(st.text(max_size=80), st.integers(), st.lists(st.integers(), max_size=3),
                 st.text("0123456789abcdef", min_size=64, max_size=64)))
def test_any_hash_that_is_not_the_notebooks_sha256_is_rejected_with_the_reason(declared):
    item = read(with_hash(declared), f"{LESSON}--ada.submission.zip")
    assert isinstance(item, Rejected)
    assert "notebook_sha256" in item.reason


def test_a_submission_file_packed_by_submit_passes_its_own_hash_check(tmp_path):
    from coursekit.grading.submission import pack

    notebook = tmp_path / f"{LESSON}.ipynb"
    notebook.write_bytes(SOLUTION)
    packed = pack(notebook, "ada", tmp_path / "outbox")
    [item] = list(read_submissions(packed))
    assert isinstance(item, Submission) and item.student == "ada"
