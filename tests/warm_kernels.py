"""A pytest plugin, loaded by the root conftest.py: nbval's kernels come from a warm zygote (tests/kernel_zygote.py).

Where processes can fork (Linux), the test run starts one zygote, and nbval starts the kernel that a
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
    # nbval on, and not asked for the notebooks' own kernels
    return bool(getattr(config.option, "nbval", False) and getattr(config.option, "nbval_current_env", False))


def _started_by_a_parent() -> bool:
    """Whether a process above this one (pytest-xdist's controller, or the run that started a nested pytest) has
    a zygote serving already: its test processes inherit its address and kernelspec through the environment."""
    socket_path = os.environ.get(SOCKET_ENV)  # the zygote may still be binding it: its kernelspec is there first
    return bool(socket_path) and (Path(socket_path).parent / "kernels" / KERNEL_NAME / "kernel.json").is_file()


KERNEL_DIED = "Kernel died before replying to kernel_info"


def starting_again_once(start):
    """``start`` (nbval's ``start_new_kernel``), tried a second time when the kernel dies before it answers.

    jupyter_client picks a kernel's TCP ports by binding and closing them; another process may take one before the
    kernel binds it, and the kernel then dies at once (jupyter_client issues 154 and 487). With two test processes
    starting kernels side by side this happened once in six full runs; a second start picks other ports."""
    def start_new_kernel(*args, **kwargs):
        try:
            return start(*args, **kwargs)
        except RuntimeError as error:
            if KERNEL_DIED not in str(error):
                raise
            return start(*args, **kwargs)
    return start_new_kernel


@pytest.hookimpl(trylast=True)  # after nbval has read its own options
def pytest_configure(config):
    """Start a zygote, unless a parent process has, and point nbval at the kernelspec that launches kernels from it.

    Under pytest-xdist the controller, which runs no test, starts the one zygote that all its test processes share:
    one process of imports instead of one per test process."""
    if getattr(config.option, "nbval", False):
        import nbval.kernel  # RunningKernel looks start_new_kernel up in its module at each start

        nbval.kernel.start_new_kernel = starting_again_once(nbval.kernel.start_new_kernel)
    if not _wanted(config):
        return
    if not _started_by_a_parent():
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
