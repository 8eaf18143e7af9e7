"""What every request and response gets: a cap on the request's body and a deadline for it, and headers that keep
pages to themselves.

The cap is checked on the declared length first (a 413 before a byte is read) and again on the bytes
as they arrive (a client may declare nothing, or lie), so no upload past it is ever held in memory. A
body that has not arrived whole by its deadline is refused (408, see ``slow_clients``).
"""

from __future__ import annotations

import json

from coursekit.server import messages
from coursekit.server.slow_clients import TooSlow, receive_by_deadline

# No script anywhere; styles and images from this server only; forms post here; no framing by other sites.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"), (b"cache-control", b"no-store")]


class TooLarge(Exception):
    """The request's body went past the cap."""


class Guards:
    """ASGI middleware: the body cap (``limit`` bytes, plus room for a form's other fields) and the headers."""

    FORM_ROOM = 64 * 1024  # a multipart form's boundaries, lesson and CSRF token around the file

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit + self.FORM_ROOM

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                       *(header for header in HEADERS if header[0] not in names)]
            await send(message)

        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, send_with_headers)
            return
        received = 0

        receive_in_time = receive_by_deadline(receive)

        async def counted_receive():
            nonlocal received
            message = await receive_in_time()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise TooLarge
            return message

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except TooLarge:
            if not started:
                await self._refuse(scope, send_with_headers)
        except TooSlow:
            if not started:
                await self._refuse(scope, send_with_headers, 408, str(messages.TOO_SLOW))

    async def _refuse(self, scope, send, status: int = 413, text: str | None = None):
        text = text or messages.TOO_LARGE.format(limit=(self.limit - self.FORM_ROOM) // (1024 * 1024))
        if scope["path"].startswith("/api/"):
            body, kind = json.dumps({"error": text}).encode(), b"application/json"
        else:
            body, kind = text.encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
