"""A pytest plugin, loaded by the root conftest.py: nbval's kernels come from a warm zygote (tests/kernel_zygote.py).

Where processes can fork (Linux), each test process starts one zygote, and nbval starts the kernel that a
kernelspec of our own names instead of a cold ``python -m ipykernel_launcher``: the same kernel, without a second
of imports. Elsewhere, or with ``COURSEKIT_WARM_KERNELS=off``, nbval starts cold kernels as it always does.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.kernel_zygote import SOCKET_ENV

KERNEL_NAME = "coursekit-warm"
ZYGOTE = Path(__file__).with_name("kernel_zygote.py")


def _wanted(config) -> bool:
    if os.environ.get("COURSEKIT_WARM_KERNELS") == "off" or not sys.platform.startswith("linux"):
        return False
    if not getattr(config.option, "nbval", False) or not getattr(config.option, "nbval_current_env", False):
        return False  # nbval off, or asked for the notebooks' own kernels
    # pytest-xdist's controller runs no test; its workers each get a zygote.
    return not (getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"))


@pytest.hookimpl(trylast=True)  # after nbval has read its own options
def pytest_configure(config):
    """Start this process's zygote and point nbval at the kernelspec that launches kernels from it."""
    if not _wanted(config):
        return
    folder = Path(tempfile.mkdtemp(prefix="coursekit-kernels-"))
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(ZYGOTE), "launch", "{connection_file}"],
        "display_name": "Python 3 (forked from a warm process)", "language": "python",
        "interrupt_mode": "signal"}))
    os.environ[SOCKET_ENV] = str(folder / "zygote.sock")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("JUPYTER_PATH")]))
    process = subprocess.Popen([sys.executable, str(ZYGOTE), "serve", os.environ[SOCKET_ENV]],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    config.coursekit_zygote = (process, folder)
    config.option.nbval_current_env = False
    config.option.nbval_kernel_name = KERNEL_NAME


def pytest_unconfigure(config):
    """Stop the zygote (its kernels have ended with their launchers) and remove its folder."""
    process, folder = getattr(config, "coursekit_zygote", (None, None))
    if process is not None:
        process.kill()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)
