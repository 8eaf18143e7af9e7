"""The course server grading on a Dask cluster (``coursekit serve --cluster``): its workers send each claimed upload
to the cluster and record the result as local grading does (once each); a scheduler that does not answer stops the
server at start, in plain words; a cluster lost mid-run puts the row back, uncounted, and the worker tries again.

One local cluster for the module: a scheduler and one Dask worker of one thread, in this process (what crosses
between them is still serialized: they talk over TCP), with the sandbox server of its plugin."""

import datetime as dt
from dataclasses import replace

import pytest
from click.testing import CliRunner
from server_helpers import FAST, LESSON, MASTERS, MISTAKEN, ROOT, SOLVED

from coursekit.grading.gradebook import Gradebook
from coursekit.server import config as server_config
from coursekit.server import queue, run, worker

distributed = pytest.importorskip("distributed")
from coursekit.grading import cluster as grading_cluster  # noqa: E402 -- needs distributed
from coursekit.server import cluster_grading  # noqa: E402

pytestmark = pytest.mark.slow  # a Dask scheduler and worker, and the worker's sandbox server

ONE_LESSON = {LESSON: MASTERS[LESSON]}
NOBODY = "tcp://127.0.0.1:9"  # the discard port: no scheduler answers there


@pytest.fixture(scope="module")
def dask_cluster():
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, protocol="tcp://",
                                  dashboard_address=None, silence_logs=50) as local:
        yield local.scheduler_address
        grading_cluster.close_clients()


def enqueue(book, student: str, raw: bytes) -> int:
    return queue.enqueue(book.db, student, LESSON, f"{LESSON}--{student}.ipynb", raw, dt.datetime.now(dt.UTC), False)


def test_serve_with_a_scheduler_that_does_not_answer_says_so_and_exits_1(tmp_path, monkeypatch):
    from coursekit.cli import main

    monkeypatch.setattr(grading_cluster, "CONNECT_TIMEOUT", "0.2s")  # the check's child inherits it
    outcome = CliRunner().invoke(main, ["serve", "--root", str(ROOT), "--gradebook", str(tmp_path / "g.sqlite")],
                                 env={"COURSEKIT_CLUSTER": NOBODY})
    assert outcome.exit_code == 1
    assert f"cannot reach the Dask scheduler at {NOBODY}" in outcome.output
    assert "Traceback" not in outcome.output


def test_the_cluster_is_a_setting_of_the_config_file_and_an_option_wins(tmp_path):
    settings = tmp_path / "course-server.toml"
    settings.write_text(f'[server]\nroot = "{ROOT}"\ncluster = "tcp://scheduler:8786"\n')
    assert server_config.load(settings).cluster == "tcp://scheduler:8786"
    assert server_config.load(settings, cluster="tcp://other:8786").cluster == "tcp://other:8786"
    settings.write_text(f'[server]\nroot = "{ROOT}"\ncluster = "scheduler"\n')
    with pytest.raises(server_config.ConfigError, match="cluster must be a Dask scheduler's address"):
        server_config.load(settings)


def test_the_servers_workers_grade_on_the_cluster_and_record_each_upload_once(config, dask_cluster):
    config = replace(config, cluster=dask_cluster)
    run.check_cluster(config)  # it answers: no error
    run.prepare(config)
    with Gradebook(config.gradebook) as book:
        ids = [enqueue(book, "ada", SOLVED), enqueue(book, "bob", MISTAKEN), enqueue(book, "cy", b"{not json")]
        assert worker.drain(config, ONE_LESSON) == 3
        rows = book.db.execute("SELECT id, state, recorded, attempts FROM queue ORDER BY id").fetchall()
        assert rows == [(queue_id, queue.DONE, 1, 1) for queue_id in ids]
        results = dict(book.db.execute("SELECT student, points FROM submissions WHERE state = 'graded'").fetchall())
        full = MASTERS[LESSON].max_points
        assert results == {"ada": full, "bob": full - 1}  # bob's registered mistake costs one point
        [(reason,)] = book.db.execute("SELECT reason FROM submissions WHERE state = 'rejected'").fetchall()
        assert reason.startswith("invalid JSON")
    client = grading_cluster.connect(dask_cluster)
    assert list(client.run(lambda dask_worker: grading_cluster.PLUGIN_NAME in dask_worker.plugins).values()) == [True]


def test_a_cluster_lost_mid_run_puts_the_row_back_uncounted_and_the_worker_grades_it_later(config, dask_cluster,
                                                                                           monkeypatch, capsys):
    real, calls = grading_cluster.grade_on_cluster, []

    def lost_once(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            raise grading_cluster.ClusterLost(grading_cluster.LOST.format(address=args[0], problem="test"))
        return real(*args, **kwargs)

    monkeypatch.setattr(grading_cluster, "grade_on_cluster", lost_once)
    monkeypatch.setattr(worker, "RETRY_PAUSE", 0.01)
    config = replace(config, cluster=dask_cluster)
    run.prepare(config)
    with Gradebook(config.gradebook) as book:
        queue_id = enqueue(book, "ada", SOLVED)
        with pytest.raises(worker.GradingUnavailable, match="was lost during the batch"):
            worker.drain(config, ONE_LESSON)  # drain stops there; a server's worker pauses and tries again
        assert book.db.execute("SELECT state, attempts, recorded FROM queue").fetchall() == [(queue.QUEUED, 0, 0)]
        assert book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        assert f"upload {queue_id} is back in the queue, next try in 0.01 s" in capsys.readouterr().err

        thread, stop = worker.start_thread(config, ONE_LESSON)
        try:
            deadline = dt.datetime.now() + dt.timedelta(seconds=30)
            while book.db.execute("SELECT state FROM queue").fetchone()[0] != queue.DONE:
                assert dt.datetime.now() < deadline, "the upload was not graded once the cluster was back"
                stop.wait(0.01)
        finally:
            stop.set()
            thread.join(10)
        assert book.db.execute("SELECT attempts, recorded FROM queue").fetchall() == [(1, 1)]


def test_a_lost_cluster_found_when_the_grade_is_fetched_is_unavailable_not_the_uploads_failure(monkeypatch):
    class Closed:
        status = "closed"

    def cancelled():
        raise distributed.client.FutureCancelledError("k", reason="scheduler-connection-lost")

    monkeypatch.setattr(grading_cluster, "connect", lambda address: Closed())
    monkeypatch.setattr(grading_cluster, "grade_on_cluster", lambda *args: iter([(None, LESSON, cancelled)]))
    grader = cluster_grading.ClusterGrader(NOBODY, ONE_LESSON, FAST)
    with pytest.raises(worker.GradingUnavailable, match="was lost as the grade was fetched"):
        grader.grade(LESSON, SOLVED)

