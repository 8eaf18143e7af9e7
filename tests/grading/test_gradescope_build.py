"""Gradescope: the autograder zip's contents, and run_autograder on a folder laid out as Gradescope lays out
/autograder (source/, submission/, results/): full marks, zero, and a plain reason for anything else."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursekit.cli import main as cli
from coursekit.grading import gradescope_run
from coursekit.grading.batch import sandbox_server
from coursekit.grading.gradescope_build import PYTHON_VARIABLE, build
from coursekit.grading.submission import pack
from graded_submissions import FAST, MASTERS, ROOT, solution

LESSON = "03_activations"  # the cheapest lesson to grade: its sandbox preloads no SymPy
MASTER = ROOT / "solutions" / f"{LESSON}.ipynb"


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    return build("03", tmp_path_factory.mktemp("build") / "autograder.zip", ROOT)


@pytest.fixture(scope="module")
def source(autograder, tmp_path_factory) -> Path:
    """The zip unpacked, as Gradescope unpacks it into /autograder/source (modes kept)."""
    folder = tmp_path_factory.mktemp("source")
    with zipfile.ZipFile(autograder) as archive:
        for info in archive.infolist():
            target = folder / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod(info.external_attr >> 16 & 0o777)
    return folder


@pytest.fixture(scope="module")
def sandbox():
    """A sandbox server for this module's in-process runs, preloading what the lesson uses."""
    with sandbox_server(None, MASTERS[LESSON].modules()) as path:
        yield path


def lay_out(base: Path, source: Path, uploads: dict) -> Path:
    """A Gradescope root under ``base``: source/ (the zip's, but its wheel, which grading does not read), submission/
    with ``uploads`` (name: bytes)."""
    root = base / "autograder"
    shutil.copytree(source, root / "source", ignore=shutil.ignore_patterns("*.whl"))
    (root / "submission").mkdir()
    for name, data in uploads.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    return root


def results_of(root: Path) -> dict:
    text = (root / "results" / "results.json").read_text(encoding="utf-8")
    assert text.strip(), "results.json is empty"
    return json.loads(text)


def notebook_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


# ---------------------------------------------------------------- the zip
def test_the_zip_holds_two_executable_scripts_a_wheel_and_only_this_lessons_master(autograder):
    with zipfile.ZipFile(autograder) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        [wheel] = [name for name in infos if name.endswith(".whl")]
        assert set(infos) == {"setup.sh", "run_autograder", wheel, f"solutions/{LESSON}.ipynb"}
        assert archive.read(f"solutions/{LESSON}.ipynb") == MASTER.read_bytes()
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 & 0o111 == 0o111, script
    assert infos[wheel].external_attr >> 16 & 0o111 == 0
    assert not [name for name in infos if name.startswith("exercises/") or name.endswith(".sqlite")]


