"""What Linux's ``/proc/<pid>/stat`` and ``/proc/<pid>/schedstat`` say about a process: its state, its parent, its
CPU times, and how long it has waited for a core."""

from __future__ import annotations


def stat_fields(pid: int) -> list[bytes]:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may itself hold spaces and parentheses, so
    it is skipped up to its last ``)``): 0 is the state (``Z`` for a zombie), 1 the parent's pid, 11 to 14 the CPU
    ticks (utime, stime, cutime, cstime). OSError when it cannot be read (the process is gone, or there is no
    /proc); ValueError when it is not as Linux writes it."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        _, closing, fields = stat.read().rpartition(b")")
    if not closing:
        raise ValueError(f"/proc/{pid}/stat has no command name")
    return fields.split()


def core_wait_seconds(pid: int) -> float | None:
    """The seconds process ``pid`` (its main thread) has spent runnable but waiting for a core, as the kernel's
    scheduler counted them (``/proc/<pid>/schedstat``, its second field, in nanoseconds); None when it cannot be
    read (the process is gone, or the kernel keeps no such count)."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as schedstat:
            fields = schedstat.read().split()
        return int(fields[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None
