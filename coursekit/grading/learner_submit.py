"""``coursekit.submit()``: the learner's last cell. Save what the learner sees, pack it, and say what was done.

When the learner has signed in to the class's course server (``coursekit login URL``, see ``course_server``), the
saved notebook is sent there instead and the grade and feedback are shown in the notebook as soon as the server's
grader has them (seconds); should the server be unreachable, the file is packed as below, and the summary says so.

In JupyterLab the notebook is first saved through the page (``front_end``), so edits not yet saved are in the
submission; elsewhere (plain Python, a headless run) the file as last saved is packed, and the summary says so.
With no student id configured, a notebook asks for it in a small form and remembers it (``remember_student_id``);
elsewhere the error says how to set it. One summary is shown, and ``submit`` returns None, so that nothing more
appears as the cell's ``Out``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.feedback.messages import STATE_NAMES
from coursekit.grading import course_server, front_end
from coursekit.grading.notebook_json import NotASubmission, parse_notebook
from coursekit.grading.student_ids import InvalidStudentId
from coursekit.grading.submission import (
    NOT_RUN,
    NOT_RUN_WORDS,
    names_in_file_name,
    pack,
    remember_student_id,
    student_id,
    visible_checks,
)
from coursekit.i18n import N_, Message

# Every sentence the learner reads here, in one place for translation.
SAVED = N_("Saved the notebook as you see it in JupyterLab (edits not yet saved included), then packed it.")
NOT_SAVED = N_("Could not save the notebook from here: {reason}. Packed the notebook as it was last saved ({when}); if "
               "you changed something since, save it (Ctrl+S) and run submit() again.")
WRITTEN = N_("Submission of {lesson} for {student} written to {target}")
CHECKS = N_("Visible checks in this kernel: {counts}.")
NO_CHECKS = N_("Visible checks: none ran here (run the notebook's cells first to see them in this summary).")
SAVING = N_("Saving the notebook through JupyterLab ...")
WHICH_NOTEBOOK = N_("Which notebook? This Python does not know which notebook it runs: name it, as in "
                    "coursekit.submit(\"exercises/01_chain_rule.ipynb\").")
ASK = N_("Who is submitting? No student id is set on this computer yet. Type yours, as your course gave it, and press "
         "Submit: it is remembered here for your next submissions.")
ASK_AGAIN = N_("The student id set on this computer is not valid: {problem}")
ID_LABEL, ID_PLACEHOLDER, SUBMIT_LABEL = N_("Student id"), N_("your student id"), N_("Submit")
NOT_SUBMITTED = N_("Not submitted: {problem}")
SENT_SAVED = N_("Saved the notebook as you see it in JupyterLab (edits not yet saved included), then sent it.")
SENT_NOT_SAVED = N_("Could not save the notebook from here: {reason}. Sent the notebook as it was last saved ({when}); "
                    "if you changed something since, save it (Ctrl+S) and run submit() again.")
SERVER_FALLBACK = N_("Not sent to the course server: {problem}. The submission file is written instead.")
_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#cf222e", "not attempted": "#9a6700"}


@dataclass(frozen=True)
class Summary:
    """What one submission did: the file written, whether the front end saved first, and the visible checks."""

    target: Path
    lesson: str
    student: str
    not_saved: str | None  # None when the front end saved; else why it could not, in plain words
    last_saved: dt.datetime  # when the packed file was written (local time)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (exercise, status), see ``visible_checks``

    def lines(self) -> list[str]:
        """The summary as lines of plain text: saved or not, the file written, the checks' counts."""
        saved = _saved_line(self.not_saved, self.last_saved, SAVED, NOT_SAVED)
        counts = Counter(status for _, status in self.checks)
        checks = CHECKS.format(counts=", ".join(f"{n} {_state(status)}" for status, n in counts.items()))
        return [WRITTEN.format(lesson=self.lesson, student=self.student, target=self.target), saved,
                checks if counts else str(NO_CHECKS)]

    def __str__(self) -> str:
        return "\n".join([*self.lines(), *(f"  {name}: {_state(status)}" for name, status in self.checks)])

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's plain-text view: the summary itself
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.not_saved is None else "#9a6700"
        paragraphs = "".join(f"<div>{html.escape(line)}</div>" for line in self.lines())
        rows = "".join(f'<tr><td style="text-align:left"><code>{html.escape(name)}</code></td>'
                       f'<td style="text-align:left;color:{_COLOURS.get(status.split(":")[0], "inherit")}">'
                       f"{html.escape(_state(status))}</td></tr>" for name, status in self.checks)
        table = f'<table class="coursekit-submit-checks">{rows}</table>' if rows else ""
        return (f'<div class="coursekit-submit-summary" style="border-left:4px solid {colour};padding:2px 8px">'
                f"{paragraphs}{table}</div>")


