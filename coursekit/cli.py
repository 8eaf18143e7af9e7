"""The ``coursekit`` command: thin wrappers over the library, with plain-words errors."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import click
from rich.console import Console

from coursekit.assignment.course import Course, select
from coursekit.i18n import N_

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

NEEDS_CLUSTER_EXTRA = ("--cluster sends grading to a Dask cluster, which needs the `distributed` package ({missing}). "
                       "Install it with: pip install 'coursekit[cluster]', or from the course's folder: "
                       "pip install '.[cluster]'")
NEEDS_LAB_EXTRA = ("--execute runs notebooks in a Jupyter kernel, which this installation lacks ({missing}). "
                   "Install it with: pip install 'coursekit[lab]', or from the course's folder: pip install '.[lab]'")


@click.group()
@click.version_option(package_name="coursekit")
def main() -> None:
    """Tools for the backpropagation course: generate exercises, check them, grade them."""


@main.command()
@click.argument("names", nargs=-1)
@click.option("--execute", is_flag=True, help="Re-run lessons and masters in place first, so stored outputs are fresh.")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 naming every exercise that is out of sync.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="One course folder, e.g. `ja` for the Japanese edition alone (default: the course here or the "
                   "nearest parent with solutions/, and its translated editions, ja/).")
def generate(names: tuple[str, ...], execute: bool, check: bool, root: Path | None) -> None:
    """Write exercises/ from the masters in solutions/, for the course and each translated edition (ja/).

    NAMES restricts the work to some lessons, e.g. ``01`` or ``01_chain_rule``.
    """
    from coursekit.assignment.generate import generate as generate_exercises
    from coursekit.assignment.notebooks import NotebookError
    from coursekit.assignment.validate import InvalidMaster

    if execute and check:
        raise click.UsageError("--check changes nothing, so it cannot be combined with --execute")
    try:
        main_course = Course.find(root if root is not None else ".")
        courses = [main_course] if root is not None else [main_course, *main_course.translations()]
        only = list(names) or None
        if check:
            _report_sync(courses, main_course.root)
            return
        for course in courses:
            _generate_one(course, only, execute, main_course.root, generate_exercises)
    except (NotebookError, InvalidMaster, FileNotFoundError) as err:
        errors.print(f"[bold red]error:[/] {err}", markup=True)
        sys.exit(1)


def _generate_one(course: Course, only: list[str] | None, execute: bool, shown_from: Path, generate_exercises) -> None:
    """Execute (when asked) and generate one course: the English one, or a translated edition.

    A name may be a lesson's alone (00, the start page, has no master): it is executed, and has nothing to generate;
    a name that matches no notebook at all is an error (``select``).
    """
    named = select(course.lesson_notebooks() + course.masters(), only)
    if execute:
        try:  # nbclient takes a second to import, and a grading-only host need not have it
            from coursekit.assignment.execute import execute_in_place
        except ImportError as missing:
            raise click.ClickException(NEEDS_LAB_EXTRA.format(missing=missing)) from missing
        for path in named:
            console.print(f"executing {path.relative_to(shown_from)}")
            execute_in_place(path)
    masters = [path.name for path in course.masters()]
    with_master = None if only is None else [name for name in only if any(m.startswith(name) for m in masters)]
    if with_master == []:
        return  # only lessons without an exercise set were named
    for change in generate_exercises(course, with_master):
        if change.action != "unchanged":
            console.print(f"{change.action} {change.path.relative_to(shown_from)}  ({change.reason})")
    console.print(f"{_folder(course, shown_from)}exercises/ is in sync with {_folder(course, shown_from)}solutions/")


def _folder(course: Course, shown_from: Path) -> str:
    """"" for the course itself, "ja/" for its Japanese edition."""
    relative = course.root.resolve().relative_to(shown_from.resolve()) if course.root != shown_from else Path()
    return "" if str(relative) == "." else f"{relative}/"


def _report_sync(courses: list[Course], shown_from: Path) -> None:
    from coursekit.assignment.generate import out_of_sync

    stale = [change for course in courses for change in out_of_sync(course)]
    if not stale:
        for course in courses:
            folder = _folder(course, shown_from)
            console.print(f"{folder}exercises/ is in sync with {folder}solutions/ ({len(course.masters())} notebooks)")
        return
    for change in stale:
        errors.print(f"out of sync: {change.path.relative_to(shown_from)} {change.reason}")
    errors.print("run `coursekit generate` to regenerate exercises/ (never edit them by hand)")
    sys.exit(1)


def _stop_as_interrupted(signum, frame) -> None:
    """SIGTERM during a batch: stop as Ctrl-C does (what was recorded stays, nothing is left running); a second one
    ends the process at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--jobs", "-j", type=int, default=None,
              help="Grading processes (default: two per core, so that cores stay busy while some wait on "
                   "submissions that loop until their time limit).")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=Path("grading/gradebook.sqlite"),
              show_default=True, help="The SQLite gradebook (created if missing).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="The course folder whose solutions/ hold the tests.")
