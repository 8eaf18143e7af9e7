"""The course server's test helpers, shared by tests/server and tests/browser/test_course_server.py (a module of
its own: two modules both named ``conftest`` cannot be imported side by side): the lessons' masters and notebooks,
a private warm sandbox server, signing in through the pages, and a real uvicorn server in a thread of the test
process (a real socket, without the cost of a second Python)."""

import contextlib
import os
import re
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

from coursekit.grading.limits import Settings
from coursekit.grading.master import load_masters
from coursekit.server.config import ServerConfig

ROOT = Path(__file__).resolve().parents[2]
MASTERS = load_masters(ROOT / "solutions")
LESSON = "07_efficiency"  # the cheapest lesson to grade (about 50 ms)
SOLVED = (ROOT / "solutions" / f"{LESSON}.ipynb").read_bytes()
UNTOUCHED = (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()
SOLVED_JA = (ROOT / "ja" / "solutions" / f"{LESSON}.ipynb").read_bytes()  # graded in Japanese (its metadata says so)
# lesson 07's registered mistake "same for both": 2n evaluations for the forward difference too
RIGHT_LINE = 'return 2 * n_params if method == \\"central\\" else n_params + 1'
MISTAKEN = SOLVED.replace(RIGHT_LINE.encode(), b"return 2 * n_params")
FAST = Settings(cell_timeout=3.0, call_timeout=3.0, test_timeout=10.0)
ROSTER = b"id,name,email\nada,Ada Lovelace,ada@example.org\nbob,<b>Bob</b>,bob@example.org\ncy,Cy,cy@example.org\n"
assert MISTAKEN != SOLVED, "lesson 07's solution changed: update RIGHT_LINE"


@contextlib.contextmanager
def private_sandbox(folder: Path):
    """The socket of a warm sandbox server whose runtime folder is ``folder`` (stopped at the end)."""
    from coursekit.grading import daemon

    folder.chmod(0o700)
    previous = os.environ.get("COURSEKIT_RUNTIME_DIR")
    os.environ["COURSEKIT_RUNTIME_DIR"] = str(folder)
    try:
        yield str(daemon.ensure())
    finally:
        daemon.stop()
        if previous is None:
            os.environ.pop("COURSEKIT_RUNTIME_DIR", None)
        else:
            os.environ["COURSEKIT_RUNTIME_DIR"] = previous


@contextlib.contextmanager
def lesson_sandbox(folder: Path, lesson: str):
    """The socket of a sandbox server in ``folder`` that preloads only ``lesson``'s modules (half the start of the
    shared one, which preloads every lesson's), stopped at the end."""
    from coursekit.grading import daemon
    from coursekit.grading.client import end_server

    folder.chmod(0o700)
    path = folder / "sandbox.sock"
    process = daemon.start(path, preload=sorted(MASTERS[lesson].modules()))
    try:
        daemon.attach(path, process).close()  # once it listens
        yield str(path)
    finally:
        end_server(process)


def server_config(gradebook: Path, sandbox: str, **settings) -> ServerConfig:
    """Settings for a server on ``gradebook`` with the tests' fast grading settings."""
    return ServerConfig(root=ROOT, gradebook=gradebook, grading=FAST, sandbox=sandbox, poll_seconds=0.02, **settings)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, token: str):
    """Sign in through the pages, as a browser does: the sign-in page, then its form; the page signed in to."""
    page = client.get("/")
    return client.post("/login", data={"csrf": csrf_of(page.text), "token": token})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerThread:
    """A real uvicorn server for ``app`` on a free port, in a thread of this process, with a grading worker thread."""

    def __init__(self, config: ServerConfig):
        import uvicorn

        from coursekit.server import run, worker
        from coursekit.server.app import create_app

        self.config = replace(config, port=free_port())
        run.prepare(self.config)
        self.app = create_app(self.config, MASTERS)
        self.url = f"http://127.0.0.1:{self.config.port}"
        web = run.web_config(self.app, self.config)  # as `coursekit serve` runs it: deadlines for slow clients
        web.host, web.lifespan = "127.0.0.1", "on"
        self.server = uvicorn.Server(web)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.worker, self.stop_worker = worker.start_thread(self.config, MASTERS)
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)

    def close(self) -> None:
        self.stop_worker.set()
        self.server.should_exit = True
        self.thread.join(10)
        self.worker.join(10)
