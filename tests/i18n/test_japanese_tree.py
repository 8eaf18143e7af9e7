"""The Japanese tree (ja/notebooks, ja/solutions, ja/exercises) in the course's machinery: every English notebook
has its Japanese counterpart, whose code cells are the English ones (comments and strings aside, and the two
language lines first), with the same nbgrader metadata; ja/exercises is what ja/solutions generates; and
`coursekit generate` handles ja/ as it handles the English tree."""

import io
import json
import tokenize
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from japanese_master import LANGUAGE_LINES, ROOT, course_with_japanese_master

from coursekit.assignment.course import Course
from coursekit.assignment.generate import out_of_sync
from coursekit.cli import main

ENGLISH = Course(ROOT)
JAPANESE = Course(ROOT / "ja")
TREES = ("notebooks", "solutions", "exercises")


def english_notebooks() -> list[Path]:
    return [path for tree in TREES for path in sorted((ROOT / tree).glob("*.ipynb"))]


def japanese_notebooks() -> list[Path]:
    return [path for tree in TREES for path in sorted((ROOT / "ja" / tree).glob("*.ipynb"))]


def counterpart(path: Path) -> Path:
    """The Japanese notebook of an English one: the same name, under ja/."""
    return ROOT / "ja" / path.relative_to(ROOT)


def test_every_english_notebook_has_its_japanese_counterpart():
    missing = [str(path.relative_to(ROOT)) for path in english_notebooks() if not counterpart(path).exists()]
    assert not missing, f"no Japanese edition of: {missing}"


def test_every_japanese_notebook_has_an_english_original_and_says_it_is_japanese():
    for path in japanese_notebooks():
        english = ROOT / path.relative_to(ROOT / "ja")
        assert english.exists(), f"{path.relative_to(ROOT)} has no English original"
        metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
        assert metadata.get("coursekit", {}).get("language") == "ja", f"{path.relative_to(ROOT)}: metadata"


def code_shape(source: str) -> list[tuple[int, str]]:
    """A cell's code without what the translation may change: comments dropped, every string literal (docstrings,
    printed sentences, labels) replaced by one placeholder, layout (blank lines, line breaks) ignored."""
    shape, skipped = [], (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                          tokenize.ENDMARKER)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):  # a cell that is not Python (a magic): compared as it is
        return [(0, source)]
    for token in tokens:
        if token.type in skipped:
            continue
        shape.append((token.type, "<string>" if token.type == tokenize.STRING else token.string))
    return shape


def code_cells(path: Path) -> list:
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", japanese_notebooks(), ids=lambda path: str(path.relative_to(ROOT)))
def test_a_japanese_notebooks_code_is_the_english_code(path: Path):
    english, japanese = code_cells(ROOT / path.relative_to(ROOT / "ja")), code_cells(path)
    assert len(japanese) == len(english), "a different number of code cells"
    assert japanese and japanese[0].source.startswith(LANGUAGE_LINES), \
        f"the first code cell must start with the two language lines: {LANGUAGE_LINES!r}"
    japanese[0].source = japanese[0].source[len(LANGUAGE_LINES):]
    for number, (theirs, ours) in enumerate(zip(english, japanese, strict=True), start=1):
        where = f"code cell {number} ({ours.get('id')})"
        assert ours.get("id") == theirs.get("id"), f"{where}: another cell id than the English {theirs.get('id')}"
        assert ours.metadata.get("nbgrader") == theirs.metadata.get("nbgrader"), f"{where}: nbgrader metadata"
        assert code_shape(ours.source) == code_shape(theirs.source), f"{where}: its code differs from the English"


def test_the_identity_test_sees_code_and_ignores_words():
    english = 'x = f(a, 2)  # a comment\nprint("the loss")\n'
    assert code_shape(english) == code_shape('x = f(a, 2)  # 注釈\n\nprint("損失")\n')
    assert code_shape(english) != code_shape('x = f(a, 3)\nprint("the loss")\n')
    assert code_shape(english) != code_shape('y = f(a, 2)\nprint("the loss")\n')


def test_japanese_exercises_are_in_sync_with_japanese_solutions():
    stale = out_of_sync(JAPANESE)
    assert not stale, "run `coursekit generate`: " + "; ".join(f"ja/exercises/{c.path.name} {c.reason}" for c in stale)


def test_generate_handles_the_japanese_tree_beside_the_english_one(tmp_path, monkeypatch):
    course_with_japanese_master(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    result = runner.invoke(main, ["generate"])  # no --root: the course here and its Japanese edition
    assert result.exit_code == 0, result.output
    exercise = nbformat.read(tmp_path / "ja" / "exercises" / "03_activations.ipynb", as_version=4)
    assert exercise.metadata["coursekit"]["language"] == "ja"  # the Japanese exercise set says so, for the grader
    assert code_cells(tmp_path / "ja" / "exercises" / "03_activations.ipynb")[0].source.startswith(LANGUAGE_LINES)
    assert (tmp_path / "exercises" / "03_activations.ipynb").exists()
    assert runner.invoke(main, ["generate", "--check"]).exit_code == 0

    (tmp_path / "ja" / "exercises" / "03_activations.ipynb").write_text("{}", encoding="utf-8")
    stale = runner.invoke(main, ["generate", "--check"])
    assert stale.exit_code == 1 and "ja/exercises/03_activations.ipynb" in stale.output
    assert runner.invoke(main, ["generate", "--check", "--root", "."]).exit_code == 0  # the English tree alone
    assert runner.invoke(main, ["generate", "--root", "ja"]).exit_code == 0  # the Japanese tree alone
    assert runner.invoke(main, ["generate", "--check"]).exit_code == 0