@click.option("--regrade", is_flag=True, help="Grade again submissions the gradebook already holds.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the CSV gradebook here.")
@click.option("--feedback", type=click.Path(file_okay=False, path_type=Path), help="Write per-student feedback here.")
@click.option("--feedback-format", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--gradescope", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Gradescope's results.json (for a single submission).")
@click.option("--keep-warm/--no-keep-warm", default=True, show_default=True, envvar="COURSEKIT_KEEP_WARM",
              help="Use (and start if needed) a sandbox server that stays up between commands, so the next one "
                   "starts at once; it stops after 10 idle minutes, or with `coursekit sandbox stop`.")
@click.option("--cluster", metavar="ADDRESS", envvar="COURSEKIT_CLUSTER",
              help="Grade on the workers of this Dask scheduler (tcp://host:8786) instead of this machine "
                   "(each worker keeps a sandbox of its own; see the README, Beyond one machine).")
def grade(paths, jobs, gradebook, root, regrade, csv_path, feedback, feedback_format, gradescope, keep_warm,
          cluster) -> None:
    """Grade submissions: files, folders, or zips of many.

    Student code runs in a sandbox; the tests of the masters in solutions/ run in this process.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from coursekit.grading.batch import grade_paths
    from coursekit.grading.gradebook import Gradebook
    from coursekit.grading.ownership_report import lone_folders, several_places

    try:
        course = Course.find(root)
    except FileNotFoundError as err:
        errors.print(f"[bold red]error:[/] {err}", markup=True)
        sys.exit(1)
    _refuse_to_write_over_the_gradebook(gradebook, {"--csv": csv_path, "--gradescope": gradescope})
    if cluster:
        _check_cluster_extra()
    sandbox = _warm_sandbox() if keep_warm and not cluster else None
    outcomes = []
    signal.signal(signal.SIGTERM, _stop_as_interrupted)  # a batch stopped by SIGTERM cleans up as after Ctrl-C
    with _gradebook_errors(gradebook), Gradebook(gradebook) as book, \
            Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                     transient=True) as bar:
        task = bar.add_task("grading", total=None)
        with _cluster_errors(cluster):
            outcomes = grade_paths(paths, course.solutions, book, jobs=jobs, regrade=regrade, sandbox=sandbox,
                                   progress=lambda outcome: bar.advance(task), cluster=cluster)
        table = Table(title="grading summary")
        for column in ("submission", "student", "lesson", "points", "status"):
            table.add_column(column)
        for o in sorted(outcomes, key=lambda o: o.source):
            points, status = "-", "already graded" if o.skipped else f"rejected: {o.reason}"
            if o.grade is not None:
                points = f"{o.grade.points:g} / {o.grade.max_points:g}"
                status = ", ".join(sorted({t.status for t in o.grade.tests}))
                if o.grade.cell_problems:  # what the feedback explains: say here that there is something to read
                    count = len(o.grade.cell_problems)
                    status += f" ({count} {'cell' if count == 1 else 'cells'} did not run to the end)"
            # Names, ids and reasons come from the inputs: shown as plain text, never read as markup or escapes.
            table.add_row(*(_plain(text) for text in (o.source, o.student, o.lesson, points, status)))
        console.print(table)
        _print_counts(outcomes)
        _print_identical(book.identical_submissions())
        _print_several_places(several_places(outcomes))
        _print_lone_folders(lone_folders(paths, outcomes))
        failed: list[str] = []
        if csv_path:
            with _export_errors("the CSV gradebook", csv_path, failed):
                console.print(_plain(f"CSV gradebook: {book.export_csv(csv_path)}"))
        if feedback:
            with _export_errors("the feedback", feedback, failed):
                export = book.export_feedback(feedback, feedback_format)
                console.print(_plain(f"feedback: {len(export.written)} files in {feedback}"))
                for student, lesson, reason in export.problems:
                    errors.print(_plain(f"feedback for {student} ({lesson}) {reason}"))
        if gradescope:
            # graded now, or before (the same submission graded again is skipped, and its row is the answer)
            graded = [o for o in outcomes if o.grade is not None or (o.skipped and _holds_a_grade(book, o.key))]
            if len(graded) != 1:
                errors.print("--gradescope needs exactly one graded submission")
                sys.exit(1)
            import json

            with _export_errors("Gradescope's results", gradescope, failed):
                gradescope.write_text(json.dumps(book.gradescope(graded[0].key), indent=1), encoding="utf-8")
                console.print(_plain(f"Gradescope results: {gradescope}"))
        if failed:
            sys.exit(1)


def _check_cluster_extra() -> None:
    """Exit with the install command when distributed is missing."""
    try:
        import distributed  # noqa: F401 -- only whether it imports
    except ImportError as missing:
        errors.print(_plain(NEEDS_CLUSTER_EXTRA.format(missing=missing), limit=1000))
        sys.exit(1)


@contextlib.contextmanager
def _gradebook_errors(gradebook: Path):
    """A gradebook that cannot be written (a full disk, a read-only folder) ends the command saying so, without a
    traceback: what was recorded before stays, and the next run grades the rest."""
    import sqlite3

    try:
        yield
    except (sqlite3.OperationalError, sqlite3.DatabaseError) as problem:
        errors.print(_plain(f"error: the gradebook {gradebook} could not be written ({problem}); what it recorded "
                            "before stays, and the next run grades the rest once it can be written (is the disk "
                            "full?)", limit=1000))
        sys.exit(1)
    except OSError as problem:  # its folder cannot be made (a file of that name is in the way, red team V)
        errors.print(_plain(f"error: the gradebook {gradebook} cannot be used ({type(problem).__name__}: "
                            f"{problem.strerror or problem}); what it recorded stays, and the next run grades the rest",
                            limit=1000))
        sys.exit(1)


@contextlib.contextmanager
def _export_errors(what: str, path: Path, failed: list):
    """An export that cannot be written (its folder is a file, a full disk) says so in plain words, and the others
    are still written: the gradebook holds every result, so running again with another path exports them."""
    try:
        yield
    except OSError as problem:
        errors.print(_plain(f"error: {what} could not be written to {path} ({type(problem).__name__}: "
                            f"{problem.strerror or problem}); the gradebook holds every result: run again with another "
                            "path", limit=1000))
        failed.append(what)


@contextlib.contextmanager
def _cluster_errors(cluster: str | None):
    """A cluster that cannot be reached, or is lost mid-batch, ends the command with its reason (what was graded
    is in the gradebook; the next run grades the rest)."""
    if not cluster:  # local grading does not import distributed
        yield
        return
    from coursekit.grading.cluster import ClusterLost, ClusterUnreachable

    try:
        yield
    except (ClusterUnreachable, ClusterLost) as problem:
        errors.print(_plain(f"error: {problem}", limit=1000))
        sys.exit(1)


def _holds_a_grade(book, key: str) -> bool:
    """Whether the gradebook's row of ``key`` is a graded submission (not a rejected input)."""
    try:
        book.graded(key)
    except KeyError:
        return False
    return True


