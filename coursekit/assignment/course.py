"""Where the course's notebooks live, and which exercise belongs to which master."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_NAME = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")  # NN_title.ipynb


@dataclass(frozen=True)
class Course:
    """A course checkout: lessons in notebooks/, masters in solutions/, student copies in exercises/.

    A translated edition is a course of its own in a folder named by its language (``ja/``: ja/notebooks,
    ja/solutions, ja/exercises), with the same file names; ``translations`` finds them.
    """

    root: Path

    @property
    def lessons(self) -> Path:
        return self.root / "notebooks"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    def masters(self) -> list[Path]:
        """The master notebooks, in lesson order."""
        return _numbered(self.solutions)

    def lesson_notebooks(self) -> list[Path]:
        """The lesson notebooks, in lesson order (including 00, the start page)."""
        return _numbered(self.lessons)

    def translations(self) -> list[Course]:
        """The translated editions of this course: each ``<root>/<language>`` that holds a solutions/ folder."""
        from coursekit.i18n import DEFAULT, LANGUAGES

        return [Course(self.root / language) for language in LANGUAGES
                if language != DEFAULT and (self.root / language / "solutions").is_dir()]

    def exercise_for(self, master: Path) -> Path:
        """The student copy generated from ``master``."""
        return self.exercises / master.name

    @classmethod
    def find(cls, start: Path | str = ".") -> Course:
        """The course whose root is ``start`` or its nearest parent that has a solutions/ folder."""
        start = Path(start).resolve()
        for folder in (start, *start.parents):
            if (folder / "solutions").is_dir():
                return cls(folder)
        raise FileNotFoundError(f"no course found at {start} or above it (looked for a 'solutions' folder)")


def _numbered(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(path.name))


def select(paths: list[Path], names: list[str] | None) -> list[Path]:
    """The ``paths`` whose file name starts with one of ``names`` ("01", "01_chain_rule", ...).

    No names means all paths; a name that matches nothing is an error, not a silent no-op.
    """
    if not names:
        return paths
    missing = [name for name in names if not any(path.name.startswith(name) for path in paths)]
    if missing:
        raise FileNotFoundError(f"no notebook matches {', '.join(missing)}")
    return [path for path in paths if any(path.name.startswith(name) for name in names)]