def test_the_wheel_holds_the_package_and_its_dependencies_and_its_record_checks_out(source):
    [wheel] = source.glob("coursekit-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "coursekit/grading/gradescope_run.py" in names and "coursekit/lessons/l03_activations.py" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".ipynb"))]
        [info] = {n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")}
        metadata = archive.read(f"{info}/METADATA").decode()
        assert "Requires-Dist: numpy" in metadata and "Requires-Dist: ipython" in metadata
        assert "jupyterlab" not in metadata  # the lab extra is not needed to grade
        for line in archive.read(f"{info}/RECORD").decode().splitlines():
            name, digest, length = line.split(",")
            if name == f"{info}/RECORD":
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(length)) == (f"sha256={expected}", len(data)), name
        assert len(archive.read(f"{info}/RECORD").decode().splitlines()) == len(names)


def test_setup_sh_and_run_autograder_are_valid_bash_that_install_the_wheel_and_grade_this_lesson(source):
    for script in ("setup.sh", "run_autograder"):
        checked = subprocess.run(["bash", "-n", str(source / script)], capture_output=True, text=True)
        assert checked.returncode == 0, (script, checked.stderr)
    [wheel] = source.glob("*.whl")
    setup = (source / "setup.sh").read_text()
    assert f"pip install --no-cache-dir --disable-pip-version-check ./{wheel.name}" in setup
    assert "chmod -R go-rwx solutions" in setup
    assert f"--lesson {LESSON}" in (source / "run_autograder").read_text()


def test_the_build_command_writes_the_zip_and_refuses_a_name_that_is_not_one_lesson(tmp_path):
    runner = CliRunner()
    written = runner.invoke(cli, ["gradescope", "build", "03_act", "-o", str(tmp_path / "a.zip"), "--root", str(ROOT)])
    assert written.exit_code == 0 and zipfile.is_zipfile(tmp_path / "a.zip"), written.output
    for name in ("0", "99"):
        refused = runner.invoke(cli, ["gradescope", "build", name, "-o", str(tmp_path / "b.zip"), "--root", str(ROOT)])
        assert refused.exit_code == 1 and "error:" in refused.output and not (tmp_path / "b.zip").exists()


def test_two_builds_of_the_same_course_are_the_same_bytes(autograder, tmp_path):
    assert build(LESSON, tmp_path / "again.zip", ROOT).read_bytes() == autograder.read_bytes()


# ---------------------------------------------------------------- run_autograder
def test_run_autograder_gives_the_solution_full_marks(source, tmp_path):
    root = lay_out(tmp_path, source, {f"{LESSON}.ipynb": MASTER.read_bytes()})
    env = {**os.environ, gradescope_run.ROOT_VARIABLE: str(root), PYTHON_VARIABLE: sys.executable,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    ran = subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root, capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    results = results_of(root)
    assert results["score"] == MASTERS[LESSON].max_points > 0
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert len(results["tests"]) == len(MASTERS[LESSON].tests)


def test_the_untouched_exercise_scores_zero_and_says_each_exercise_is_not_attempted(source, sandbox, tmp_path):
    root = lay_out(tmp_path, source, {"my work/03_activations.ipynb":
                                      (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()})
    results = gradescope_run.run(root, LESSON, sandbox=sandbox, settings=FAST)
    assert results == results_of(root)
    assert results["score"] == 0 and results["tests"]
    assert {t["status"] for t in results["tests"]} == {"failed"}
    assert all("not attempted yet" in t["output"] for t in results["tests"]), results["tests"]


def test_a_submission_file_from_coursekit_submit_is_graded_from_its_manifest(source, sandbox, tmp_path):
    notebook = tmp_path / f"{LESSON}.ipynb"
    notebook.write_bytes(MASTER.read_bytes())
    packed = pack(notebook, "ada", tmp_path / "outbox")
    root = lay_out(tmp_path, source, {packed.name: packed.read_bytes()})
    assert gradescope_run.run(root, LESSON, sandbox=sandbox, settings=FAST)["score"] == MASTERS[LESSON].max_points


def test_hostile_code_gets_results_but_never_the_hidden_tests(source, sandbox, tmp_path):
    """A cell that reads the master and raises its text, and one that signals its parents: graded, and the report
    holds nothing of the master (Landlock keeps the sandbox out of source/)."""
    root = tmp_path / "autograder"
    master = root / "source" / "solutions" / f"{LESSON}.ipynb"
    nb = solution(LESSON)
    nb.cells.insert(1, nbformat.v4.new_code_cell(f"raise ValueError(open({str(master)!r}).read()[:3000])"))
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n        pass"))
    lay_out(tmp_path, source, {"03_activations.ipynb": notebook_bytes(nb)})
    results = gradescope_run.run(root, LESSON, sandbox=sandbox, settings=FAST)
    text = json.dumps(results)
    assert results["score"] == MASTERS[LESSON].max_points  # its exercise cells are right, and still ran
    assert "PermissionError" in results["output"]
    assert "BEGIN HIDDEN TESTS" not in text and "nbgrader" not in text


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / f"{LESSON}.ipynb")


def _link(folder: Path) -> None:
    (folder / f"{LESSON}.ipynb").symlink_to(folder.parent / "source" / "solutions" / f"{LESSON}.ipynb")


@pytest.mark.parametrize(("uploads", "make", "words"), [
    ({}, None, "No notebook was found"),
    ({"notes.txt": b"hello"}, None, "No notebook was found"),
    ({f"{LESSON}.ipynb": b"{not json"}, None, "not graded"),
    ({f"{LESSON}.ipynb": b""}, None, "not graded"),
    ({f"{LESSON}.ipynb": b"[" * 100_000}, None, "not graded"),
    ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, None, "several notebooks"),
    ({"mine.zip": b"PK\x05\x06" + bytes(18)}, None, "not graded"),
    ({}, _link, "symbolic link"),
    ({}, _fifo, "not a regular file"),
], ids=["nothing", "no notebook", "not json", "empty", "deep nesting", "two", "empty zip", "link to the master",
        "named pipe"])
def test_what_cannot_be_graded_gets_results_with_a_plain_reason(source, tmp_path, uploads, make, words):
    root = lay_out(tmp_path, source, uploads)
    if make is not None:
        make(root / "submission")
    results = gradescope_run.run(root, LESSON, settings=FAST)  # rejected before any sandbox is needed
    assert results == results_of(root)
    assert results["score"] == 0 and results["tests"] == [] and words in results["output"]


def test_a_submission_file_of_another_lesson_is_not_graded_and_says_so(source, tmp_path):
    other = tmp_path / "01_chain_rule.ipynb"
    other.write_bytes((ROOT / "exercises" / "01_chain_rule.ipynb").read_bytes())
    packed = pack(other, "ada", tmp_path / "outbox")
    root = lay_out(tmp_path, source, {packed.name: packed.read_bytes()})
    results = gradescope_run.run(root, LESSON, settings=FAST)
    assert results["score"] == 0 and "for lesson '01_chain_rule'" in results["output"]


def test_a_notebook_of_another_lesson_under_this_lessons_name_is_not_graded_and_says_so(source, tmp_path):
    # graded, it got 0 points and could replace a better active submission (a red team's); `grade` rejects it too
    root = lay_out(tmp_path, source, {f"{LESSON}.ipynb": (ROOT / "solutions" / "07_efficiency.ipynb").read_bytes()})
    results = gradescope_run.run(root, LESSON, settings=FAST)  # rejected before any sandbox is needed
    assert results["score"] == 0 and results["tests"] == []
    assert f"this notebook holds none of the exercises of {LESSON}" in results["output"]


def test_when_the_autograder_itself_fails_results_still_say_so(source, tmp_path):
    root = lay_out(tmp_path, source, {f"{LESSON}.ipynb": MASTER.read_bytes()})
    (root / "source" / "solutions" / f"{LESSON}.ipynb").write_text("{broken")
    assert gradescope_run.main(["--root", str(root), "--lesson", LESSON]) == 0
    results = results_of(root)
    assert results["score"] == 0 and results["output"].startswith("The autograder itself failed")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(upload=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_uploaded_give_whole_results_and_never_a_crash(source, tmp_path_factory, upload):
    root = lay_out(tmp_path_factory.mktemp("any"), source, {f"{LESSON}.ipynb": upload})
    results = gradescope_run.run(root, LESSON, settings=FAST)
    assert results == results_of(root)
    assert results["score"] == 0 and isinstance(results["output"], str) and results["output"]


def test_a_japanese_editions_autograder_says_why_nothing_was_graded_in_japanese_and_grades_in_japanese(
        source, sandbox, tmp_path):
    root = lay_out(tmp_path, source, {})
    japanese_master = ROOT / "ja" / "solutions" / f"{LESSON}.ipynb"
    shutil.copy(japanese_master, root / "source" / "solutions" / f"{LESSON}.ipynb")  # what `--root ja` would pack
    results = gradescope_run.run(root, LESSON, sandbox=sandbox, settings=FAST)
    assert results["score"] == 0 and results["output"].startswith("提出物にノートブックが見つかりません"), results
    (root / "submission" / f"{LESSON}.ipynb").write_bytes(
        (ROOT / "ja" / "exercises" / f"{LESSON}.ipynb").read_bytes())
    results = gradescope_run.run(root, LESSON, sandbox=sandbox, settings=FAST)
    assert results["score"] == 0 and all("未着手" in test["output"] for test in results["tests"]), results["tests"]
