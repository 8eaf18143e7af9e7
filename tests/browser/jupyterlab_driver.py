"""Helpers of the browser tests: a JupyterLab of the test's own, Debian's Chromium through Playwright, and a
notebook page driven as a learner drives it (click a cell, type, Shift+Enter).

Nothing here downloads a browser: Playwright for Python (the ``test`` extra) drives the system's ``chromium``
(Debian's package). When either is missing, ``missing()`` says what to install, and the tests skip with that.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HOW_TO_ENABLE = ("to run the browser tests, install Debian's chromium as root (`apt-get install -y chromium`; "
                 "`.ci/run` does) and the `test` extra, which brings Playwright for Python (`python3 course.py test` "
                 "installs it). No `playwright install`: the tests drive /usr/bin/chromium.")
START_TIMEOUT = 60.0  # seconds for JupyterLab to answer; it takes about 3 on an idle machine
CELL_TIMEOUT_MS = 60_000  # a cell's run, waiting on a kernel that may share two cores with a whole test suite

# JupyterLab's settings for the test: no news or update check (no network), no autosave (a test decides when a
# notebook is saved: the submit test types an edit that must reach the disk only through submit()), and every cell
# in the page from the start (by default cells far from view are attached later, so their positions would shift).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


# JupyterLab's server, less a second of CPU: jupyter_events imports jsonschema, which imports rfc3987_syntax when it
# is installed, and that module builds a grammar at import (tests/startup.py and site/build.py do the same). The
# server never checks the IRI formats it would serve.
# On Linux the server ends with the test process that started it, even one killed with SIGKILL (a timeout, a
# crashed xdist worker): PR_SET_PDEATHSIG, then a look at the parent in case it died before that took effect.
END_WITH_PARENT = ("import os, signal; from coursekit.grading.lifetime import end_with_parent; "
                   "end_with_parent(int(os.environ['COURSEKIT_LAB_PARENT']), signal.SIGTERM); ")
LAB_COMMAND = ("import sys; " + END_WITH_PARENT + "sys.modules.setdefault('rfc3987_syntax', None); "
               "from jupyterlab.labapp import main; sys.exit(main())")


def missing() -> str | None:
    """What the browser tests lack on this machine, with how to enable them; None when they can run."""
    lacking = []
    if not CHROMIUM.exists():
        lacking.append(f"{CHROMIUM} is missing")
    try:
        import playwright.sync_api  # noqa: F401 -- only whether it imports
    except ImportError:
        lacking.append("Playwright for Python is not installed")
    try:
        import ipylab  # noqa: F401 -- submit() saves through it
        import jupyterlab  # noqa: F401
    except ImportError:
        lacking.append("JupyterLab or ipylab is not installed")
    return f"{'; '.join(lacking)}: {HOW_TO_ENABLE}" if lacking else None


def other_server_extensions(config_dirs: list[str]) -> list[str]:
    """Every Jupyter server extension but JupyterLab that the JSON config in ``config_dirs`` enables: the test's
    JupyterLab needs none of them (jupyter_lsp, terminals; nbgrader and notebook when the benchmarks' extra is
    installed), and each costs CPU at every start (nbgrader alone takes a second to import)."""
    names = set()
    for folder in map(Path, config_dirs):
        for path in [folder / "jupyter_server_config.json", *sorted(folder.glob("jupyter_server_config.d/*.json"))]:
            try:
                enabled = json.loads(path.read_text(encoding="utf-8"))["ServerApp"]["jpserver_extensions"]
                names.update(name for name, on in enabled.items() if on)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue  # no such file, or not a config that enables extensions
    return sorted(names - {"jupyterlab"})


def free_port() -> int:
    """A TCP port free on this machine now (the server gets it a moment later; another taker is unlikely)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A JupyterLab serving ``root``, started for a test: its own home, settings and runtime folders under
    ``private``, a random token, no browser of its own, and kernels that import this tree's coursekit."""

    def __init__(self, root: Path, private: Path):
        self.root, self.home = root, private / "home"
        self.token, self.port = secrets.token_hex(16), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = private / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = {key: value for key, value in os.environ.items()
               # a learner's kernel: a front end is attached (not headless), and no student id is set
               if key not in ("COURSEKIT_HEADLESS", "COURSEKIT_STUDENT", "JPY_SESSION_NAME")}
        repository = str(Path(__file__).resolve().parents[2])
        env.update(HOME=str(self.home), JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(private / "workspaces"), JUPYTER_CONFIG_DIR=str(private / "config"),
                   JUPYTER_RUNTIME_DIR=str(private / "runtime"), MPLBACKEND="Agg",
                   COURSEKIT_LAB_PARENT=str(os.getpid()),  # see END_WITH_PARENT
                   PYTHONPATH=os.pathsep.join(filter(None, [repository, os.environ.get("PYTHONPATH")])))
        self.home.mkdir(parents=True, exist_ok=True)
        from jupyter_core.paths import jupyter_config_path  # JupyterLab's dependency: only once missing() is None

        # On the command line, which every config file gives way to.
        disabled = [f"--ServerApp.jpserver_extensions={name}=False"
                    for name in other_server_extensions(jupyter_config_path())]
        self.log = private / "jupyterlab.log"
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", LAB_COMMAND, "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                 "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                 f"--ServerApp.root_dir={root}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                 *disabled, *as_root],
                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab ended at start:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer in {START_TIMEOUT:g} s:\n{self.log.read_text()[-3000:]}")

    def wait_for_idle_kernel(self, relative: str, deadline: float) -> None:
        """Wait until the server has a session for the notebook ``relative`` whose kernel is idle."""
        while True:
            with urllib.request.urlopen(f"{self.url}/api/sessions?token={self.token}", timeout=5) as answer:
                sessions = json.load(answer)
            if any(session.get("path") == relative and (session.get("kernel") or {}).get("execution_state") == "idle"
                   for session in sessions):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no idle kernel for {relative}; the server's sessions: {sessions}")
            time.sleep(0.1)

    def notebook_url(self, relative: str) -> str:
        """The address that opens ``relative`` (a path under the root) in JupyterLab, logged in, fresh layout."""
        return f"{self.url}/lab/tree/{relative}?reset&token={self.token}"

    def stop(self) -> None:
        """End the server (its kernels with it)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# A cell's input prompt: [ ]: before it runs, [*]: while it is queued or running, [n]: once it has run.
STARTED = re.compile(r"^\s*\[(\*|\d+)\]:\s*$")
RUN = re.compile(r"^\s*\[\d+\]:\s*$")


def _appears(locator, timeout_ms: float) -> bool:
    """Wait until ``locator`` matches an element of the page; False if none does within ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        locator.wait_for(state="attached", timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def launch_chromium(playwright, profile: Path):
    """Debian's Chromium, headless, with a fresh profile in ``profile``: a persistent context (one page per test)."""
    shutil.rmtree(profile, ignore_errors=True)
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900}, locale="en-US")  # what the pages answer in, whatever the machine


