"""The server's pages and API in process (Starlette's TestClient): who may see what, the forms' guards, uploads into
the queue, and what the dashboard shows once the queue is graded (``worker.drain``, here in the test's thread); and
the language they speak: the browser's (or the switch's), the client's for the API, the grading's for feedback."""

import csv
import datetime as dt
import io
import urllib.error
import urllib.parse
import warnings

import pytest
from server_helpers import FAST, LESSON, MASTERS, MISTAKEN, ROOT, ROSTER, SOLVED, SOLVED_JA, UNTOUCHED, csrf_of, sign_in
from starlette.requests import Request

from coursekit.server import tokens, worker
from coursekit.server.app import create_app
from coursekit.server.config import ServerConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 now; httpx is what the test extra installs
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def site(tmp_path_factory, sandbox):
    """One server (in process) for the module: ada, bob and cy on the roster, an instructor token, lesson 07's
    deadline in the past (so every upload of it is late); ada uploaded twice (the Japanese edition's solution last),
    bob once, cy twice, all graded."""
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
    ids["ada_ja"] = upload(clients["ada"], SOLVED_JA)  # ada's latest, graded in Japanese: the same 7 / 7
    assert worker.drain(config, MASTERS) == 5
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
    assert listing.count('class="upload graded"') == 2


def test_a_learner_gets_404_for_another_learners_upload_and_403_for_the_dashboard(site):
    ada = site["clients"]["ada"]
    assert ada.get(f"/me/uploads/{site['ids']['bob']}").status_code == 404
    assert ada.get("/me/uploads/999999").status_code == 404  # the same answer as for one that does not exist
    huge = "9" * 23  # past SQLite's integers: it raised OverflowError, a 500 and a traceback in the server's log
    assert ada.get(f"/me/uploads/{huge}").status_code == 404
    for path in ("/instructor", "/instructor/students/bob", "/instructor/export.csv",
                 "/instructor/mistakes?lesson=07_efficiency&exercise=x&mistake=y"):
        assert ada.get(path).status_code == 403, path
    bearer = {"authorization": f"Bearer {site['tokens']['ada']}"}
    assert ada.get(f"/api/submissions/{site['ids']['bob']}", headers=bearer).status_code == 404
    assert ada.get(f"/api/submissions/{huge}", headers=bearer).status_code == 404


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


def test_signing_out_needs_the_pages_csrf_token_and_then_ends_the_session_itself(site):
    client = TestClient(site["app"])
    sign_in(client, site["tokens"]["bob"])
    cookie = client.cookies.get(site["app"].site.session_cookie)
    forged = client.post("/logout", data={"csrf": "forged"})  # another site's form, sent with the cookie
    assert forged.status_code == 200 and 'id="login"' not in client.get("/me").text  # still signed in
    assert client.cookies.get(site["app"].site.session_cookie) == cookie
    page = client.get("/me")
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert 'id="login"' in client.get("/me").text
    replayed = TestClient(site["app"], cookies={site["app"].site.session_cookie: cookie})
    assert 'id="login"' in replayed.get("/me").text  # the session ended on the server, not only in the browser


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


def test_a_learners_uploads_are_capped_in_bytes_a_day_and_they_are_told_when_to_try_again(tmp_path, sandbox):
    """Ten uploads of 16 MiB a minute, each kept (even rejected), added 168 MB a minute to the gradebook."""
    config = ServerConfig(root=ROOT, gradebook=tmp_path / "gradebook.sqlite", grading=FAST, sandbox=sandbox,
                          upload_bytes_per_day=3 * len(SOLVED) + 10)
    app = create_app(config, MASTERS)
    issued = {one.student: one.token for one in tokens.import_roster(app.site.book.db, ROSTER)}
    with TestClient(app) as client:
        def upload_as(student):
            return client.post(f"/api/submissions?lesson={LESSON}", content=SOLVED,
                               headers={"authorization": f"Bearer {issued[student]}"})

        answers = [upload_as("ada").status_code for _ in range(4)]
        refused = upload_as("ada")
        assert answers == [202, 202, 202, 429] and refused.status_code == 429
        assert "24 hours" in refused.json()["error"] and int(refused.headers["retry-after"]) > 3600 * 23
        assert upload_as("bob").status_code == 202  # another learner's budget is their own
    app.site.close()