def _saved_line(not_saved: str | None, last_saved: dt.datetime, saved: Message, not_saved_message: Message) -> str:
    """Whether the front end saved the notebook before it went (``saved``), or why not and when it was last saved."""
    if not_saved is None:
        return str(saved)
    return not_saved_message.format(reason=not_saved, when=last_saved.strftime("%Y-%m-%d %H:%M:%S"))


def _state(status: str) -> str:
    """A visible check's state as the learner reads it ("passed"; "error: KeyError" keeps its exception's name)."""
    state, colon, rest = status.partition(": ")
    names = {**STATE_NAMES, NOT_RUN: NOT_RUN_WORDS}
    return str(names.get(state, state)) + colon + rest


@dataclass(frozen=True)
class Problem:
    """A reason the submission was not made, shown in plain words (no traceback) in a notebook."""

    message: str

    def __str__(self) -> str:
        return NOT_SUBMITTED.format(problem=self.message)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return f'<div style="border-left:4px solid #cf222e;padding:2px 8px">{html.escape(str(self))}</div>'


def submit(notebook: str | Path | None = None, student: str | None = None, outbox: str | Path = "outbox") -> None:
    """Save this notebook, run its visible checks, and write its submission file into ``outbox``; show a summary.

    Call it in the last cell of an exercise notebook: ``import coursekit; coursekit.submit()``. Without a student id
    (``student=``, $COURSEKIT_STUDENT or ~/.config/coursekit/student) a notebook asks for one; elsewhere this raises
    NotASubmission saying how to set it. Returns None.
    """
    interactive = front_end.has_front_end()
    login = course_server.saved_login()
    try:
        path = Path(notebook) if notebook else front_end.current_notebook()
        if path is None:
            raise NotASubmission(str(WHICH_NOTEBOOK))
        if login is not None:
            progress = _show(course_server.SENDING.format(lesson=path.stem, url=login.url), updatable=True)
            try:
                sent = send_to_server(path, login, on_wait=_updater(progress))
            except course_server.ServerProblem as problem:
                _replace(progress, SERVER_FALLBACK.format(problem=problem))
            else:
                _replace(progress, sent)
                return None
        where = Path(outbox) if notebook or Path(outbox).is_absolute() else _course_root(path) / outbox
        try:
            who = student_id(student)
        except NotASubmission as problem:
            if student or not interactive:
                raise
            warning = ASK_AGAIN.format(problem=problem) if isinstance(problem, InvalidStudentId) else None
            _show(ask_for_student_id(lambda who: make_submission(path, who, where), warning))
            return None
        progress = _show(str(SAVING), updatable=True) if interactive else None
        summary = make_submission(path, who, where)
        if progress is not None:
            progress.update(summary)
        else:
            _show(summary)
    except NotASubmission as problem:
        if not interactive:
            raise
        _show(Problem(str(problem)))
    return None


@dataclass(frozen=True)
class Sent:
    """A notebook sent to the course server: whether the front end saved it first, and what the server said."""

    outcome: course_server.Outcome
    not_saved: str | None
    last_saved: dt.datetime

    def saved_line(self) -> str:
        return _saved_line(self.not_saved, self.last_saved, SENT_SAVED, SENT_NOT_SAVED)

    def __str__(self) -> str:
        return f"{self.outcome}\n{self.saved_line()}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return f"{self.outcome._repr_html_()}<div>{html.escape(self.saved_line())}</div>"


