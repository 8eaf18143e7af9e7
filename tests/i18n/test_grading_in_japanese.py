"""The grader speaks the submission's language: a Japanese submission gets its feedback in Japanese and exactly the
points of the English one, and the next submission, graded in the same process, is in its own language again.

The Japanese master is built here from the English one (japanese_master.py), so that these tests do not depend on
the translators' files."""

import copy
from pathlib import Path

import nbformat
import pytest
from japanese_master import ROOT, course_with_japanese_master, japanese

from coursekit import i18n
from coursekit.assignment.notebooks import read_notebook
from coursekit.grading.client import WarmServer
from coursekit.grading.grader import grade_notebook
from coursekit.grading.limits import Settings
from coursekit.grading.master import load_masters, submission_language

LESSON = "03_activations"
pytestmark = pytest.mark.slow  # starts a sandbox server
SETTINGS = Settings(cell_timeout=3.0, call_timeout=3.0, test_timeout=10.0)
# A cell of the student's that makes coursekit raise inside the sandbox: its words come from the sandbox.
SANDBOX_ERROR = "from coursekit.gradcheck import numerical_gradient\nnumerical_gradient(lambda v: v, np.ones(2))"


@pytest.fixture(scope="module")
def server():
    with WarmServer() as warm:
        yield warm


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    return load_masters(course_with_japanese_master(tmp_path_factory.mktemp("course")))


def submission(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with the sigmoid_grad solution written as a registered mistake (x(1-x)) and a last cell that makes
    coursekit raise in the sandbox."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid_grad")
    cell.source = "def sigmoid_grad(x):\n    return x * (1 - x)\n"
    nb.cells.append(nbformat.v4.new_code_cell(SANDBOX_ERROR, id="sandbox-error"))
    return nb


def test_the_japanese_master_is_loaded_as_an_edition_with_the_same_tests(masters):
    master = masters[LESSON]
    edition = master.edition("ja")
    assert edition is not master and edition.language == "ja" and master.language == "en"
    assert master.same_tests(edition) and 'coursekit.use_language("ja")' in edition.setup


def test_a_japanese_submission_is_graded_in_japanese_with_the_same_points_and_the_next_in_english(server, masters):
    english_nb = read_notebook(ROOT / "solutions" / f"{LESSON}.ipynb")
    assert submission_language(japanese(english_nb)) == "ja" and submission_language(english_nb) == "en"
    before = i18n.current()

    graded_ja = grade_notebook(submission(japanese(english_nb)), masters[LESSON], server, SETTINGS)
    graded_en = grade_notebook(submission(english_nb), masters[LESSON], server, SETTINGS)

    assert i18n.current() == before  # neither grading, nor the master's use_language, changed the caller's
    assert graded_ja.language == "ja" and graded_en.language == "en"
    assert [(t.grade_id, t.status, t.points) for t in graded_ja.tests] == \
        [(t.grade_id, t.status, t.points) for t in graded_en.tests]
    assert 0 < graded_ja.points == graded_en.points < graded_ja.max_points
    ja, en = ({t.grade_id: t for t in graded.tests} for graded in (graded_ja, graded_en))
    assert ja["sigmoid_grad_test"].mistake == en["sigmoid_grad_test"].mistake == "x(1-x)"
    assert "よくある間違い" in ja["sigmoid_grad_test"].message and "Likely mistake" in en["sigmoid_grad_test"].message
    assert ja["stable_sigmoid_test"].message == "合格" and en["stable_sigmoid_test"].message == "passed"
    # the sandbox spoke the submission's language too: the error coursekit raised in the student's cell
    (problem_ja,), (problem_en,) = graded_ja.cell_problems, graded_en.cell_problems
    assert "確認する関数は一つの数" in problem_ja.cause and "を送出しました" in problem_ja.cause, problem_ja
    assert "the function being checked must return one number" in problem_en.cause, problem_en


def test_a_submission_with_its_metadata_stripped_is_known_by_its_use_language_line():
    nb = japanese(read_notebook(ROOT / "solutions" / f"{LESSON}.ipynb"))
    del nb.metadata["coursekit"]
    assert submission_language(nb) == "ja"
    nb.metadata["coursekit"] = {"language": "fr"}  # not a language coursekit speaks: the code decides
    assert submission_language(nb) == "ja"


def test_feedback_pages_are_in_the_submissions_language(server, masters, tmp_path: Path):
    from coursekit.grading.gradebook import Entry, Gradebook
    from coursekit.grading.intake import read_bytes

    english_nb = read_notebook(ROOT / "solutions" / f"{LESSON}.ipynb")
    with Gradebook(tmp_path / "book.sqlite") as book:
        for student, nb in (("hana", japanese(english_nb)), ("ada", english_nb)):
            raw = nbformat.writes(nb).encode()
            name = f"{LESSON}--{student}.ipynb"
            item = read_bytes(name, raw, name, "2026-01-01T00:00:00+00:00")
            entry = Entry.of_submission(item, LESSON)
            book.record(entry, grade_notebook(nb, masters[LESSON], server, SETTINGS))
        pages = {student: book.feedback(key) for student, _, key in book.latest()}
    assert "問題ごとのフィードバック" in pages["hana"] and "合格" in pages["hana"]
    assert "Feedback per question" in pages["ada"] and "合格" not in pages["ada"]
