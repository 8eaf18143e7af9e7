"""The server's pages and API in process (Starlette's TestClient): who may see what, the forms' guards, uploads into
the queue, and what the dashboard shows once the queue is graded (``worker.drain``, here in the test's thread)."""

import csv
import datetime as dt
import io
import warnings

import pytest
from server_helpers import FAST, LESSON, MASTERS, MISTAKEN, ROOT, ROSTER, SOLVED, UNTOUCHED, csrf_of, sign_in

from coursekit.server import tokens, worker
from coursekit.server.app import create_app
from coursekit.server.config import ServerConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 now; httpx is what the test extra installs
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def site(tmp_path_factory, sandbox):
    """One server (in process) for the module: ada, bob and cy on the roster, an instructor token, lesson 07's
    deadline in the past (so every upload of it is late); ada and bob uploaded once each, cy twice, all graded."""
    folder = tmp_path_factory.mktemp("site")
    config = ServerConfig(root=ROOT, gradebook=folder / "gradebook.sqlite", grading=FAST, sandbox=sandbox,
                          submissions_per_minute=3, deadlines={LESSON: dt.datetime(2000, 1, 1, tzinfo=dt.UTC)})
    app = create_app(config, MASTERS)
    db = app.site.book.db
    issued = {one.student: one.token for one in tokens.import_roster(db, ROSTER)}
    instructor = tokens.issue_instructor_token(db)
    clients = {}
    for student in issued:
        clients[student] = TestClient(app)
        sign_in(clients[student], issued[student])
    clients["instructor"] = TestClient(app)
    sign_in(clients["instructor"], instructor)
    ids = {"ada": upload(clients["ada"], SOLVED), "bob": upload(clients["bob"], MISTAKEN),
           "cy": upload(clients["cy"], UNTOUCHED)}
    upload(clients["cy"], MISTAKEN)  # cy's latest
    assert worker.drain(config, MASTERS) == 4
    yield {"app": app, "config": config, "tokens": issued, "instructor": instructor, "clients": clients, "ids": ids}
    for client in clients.values():
        client.close()


def upload(client, raw: bytes, lesson: str = LESSON):
    """Upload through the learner's page; the upload's queue id (from the page it leads to)."""
    page = client.get("/me")
    answer = client.post("/me/uploads", data={"csrf": csrf_of(page.text), "lesson": lesson},
                         files={"notebook": ("mine.ipynb", raw)})
    assert answer.status_code == 200, answer.text
    return int(str(answer.url).rsplit("/", 1)[1])


def test_a_learner_sees_their_own_upload_graded_with_feedback_and_marked_late(site):
    page = site["clients"]["ada"].get(f"/me/uploads/{site['ids']['ada']}")
    assert page.status_code == 200
    assert "7 / 7 points" in page.text and "numerical_passes_test: passed" in page.text
    assert 'class="late"' in page.text
    listing = site["clients"]["ada"].get("/me").text
    assert listing.count('class="upload graded"') == 1


def test_a_learner_gets_404_for_another_learners_upload_and_403_for_the_dashboard(site):
    ada = site["clients"]["ada"]
    assert ada.get(f"/me/uploads/{site['ids']['bob']}").status_code == 404
    assert ada.get("/me/uploads/999999").status_code == 404  # the same answer as for one that does not exist
    for path in ("/instructor", "/instructor/students/bob", "/instructor/export.csv",
                 "/instructor/mistakes?lesson=07_efficiency&exercise=x&mistake=y"):
        assert ada.get(path).status_code == 403, path
    bearer = {"authorization": f"Bearer {site['tokens']['ada']}"}
    assert ada.get(f"/api/submissions/{site['ids']['bob']}", headers=bearer).status_code == 404


def test_a_page_without_signing_in_leads_to_the_sign_in_form(site):
    stranger = TestClient(site["app"])  # not as a context: that would run the app's shutdown
    for path in ("/me", "/instructor", f"/me/uploads/{site['ids']['ada']}"):
        page = stranger.get(path)
        assert 'id="login"' in page.text and "7 / 7" not in page.text, path


def test_a_wrong_token_or_a_form_without_its_csrf_token_is_refused(site):
    stranger = TestClient(site["app"])
    assert sign_in(stranger, "not-a-token").status_code == 403
    assert stranger.post("/login", data={"token": site["tokens"]["ada"]}).status_code == 403  # no CSRF token
    ada = site["clients"]["ada"]
    refused = ada.post("/me/uploads", data={"csrf": "forged", "lesson": LESSON}, files={"notebook": ("a", SOLVED)})
    assert refused.status_code == 403
    instructor = site["clients"]["instructor"]
    key = site["app"].site.book.latest()[0][2]
    assert instructor.post(f"/instructor/submissions/{key}/regrade", data={}).status_code == 403