def _plain(text: str | None, limit: int = 300):
    """Untrusted text as the terminal shows it: no markup, control characters escaped, at most ``limit`` long."""
    from rich.text import Text

    from coursekit.grading.reasons import escaped_controls

    text = text or ""
    shown = escaped_controls(text[:limit])
    return Text(shown + ("..." if len(text) > limit else ""))


def _print_counts(outcomes: list) -> None:
    graded = sum(1 for o in outcomes if o.grade is not None)
    skipped = sum(1 for o in outcomes if o.skipped)
    console.print(f"{graded} graded, {skipped} already graded, {len(outcomes) - graded - skipped} rejected "
                  f"(each with its reason, in the gradebook)")


def _print_identical(groups: list) -> None:
    """A line per notebook that several students handed in byte for byte (the gradebook's identical_submissions)."""
    if not groups:
        return
    console.print(f"identical notebooks from different students: {len(groups)} (the untouched exercise notebook is "
                  f"one, a copy is another)")
    for group in groups[:20]:
        more = f" and {len(group.students) - 10} more" if len(group.students) > 10 else ""
        console.print(_plain(f"  {group.lesson}: {', '.join(group.students[:10])}{more}"))
    if len(groups) > 20:
        console.print(f"  and {len(groups) - 20} more: Gradebook.identical_submissions() lists them all")


