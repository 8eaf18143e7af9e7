"""Run notebooks with rounding-level noise and report what each code cell showed, one notebook per request.

    python noisy_runner.py SEED      then, on stdin, one notebook path per line

For each path it answers one line of JSON on stdout: a list with, per code cell, the text it
printed (``stdout``), the text/plain of everything it displayed or returned (``shown``), and
the error it raised (``error``, or null). Each notebook starts from an empty namespace, in its
own folder, like a fresh kernel; the imports are paid once for all of them, which is why this
runs in one long-lived process instead of a kernel per notebook.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.modules.setdefault("rfc3987_syntax", None)  # a second of imports that nbformat never needs (tests/startup.py)

import rounding_noise  # noqa: E402 -- before NumPy is used anywhere: every later import sees the noisy functions

rounding_noise.install(seed=int(sys.argv[1]))

import matplotlib  # noqa: E402 -- after the noise is installed, on purpose

matplotlib.use("Agg")  # figures are compared through their data in other tests, never as images here

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
from IPython.core.displayhook import DisplayHook  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402


class RecordingDisplayHook(DisplayHook):
    """Keeps the text/plain of a cell's value (its Out[n]) instead of writing it to the terminal."""

    shown: list[str] = []

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self.shown.append(format_dict.get("text/plain", ""))


def run(shell: InteractiveShell, path: Path) -> list[dict]:
    """Every code cell of the notebook at ``path``, run in order in a fresh namespace."""
    shell.reset(new_session=False)
    plt.close("all")
    os.chdir(path.parent)
    results = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        RecordingDisplayHook.shown = []
        with capture_output(stdout=True, stderr=True, display=True) as captured:
            outcome = shell.run_cell(cell.source, store_history=False)
        shown = [output.data.get("text/plain", "") for output in captured.outputs] + RecordingDisplayHook.shown
        error = outcome.error_before_exec or outcome.error_in_exec
        results.append({"stdout": captured.stdout, "shown": shown, "error": None if error is None else repr(error)})
        plt.close("all")
    return results


def main() -> None:
    shell = InteractiveShell.instance()
    shell.displayhook = shell.display_trap.hook = RecordingDisplayHook(shell=shell)  # the trap installs it per cell
    real_stdout = sys.stdout
    for line in sys.stdin:
        answer = run(shell, Path(line.strip()))
        real_stdout.write(json.dumps(answer) + "\n")
        real_stdout.flush()


if __name__ == "__main__":
    main()
