"""What a learner's notebook reaches of the course server without the server: ``coursekit.login(url)`` at the
top of the package (the sign-in form in a notebook, a question in a terminal), the feedback's HTML body that the
server's pages show (``feedback_page.html_body``), and what the client says when a server does not answer."""

import socket
import subprocess
import sys
import threading

import pytest
from server_helpers import ROOT

import coursekit
from coursekit.grading import course_server, feedback_page, front_end


def test_html_body_shows_a_students_markup_as_text_and_is_what_the_page_holds():
    markdown = "# 07: 1 / 2 points\n\nwrote <script>alert(1)</script> and [a link](https://example.org)\n"
    body = feedback_page.html_body(markdown)
    assert "<h1>07: 1 / 2 points</h1>" in body
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "<a " not in body  # links are off: none can come from a student's text
    assert body in feedback_page.html_page(markdown, "feedback")


def test_coursekit_login_in_a_notebook_shows_the_sign_in_form(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert coursekit.login("http://127.0.0.1:8000/") is None
    [form] = shown
    ask, row, status = form.children
    token, button = row.children
    assert "http://127.0.0.1:8000:" in ask.value
    assert type(token).__name__ == "Password" and button.description == str(course_server.LOGIN_LABEL)


def test_coursekit_login_elsewhere_asks_for_the_token_checks_it_and_says_where_it_is_saved(monkeypatch, capsys):
    import getpass

    asked, checked = [], []
    monkeypatch.setattr(front_end, "has_front_end", lambda: False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: asked.append(prompt) or " tok ")
    monkeypatch.setattr(course_server, "log_in", lambda url, token: checked.append((url, token))
                        or course_server.Login(url, token.strip(), "ada"))
    coursekit.login("https://course.example.org")
    assert asked == [course_server.LOGIN_ASK.format(url="https://course.example.org") + " "]
    assert checked == [("https://course.example.org", " tok ")]
    assert "Signed in to https://course.example.org as ada" in capsys.readouterr().out


def test_coursekit_login_refuses_an_address_that_is_not_a_web_address(monkeypatch):
    monkeypatch.setattr(front_end, "has_front_end", lambda: True)
    with pytest.raises(course_server.ServerProblem, match="is not a web address"):
        coursekit.login("course.example.org")


def test_import_coursekit_leaves_the_course_server_client_unimported():
    code = "import sys, coursekit; print('coursekit.grading.course_server' in sys.modules, callable(coursekit.login))"
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}).stdout
    assert shown.split() == ["False", "True"]


def _silent_server():
    """A server that takes whatever is sent and never answers; its address."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_an_upload_with_no_answer_in_time_is_said_to_have_perhaps_arrived_and_a_read_to_be_unreachable(monkeypatch):
    monkeypatch.setattr(course_server, "TIMEOUT", 0.3)
    listener, url = _silent_server()
    login = course_server.Login(url, "token")
    try:
        with pytest.raises(course_server.ServerProblem, match="may have received the notebook all the same"):
            course_server.request(login, "POST", "/api/submissions?lesson=07_efficiency", b"{}")
        with pytest.raises(course_server.ServerProblem, match="could not reach the course server") as read:
            course_server.request(login, "GET", "/api/me")
        assert "may have" not in str(read.value)
    finally:
        listener.close()
