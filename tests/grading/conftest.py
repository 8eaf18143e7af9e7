"""A warm sandbox server shared by the grading tests of one test process; builders of submissions are in
graded_submissions.py."""

import os

import pytest

from coursekit.grading.client import WarmServer


@pytest.fixture(scope="session", autouse=True)
def private_runtime_dir(tmp_path_factory):
    """Shared sandbox servers that the tests start live in a folder of this test process, and are stopped at
    its end (rather than staying up for their idle time)."""
    from coursekit.grading import daemon

    folder = tmp_path_factory.mktemp("runtime")
    folder.chmod(0o700)
    previous = os.environ.get("COURSEKIT_RUNTIME_DIR")
    os.environ["COURSEKIT_RUNTIME_DIR"] = str(folder)
    yield folder
    daemon.stop()
    if previous is None:
        os.environ.pop("COURSEKIT_RUNTIME_DIR", None)
    else:
        os.environ["COURSEKIT_RUNTIME_DIR"] = previous


@pytest.fixture(scope="session")
def server():
    with WarmServer() as warm:
        yield warm


@pytest.fixture()
def session_for(server):
    """A function that starts a worker, runs ``code`` in it and returns the session (killed after the test)."""
    started = []

    def start(code: str, cpu_limit: float = 5.0):
        session = server.session(cpu_limit)
        started.append(session)
        outcome = session.run_cell(code, cpu_limit)
        assert outcome["ok"], outcome
        return session

    yield start
    for session in started:
        session.kill()
