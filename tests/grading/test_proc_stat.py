"""/proc/<pid>/stat read past the command name, whatever that name holds; /proc/<pid>/schedstat's wait for a core."""

import ctypes
import os
import sys
import time

import pytest

from coursekit.grading.proc_stat import core_wait_seconds, stat_fields

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")


def test_the_fields_give_the_state_and_the_parent():
    fields = stat_fields(os.getpid())
    assert fields[0] in (b"R", b"S") and int(fields[1]) == os.getppid()


def test_a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields():
    ready_read, ready_write = os.pipe()
    hold_read, hold_write = os.pipe()
    child = os.fork()
    if child == 0:
        ctypes.CDLL(None).prctl(15, b") Z 1 (x")  # PR_SET_NAME: a name that mimics the fields after it
        os.write(ready_write, b"x")
        os.read(hold_read, 1)  # parked until the test lets it go
        os._exit(0)
    try:
        os.read(ready_read, 1)
        assert b") Z 1 (x" in open(f"/proc/{child}/stat", "rb").read()
        fields = stat_fields(child)
        assert fields[0] != b"Z" and int(fields[1]) == os.getpid()
    finally:
        os.write(hold_write, b"x")
        os.waitpid(child, 0)
        for fd in (ready_read, ready_write, hold_read, hold_write):
            os.close(fd)


def test_a_process_that_is_gone_is_an_os_error():
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    with pytest.raises(OSError):
        stat_fields(child)


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/schedstat"), reason="the kernel keeps no schedstat")
def test_the_wait_for_a_core_grows_only_while_a_process_waits_for_one():
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    child = os.fork()  # on the same core, computing until killed
    if child == 0:
        while True:
            pass
    try:
        before = core_wait_seconds(os.getpid())
        end = time.monotonic() + 0.3
        while time.monotonic() < end:  # two busy processes on one core: each waits about half the time
            pass
        assert core_wait_seconds(os.getpid()) - before > 0.05
        before = core_wait_seconds(os.getpid())
        os.kill(child, 9)
        os.waitpid(child, 0)
        child = None
        time.sleep(0.2)  # asleep, it waits for nothing
        assert core_wait_seconds(os.getpid()) - before < 0.05
    finally:
        if child is not None:
            os.kill(child, 9)
            os.waitpid(child, 0)
        os.sched_setaffinity(0, cores)


def test_the_wait_of_a_process_that_is_gone_is_not_known():
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    assert core_wait_seconds(child) is None