class NotebookPage:
    """A notebook open in JupyterLab, driven with the mouse and keyboard as a learner drives it."""

    def __init__(self, page, lab: Lab, relative: str):
        self.page, self.lab, self.relative = page, lab, relative
        page.set_default_timeout(CELL_TIMEOUT_MS)
        page.goto(lab.notebook_url(relative))
        self.cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
        cells_in_file = len(json.loads((lab.root / relative).read_text(encoding="utf-8"))["cells"])
        deadline = time.monotonic() + CELL_TIMEOUT_MS / 1000
        # The waits of this class watch the page from inside it (Playwright's own waiting): a question asked from
        # here every 50 ms costs the test, the driver and the browser about 5 ms of CPU each time.
        if not _appears(self.cells.nth(cells_in_file - 1), CELL_TIMEOUT_MS):
            raise TimeoutError(f"the page shows {self.cells.count()} of the notebook's {cells_in_file} cells")
        # The toolbar's indicator says "idle" before the page has a kernel at all (its first state), and a cell run
        # then opens JupyterLab's kernel dialog. Wait until the server has a session for this notebook whose kernel
        # is idle, and the toolbar names that kernel.
        lab.wait_for_idle_kernel(relative, deadline)
        page.locator(".jp-Toolbar-kernelName", has_text="Python").wait_for()
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()

    def run(self, code: str):
        """Type ``code`` into a new cell at the end, run it with Shift+Enter, wait until it has run; its locator."""
        index = self._new_cell_at_end()
        self.page.keyboard.press("Enter")  # edit mode
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")
        cell = self.cells.nth(index)
        if not self._started(cell, within=5.0):
            # A run asked for while the page was still connecting to its kernel can be dropped: ask again, in place.
            self._fail_on_dialog()
            cell.locator(".jp-InputPrompt").click()
            self.page.keyboard.press("Escape")
            self.page.keyboard.press("Control+Enter")
        self.wait_until_run(cell)
        return cell

    @staticmethod
    def _started(cell, within: float) -> bool:
        """True once ``cell``'s prompt shows it queued or run ([*]: or [n]:), False if not ``within`` seconds."""
        return _appears(cell.locator(".jp-InputPrompt", has_text=STARTED), within * 1000)

    def _fail_on_dialog(self) -> None:
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            raise AssertionError(f"JupyterLab shows a dialog: {dialog.first.inner_text()}")

    def _new_cell_at_end(self) -> int:
        self._fail_on_dialog()
        count = self.cells.count()
        last = self.cells.nth(count - 1)
        last.locator(".jp-InputPrompt").click()  # selects the cell
        self.page.keyboard.press("Escape")  # command mode
        if last.locator(".jp-InputArea-editor").inner_text().strip():
            self.page.keyboard.press("b")  # a new cell below
            self.cells.nth(count).wait_for()
            return count
        return count - 1

    def wait_until_run(self, cell) -> None:
        """Wait until ``cell`` shows an execution count: its outputs are all there then."""
        if not _appears(cell.locator(".jp-InputPrompt", has_text=RUN), CELL_TIMEOUT_MS):
            raise TimeoutError(f"the cell did not finish: {cell.inner_text()[:500]}")

    def type_into(self, index: int, text: str) -> None:
        """Type ``text`` at the end of cell ``index``'s code, as a learner does (the notebook is left unsaved)."""
        editor = self.cells.nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+End")
        self.page.keyboard.insert_text(text)

    @staticmethod
    def outputs(cell):
        """The locator of ``cell``'s output items (one per display, stream or error)."""
        return cell.locator(".jp-OutputArea-child")
