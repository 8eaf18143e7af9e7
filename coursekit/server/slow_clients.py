"""Deadlines for slow clients: a request's headers, and then its body, must arrive in time.

uvicorn waits for a request's headers without end, and so for its body: a red team opened connections that sent
``GET / HTTP/1.1`` and one header, then nothing, and without signing in held every file descriptor the server had
(20,000) until it accepted no one, signed-in learners included. Here a connection that has not sent its headers
within ``HEADERS_SECONDS`` is closed, and a body not received within ``BODY_SECONDS`` is refused (408). A reverse
proxy in front (see the README) has deadlines of its own; these hold without one.
"""

from __future__ import annotations

import asyncio
import resource

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_SECONDS = 10.0
BODY_SECONDS = 120.0  # the largest upload allowed (16 MiB) at 140 kB/s, a slow line
CONNECTIONS = 1_000  # at once, beyond which uvicorn answers 503 (each costs a file descriptor)


class HeadersDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request's headers (from the connection, or from the
    first byte of a request after a response: an idle kept-alive connection is uvicorn's own 5 s)."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_headers():
            self._arm()  # a deadline already set stays as it is: trickled bytes do not extend it
        else:
            self._disarm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(HEADERS_SECONDS, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self._awaiting_headers():
            self.transport.close()


class TooSlow(Exception):
    """The request's body did not arrive by its deadline."""


def receive_by_deadline(receive, seconds: float | None = None):
    """``receive`` (ASGI) that raises TooSlow once the body is not whole ``seconds`` (default ``BODY_SECONDS``) after
    the request came; past the body (a wait for the client to go), as it is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (BODY_SECONDS if seconds is None else seconds)
    whole = False

    async def timed():
        nonlocal whole
        if whole:
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
        except TimeoutError as late:
            raise TooSlow from late
        whole = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return timed


def more_descriptors() -> int:
    """The soft limit on open files raised to the hard one (a connection holds one); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft
