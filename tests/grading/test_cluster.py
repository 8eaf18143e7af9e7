"""Grading on a Dask cluster: a local cluster of two worker processes (one for the whole module) grades as local
grading does, keeps one sandbox per worker, survives a worker killed mid-task, and leaves nothing behind.

The last two tests kill a worker and close the cluster, so they come last in file order. No test needs another to
have run before it (each test process of `pytest -n` may get any of them): the fixture sets up each worker's sandbox
as a first batch would.
"""

import os
import signal
import threading
import time

import nbformat
import pytest

from coursekit.grading import cluster as grading_cluster
from coursekit.grading import daemon
from coursekit.grading.batch import grade_items
from coursekit.grading.gradebook import Gradebook
from coursekit.grading.intake import read_bytes
from graded_submissions import FAST, MASTERS, ROOT, solution, with_cell

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # starts two Dask worker processes, each with a sandbox server

LESSON = "03_activations"  # the cheapest lesson to grade: its sandbox preloads no SymPy
ONE_LESSON = {LESSON: MASTERS[LESSON]}
HOSTILE = ("import os, signal\nfor pid in (os.getppid(), os.getpgid(os.getppid()), 1):\n    try:\n"
           "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass")


def test_a_worker_process_grades_one_submission_at_a_time_whatever_its_threads(monkeypatch):
    # red team Z: with `dask worker --nthreads 2` two submissions were graded at once in one process, sharing its
    # warning filters and the caches it clears between submissions (which one could time to read the other's)
    running, most = [0], [0]

    class Slow:
        def grade(self, lesson, raw):
            running[0] += 1
            most[0] = max(most[0], running[0])
            time.sleep(0.05)
            running[0] -= 1

    plugin = grading_cluster.SandboxPlugin()
    monkeypatch.setattr(plugin, "_grader", lambda *args: Slow(), raising=False)
    threads = [threading.Thread(target=plugin.grade, args=("key", {}, FAST, LESSON, b"")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=50) as local:
        preload = sorted(set(ONE_LESSON[LESSON].sandbox_modules()))  # what a batch of ONE_LESSON registers
        grading_cluster.connect(local.scheduler_address).register_plugin(grading_cluster.SandboxPlugin(preload),
                                                                         name=grading_cluster.PLUGIN_NAME)
        yield local
        grading_cluster.close_clients()


def submission(student: str, nb) -> object:
    raw = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
    return read_bytes(f"{student}.ipynb", raw, f"{LESSON}--{student}.ipynb", "2024-05-01T10:00:00+00:00")


def batch() -> list:
    return [submission("sol", solution(LESSON)),
            submission("exe", (ROOT / "exercises" / f"{LESSON}.ipynb").read_bytes()),
            submission("hostile", with_cell(LESSON, HOSTILE)),
            submission("malformed", b"{not json")]


def graded(book: Gradebook, outcomes) -> dict:
    """What the gradebook holds of each outcome, by student: results, cell problems, or the reason."""
    shown = {}
    for outcome in outcomes:
        if outcome.grade is None:
            shown[outcome.student or outcome.source] = ("rejected", outcome.reason)
        else:
            shown[outcome.student] = (book.graded(outcome.key)[2:], book.results(outcome.key),
                                      [str(p) for p in book.cell_problems(outcome.key)])
    return shown


def rows(book: Gradebook) -> int:
    return book.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]


def sandbox_pids(client) -> dict:
    return client.run(lambda dask_worker: dask_worker.plugins[grading_cluster.PLUGIN_NAME].server_pid())