def test_a_byte_budget_says_when_an_amount_will_fit():
    from coursekit.server.auth import ByteBudget

    budget = ByteBudget(100, window=10.0)
    assert budget.allow("ada", 60) == 0 and budget.allow("ada", 30) == 0
    wait = budget.allow("ada", 50)  # fits once the first 60 have left the window
    assert 9.0 < wait <= 10.0
    assert budget.allow("ada", 10) == 0 and budget.allow("bob", 100) == 0


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


def test_a_students_page_lists_the_newest_submissions_and_says_how_many_there_are(site, monkeypatch):
    # a day of uploads at the rate limit (14,400 rows) made a 3.4 MB page that took 2 s
    from coursekit.server import views

    monkeypatch.setattr(views, "HISTORY_ROWS", 1)
    page = site["clients"]["instructor"].get("/instructor/students/cy").text
    assert page.count("/instructor/submissions/") == 1 and "The newest 1 of 2 submissions are shown." in page


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


# ---------------------------------------------------------------- the server speaks the learner's language
JA_FIRST, EN_FIRST = {"accept-language": "ja,en-US;q=0.9"}, {"accept-language": "en-US,en;q=0.9,ja;q=0.8"}


def test_a_learners_page_is_in_japanese_when_the_browser_asks_for_japanese_first(site):
    ada = site["clients"]["ada"]
    japanese = ada.get("/me", headers=JA_FIRST).text
    assert '<html lang="ja">' in japanese and "あなたの提出物" in japanese and "Your submissions" not in japanese
    assert "7 / 7 点" in japanese and "期限後" in japanese
    assert 'href="/language/en?next=%2Fme"' in japanese  # the switch to the other language
    english = ada.get("/me", headers=EN_FIRST).text
    assert '<html lang="en">' in english and "Your submissions" in english and "あなたの提出物" not in english
    assert 'href="/language/ja?next=%2Fme"' in english


