"""Generate exercises/ from solutions/, and say which exercises are out of sync."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coursekit.assignment.course import Course, select
from coursekit.assignment.notebooks import notebook_text, read_notebook
from coursekit.assignment.student_copy import student_copy


@dataclass(frozen=True)
class Change:
    """What generating did (or would do) to one exercise file."""

    path: Path
    action: str  # "created", "updated", "unchanged" or "removed"
    reason: str = ""
    text: str = field(default="", repr=False)  # what the file must contain (unless removed)


def expected_exercise_text(master: Path) -> str:
    """The exact text the exercise generated from ``master`` must have."""
    return notebook_text(student_copy(read_notebook(master), master))


def plan(course: Course, only: list[str] | None = None) -> list[Change]:
    """What generating would change, without writing anything.

    Every master is validated first, so a broken master stops everything before a file is
    touched. Exercises with no master are planned for removal (they are generated files).
    """
    masters = select(course.masters(), only)
    texts = {master: expected_exercise_text(master) for master in masters}
    changes = []
    for master, text in texts.items():
        target = course.exercise_for(master)
        if not target.exists():
            changes.append(Change(target, "created", f"no exercise yet for {master.name}", text))
        elif target.read_text(encoding="utf-8") != text:
            changes.append(Change(target, "updated", f"differs from what {master.name} generates", text))
        else:
            changes.append(Change(target, "unchanged", text=text))
    if only is None:
        wanted = {course.exercise_for(master) for master in masters}
        for orphan in sorted(set(course.exercises.glob("*.ipynb")) - wanted):
            changes.append(Change(orphan, "removed", "has no master in solutions/"))
    return changes


def generate(course: Course, only: list[str] | None = None) -> list[Change]:
    """Write exercises/ from solutions/ and return what changed; idempotent."""
    changes = plan(course, only)
    course.exercises.mkdir(exist_ok=True)
    for change in changes:
        if change.action == "removed":
            change.path.unlink()
        elif change.action != "unchanged":
            change.path.write_text(change.text, encoding="utf-8")
    return changes


def out_of_sync(course: Course) -> list[Change]:
    """The exercises that differ from what their masters generate (empty when in sync)."""
    return [change for change in plan(course) if change.action != "unchanged"]