def ended(pid: int, within: float) -> bool:
    """True once process ``pid`` has ended (a zombie counts), polled for up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_the_cluster_grades_every_submission_as_local_grading_does(cluster, tmp_path):
    with Gradebook(tmp_path / "local.sqlite") as book:
        local = graded(book, grade_items(batch(), ONE_LESSON, book, jobs=1, settings=FAST))
    workers = set(cluster.scheduler_info["workers"])
    with Gradebook(tmp_path / "cluster.sqlite") as book:
        outcomes = grade_items(batch(), ONE_LESSON, book, settings=FAST, cluster=cluster.scheduler_address)
        remote = graded(book, outcomes)
        assert rows(book) == 4
    assert remote == local
    full = MASTERS[LESSON].max_points
    assert remote["sol"][0] == (full, full) and remote["exe"][0] == (0, full)
    assert remote["hostile"][0] == (full, full)  # its signals reached nothing outside its sandbox
    assert remote["malformed"][0] == "rejected"
    assert set(cluster.scheduler_info["workers"]) == workers  # no Dask worker was killed


def test_a_second_batch_uses_each_workers_sandbox_and_masters_again(cluster, tmp_path):
    client = grading_cluster.connect(cluster.scheduler_address)
    with Gradebook(tmp_path / "first.sqlite") as book:  # the first batch: each worker's Grader for these masters
        grade_items(batch()[:2], ONE_LESSON, book, settings=FAST, cluster=cluster.scheduler_address)
    before, graders_before = sandbox_pids(client), graders(client)
    held = []

    def masters_on_each_worker(outcome):  # while the batch runs: how many copies of the masters each worker holds
        # Counted by their key (scatter names a dict "dict-<token>"), not by their value: a worker that has not run a
        # task yet may still hold its copy as it arrived, not yet turned back into a dict.
        if not held:
            held.append(client.run(lambda dask_worker: sum(str(key).startswith("dict-")
                                                           for key in list(dask_worker.data.keys()))))

    with Gradebook(tmp_path / "again.sqlite") as book:
        outcomes = grade_items(batch()[:2], ONE_LESSON, book, settings=FAST, cluster=cluster.scheduler_address,
                               progress=masters_on_each_worker)
    assert sorted(o.grade.points for o in outcomes) == [0, MASTERS[LESSON].max_points]
    assert sandbox_pids(client) == before and len(set(before.values())) == 2
    # Sent to the workers once, not with each task: no worker holds two copies. Dask's memory manager may drop the
    # copy of a worker that has no task needing it (ReduceReplicas, every 2 s), so one worker may hold none.
    assert max(held[0].values()) == 1 and set(held[0].values()) <= {0, 1}, held
    assert graders(client) == graders_before  # the same masters: the Grader that built their setups, again


def graders(client) -> dict:
    """The Grader objects of each worker's plugin: ids, with the masters' key they grade with."""
    return client.run(lambda dask_worker: sorted((id(grader), key[1]) for key, grader in
                                                 dask_worker.plugins[grading_cluster.PLUGIN_NAME].graders.items()))


def test_a_scheduler_that_does_not_answer_is_a_clear_error_and_nothing_graded_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(grading_cluster, "CONNECT_TIMEOUT", "0.2s")
    with Gradebook(tmp_path / "none.sqlite") as book:
        with pytest.raises(grading_cluster.ClusterUnreachable, match="cannot reach the Dask scheduler at"):
            grade_items(batch(), ONE_LESSON, book, settings=FAST, cluster="tcp://127.0.0.1:9")
        assert book.rejected() == [("malformed.ipynb", pytest.approx(book.rejected()[0][1]))]
        assert rows(book) == 1  # the rest are not recorded: the next run grades them


def test_a_worker_killed_mid_task_is_replaced_and_each_submission_gets_one_row(cluster, tmp_path):
    client = grading_cluster.connect(cluster.scheduler_address)
    pids = sandbox_pids(client)
    sleepy = [submission(f"sleepy{i}", with_cell(LESSON, f"import time\ntime.sleep(1.0)  # {i}")) for i in range(2)]
    done = []

    def grade_in_the_background():  # as the course server does: the gradebook is this thread's
        with Gradebook(tmp_path / "killed.sqlite") as book:
            done.extend(grade_items(sleepy, ONE_LESSON, book, settings=FAST, cluster=cluster.scheduler_address))

    grading = threading.Thread(target=grade_in_the_background)
    grading.start()
    busy, deadline = [], time.monotonic() + 30
    while len(busy) < 2 and grading.is_alive() and time.monotonic() < deadline:  # until each worker runs one
        busy = [address for address, keys in client.processing().items() if keys]
        time.sleep(0.01)
    assert len(busy) == 2, busy
    [victim] = [nanny for nanny in cluster.workers.values() if nanny.worker_address == busy[0]]
    victim.close_gracefully()  # no restart: the other worker takes its task
    os.kill(victim.pid, signal.SIGKILL)
    grading.join(60)
    assert not grading.is_alive()
    assert sorted((o.student, o.grade.points) for o in done) == [
        ("sleepy0", MASTERS[LESSON].max_points), ("sleepy1", MASTERS[LESSON].max_points)]
    with Gradebook(tmp_path / "killed.sqlite") as book:
        assert rows(book) == 2
        assert book.db.execute("SELECT COUNT(DISTINCT key) FROM submissions WHERE state = 'graded'").fetchone()[0] == 2
    assert ended(pids[busy[0]], grading_cluster.ORPHAN_IDLE + 10)  # the dead worker's sandbox followed it


def test_closing_the_cluster_stops_every_workers_sandbox_and_leaves_no_socket(cluster):
    client = grading_cluster.connect(cluster.scheduler_address)
    pids = list(sandbox_pids(client).values())
    grading_cluster.close_clients()
    cluster.close()
    assert all(ended(pid, 10) for pid in pids)
    assert not list(daemon.runtime_dir().glob("dask-worker-*"))
