"""Who is asking: sessions (a cookie naming a random session id, kept in this process), CSRF tokens, rate limits.

Pages use the session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS). Every form carries a CSRF token:
the session's own (compared in constant time), or, on the sign-in form before any session exists, one
that the form and a cookie must both carry. A new session id is made at each sign-in, so a session id
planted before it is worth nothing. The API that ``coursekit.submit()`` calls takes the token in an
``Authorization: Bearer`` header and sends no cookie, so no other site can make a browser use it (no CSRF).
Sessions live in memory: a restarted server asks everyone to sign in again, which costs them one paste.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from coursekit.server.tokens import Person

SESSION_COOKIE = "coursekit_session"
LOGIN_CSRF_COOKIE = "coursekit_login_csrf"


def cookie_name(name: str, secure: bool) -> str:
    """The name a cookie goes by: behind HTTPS with the ``__Host-`` prefix, which browsers accept only from this very
    host (Secure, Path=/, no Domain). A page on a sibling host (hub.example.org beside course.example.org) could
    otherwise set the session cookie for the whole domain, and sign a learner in as someone else, whose account then
    received the learner's uploads; or set the sign-in form's CSRF cookie to a value it knows."""
    return f"__Host-{name}" if secure else name
MAX_SESSIONS = 100_000  # a bound on memory: past it, the oldest sessions end
# Sessions one person may hold (browsers, machines): past it, their own oldest ends. Signing in with a valid token
# is not rate limited, and without this bound one student's 100,000 sign-ins ended every other session (red team Z).
MAX_SESSIONS_PER_PERSON = 20


@dataclass
class Session:
    """A signed-in person, their CSRF token, when the session ends (monotonic seconds), and the hash of the token
    they signed in with: the session ends with that token (see ``Site.session``)."""

    person: Person
    csrf: str
    expires: float
    token_hash: str = ""


class Sessions:
    """The sessions of this server process, by id."""

    def __init__(self, hours: float):
        self.seconds = hours * 3600
        self._by_id: dict[str, Session] = {}
        self._of: dict[tuple[str, str | None], deque[str]] = {}  # each person's session ids, oldest first
        self._lock = threading.Lock()

    def start(self, person: Person, token_hash: str = "") -> str:
        """A new session for ``person``, who signed in with the token of hash ``token_hash``; its id (the cookie's
        value)."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            theirs = self._of.setdefault((person.role, person.student), deque())
            while len(theirs) >= MAX_SESSIONS_PER_PERSON:  # some may have ended already: those cost nothing
                self._by_id.pop(theirs.popleft(), None)
            if len(self._by_id) >= MAX_SESSIONS:
                self._prune()
            self._by_id[session_id] = Session(person, secrets.token_urlsafe(32), time.monotonic() + self.seconds,
                                              token_hash)
            theirs.append(session_id)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        """The live session of that id, or None."""
        if not session_id:
            return None
        with self._lock:
            session = self._by_id.get(session_id)
            if session is not None and session.expires < time.monotonic():
                del self._by_id[session_id]
                return None
            return session

    def end(self, session_id: str | None) -> None:
        with self._lock:
            self._by_id.pop(session_id or "", None)

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [key for key, session in self._by_id.items() if session.expires < now]:
            del self._by_id[key]
        while len(self._by_id) >= MAX_SESSIONS:  # still full: the oldest go (dicts keep insertion order)
            del self._by_id[next(iter(self._by_id))]


def same_token(given: object, expected: str | None) -> bool:
    """True when a form's CSRF token is the expected one (constant time; any missing one is False)."""
    return isinstance(given, str) and bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


class RateLimit:
    """At most ``count`` events per key in any ``window`` seconds (a ``ByteBudget`` in which each event weighs 1)."""

    def __init__(self, count: int, window: float = 60.0):
        self._budget = ByteBudget(count, window)

    def allow(self, key: str) -> float:
        """Record an event for ``key`` and return 0 when it is allowed; else the seconds until one is (and nothing
        is recorded)."""
        return self._budget.allow(key, 1)

    def wait(self, key: str) -> float:
        """The seconds until an event for ``key`` would be allowed (0: now), recording nothing."""
        return self._budget.wait(key, 1)


class InFlight:
    """At most ``count`` requests per key being received at once (``with in_flight.holding(key):``, which raises
    ``Busy`` past it): a body is held in memory as it arrives, and one that stops arriving is never timed out here."""

    class Busy(Exception):
        pass

    def __init__(self, count: int):
        self.count = count
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def holding(self, key: str) -> Iterator[None]:
        with self._lock:
            if self._held.get(key, 0) >= self.count:
                raise InFlight.Busy(key)
            self._held[key] = self._held.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]


class ByteBudget:
    """At most ``total`` bytes (or any amount) per key in any ``window`` seconds (a sliding window of what each event
    used)."""

    def __init__(self, total: int, window: float = 86400.0):
        self.total, self.window = total, window
        self._used: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, amount: int) -> float:
        """Record ``amount`` bytes for ``key`` and return 0 when they fit; else the seconds until they would (and
        nothing is recorded). An amount larger than the whole budget never fits: the caller refuses it as too large."""
        now = time.monotonic()
        with self._lock:
            if len(self._used) > 100_000:  # forget keys with nothing recent, so that memory stays bounded
                self._used = {k: v for k, v in self._used.items() if v and v[-1][0] > now - self.window}
            used = self._used.setdefault(key, deque())
            wait = self._wait(used, now, amount)
            if not wait:
                used.append((now, amount))
            return wait

    def wait(self, key: str, amount: int) -> float:
        """The seconds until ``amount`` bytes would fit for ``key`` (0: now), recording nothing."""
        now = time.monotonic()
        with self._lock:
            used = self._used.get(key)
            return self._wait(used, now, amount) if used else 0.0

    def _wait(self, used: deque, now: float, amount: int) -> float:
        while used and used[0][0] <= now - self.window:
            used.popleft()
        spent = sum(size for _, size in used)
        if spent + amount <= self.total:
            return 0.0
        freed, wait = spent + amount - self.total, self.window
        for moment, size in used:  # the bytes fit once enough of the oldest have left the window
            freed -= size
            if freed <= 0:
                wait = moment + self.window - now
                break
        return max(wait, 0.001)


def new_login_csrf() -> str:
    """A token for the sign-in form, which the form and a cookie both carry (there is no session yet)."""
    return secrets.token_urlsafe(32)
