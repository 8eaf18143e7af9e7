"""The ``coursekit`` command: thin wrappers over the library, with plain-words errors."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from coursekit.assignment.course import Course, select
from coursekit.assignment.execute import execute_in_place
from coursekit.assignment.generate import generate as generate_exercises
from coursekit.assignment.generate import out_of_sync
from coursekit.assignment.notebooks import NotebookError
from coursekit.assignment.validate import InvalidMaster

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


@click.group()
@click.version_option(package_name="coursekit")
def main() -> None:
    """Tools for the backpropagation course: generate exercises, check them, grade them."""


@main.command()
@click.argument("names", nargs=-1)
@click.option("--execute", is_flag=True, help="Re-run lessons and masters in place first, so stored outputs are fresh.")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 naming every exercise that is out of sync.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="The course folder (default: here or the nearest parent with solutions/).")
def generate(names: tuple[str, ...], execute: bool, check: bool, root: Path) -> None:
    """Write exercises/ from the masters in solutions/.

    NAMES restricts the work to some lessons, e.g. ``01`` or ``01_chain_rule``.
    """
    if execute and check:
        raise click.UsageError("--check changes nothing, so it cannot be combined with --execute")
    try:
        course = Course.find(root)
        only = list(names) or None
        if check:
            _report_sync(course)
            return
        if execute:
            for path in select(course.lesson_notebooks() + course.masters(), only):
                console.print(f"executing {path.relative_to(course.root)}")
                execute_in_place(path)
        for change in generate_exercises(course, only):
            if change.action != "unchanged":
                console.print(f"{change.action} {change.path.relative_to(course.root)}  ({change.reason})")
        console.print("exercises/ is in sync with solutions/")
    except (NotebookError, InvalidMaster, FileNotFoundError) as err:
        errors.print(f"[bold red]error:[/] {err}", markup=True)
        sys.exit(1)


def _report_sync(course: Course) -> None:
    stale = out_of_sync(course)
    if not stale:
        console.print(f"exercises/ is in sync with solutions/ ({len(course.masters())} notebooks)")
        return
    for change in stale:
        errors.print(f"out of sync: {change.path.relative_to(course.root)} {change.reason}")
    errors.print("run `coursekit generate` to regenerate exercises/ (never edit them by hand)")
    sys.exit(1)
