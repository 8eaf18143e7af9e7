"""``coursekit serve``: one server per gradebook, its grading workers, and uvicorn.

At start, rows a stopped server left being graded go back to the queue (``queue.recover``); with a Dask
cluster, the server checks that its scheduler answers; then the workers' supervisor is forked (before uvicorn
starts any thread), then the web server runs until stopped. A second server on the same gradebook is refused:
two would hand the same rows out twice at their starts.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import replace

from coursekit.grading.gradebook import Gradebook
from coursekit.grading.master import load_masters
from coursekit.server import messages, queue, slow_clients, supervisor
from coursekit.server.config import ConfigError, ServerConfig


@contextlib.contextmanager
def only_server(config: ServerConfig) -> Iterator[None]:
    """Hold the gradebook's server lock (a file beside it) while the server runs; ConfigError when another holds
    it. The lock is beside the file the path leads to: a second server given a symbolic link to the gradebook took
    a lock of its own, and put back in the queue an upload the first was grading (red team Z)."""
    config.gradebook.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{os.path.realpath(config.gradebook)}.server-lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ConfigError(messages.ALREADY_SERVING.format(gradebook=config.gradebook)) from error
        yield


def prepare(config: ServerConfig) -> int:
    """Create or upgrade the gradebook, switch it to WAL (the web process reads while workers write), and put back
    in the queue what a stopped server left being graded; how many rows that was."""
    with Gradebook(config.gradebook, timeout=30) as book:
        book.db.execute("PRAGMA journal_mode=WAL")
        return queue.recover(book.db)


def warm_sandbox(config: ServerConfig) -> ServerConfig:
    """``config`` with the socket of the shared warm sandbox server (started if needed), unless one was given or the
    workers grade on a Dask cluster; the workers share it. Without one (it cannot run here), each worker starts its
    own."""
    if config.sandbox or config.cluster:
        return config
    from coursekit.grading import daemon
    from coursekit.grading.session import SandboxCrashed

    try:
        return replace(config, sandbox=str(daemon.ensure()))
    except (daemon.RuntimeFolderError, SandboxCrashed, OSError):
        return config


def check_cluster(config: ServerConfig) -> None:
    """ConfigError, in plain words, when the server has a Dask cluster whose scheduler does not answer."""
    if config.cluster:
        try:
            from coursekit.server.cluster_grading import check_reachable
        except ImportError as missing:
            raise ConfigError(messages.NEEDS_CLUSTER_EXTRA.format(missing=missing)) from missing
        check_reachable(config.cluster)


def web_config(app, config: ServerConfig):
    """uvicorn's configuration for ``app``: deadlines for slow clients, and a cap on connections at once."""
    import uvicorn

    slow_clients.more_descriptors()
    # Behind a reverse proxy on this machine, its X-Forwarded-For gives the client's address (rate limits).
    return uvicorn.Config(app, host=config.host, port=config.port, log_level="warning", proxy_headers=True,
                          forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
                          http=slow_clients.HeadersDeadline, limit_concurrency=slow_clients.CONNECTIONS)


def serve(config: ServerConfig, announce: Callable[[str], None] = print) -> None:
    """Run the server for ``config`` until it is stopped (Ctrl+C, SIGTERM)."""
    import uvicorn

    from coursekit.server.app import create_app

    with only_server(config):
        check_cluster(config)
        recovered = prepare(config)
        config = warm_sandbox(config)
        masters = load_masters(config.solutions)
        graders = supervisor.start(config, config.workers, masters) if config.workers > 0 else None
        try:
            app = create_app(config, masters)
            announce(messages.SERVING.format(
                root=config.root.resolve(), url=config.url, gradebook=config.gradebook,
                workers=config.workers if graders else 0,
                cluster=messages.SERVING_ON_CLUSTER.format(address=config.cluster) if config.cluster else "",
                recovered=messages.SERVING_RECOVERED.format(count=recovered) if recovered else ""))
            uvicorn.Server(web_config(app, config)).run()
        finally:
            if graders is not None:
                graders.stop()