def test_the_api_takes_a_bearer_token_and_refuses_a_missing_one_an_unknown_lesson_and_an_empty_body(site):
    client = site["clients"]["ada"]  # its session cookie is not what the API looks at
    assert client.post(f"/api/submissions?lesson={LESSON}", content=SOLVED).status_code == 401
    bearer = {"authorization": f"Bearer {site['tokens']['ada']}"}
    unknown = client.post("/api/submissions?lesson=99_nothing", content=SOLVED, headers=bearer)
    assert unknown.status_code == 400 and "99_nothing" in unknown.json()["error"]
    assert client.post(f"/api/submissions?lesson={LESSON}", content=b"", headers=bearer).status_code == 400
    me = client.get("/api/me", headers=bearer).json()
    assert me["student"] == "ada" and LESSON in me["lessons"]


def test_an_upload_past_the_cap_is_refused_before_it_is_read(site):
    bearer = {"authorization": f"Bearer {site['tokens']['ada']}"}
    too_big = b"x" * (site["config"].max_upload_bytes + 70_000)
    answer = site["clients"]["ada"].post(f"/api/submissions?lesson={LESSON}", content=too_big, headers=bearer)
    assert answer.status_code == 413 and "MiB" in answer.json()["error"]


def test_a_learner_is_rate_limited_and_told_how_long_to_wait(site):
    bearer = {"authorization": f"Bearer {site['tokens']['bob']}"}  # bob has 1 upload in this minute; the cap is 3
    answers = [site["clients"]["bob"].post(f"/api/submissions?lesson={LESSON}", content=SOLVED, headers=bearer)
               for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert answers[0].json()["late"] is True


def test_the_dashboard_shows_the_class_table_the_mistakes_with_counts_and_the_distribution(site):
    page = site["clients"]["instructor"].get("/instructor")
    assert page.status_code == 200
    text = page.text
    assert '<table class="class-table">' in text and "7 / 7" in text
    assert "&lt;b&gt;Bob&lt;/b&gt;" in text and "<b>Bob</b>" not in text  # a roster's name is text, never markup
    assert 'class="mistakes-chart"' in text and 'class="distribution"' in text
    # bob's and cy's latest made lesson 07's "same for both": 2 of the 3 students graded
    assert "67% same for both" in text
    assert "numerical_passes_test" in text
    linked = site["clients"]["instructor"].get(
        "/instructor/mistakes", params={"lesson": LESSON, "exercise": "numerical_passes_test",
                                        "mistake": "same for both"})
    assert ">bob</a>" in linked.text and ">cy</a>" in linked.text and ">ada</a>" not in linked.text


def test_the_instructor_sees_a_students_history_their_feedback_and_can_regrade(site):
    instructor = site["clients"]["instructor"]
    history = instructor.get("/instructor/students/cy")
    assert history.text.count("/instructor/submissions/") == 2  # both uploads of cy
    key = history.text.split("/instructor/submissions/")[1].split('"')[0]
    feedback = instructor.get(f"/instructor/submissions/{key}")
    assert "numerical_passes_test" in feedback.text
    regraded = instructor.post(f"/instructor/submissions/{key}/regrade", data={"csrf": csrf_of(feedback.text)})
    assert regraded.status_code == 200
    book = site["app"].site.book
    count = "SELECT COUNT(*), MAX(received_at) FROM submissions WHERE student = 'cy'"
    before = book.db.execute(count).fetchone()
    assert worker.drain(site["config"], MASTERS) >= 1
    after = book.db.execute(count).fetchone()
    assert after[0] == before[0] == 2 and after[1] > before[1]  # graded again: its row replaced, not another added


def test_the_csv_export_and_the_identical_submissions_report(site):
    instructor = site["clients"]["instructor"]
    exported = instructor.get("/instructor/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["student"] for row in rows} >= {"ada", "bob", "cy"}
    assert next(row for row in rows if row["student"] == "ada")["total"] == "7.0"
    dashboard = instructor.get("/instructor").text
    identical = dashboard.split('<ul class="identical">')[1].split("</ul>")[0]
    assert ">bob</a>" in identical and ">cy</a>" in identical  # both handed in the same mistaken notebook


def test_an_upload_that_is_no_notebook_is_recorded_as_not_graded_with_its_reason(site):
    bearer = {"authorization": f"Bearer {site['tokens']['cy']}"}
    sent = site["clients"]["cy"].post(f"/api/submissions?lesson={LESSON}", content=b"\x00not json", headers=bearer)
    worker.drain(site["config"], MASTERS)
    state = site["clients"]["cy"].get(sent.json()["status_url"], headers=bearer).json()
    assert state["state"] == "rejected" and state["reason"]
