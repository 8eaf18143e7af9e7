"""The instructor's dashboard: the class table, pass rates, the score distribution, the mistakes the class made
(each linked to the submissions that made it), one student's history and feedback, regrade, the CSV export, and
the identical notebooks from different students. Only a session signed in with the instructor's token gets
here; a student gets 403.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from coursekit.server import auth, charts, messages, queue, views
from coursekit.server.app import Site, refusal
from coursekit.server.learner import show_upload


def _instructor(site: Site, request: Request) -> tuple[auth.Session | None, Response | None]:
    """The instructor's session, or the response that refuses everyone else (sign in first; 403 for a student)."""
    session = site.session(request)
    if session is None:
        return None, RedirectResponse("/", status_code=303)
    if not session.person.is_instructor:
        return None, refusal(site, request, 403, messages.INSTRUCTOR_ONLY)
    return session, None


def _csv(book) -> bytes:
    with tempfile.TemporaryDirectory(prefix="coursekit-export-") as folder:
        return book.export_csv(Path(folder) / "gradebook.csv").read_bytes()


def routes(site: Site) -> list[Route]:
    """The instructor's routes."""

    async def dashboard(request: Request) -> Response:
        _, refused = _instructor(site, request)
        if refused:
            return refused
        view = await site.read(views.class_view, site.lessons)
        identical = await site.with_book(lambda book: book.identical_submissions())
        return site.render(request, "dashboard.html", view=view, identical=identical,
                           distribution=charts.distribution_svg(view.distribution),
                           mistakes_chart=charts.mistakes_svg(view.mistakes) if view.mistakes else None)

    async def student(request: Request) -> Response:
        _, refused = _instructor(site, request)
        if refused:
            return refused
        who = request.path_params["student"]
        uploads, total = await site.read(views.history, who)
        pending = [one for one in await site.read(views.my_uploads, who) if one.state in (queue.QUEUED, queue.GRADING)]
        return site.render(request, "student.html", student=who, uploads=uploads, total=total, pending=pending)

    async def submission(request: Request) -> Response:
        _, refused = _instructor(site, request)
        if refused:
            return refused
        key = request.path_params["key"]
        rows = await site.read(views.history_row, key)
        if rows is None:
            return refusal(site, request, 404, messages.NOT_YOURS)
        return await show_upload(site, request, rows, instructor=True)

    async def regrade(request: Request) -> Response:
        session, refused = _instructor(site, request)
        if refused:
            return refused
        form = await request.form(max_files=0, max_fields=10)
        if not auth.same_token(form.get("csrf"), session.csrf):
            return refusal(site, request, 403, messages.BAD_CSRF)
        queue_id = await site.read(queue.enqueue_regrade, request.path_params["key"])
        if queue_id is None:
            return refusal(site, request, 404, messages.NOT_YOURS)
        return site.render(request, "message.html", message=messages.REGRADE_QUEUED)

    async def mistake(request: Request) -> Response:
        _, refused = _instructor(site, request)
        if refused:
            return refused
        lesson, grade_id, name = (request.query_params.get(key, "")[:200] for key in ("lesson", "exercise", "mistake"))
        uploads = await site.read(views.with_mistake, lesson, grade_id, name)
        return site.render(request, "mistake.html", lesson=lesson, grade_id=grade_id, mistake=name, uploads=uploads)

    async def export(request: Request) -> Response:
        _, refused = _instructor(site, request)
        if refused:
            return refused
        data = await site.with_book(_csv)
        return Response(data, media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="gradebook.csv"'})

    return [
        Route("/instructor", dashboard),
        Route("/instructor/students/{student}", student),
        Route("/instructor/submissions/{key}", submission),
        Route("/instructor/submissions/{key}/regrade", regrade, methods=["POST"]),
        Route("/instructor/mistakes", mistake),
        Route("/instructor/export.csv", export),
    ]
