"""The learner's side: signing in and out, their uploads page, one upload's feedback, and the API of ``submit()``.
Pages and the API's sentences are in the request's language (see ``language``); feedback is in the language the
submission was graded in.

A learner reaches only their own uploads: every query takes the signed-in student's id, and an upload of
anyone else answers 404, as one that does not exist does (so ids cannot be probed).
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from coursekit.grading import exports, feedback_page
from coursekit.i18n import Message
from coursekit.server import auth, messages, queue, views
from coursekit.server.app import Site, refusal
from coursekit.server.tokens import hash_token, who_has

MAX_FIELD_BYTES = 4096  # a form's fields other than the file (lesson, CSRF token, sign-in token)


class Refused(Exception):
    """A request that cannot be served as asked: its status and the sentence that says why."""

    def __init__(self, status: int, message: str | Message, retry_after: float | None = None):
        super().__init__(str(message))
        self.status, self.message, self.retry_after = status, str(message), retry_after


def feedback_html(book, key: str) -> str:
    """The feedback of one graded submission as HTML: the Markdown of ``feedback_page`` rendered as its pages are
    (raw HTML and links off), so whatever the student wrote is shown as text. It is in the language the
    submission was graded in (the gradebook's record), whatever the page's."""
    return feedback_page.html_body(exports.feedback(book, key, "md"))


def feedback_of(book, key: str) -> tuple[str, str]:
    """(``feedback_html``, the language it is written in) of one graded submission, for a page."""
    return feedback_html(book, key), book.language(key)


async def accept_upload(site: Site, student: str, lesson: str, raw: bytes) -> tuple[int, bool]:
    """Check an upload and put it in the queue (one transaction); (queue id, late). Refused when it cannot be."""
    if lesson not in site.lessons:
        raise Refused(400, messages.UNKNOWN_LESSON.format(lesson=lesson[:100], lessons=", ".join(site.lessons)))
    if not raw:
        raise Refused(400, messages.EMPTY_UPLOAD)
    if len(raw) > site.config.max_upload_bytes:
        raise Refused(413, messages.TOO_LARGE.format(limit=site.config.max_upload_bytes // (1024 * 1024)))
    wait = site.uploads.allow(student)
    if wait:
        raise Refused(429, messages.RATE_LIMITED.format(count=site.config.submissions_per_minute,
                                                        seconds=int(wait) + 1), retry_after=wait)
    wait = site.upload_bytes.allow(student, len(raw))
    if wait:
        raise Refused(429, messages.BYTES_LIMITED.format(limit=site.config.upload_bytes_per_day // (1024 * 1024),
                                                         hours=int(wait // 3600) + 1), retry_after=wait)
    received = dt.datetime.now(dt.UTC)
    late = site.config.is_late(lesson, received)
    # The name the intake reads: the signed-in student's, whatever a manifest inside says (the worker uses theirs).
    name = f"{lesson}--{student}" + (".submission.zip" if raw[:2] == b"PK" else ".ipynb")
    try:
        queue_id = await site.read(queue.enqueue, student, lesson, name, raw, received, late)
    except queue.TooManyWaiting:
        raise Refused(429, messages.TOO_MANY_WAITING.format(count=queue.WAITING_PER_STUDENT), retry_after=60) \
            from None
    return queue_id, late


async def show_upload(site: Site, request: Request, found: views.Upload, **context) -> Response:
    """The page of one upload: its state, and once graded its score and feedback."""
    feedback = ahead = feedback_lang = None
    if found.state == "graded" and found.key:
        feedback, feedback_lang = await site.with_book(feedback_of, found.key)
    elif found.state in (queue.QUEUED, queue.GRADING):
        ahead = await site.read(queue.ahead_of, found.id)
    return site.render(request, "upload.html", upload=found, feedback=feedback, feedback_lang=feedback_lang,
                       ahead=ahead, **context)


def _student_session(site: Site, request: Request) -> auth.Session | None:
    session = site.session(request)
    return session if session is not None and not session.person.is_instructor else None


def _form_text(form, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD_BYTES] if isinstance(value, str) else ""


def routes(site: Site) -> list[Route]:
    """The learner's routes."""

    async def home(request: Request) -> Response:
        session = site.session(request)
        if session is not None:
            return RedirectResponse("/instructor" if session.person.is_instructor else "/me", status_code=303)
        return _login_page(request)

    def _login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
        token = auth.new_login_csrf()
        response = site.render(request, "login.html", status=status, csrf=token, error=error)
        response.set_cookie(site.login_csrf_cookie, token, httponly=True, samesite="strict",
                            secure=site.config.secure_cookies, max_age=3600)
        return response

    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        if not auth.same_token(_form_text(form, "csrf"), request.cookies.get(site.login_csrf_cookie)):
            return _login_page(request, 403, messages.BAD_CSRF)
        client = request.client.host if request.client else "?"
        # Failed sign-ins only are counted: a class behind one address (a campus NAT) signs in at once, and was
        # refused after its 20th student.
        if site.logins.wait(client):
            return _login_page(request, 429, messages.TOO_MANY_LOGINS)
        token = _form_text(form, "token").strip()
        person = await site.read(who_has, token)
        if person is None:
            site.logins.allow(client)
            return _login_page(request, 403, messages.BAD_TOKEN)
        site.sessions.end(request.cookies.get(site.session_cookie))  # a new id at each sign-in
        session_id = site.sessions.start(person, hash_token(token))
        response = RedirectResponse("/instructor" if person.is_instructor else "/me", status_code=303)
        response.set_cookie(site.session_cookie, session_id, httponly=True, samesite="lax",
                            secure=site.config.secure_cookies, max_age=int(site.sessions.seconds))
        response.delete_cookie(site.login_csrf_cookie, secure=site.config.secure_cookies)
        return response

    async def logout(request: Request) -> Response:
        session = site.session(request)
        form = await request.form(max_files=0, max_fields=10)
        if session is not None:
            if not auth.same_token(_form_text(form, "csrf"), session.csrf):  # another site's form: nothing changes
                return RedirectResponse("/", status_code=303)
            site.sessions.end(request.cookies.get(site.session_cookie))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(site.session_cookie, secure=site.config.secure_cookies)
        return response

    async def my_page(request: Request) -> Response:
        session = site.session(request)
        if session is None:
            return RedirectResponse("/", status_code=303)
        if session.person.is_instructor:
            return RedirectResponse("/instructor", status_code=303)
        uploads = await site.read(views.my_uploads, session.person.student)
        deadlines = {lesson: site.config.deadline(lesson) for lesson in site.lessons}
        return site.render(request, "me.html", uploads=uploads, lessons=site.lessons, deadlines=deadlines)

    async def upload_page(request: Request) -> Response:
        session = _student_session(site, request)
        if session is None:
            return refusal(site, request, 403, messages.NOT_SIGNED_IN)
        try:
            with site.receiving.holding(session.person.student):
                form = await request.form(max_files=1, max_fields=10)
                if not auth.same_token(_form_text(form, "csrf"), session.csrf):
                    return refusal(site, request, 403, messages.BAD_CSRF)
                upload = form.get("notebook")
                if upload is None or isinstance(upload, str):
                    return refusal(site, request, 400, messages.NO_FILE)
                raw = await upload.read(site.config.max_upload_bytes + 1)
        except auth.InFlight.Busy:
            return refusal(site, request, 429, messages.UPLOAD_IN_FLIGHT)
        try:
            queue_id, _ = await accept_upload(site, session.person.student, _form_text(form, "lesson"), raw)
        except Refused as refused:
            return refusal(site, request, refused.status, refused.message)
        return RedirectResponse(f"/me/uploads/{queue_id}", status_code=303)

    async def upload_view(request: Request) -> Response:
        session = _student_session(site, request)
        if session is None:
            return RedirectResponse("/", status_code=303) if site.session(request) is None else \
                refusal(site, request, 404, messages.NOT_YOURS)
        found = await site.read(views.upload, request.path_params["queue_id"], session.person.student)
        if found is None:
            return refusal(site, request, 404, messages.NOT_YOURS)
        return await show_upload(site, request, found)

    # ---------------------------------------------------------------- the API (bearer token, JSON)
    async def api_me(request: Request) -> Response:
        person = site.person_of_bearer(request)
        if person is None:
            return JSONResponse({"error": str(messages.API_TOKEN)}, status_code=401)
        return JSONResponse({"role": person.role, "student": person.student, "lessons": site.lessons})

    async def api_submit(request: Request) -> Response:
        person = site.person_of_bearer(request)
        if person is None or person.is_instructor:
            return JSONResponse({"error": str(messages.API_TOKEN)}, status_code=401)
        try:
            with site.receiving.holding(person.student):
                raw = await request.body()
        except auth.InFlight.Busy:
            return JSONResponse({"error": str(messages.UPLOAD_IN_FLIGHT)}, status_code=429,
                                headers={"retry-after": "5"})
        try:
            queue_id, late = await accept_upload(site, person.student, request.query_params.get("lesson", ""), raw)
        except Refused as refused:
            headers = {"retry-after": str(int(refused.retry_after) + 1)} if refused.retry_after else None
            return JSONResponse({"error": refused.message}, status_code=refused.status, headers=headers)
        return JSONResponse({"id": queue_id, "late": late, "state": queue.QUEUED, "message": str(messages.QUEUED),
                             "status_url": f"/api/submissions/{queue_id}", "page": f"/me/uploads/{queue_id}"},
                            status_code=202)

    async def api_upload(request: Request) -> Response:
        person = site.person_of_bearer(request)
        if person is None or person.is_instructor:
            return JSONResponse({"error": str(messages.API_TOKEN)}, status_code=401)
        found = await site.read(views.upload, request.path_params["queue_id"], person.student)
        if found is None:
            return JSONResponse({"error": str(messages.NOT_YOURS)}, status_code=404)
        answer = {"id": found.id, "lesson": found.lesson, "state": found.state, "late": found.late,
                  "received_at": found.received_at, "points": found.points, "max_points": found.max_points,
                  "reason": found.reason}
        if found.state == "graded" and found.key:
            def details(book):
                return (book.results(found.key), exports.feedback(book, found.key, "md"),
                        feedback_html(book, found.key))
            results, markdown, html = await site.with_book(details)
            answer.update(tests=[{"name": grade_id, "status": status, "points": points, "max_points": full}
                                 for grade_id, status, points, full, _ in results],
                          feedback_markdown=markdown, feedback_html=html)
        elif found.state in (queue.QUEUED, queue.GRADING):
            answer["ahead"] = await site.read(queue.ahead_of, found.id)
        return JSONResponse(answer)

    return [
        Route("/", home),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/me", my_page),
        Route("/me/uploads", upload_page, methods=["POST"]),
        Route("/me/uploads/{queue_id:int}", upload_view),
        Route("/api/me", api_me),
        Route("/api/submissions", api_submit, methods=["POST"]),
        Route("/api/submissions/{queue_id:int}", api_upload),
    ]
