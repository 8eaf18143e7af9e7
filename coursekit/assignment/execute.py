"""Re-execute lessons and masters in place so that their stored outputs are fresh."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from coursekit.assignment.notebooks import NotebookError, ensure_cell_ids, read_notebook, write_notebook

HEADLESS_ENV = {"COURSEKIT_HEADLESS": "1"}  # widgets draw a static figure: no front end here


@contextmanager
def headless_environment():
    """Set the variables that make widgets fall back to static figures, then restore them."""
    saved = {name: os.environ.get(name) for name in HEADLESS_ENV}
    os.environ.update(HEADLESS_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_notebook(nb: NotebookNode, folder: Path | str, *, timeout: int = 120,
                 allow_errors: bool = False) -> NotebookNode:
    """Run ``nb`` top to bottom in a fresh headless kernel started in ``folder``; outputs go into ``nb``.

    With ``allow_errors`` every cell runs and errors are recorded as outputs; otherwise the
    first error raises nbclient's CellExecutionError (a cell tagged ``raises-exception`` may raise).
    """
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        record_timing=False,  # timestamps would make every run a diff
        # The kernel holds nothing worth keeping once the last cell has run; a graceful shutdown sometimes waited
        # out its seconds of grace for a reply that never came.
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(Path(folder).resolve())}},
    )
    with headless_environment():
        client.execute()
    # Widget models get fresh random ids on every run and show nothing headless: storing them would
    # make every re-run a diff.
    nb.metadata.pop("widgets", None)
    return nb


def execute_in_place(path: Path | str, timeout: int = 120) -> None:
    """Re-run the notebook at ``path`` and store its fresh outputs.

    The file is written only when every cell ran without error, so a failing run loses nothing.
    """
    path = Path(path)
    nb = read_notebook(path)
    ensure_cell_ids(nb)
    try:
        run_notebook(nb, path.parent, timeout=timeout)
    except CellTimeoutError as err:
        raise NotebookError(path, f"a cell ran longer than {timeout} s: {err}") from err
    except CellExecutionError as err:
        raise NotebookError(path, f"a cell raised an error, nothing was written:\n{err}") from err
    except DeadKernelError as err:
        raise NotebookError(path, f"the kernel died while running it: {err}") from err
    write_notebook(nb, path)
