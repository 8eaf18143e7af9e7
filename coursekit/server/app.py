"""The Starlette application: the learner's pages and API, the instructor's dashboard, over one gradebook.

The web process holds one connection to the gradebook, used by one thread at a time (a lock), from
Starlette's thread pool so that no query holds up the event loop. It never grades: uploads go to the
queue (``queue.enqueue``), and workers (``worker``) grade them. Every request is answered in its language
(``language.Speaking``: the switch's cookie, else Accept-Language).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from coursekit import i18n
from coursekit.grading.gradebook import Gradebook
from coursekit.grading.master import load_masters
from coursekit.server import auth, language, messages
from coursekit.server.config import ServerConfig
from coursekit.server.guards import Guards, TooLarge
from coursekit.server.slow_clients import TooSlow
from coursekit.server.tokens import who_has, who_has_hashed
from coursekit.server.views import mistake_words

TEMPLATES = Path(__file__).parent / "templates"
STYLE = (TEMPLATES / "style.css").read_text(encoding="utf-8")


UPLOADS_IN_FLIGHT = 2  # a student's uploads being received at once (40 slow ones held 720 MB of memory)


class Site:
    """What every request handler needs: settings, the gradebook, sessions, limits, templates."""

    def __init__(self, config: ServerConfig, masters: dict | None = None):
        self.config = config
        self.lessons = sorted(masters if masters is not None else load_masters(config.solutions))
        self.book = Gradebook(config.gradebook, shared=True, timeout=30)
        self.book.db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the workers' writes
        self.lock = threading.Lock()
        # Whose a cookie or token is, asked on the event loop for every request: on a connection of its own, for
        # reads only, never behind ``lock``, which an upload holds while it waits for the workers' writes (a red
        # team's slow claims held it 30 s, and every signed-in page with it).
        self.identity = sqlite3.connect(config.gradebook, timeout=5, check_same_thread=False)
        self.identity_lock = threading.Lock()
        self.sessions = auth.Sessions(config.session_hours)
        self.uploads = auth.RateLimit(config.submissions_per_minute)
        self.upload_bytes = auth.ByteBudget(config.upload_bytes_per_day)
        self.receiving = auth.InFlight(UPLOADS_IN_FLIGHT)
        self.logins = auth.RateLimit(config.logins_per_minute)
        self.templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                                     trim_blocks=True, lstrip_blocks=True)
        self.templates.globals.update(m=messages, url=config.url, utc=dt.UTC, mistake_words=mistake_words)

    async def read(self, function, *args):
        """``function(db, *args)`` on the gradebook's connection, in the thread pool, one at a time."""
        return await run_in_threadpool(self._locked, function, *args)

    def _locked(self, function, *args):
        with self.lock:
            return function(self.book.db, *args)

    async def with_book(self, function, *args):
        """``function(book, *args)`` with the Gradebook object (exports, feedback), as ``read``."""
        def call(_db):
            return function(self.book, *args)
        return await self.read(call)

    def render(self, request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        """``template`` rendered with ``context``, in the request's language (``language.Speaking`` chose it)."""
        session = self.session(request)
        html = self.templates.get_template(template).render(
            session=session, path=request.url.path, lang=i18n.current(), switches=language.switch_links(request),
            **context)
        return HTMLResponse(html, status_code=status)

    @property
    def session_cookie(self) -> str:
        return auth.cookie_name(auth.SESSION_COOKIE, self.config.secure_cookies)

    @property
    def login_csrf_cookie(self) -> str:
        return auth.cookie_name(auth.LOGIN_CSRF_COOKIE, self.config.secure_cookies)

    def session(self, request: Request) -> auth.Session | None:
        """The request's live session, or None. A session ends with the token it was opened with: reissuing a token
        (the README's answer to a lost or stolen one) also signs out whoever signed in with the old one. Looked up
        once per request (a handler and the page it renders both ask)."""
        if not hasattr(request.state, "session"):
            request.state.session = self._live_session(request.cookies.get(self.session_cookie))
        return request.state.session

    def _live_session(self, session_id: str | None) -> auth.Session | None:
        session = self.sessions.get(session_id)
        if session is None:
            return None
        with self.identity_lock:
            person = who_has_hashed(self.identity, session.token_hash)
        if person != session.person:
            self.sessions.end(session_id)
            return None
        return session

    def person_of_bearer(self, request: Request):
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with self.identity_lock:
            return who_has(self.identity, token.strip())

    def close(self) -> None:
        self.identity.close()
        self.book.close()


def refusal(site: Site, request: Request, status: int, message: str | i18n.Message) -> Response:
    """A refusal in the asker's terms (and language): JSON for the API, a page for a browser."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": str(message)}, status_code=status)
    return site.render(request, "message.html", status=status, message=message)


def create_app(config: ServerConfig, masters: dict | None = None) -> Starlette:
    """The application for ``config`` (``masters``: the lessons' masters, when the caller has them loaded)."""
    from coursekit.server import instructor, learner

    site = Site(config, masters)

    async def too_large(request: Request, _error: Exception) -> Response:
        text = messages.TOO_LARGE.format(limit=config.max_upload_bytes // (1024 * 1024))
        return refusal(site, request, 413, text)

    async def too_slow(request: Request, _error: Exception) -> Response:
        return refusal(site, request, 408, messages.TOO_SLOW)

    async def style(_request: Request) -> Response:
        return PlainTextResponse(STYLE, media_type="text/css", headers={"cache-control": "max-age=3600"})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        site.close()

    async def switch_language(request: Request) -> Response:
        return language.switch(request, secure=config.secure_cookies)

    routes = [Route("/style.css", style), Route("/language/{code}", switch_language), *learner.routes(site),
              *instructor.routes(site)]
    app = Starlette(routes=routes, exception_handlers={TooLarge: too_large, TooSlow: too_slow}, lifespan=lifespan)
    # outermost, so that the guards' own refusals speak the request's language too
    guarded = language.Speaking(Guards(app, config.max_upload_bytes))
    guarded.site = site  # for the tests and the runner
    return guarded
