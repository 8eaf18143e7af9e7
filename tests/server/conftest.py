"""Fixtures of the course server's tests (helpers in server_helpers.py)."""

import pytest
from server_helpers import private_sandbox, server_config

from coursekit.server.config import ServerConfig


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The socket of one warm sandbox server for every server test of this process (stopped at its end)."""
    with private_sandbox(tmp_path_factory.mktemp("runtime")) as socket:
        yield socket


@pytest.fixture
def config(tmp_path, sandbox) -> ServerConfig:
    """Settings for a server on a fresh gradebook of its own."""
    return server_config(tmp_path / "gradebook.sqlite", sandbox)
