"""The language a request is answered in: the one chosen with the pages' language switch (a cookie), else the
first the client asks for in ``Accept-Language`` that coursekit speaks (a browser's; ``coursekit.submit()`` sends
the notebook's), else English.

``Speaking`` wraps the whole application, so that everything a request makes (a page rendered by Jinja2, an API
answer, a refusal of the guards) is said inside ``i18n.speaking(...)`` of its language: the catalogue messages of
``messages`` are translated as they are used. Feedback on a graded submission is the exception: it is in the
language the submission was graded in (``exports.feedback`` speaks the one the gradebook recorded).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request, cookie_parser
from starlette.responses import RedirectResponse, Response

from coursekit import i18n

COOKIE = "coursekit_lang"
COOKIE_SECONDS = 365 * 24 * 3600
# Each language named in itself, for the switch (a reader who cannot read the page's language can read their own).
NAMES = {"en": "English", "ja": "日本語"}
_MAX_HEADER = 1000  # characters of Accept-Language looked at (a browser sends a few dozen)


def from_accept_language(header: str | None) -> str | None:
    """The language coursekit speaks that ``header`` (an ``Accept-Language`` value) prefers most, or None.

    Ranked by quality (``q``, 1 when absent), then by order; a range with q=0, an unknown one and ``*`` are passed
    over; a malformed part is ignored, never an error (the header is the client's)."""
    ranked = []
    for order, part in enumerate((header or "")[:_MAX_HEADER].split(",")):
        tag, *parameters = part.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        code = tag.strip().split("-")[0].split("_")[0].lower()
        if code in i18n.LANGUAGES and 0 < quality <= 1:  # also false for a NaN
            ranked.append((-quality, order, code))
    return min(ranked)[2] if ranked else None


def of_request(headers: dict[bytes, bytes]) -> str:
    """The language to answer a request with ``headers`` in (see the module's docstring)."""
    cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
    chosen = cookies.get(COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    return from_accept_language(headers.get(b"accept-language", b"").decode("latin-1")) or i18n.DEFAULT


class Speaking:
    """ASGI middleware: the request handled in its language (``i18n.speaking``); responses vary by what chose it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_varied(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"vary", b"accept-language, cookie")]
            await send(message)

        with i18n.speaking(of_request(dict(scope.get("headers", [])))):
            await self.app(scope, receive, send_varied)


def local_path(target: str | None) -> str:
    """``target`` when it is a path of this site (to go back to after the switch), else "/": never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or any(
            ord(character) < 32 for character in target):
        return "/"
    return target


def here(request: Request) -> str:
    """The address of a page to come back to after switching: this one, unless it answered a form (a POST)."""
    if request.method != "GET":
        return "/"
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def switch_links(request: Request) -> list[tuple[str, str, str]]:
    """(language, its name, the link that switches to it) for every language but the request's."""
    back = quote(here(request), safe="")
    return [(code, NAMES[code], f"/language/{code}?next={back}") for code in i18n.LANGUAGES if code != i18n.current()]


def switch(request: Request, secure: bool) -> Response:
    """``GET /language/{code}?next=PATH``: remember ``code`` in a cookie and go back to ``next`` (a path here)."""
    code = request.path_params["code"]
    response = RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_SECONDS, httponly=True, samesite="lax", secure=secure)
    return response
