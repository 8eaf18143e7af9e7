"""A batch's grading processes keep to one core each, the cores in turn, and the sandbox server forks each one's
worker onto that core (coursekit.grading.cores)."""

import multiprocessing
import os

import pytest

from coursekit.grading import batch, cores

CORES = cores.usable_cores()
needs_two_cores = pytest.mark.skipif(len(CORES) < 2, reason="needs at least two cores to choose from")


def _in_a_child(work) -> object:
    """What ``work()`` returns, run in a forked child (so that nothing it sets reaches the test process)."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=lambda: sending.send(work()))
    child.start()
    try:
        return receiving.recv()
    finally:
        child.join()


def _cores_after_keeping(index: int, processes: int) -> list[int]:
    cores.keep_to_one_core(index, processes)
    return sorted(os.sched_getaffinity(0))


@needs_two_cores
def test_each_grading_process_keeps_to_one_core_the_cores_in_turn():
    processes = 2 * len(CORES)
    kept = [_in_a_child(lambda index=index: _cores_after_keeping(index, processes)) for index in range(processes)]
    assert kept == [[CORES[index % len(CORES)]] for index in range(processes)]


@needs_two_cores
def test_fewer_grading_processes_than_cores_run_where_the_scheduler_puts_them():
    assert _in_a_child(lambda: _cores_after_keeping(0, len(CORES) - 1)) == CORES


@needs_two_cores
def test_a_pools_processes_count_themselves_so_that_each_core_gets_its_share():
    started = multiprocessing.get_context("fork").Value("i", 0)

    def start_one():
        batch._start_pool_worker(None, os.getppid(), started, 2 * len(CORES))
        return sorted(os.sched_getaffinity(0))

    kept = [_in_a_child(start_one) for _ in range(2 * len(CORES))]
    assert started.value == 2 * len(CORES)
    assert kept == [[CORES[index % len(CORES)]] for index in range(2 * len(CORES))]


@needs_two_cores
def test_the_server_forks_a_worker_onto_the_core_its_grading_process_keeps_to(server):
    server.wait_until_ready()  # started before the test process keeps to a core, so the server may use them all
    everywhere = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {CORES[-1]})
        kept = server.session(5.0)
    finally:
        os.sched_setaffinity(0, everywhere)
    try:
        assert cores.cores_of(kept.pid) == {CORES[-1]}
        free = server.session(5.0)
        try:
            assert cores.cores_of(free.pid) == everywhere  # a grader on every core: its worker is not kept to one
        finally:
            free.kill()
    finally:
        kept.kill()


def test_the_cores_of_a_process_that_has_gone_are_none():
    process = multiprocessing.get_context("fork").Process(target=lambda: None)
    process.start()
    process.join()
    assert cores.cores_of(process.pid) is None


def test_running_on_no_cores_or_on_cores_out_of_reach_leaves_a_process_where_it_was():
    def run_on_each():
        before = sorted(os.sched_getaffinity(0))
        cores.run_on(None)
        cores.run_on(set())
        cores.run_on({10_000})  # no such core: refused, and ignored
        return before, sorted(os.sched_getaffinity(0))

    before, after = _in_a_child(run_on_each)
    assert after == before
