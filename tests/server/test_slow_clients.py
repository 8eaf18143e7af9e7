"""Slow clients over real sockets: a connection that never finishes its headers is closed by its deadline, a body
trickled past its deadline is refused, and neither keeps a signed-in learner from being served."""

import socket
import time

import pytest
from server_helpers import ROSTER, ServerThread

from coursekit.grading.gradebook import Gradebook
from coursekit.server import slow_clients, tokens

pytestmark = pytest.mark.slow


@pytest.fixture
def server(config, monkeypatch):
    monkeypatch.setattr(slow_clients, "HEADERS_SECONDS", 0.5)
    monkeypatch.setattr(slow_clients, "BODY_SECONDS", 0.5)
    with Gradebook(config.gradebook) as book:
        issued = {one.student: one.token for one in tokens.import_roster(book.db, ROSTER)}
    running = ServerThread(config)
    running.tokens = issued
    yield running
    running.close()


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.config.port), timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closed ``sock`` (an empty read, or a reset) within ``seconds``; what it sent is read."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_a_connection_that_never_finishes_its_headers_is_closed_and_others_are_served(server):
    # a red team's 20,000 such connections, without signing in, held every descriptor the server had
    hanging = [_connect(server) for _ in range(20)]
    for sock in hanging:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends the headers
    with _connect(server) as asking:
        asking.sendall(b"GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                       server.tokens["ada"].encode() + b"\r\nConnection: close\r\n\r\n")
        answer = asking.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 200") and b'"student":"ada"' in answer
    start = time.monotonic()
    assert all(_closed_within(sock, 5) for sock in hanging) and time.monotonic() - start < 4
    for sock in hanging:
        sock.close()


def test_trickled_bytes_do_not_extend_the_headers_deadline(server):
    with _connect(server) as sock:
        start = time.monotonic()
        for _ in range(20):  # a byte every 0.1 s, for 2 s: past the 0.5 s deadline all along
            try:
                sock.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)
        assert _closed_within(sock, 5) and time.monotonic() - start < 3


def test_a_body_trickled_past_its_deadline_is_refused_with_408(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /api/submissions?lesson=07_efficiency HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     server.tokens["ada"].encode() + b"\r\nContent-Length: 100000\r\n\r\n{")
        time.sleep(1.0)  # the rest never comes
        sock.settimeout(5)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive in time" in answer