def _print_several_places(groups: list) -> None:
    """A line per student whose different notebooks of one lesson came from different places (ownership_report): a
    folder of students, a zip of the inbox folder itself, or students' folders given one by one, read as one student."""
    if not groups:
        return
    errors.print(f"one student, different notebooks of one lesson from different places: {len(groups)} (a folder of "
                 f"students read as one student's? Give the folder that holds one folder per student, name each "
                 f"notebook LESSON--ID.ipynb, or zip the inbox's contents rather than the inbox)")
    for group in groups[:20]:
        places = ", ".join(group.places[:5])
        more = f" and {len(group.places) - 5} more" if len(group.places) > 5 else ""
        errors.print(_plain(f"  {group.student} ({group.lesson}): {places}{more}"))
    if len(groups) > 20:
        errors.print(f"  and {len(groups) - 20} more")


def _refuse_to_write_over_the_gradebook(gradebook: Path, outputs: dict[str, Path | None]) -> None:
    """Exit, before anything is graded, when an output file is the gradebook or one of SQLite's files beside it,
    by any path (a link, a hard link): ``--csv book.sqlite`` replaced every grade with the CSV's text (red team Z)."""
    kept = [gradebook.with_name(gradebook.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    for option, path in outputs.items():
        if path is not None and any(_same_file(path, one) for one in kept):
            errors.print(_plain(f"error: {option} {path} is the gradebook, {gradebook}: writing it would lose every "
                                f"grade. Name another file"))
            sys.exit(1)


def _same_file(one: Path, other: Path) -> bool:
    """Whether two paths name one file (the same path once links are resolved, or, both existing, one inode)."""
    if os.path.realpath(one) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(one, other)
    except (OSError, ValueError):
        return False


def _print_lone_folders(lone: list) -> None:
    """A line per folder or zip given whose inputs all lie in one folder (ownership_report): that folder's name is
    every one's student, which is right for a folder of one student and wrong for a student's own folder."""
    for found in lone:
        errors.print(_plain(f"every input in {found.given} lies in its folder {found.folder!r}, which names their "
                            f"student: {found.folder!r}. If {found.given} is a student's own folder (or zip), give "
                            f"the folder that holds one folder per student"))


def _warm_sandbox() -> Path | None:
    """The shared sandbox server's socket; None (with a warning) when it cannot run, and grading goes on with a
    server of its own."""
    from coursekit.grading import daemon
    from coursekit.grading.session import SandboxCrashed

    try:
        return daemon.ensure()
    except (daemon.RuntimeFolderError, SandboxCrashed, OSError) as problem:
        errors.print(f"warning: no shared sandbox server ({problem}); starting one for this command only")
        return None


@main.group()
def sandbox() -> None:
    """The shared sandbox server that `coursekit grade` keeps warm between commands."""


@sandbox.command("status")
def sandbox_status() -> None:
    """List the running shared sandbox servers."""
    from coursekit.grading import daemon

    servers = daemon.running()
    for path, pid in servers:
        console.print(f"running: process {pid}, socket {path}")
    if not servers:
        console.print("no shared sandbox server is running")


@sandbox.command("stop")
def sandbox_stop() -> None:
    """Stop the shared sandbox servers (the next `coursekit grade` starts a fresh one)."""
    from coursekit.grading import daemon

    stopped = daemon.stop()
    console.print(f"stopped {len(stopped)} sandbox server(s)" if stopped else "no shared sandbox server was running")


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--student", help="Your id (default: $COURSEKIT_STUDENT or ~/.config/coursekit/student).")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), default=Path("outbox"), show_default=True)
def submit(notebook: Path, student: str | None, outbox: Path) -> None:
    """Package an exercise notebook as a submission file (the notebook as last saved, plus a manifest)."""
    from rich.markup import escape

    from coursekit.grading.submission import NotASubmission, pack, student_id

    try:
        target = pack(notebook, student_id(student), outbox)
    except NotASubmission as err:  # its message may quote the id given: shown as text, never read as markup
        errors.print(f"[bold red]error:[/] {escape(str(err))}", markup=True)
        sys.exit(1)
    console.print(_plain(f"submission written: {target}"))


@main.group()
def gradescope() -> None:
    """Gradescope's autograder for a lesson."""


@gradescope.command("build")
@click.argument("lesson")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="The zip to write (default: LESSON-autograder.zip here).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="The course folder whose solutions/ hold the master.")
def gradescope_build(lesson: str, output: Path | None, root: Path) -> None:
    """Write the autograder zip of LESSON (e.g. ``03`` or ``03_activations``) to upload to Gradescope.

    It holds the lesson's master (hidden tests included: Gradescope never shows the zip to students), a wheel of
    this coursekit, setup.sh and run_autograder.
    """
    from coursekit.grading.gradescope_build import build

    try:
        target = build(lesson, output, root)
    except (FileNotFoundError, ValueError) as err:
        errors.print(_plain(f"error: {err}", limit=1000))
        sys.exit(1)
    console.print(_plain(f"Gradescope autograder: {target} (upload it as the assignment's autograder; "
                         f"see the README, Gradescope)", limit=1000))


# ---------------------------------------------------------------- the course server (issue 15)
# What serve, login and roster print is in the language of the terminal (COURSEKIT_LANG, else the locale): their
# sentences are catalogue messages (coursekit.server.messages, coursekit.grading.course_server, and this one).
NEEDS_SERVER_EXTRA = N_("the course server needs Starlette and uvicorn ({missing}). Install them with: "
                        "pip install 'coursekit[server]', or from the course's folder: pip install '.[server]'")


def _fail(message: str) -> None:
    from rich.markup import escape

    errors.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    sys.exit(1)


@main.command()
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML file of settings ([server] and [deadlines]); options given here win.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="The course folder (default: here).")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite gradebook (default: grading/gradebook.sqlite).")
@click.option("--host", help="The address to listen on (default: 127.0.0.1; put a reverse proxy in front for HTTPS).")
@click.option("--port", type=int, help="The port (default: 8000).")
@click.option("--workers", type=int, help="Grading processes (default: 1).")
@click.option("--public-url", help="The address learners use, e.g. https://course.example.org behind a proxy.")
@click.option("--deadline", "deadlines", multiple=True, metavar="LESSON=TIME",
              help="A lesson's deadline, e.g. 01_chain_rule=2026-10-09T23:59+09:00 (repeatable; UTC without offset).")
@click.option("--cluster", metavar="ADDRESS", envvar="COURSEKIT_CLUSTER",
              help="Grade on the workers of this Dask scheduler (tcp://host:8786) instead of this machine; give as "
                   "many --workers as the cluster has worker threads (see the README, Beyond one machine).")
def serve(config_file, root, gradebook, host, port, workers, public_url, deadlines, cluster) -> None:
    """Run the class's course server: learners submit, workers grade in the background, the instructor watches."""
    if cluster:
        _check_cluster_extra()
    try:
        from coursekit.server import config as server_config
        from coursekit.server.run import serve as run_server
    except ImportError as missing:
        _fail(NEEDS_SERVER_EXTRA.format(missing=missing))
    try:
        config = server_config.load(config_file, root=root, gradebook=gradebook, host=host, port=port,
                                    workers=workers, public_url=public_url, cluster=cluster,
                                    deadlines=server_config.deadline_options(deadlines))
        run_server(config, announce=lambda line: console.print(_plain(line), soft_wrap=True))
    except server_config.ConfigError as problem:
        _fail(str(problem))


@main.command()
@click.argument("url")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input rather than asking for it.")
def login(url: str, token_stdin: bool) -> None:
    """Sign in to the class's course server at URL, once: coursekit.submit() then sends your notebooks there."""
    from coursekit.grading import course_server

    token = sys.stdin.readline() if token_stdin else click.prompt(
        course_server.LOGIN_ASK.format(url=url), hide_input=True)
    try:
        saved = course_server.log_in(url, token)
    except course_server.ServerProblem as problem:
        _fail(str(problem))
    console.print(_plain(course_server.LOGGED_IN.format(url=saved.url, student=saved.student,
                                                        file=course_server.LOGIN_FILE)))


@main.group()
def roster() -> None:
    """The class's roster and its tokens, in the gradebook the course server uses."""


_GRADEBOOK_OPTION = click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path),
                                 default=Path("grading/gradebook.sqlite"), show_default=True)


