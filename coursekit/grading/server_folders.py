"""The sandbox servers' folders in the temporary directory: one per server, named after its process, holding one
folder per worker. A server removes its own when it ends; one killed outright cannot, so whoever sees it gone
(the process that started it, or the next server of the same user) removes it. A batch's folder for its server's
socket, named after the batch's process, is removed the same way."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from coursekit.grading.proc_stat import stat_fields

FOLDER_PREFIX = "coursekit-sandbox-"
BATCH_FOLDER_PREFIX = "coursekit-batch-"  # a batch's folder for its server's socket, named after the batch's process


def remove_tree(path: str) -> None:
    """Remove ``path`` and all it holds, whatever a student's code made there; never raises (what cannot be removed
    stays, for the next sweep).

    Python 3.11's shutil.rmtree recurses once a level, and a worker can make a folder 1,500 levels deep: its
    RecursionError, which ``ignore_errors`` does not cover, stopped the sandbox server and then every server started
    after it. Where rmtree fails, coreutils finish the job: they walk iteratively, and what the student made
    unreadable is opened up first."""
    try:
        shutil.rmtree(path)
        return
    except FileNotFoundError:
        return
    except Exception:  # noqa: BLE001 -- OSError, RecursionError, whatever the tree holds: the fallback below
        pass
    for command in (["chmod", "-R", "u+rwx", path], ["rm", "-rf", "--one-file-system", path]):
        try:
            subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=600, check=False)
        except (OSError, subprocess.SubprocessError):
            pass


def new_server_folder() -> str:
    """A new folder for this process's server (0700: private to this user)."""
    return tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")


def remove_folders_of(pid: int) -> None:
    """Remove the folders of the server that ran as process ``pid``, which has ended (and been reaped)."""
    _remove_where(lambda owner: owner == pid)


def remove_stale_folders() -> None:
    """Remove the folders of this user's servers, and of its batches, that ended without cleaning up (killed
    outright)."""
    _remove_where(lambda owner: not _running(owner), (FOLDER_PREFIX, BATCH_FOLDER_PREFIX))


def _remove_where(ended, prefixes: tuple[str, ...] = (FOLDER_PREFIX,)) -> None:
    base = tempfile.gettempdir()
    for entry in os.listdir(base):
        prefix = next((prefix for prefix in prefixes if entry.startswith(prefix)), None)
        pid = entry[len(prefix):].split("-", 1)[0] if prefix else ""
        if not pid.isdigit():
            continue
        path = os.path.join(base, entry)
        try:
            mine = os.stat(path).st_uid == os.geteuid()
        except OSError:
            continue
        if mine and ended(int(pid)):
            remove_tree(path)


def _running(pid: int) -> bool:
    """True while process ``pid`` runs; a zombie (ended, not yet reaped by its parent) has stopped."""
    if os.path.isdir("/proc"):
        try:
            return stat_fields(pid)[0] != b"Z"
        except FileNotFoundError:
            return False
        except (OSError, ValueError, IndexError):
            pass  # unreadable: ask the process itself
    try:  # no /proc (not Linux): a zombie counts as running, and its folder waits for the next sweep
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
