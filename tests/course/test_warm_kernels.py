"""The suite's warm kernels (tests/kernel_zygote.py) behave as jupyter_client expects of a kernel: they answer,
take interrupts, and end with their launcher, leaving nothing behind."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ZYGOTE = Path(__file__).resolve().parents[1] / "kernel_zygote.py"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks: Linux only")]


@pytest.fixture()
def warm_kernel_name(tmp_path, monkeypatch):
    """A kernelspec that launches kernels from a warm zygote: this test process's own when the suite started one
    (tests/warm_kernels.py), else one started for the test."""
    from tests.kernel_zygote import SOCKET_ENV
    from tests.warm_kernels import KERNEL_NAME

    if os.environ.get(SOCKET_ENV) and os.environ.get("JUPYTER_PATH"):
        yield KERNEL_NAME
        return
    spec = tmp_path / "kernels" / "warm-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(ZYGOTE), "launch", "{connection_file}"], "display_name": "warm",
        "language": "python", "interrupt_mode": "signal"}))
    socket_path = tmp_path / "zygote.sock"
    monkeypatch.setenv(SOCKET_ENV, str(socket_path))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    zygote = subprocess.Popen([sys.executable, str(ZYGOTE), "serve", str(socket_path)], stdin=subprocess.DEVNULL)
    yield "warm-test"
    zygote.kill()
    zygote.wait()


def _kernel_pid(kc) -> int:
    reply = kc.execute_interactive("import os\nprint(os.getpid(), os.getppid())", timeout=30,
                                   output_hook=lambda msg: _seen.append(msg))
    assert reply["content"]["status"] == "ok"
    text = "".join(m["content"].get("text", "") for m in _seen if m["msg_type"] == "stream")
    _seen.clear()
    return int(text.split()[0])


_seen: list = []


def test_a_warm_kernel_runs_code_takes_an_interrupt_and_ends_with_its_launcher(warm_kernel_name):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=warm_kernel_name)
    try:
        pid = _kernel_pid(kc)
        assert pid != km.provisioner.pid  # forked from the zygote, not the launcher itself
        msg_id = kc.execute("import time\ntime.sleep(30)", stop_on_error=False)  # the next request is not aborted
        time.sleep(0.5)
        km.interrupt_kernel()  # a signal to the launcher, which forwards it
        reply = kc.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["ename"] == "KeyboardInterrupt"
        assert _kernel_pid(kc) == pid  # interrupted, still the same kernel
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)  # kills the launcher
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_warm_kernel_has_its_notebooks_folder_and_the_noise_of_the_test_run(warm_kernel_name, tmp_path):
    from jupyter_client.manager import start_new_kernel

    folder = tmp_path / "notebooks"
    folder.mkdir()
    km, kc = start_new_kernel(kernel_name=warm_kernel_name, cwd=str(folder))
    try:
        # The notebook's folder is importable (''), the zygote's own folder (tests/) is not, as in a cold kernel.
        kc.execute_interactive(f"import os, sys, numpy\nprint(os.getcwd(), type(numpy.exp).__name__, '' in sys.path "
                               f"and {str(ZYGOTE.parent)!r} not in sys.path)", timeout=30,
                               output_hook=lambda msg: _seen.append(msg))
        text = "".join(m["content"].get("text", "") for m in _seen if m["msg_type"] == "stream").split()
        _seen.clear()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    noisy = "COURSEKIT_NOISY_IPYTHONDIR" in os.environ
    assert text == [str(folder), "_NudgedUfunc" if noisy else "ufunc", "True"]


def test_a_kernel_that_dies_before_it_answers_is_started_once_more_and_only_once():
    from tests.warm_kernels import KERNEL_DIED, starting_again_once

    attempts = []

    def dies_first(*args, **kwargs):
        attempts.append(args)
        if len(attempts) == 1:
            raise RuntimeError(KERNEL_DIED)
        return "manager", "client"

    assert starting_again_once(dies_first)(60, kernel_name="k") == ("manager", "client") and len(attempts) == 2

    def always_dies(*args, **kwargs):
        attempts.append(args)
        raise RuntimeError(KERNEL_DIED)

    attempts.clear()
    with pytest.raises(RuntimeError, match="died"):
        starting_again_once(always_dies)()
    assert len(attempts) == 2

    def other_error(*args, **kwargs):
        attempts.append(args)
        raise RuntimeError("no such kernel")

    attempts.clear()
    with pytest.raises(RuntimeError, match="no such kernel"):
        starting_again_once(other_error)()
    assert len(attempts) == 1