@roster.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_GRADEBOOK_OPTION
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False, path_type=Path), default=Path("tokens.csv"),
              show_default=True, help="Where to write the new tokens (id, name, email, token), to mail out.")
@click.option("--reissue", is_flag=True, help="New tokens for every student of the roster (the old ones stop working).")
def roster_import(csv_file: Path, gradebook: Path, tokens_file: Path, reissue: bool) -> None:
    """Add the students of a roster CSV (id,name,email) and give each new one a token."""
    from coursekit.grading.gradebook import Gradebook
    from coursekit.server import messages, tokens

    _refuse_to_write_over_the_gradebook(gradebook, {"--tokens": tokens_file})
    try:
        with Gradebook(gradebook) as book:
            issued = tokens.import_roster(book.db, csv_file.read_bytes(), reissue=reissue,
                                          deliver=lambda issued: tokens.write_tokens_csv(issued, tokens_file))
    except tokens.RosterError as problem:
        _fail(messages.NOT_IMPORTED.format(file=csv_file, problem=problem))
    except OSError as problem:
        _fail(messages.TOKENS_NOT_WRITTEN.format(file=tokens_file, problem=problem))
    if issued:
        console.print(_plain(messages.TOKENS_WRITTEN.format(count=len(issued), file=tokens_file)))
    else:
        console.print(_plain(str(messages.NO_NEW_STUDENTS)))