def test_the_language_switch_is_remembered_by_a_cookie_and_goes_back_only_to_this_site(site):
    ada = TestClient(site["app"])
    sign_in(ada, site["tokens"]["ada"])
    switched = ada.get("/language/ja?next=%2Fme", headers=EN_FIRST, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/me"
    assert "あなたの提出物" in ada.get("/me", headers=EN_FIRST).text  # the switch wins over the browser's choice
    assert ada.get("/language/en?next=//evil.example/", follow_redirects=False).headers["location"] == "/"
    assert "Your submissions" in ada.get("/me", headers=JA_FIRST).text


def test_feedback_is_in_the_language_the_submission_was_graded_in_whatever_the_pages(site):
    ada = site["clients"]["ada"]
    graded_in_japanese = ada.get(f"/me/uploads/{site['ids']['ada_ja']}", headers=EN_FIRST).text
    assert "7 / 7 points" in graded_in_japanese  # the page's words: English
    assert '<section class="feedback" lang="ja">' in graded_in_japanese
    assert "numerical_passes_test: 合格" in graded_in_japanese  # the feedback's: Japanese, as graded
    graded_in_english = ada.get(f"/me/uploads/{site['ids']['ada']}", headers=JA_FIRST).text
    assert "7 / 7 点" in graded_in_english and "numerical_passes_test: passed" in graded_in_english


def test_the_apis_refusals_are_in_the_language_the_client_asks_for(site):
    client = TestClient(site["app"])
    bearer = {"authorization": f"Bearer {site['tokens']['ada']}", **JA_FIRST}
    unknown = client.post("/api/submissions?lesson=99_nothing", content=SOLVED, headers=bearer).json()["error"]
    assert unknown.startswith("このコースにレッスン '99_nothing' はありません。")
    assert client.get("/api/me", headers=JA_FIRST).json()["error"].startswith("トークンを")
    too_big = b"x" * (site["config"].max_upload_bytes + 70_000)
    refused = client.post(f"/api/submissions?lesson={LESSON}", content=too_big, headers=bearer)
    assert refused.status_code == 413 and "MiB を超えています" in refused.json()["error"]
    assert "no lesson '99_nothing'" in client.post("/api/submissions?lesson=99_nothing", content=SOLVED, headers={
        "authorization": bearer["authorization"]}).json()["error"]  # no Accept-Language: English


def test_the_dashboard_is_in_japanese_and_names_the_mistakes_in_japanese_keeping_their_english_key(site):
    from coursekit import i18n

    page = site["clients"]["instructor"].get("/instructor", headers=JA_FIRST).text
    assert '<html lang="ja">' in page and "<h1>クラス</h1>" in page and "学習者・レッスンごとの最新の点数" in page
    same_for_both = i18n.translate("same for both", "ja")
    assert same_for_both != "same for both" and f"% {same_for_both}<" in page  # the chart's label (share: by now)
    assert "mistake=same+for+both" in page  # the link keeps the gradebook's key
    student = site["clients"]["instructor"].get("/instructor/students/cy", headers=JA_FIRST).text
    assert "cy: すべての提出物" in student and "採点済み" in student


class _Answer:
    """What urllib's urlopen returns, made from a TestClient's response."""

    def __init__(self, response):
        self.status, self._body = response.status_code, response.content

    def read(self, _limit=-1):
        return self._body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _urlopen_through(client, sent_headers: list, grade):
    """A stand-in for urllib.request.urlopen that sends course_server's requests to the in-process app (no socket),
    records their headers, and grades the queue (``grade()``) once an upload is posted."""
    def urlopen(call, timeout):
        parts = urllib.parse.urlsplit(call.full_url)
        sent_headers.append({name.lower(): value for name, value in call.header_items()})
        response = client.request(call.get_method(), parts.path + (f"?{parts.query}" if parts.query else ""),
                                  content=call.data, headers=dict(call.header_items()))
        if response.status_code >= 400:
            raise urllib.error.HTTPError(call.full_url, response.status_code, response.reason_phrase, None,
                                         io.BytesIO(response.content))
        if call.get_method() == "POST":
            grade()
        return _Answer(response)
    return urlopen


def test_submit_in_a_japanese_notebook_sends_japanese_and_shows_the_servers_answer_in_japanese(site, tmp_path,
                                                                                                monkeypatch, capsys):
    from coursekit import i18n
    from coursekit.grading import course_server, learner_submit

    sent_headers = []
    client = TestClient(site["app"])  # no cookie: the language is the request's Accept-Language
    monkeypatch.setattr(course_server.urllib.request, "urlopen", _urlopen_through(
        client, sent_headers, lambda: worker.drain(site["config"], MASTERS)))
    monkeypatch.setattr(course_server, "saved_login",
                        lambda: course_server.Login("http://testserver", site["tokens"]["ada"], "ada"))
    notebook = tmp_path / f"{LESSON}.ipynb"
    notebook.write_bytes(SOLVED_JA)
    with i18n.speaking("ja"):
        learner_submit.submit(str(notebook))  # plain Python: prints what the notebook shows
        with pytest.raises(course_server.ServerProblem, match="コースサーバーが受け付けませんでした: トークンを"):
            course_server.request(course_server.Login("http://testserver", "not-a-token"), "GET", "/api/me")
    shown = capsys.readouterr().out
    assert f"{LESSON} を http://testserver に送信しています" in shown
    assert f"{LESSON}: 7 / 7 点 (期限後: レッスンの締め切りを過ぎています)。http://testserver で採点しました。" in shown
    assert "numerical_passes_test: 合格" in shown  # the feedback: graded in the notebook's language
    assert {headers["accept-language"] for headers in sent_headers} == {"ja"}


def test_a_reissued_token_signs_out_whoever_signed_in_with_the_old_one(tmp_path, sandbox):
    """Reissuing is the README's answer to a lost or stolen token: the API refused the old one, but a session opened
    with it went on for its 12 hours, the instructor's (dashboard, regrade, CSV) too."""
    config = ServerConfig(root=ROOT, gradebook=tmp_path / "gradebook.sqlite", grading=FAST, sandbox=sandbox)
    app = create_app(config, MASTERS)
    db = app.site.book.db
    issued = {one.student: one.token for one in tokens.import_roster(db, ROSTER)}
    with TestClient(app) as thief, TestClient(app) as staff_thief, TestClient(app) as ada:
        sign_in(thief, issued["bob"])
        sign_in(staff_thief, tokens.issue_instructor_token(db))
        sign_in(ada, issued["ada"])
        assert "bob" in thief.get("/me").text and staff_thief.get("/instructor").status_code == 200
        tokens.reissue(db, "bob")
        tokens.issue_instructor_token(db)
        assert "Signed in as bob" not in thief.get("/me").text
        assert staff_thief.get("/instructor", follow_redirects=False).status_code in (303, 403)
        assert "ada" in ada.get("/me").text  # another's session goes on
    app.site.close()


def test_behind_https_the_cookies_are_host_only_and_one_a_sibling_host_sets_is_ignored(tmp_path, sandbox):
    """A page on a sibling host (the course's JupyterHub) could set a cookie for the whole domain: the attacker's own
    session id, so that the victim's uploads went to the attacker. Behind HTTPS the cookies carry the __Host- prefix,
    which browsers accept only from this host itself, and a cookie of the plain name is not read."""
    config = ServerConfig(root=ROOT, gradebook=tmp_path / "gradebook.sqlite", grading=FAST, sandbox=sandbox,
                          public_url="https://course.example.org")
    app = create_app(config, MASTERS)
    issued = {one.student: one.token for one in tokens.import_roster(app.site.book.db, ROSTER)}
    with TestClient(app, base_url="https://testserver") as eve, TestClient(app, base_url="https://testserver") as ada:
        signed_in = sign_in(eve, issued["bob"])
        assert signed_in.status_code == 200 and "__Host-coursekit_session" in eve.cookies
        sign_in(ada, issued["ada"])
        ada.cookies.set("coursekit_session", eve.cookies["__Host-coursekit_session"], domain="testserver")  # tossed
        assert "ada" in ada.get("/me").text and "bob" not in ada.get("/me").text
    app.site.close()


def test_a_learner_may_have_two_uploads_arriving_at_once_and_a_third_is_refused_at_once():
    """A body is held in memory as it arrives and is never timed out here: forty uploads of one student that stopped
    one byte short of their length held 720 MB of the server's memory."""
    from coursekit.server.auth import InFlight

    receiving = InFlight(2)
    with receiving.holding("eve"), receiving.holding("eve"):
        with pytest.raises(InFlight.Busy), receiving.holding("eve"):
            pass
        with receiving.holding("ada"):  # another learner's are their own
            pass
    with receiving.holding("eve"):  # received (or failed): counted no more
        pass


def test_who_signed_in_is_known_while_an_upload_waits_on_the_gradebook(site):
    # an upload waiting up to 30 s for the workers' writes held the lock that every page's sign-in check took
    bearer = {"authorization": f"Bearer {site['tokens']['ada']}"}
    with site["app"].site.lock:  # as an upload holds it: a page that reads the gradebook waits, in a thread
        answer = site["clients"]["ada"].get("/api/me", headers=bearer)
        name = site["app"].site.session_cookie
        cookie = f"{name}={site['clients']['ada'].cookies[name]}".encode()
        session = site["app"].site.session(Request({"type": "http", "headers": [(b"cookie", cookie)]}))
    assert answer.status_code == 200 and answer.json()["student"] == "ada"
    assert session is not None and session.person.student == "ada"  # the cookie's session, looked up meanwhile


def test_only_failed_sign_ins_count_toward_an_addresss_limit(tmp_path, sandbox):
    # a class behind one address (a campus NAT) signing in at once was refused after its limit of sign-ins
    config = ServerConfig(root=ROOT, gradebook=tmp_path / "gradebook.sqlite", grading=FAST, sandbox=sandbox,
                          logins_per_minute=3)
    app = create_app(config, MASTERS)
    issued = {one.student: one.token for one in tokens.import_roster(app.site.book.db, ROSTER)}

    def signed_in(token: str) -> int:  # a browser of its own each time, all from one address ("testclient")
        return sign_in(TestClient(app), token).status_code

    assert [signed_in(token) for token in [*issued.values()] * 2] == [200] * 6  # six, past the limit of 3
    assert [signed_in("not a token") for _ in range(3)] == [403] * 3
    assert signed_in(issued["ada"]) == 429  # three failures: the address waits a minute


def test_one_person_signing_in_again_and_again_ends_only_their_own_oldest_sessions():
    # red team Z: signing in with a valid token is not rate limited, and 100,000 sign-ins of one student would have
    # ended every other session (the oldest go past MAX_SESSIONS)
    from coursekit.server.auth import MAX_SESSIONS_PER_PERSON, Sessions
    from coursekit.server.tokens import Person

    sessions = Sessions(hours=1)
    ada = sessions.start(Person("student", "ada"))
    bobs = [sessions.start(Person("student", "bob")) for _ in range(MAX_SESSIONS_PER_PERSON + 5)]
    assert sessions.get(ada) is not None
    assert [sessions.get(one) is not None for one in bobs] == [False] * 5 + [True] * MAX_SESSIONS_PER_PERSON