def send_to_server(path: Path, login: course_server.Login, save: Callable[[Path], str | None] | None = None,
                   on_wait: Callable | None = None) -> Sent:
    """Save ``path`` through the front end where there is one, send it to the course server of ``login``, and wait
    for its grade (see ``course_server.send``). NotASubmission when the notebook cannot be read; ServerProblem
    when the server cannot be reached or refuses."""
    not_saved = (save or front_end.save_notebook)(path)
    raw = path.read_bytes() if path.is_file() else None
    if raw is None:
        raise NotASubmission(front_end.NOT_WRITTEN.format(path=path))
    parse_notebook(raw)  # what the grader would reject is not sent
    lesson = names_in_file_name(path.name)[0] or path.stem
    outcome = course_server.send(login, lesson, raw, on_wait=on_wait)
    return Sent(outcome, not_saved, dt.datetime.fromtimestamp(path.stat().st_mtime))


def _updater(progress) -> Callable | None:
    """What shows the wait for a grade (the queue ahead) in place of the progress line, when it can be replaced."""
    if progress is None:
        return None
    return lambda outcome: progress.update(_pretty(course_server.WAITING.format(ahead=outcome.ahead)))


def _replace(progress, obj) -> None:
    """Show ``obj`` in place of the progress line, or below when there is none to replace."""
    if progress is None:
        _show(obj)
    else:
        progress.update(_pretty(obj) if isinstance(obj, str) else obj)


def _pretty(text: str):
    try:
        from IPython.display import Pretty
    except ImportError:
        return text
    return Pretty(text)


def make_submission(path: Path, student: str, outbox: Path,
                    save: Callable[[Path], str | None] | None = None) -> Summary:
    """Save ``path`` through the front end where there is one, evaluate its visible checks in this kernel, pack it
    for ``student`` into ``outbox``; the Summary of what was done (NotASubmission if it cannot be packed)."""
    not_saved = (save or front_end.save_notebook)(path)
    notebook = parse_notebook(path.read_bytes()) if path.is_file() else None
    if notebook is None:
        raise NotASubmission(front_end.NOT_WRITTEN.format(path=path))
    checks = visible_checks(notebook, _namespace())
    target = pack(path, student, outbox)
    last_saved = dt.datetime.fromtimestamp(path.stat().st_mtime)
    return Summary(target, target.name.split("--")[0], student, not_saved, last_saved, checks)


def ask_for_student_id(then: Callable[[str], Summary], warning: str | None = None):
    """A small form (ipywidgets) asking for the student id: Submit checks it, remembers it (see
    ``remember_student_id``) and calls ``then(id)``, showing its summary, or what is wrong, inside the form."""
    import ipywidgets as widgets

    text = widgets.Text(description=str(ID_LABEL), placeholder=str(ID_PLACEHOLDER))
    button = widgets.Button(description=str(SUBMIT_LABEL), button_style="primary", icon="paper-plane")
    status = widgets.HTML("")
    intro = str(ASK) if warning is None else f"{ASK_AGAIN.format(problem=warning)} {ASK}"
    form = widgets.VBox([widgets.HTML(f"<div>{html.escape(intro)}</div>"), widgets.HBox([text, button]), status])
    form.add_class("coursekit-student-id-form")

    def on_submit(_button) -> None:
        text.disabled = button.disabled = True
        status.value = html.escape(str(SAVING))
        try:
            summary = then(remember_student_id(text.value))
        except (NotASubmission, OSError) as problem:  # a bad id or an unwritable file: say so, let them try again
            status.value = Problem(str(problem))._repr_html_()
            text.disabled = button.disabled = False
            return
        status.value = summary._repr_html_()

    button.on_click(on_submit)
    return form


def _course_root(notebook: Path) -> Path:
    """Where the outbox goes: the course's folder for a notebook in its exercises/, else the notebook's folder."""
    folder = notebook.resolve().parent
    return folder.parent if folder.name == "exercises" else folder


def _namespace() -> dict:
    """The learner's variables, where the visible checks are evaluated (empty outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _show(obj, updatable: bool = False):
    """Display ``obj`` once: rich in IPython, plain text elsewhere; a handle to replace it when ``updatable``."""
    try:
        from IPython import get_ipython
        from IPython.display import Pretty, display
    except ImportError:
        print(obj)
        return None
    if get_ipython() is None:
        print(obj)
        return None
    if isinstance(obj, str):
        obj = Pretty(obj)  # shown as it is, not as a quoted string
    return display(obj, display_id=True) if updatable else display(obj)