@roster.command("token")
@click.argument("student")
@_GRADEBOOK_OPTION
def roster_token(student: str, gradebook: Path) -> None:
    """A new token for one student (a lost one; the old one stops working), printed once."""
    from coursekit.grading.gradebook import Gradebook
    from coursekit.server import tokens

    with Gradebook(gradebook) as book:
        try:
            issued = tokens.reissue(book.db, student)
        except KeyError as problem:
            _fail(str(problem.args[0]))
    console.print(_plain(f"{issued.student}: {issued.token}"))


@roster.command("instructor")
@_GRADEBOOK_OPTION
def roster_instructor(gradebook: Path) -> None:
    """A new instructor token (the dashboard's sign-in; an earlier one stops working), printed once."""
    from coursekit.grading.gradebook import Gradebook
    from coursekit.server import messages, tokens

    with Gradebook(gradebook) as book:
        token = tokens.issue_instructor_token(book.db)
    console.print(_plain(messages.INSTRUCTOR_TOKEN.format(token=token)))


@roster.command("list")
@_GRADEBOOK_OPTION
def roster_list(gradebook: Path) -> None:
    """The students on the roster."""
    from coursekit.grading.gradebook import Gradebook
    from coursekit.grading.reasons import escaped_controls
    from coursekit.server import tokens

    with Gradebook(gradebook) as book:
        for student, name, email in tokens.roster(book.db):
            # fields apart by tabs, for a script to read (rich would print them as spaces); controls escaped
            click.echo("\t".join(escaped_controls(field or "") for field in (student, name, email)))
