"""/proc/<pid>/stat read past the command name, whatever that name holds."""

import ctypes
import os
import sys

import pytest

from coursekit.grading.proc_stat import stat_fields

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
