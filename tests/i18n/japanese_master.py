"""A Japanese master built from an English one, for tests that must not depend on the translators' files: the two
language lines at the top of its first code cell and the notebook metadata the Japanese tree carries."""

import copy
from pathlib import Path

import nbformat

from coursekit.assignment.notebooks import read_notebook

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE_LINES = 'import coursekit\ncoursekit.use_language("ja")\n\n'


def japanese(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` as the Japanese edition marks a notebook: the language lines first, ``coursekit.language`` = "ja"."""
    nb = copy.deepcopy(nb)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    first.source = LANGUAGE_LINES + first.source
    nb.metadata.setdefault("coursekit", {})["language"] = "ja"
    return nb


def course_with_japanese_master(folder: Path, lesson: str = "03_activations") -> Path:
    """A course folder with the English master of ``lesson`` in solutions/ and its Japanese edition in
    ja/solutions/; its solutions/ folder."""
    english = read_notebook(ROOT / "solutions" / f"{lesson}.ipynb")
    for tree, nb in (("solutions", english), ("ja/solutions", japanese(english))):
        (folder / tree).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / tree / f"{lesson}.ipynb")
    return folder / "solutions"
