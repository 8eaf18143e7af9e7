"""The learner's side of the class's course server: the saved login, and sending a notebook there for its grade.

Standard library only (urllib): a learner's kernel needs no package beyond coursekit. ``coursekit login URL``
(or ``coursekit.login(URL)`` in a notebook, which shows ``login_form(URL)``) checks the token with the server and
saves the URL and token in ``~/.config/coursekit/server.json``, readable by the learner only. ``submit()`` then
posts the notebook with the token in an ``Authorization`` header and polls for the grade. Every request asks for
answers in the learner's language (``Accept-Language``: ``i18n.current()``, the notebook's), and the sentences
shown here are catalogue messages, in that language too.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from coursekit import i18n
from coursekit.grading.notebook_json import NotASubmission
from coursekit.i18n import N_

LOGIN_FILE = Path.home() / ".config" / "coursekit" / "server.json"
TIMEOUT = 15.0  # seconds for one request
WAIT_FOR_GRADE = 120.0  # seconds submit() waits for the grade before it says where to look instead

# Every sentence the learner reads here, in one place for translation (shown in the notebook's language).
NOT_A_URL = N_("{url!r} is not a web address: give the course server's, as https://course.example.org")
UNREACHABLE = N_("could not reach the course server at {url} ({problem})")
# An upload whose answer did not come in time may still have been queued: the learner must not believe it lost.
NO_ANSWER_TO_UPLOAD = N_("the course server at {url} did not answer within {seconds:g} s, so it may have received "
                         "the notebook all the same; look at your page there before you send it again")
REFUSED = N_("the course server refused: {message}")
BAD_ANSWER = N_("the course server answered something that is not what coursekit expects (HTTP {status})")
LOGGED_IN = N_("Signed in to {url} as {student}; saved in {file}. coursekit.submit() now sends your notebooks there.")
SENDING = N_("Sending {lesson} to {url} ...")
WAITING = N_("Sent. Waiting for the grade ({ahead} ahead in the queue) ...")
GRADED = N_("{lesson}: {points:g} / {max_points:g} points{late}. Graded by {url}.")
LATE = N_(" (late: after the lesson's deadline)")
REJECTED = N_("{lesson} could not be graded: {reason}")
STILL_WAITING = N_("Sent, and still waiting for the grade after {seconds:g} s: see it later at {page}")
TOKEN_LABEL, LOGIN_LABEL = N_("Token"), N_("Sign in")
LOGIN_ASK = N_("Paste the token your course gave you for {url}:")


class ServerProblem(NotASubmission):
    """Why the course server could not be used, in plain words."""


@dataclass(frozen=True)
class Login:
    url: str
    token: str
    student: str | None = None


@dataclass
class Outcome:
    """What the server said about one submission: its state, score and feedback (HTML made by the server from
    Markdown with raw HTML off), and its page."""

    lesson: str
    url: str
    state: str = "queued"
    points: float | None = None
    max_points: float | None = None
    late: bool = False
    reason: str | None = None
    feedback_html: str = ""
    feedback_markdown: str = ""
    page: str = ""
    ahead: int = 0
    waited: float = 0.0
    tests: list = field(default_factory=list)

    def headline(self) -> str:
        if self.state == "graded":
            return GRADED.format(lesson=self.lesson, points=self.points or 0, max_points=self.max_points or 0,
                                 late=LATE if self.late else "", url=self.url)
        if self.state == "rejected":
            return REJECTED.format(lesson=self.lesson, reason=self.reason)
        return STILL_WAITING.format(seconds=self.waited, page=self.page)

    def __str__(self) -> str:
        return "\n".join(filter(None, [self.headline(), self.feedback_markdown]))

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = {"graded": "#1a7f37", "rejected": "#cf222e"}.get(self.state, "#9a6700")
        return (f'<div class="coursekit-server-grade" style="border-left:4px solid {colour};padding:2px 8px">'
                f"<div><strong>{html.escape(self.headline())}</strong></div>{self.feedback_html}</div>")


def normal_url(url: str) -> str:
    """The server's base address, without a trailing slash; ServerProblem when it is not http(s)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServerProblem(NOT_A_URL.format(url=url))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def saved_login() -> Login | None:
    """The saved login (``coursekit login``), or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(LOGIN_FILE.read_text(encoding="utf-8"))
        return Login(str(data["url"]), str(data["token"]), data.get("student"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def log_in(url: str, token: str) -> Login:
    """Check ``token`` with the server at ``url`` and save both (the file readable by its owner only)."""
    url = normal_url(url)
    me = request(Login(url, token.strip()), "GET", "/api/me")
    login = Login(url, token.strip(), me.get("student"))
    LOGIN_FILE.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(LOGIN_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # a file left by an earlier version may have had other modes
        json.dump({"url": login.url, "token": login.token, "student": login.student}, handle)
    return login


def request(login: Login, method: str, path: str, body: bytes | None = None) -> dict:
    """One API call; its JSON answer. ServerProblem, in plain words, for anything else."""
    # the server's refusals come back in the notebook's language (its answers' words follow Accept-Language)
    headers = {"Authorization": f"Bearer {login.token}", "Accept": "application/json",
               "Accept-Language": i18n.current()}
    if body is not None:
        headers["Content-Type"] = "application/octet-stream"
    call = urllib.request.Request(login.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=TIMEOUT) as answer:  # an http(s) URL: normal_url checked it
            status, raw = answer.status, answer.read(16 * 1024 * 1024)
    except urllib.error.HTTPError as error:
        message = None
        with contextlib.suppress(Exception):
            message = json.loads(error.read(65536)).get("error")
        raise ServerProblem(REFUSED.format(message=message or f"HTTP {error.code}")) from error
    except TimeoutError as error:  # sent, and no answer in time (a connection that timed out is a URLError)
        if method == "POST":
            raise ServerProblem(NO_ANSWER_TO_UPLOAD.format(url=login.url, seconds=TIMEOUT)) from error
        raise ServerProblem(UNREACHABLE.format(url=login.url, problem=error)) from error
    except (urllib.error.URLError, OSError) as error:
        raise ServerProblem(UNREACHABLE.format(url=login.url, problem=getattr(error, "reason", error))) from error
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise ServerProblem(BAD_ANSWER.format(status=status)) from error
    if not isinstance(data, dict):
        raise ServerProblem(BAD_ANSWER.format(status=status))
    return data


def send(login: Login, lesson: str, raw: bytes, on_wait=None, wait: float = WAIT_FOR_GRADE,
         poll: float = 0.25) -> Outcome:
    """Post a notebook for ``lesson`` and wait (at most ``wait`` seconds) for its grade; ``on_wait(outcome)`` is
    called while it waits. ServerProblem when the server cannot be reached or refuses."""
    sent = request(login, "POST", "/api/submissions?" + urllib.parse.urlencode({"lesson": lesson}), raw)
    outcome = Outcome(lesson, login.url, page=login.url + str(sent.get("page", "")), late=bool(sent.get("late")))
    status_url = str(sent.get("status_url", ""))
    start = time.monotonic()
    while True:
        state = request(login, "GET", status_url)
        outcome.state = str(state.get("state", "queued"))
        outcome.ahead = int(state.get("ahead") or 0)
        outcome.waited = time.monotonic() - start
        if outcome.state in ("graded", "rejected"):
            outcome.points, outcome.max_points = state.get("points"), state.get("max_points")
            outcome.late, outcome.reason = bool(state.get("late")), state.get("reason")
            outcome.feedback_html = str(state.get("feedback_html") or "")
            outcome.feedback_markdown = str(state.get("feedback_markdown") or "")
            outcome.tests = list(state.get("tests") or [])
            return outcome
        if outcome.waited > wait:
            return outcome
        if on_wait is not None:
            on_wait(outcome)
        time.sleep(poll)


def login(url: str) -> None:
    """Sign in to the course server at ``url``: in a notebook, show ``login_form(url)``; elsewhere (a terminal's
    Python) ask for the token here, check it and save it, as ``coursekit login URL`` does."""
    from coursekit.grading import front_end

    if front_end.has_front_end():
        from IPython.display import display

        display(login_form(url))
        return
    import getpass

    saved = log_in(url, getpass.getpass(LOGIN_ASK.format(url=normal_url(url)) + " "))
    print(LOGGED_IN.format(url=saved.url, student=saved.student, file=LOGIN_FILE))


def login_form(url: str):
    """A small form (ipywidgets) for a notebook: paste the token, press Sign in; it is checked and saved as
    ``coursekit login URL`` does, and the form says so (or what went wrong)."""
    import ipywidgets as widgets

    url = normal_url(url)
    text = widgets.Password(description=str(TOKEN_LABEL))
    button = widgets.Button(description=str(LOGIN_LABEL), button_style="primary")
    status = widgets.HTML("")
    language = i18n.current()  # the click is handled outside the cell that made the form: answer in its language

    def on_click(_button) -> None:
        with i18n.speaking(language):
            try:
                login = log_in(url, text.value)
            except (ServerProblem, OSError) as problem:
                status.value = f'<span style="color:#cf222e">{html.escape(str(problem))}</span>'
                return
            text.value = ""
            status.value = html.escape(LOGGED_IN.format(url=login.url, student=login.student, file=LOGIN_FILE))

    button.on_click(on_click)
    return widgets.VBox([widgets.HTML(html.escape(LOGIN_ASK.format(url=url))), widgets.HBox([text, button]), status])
