"""Settings for every test run, including the notebook kernels that nbval starts."""

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

# Every test runs in UTC unless it sets a zone of its own: a zip's member times carry no zone and are read in the
# local one, so a test that compares them with a manifest's times would pass on one machine and fail on another.
os.environ["TZ"] = "UTC"
if hasattr(time, "tzset"):  # Unix; elsewhere the grader's zone is the system's
    time.tzset()

# Kernels inherit this process's environment: widgets must draw their static figure,
# as they do when `coursekit generate --execute` stores the outputs nbval compares with.
os.environ["COURSEKIT_HEADLESS"] = "1"

# Every kernel that a test starts computes like another machine: one ulp of seeded noise on random draws
# and on NumPy's exp, log, tanh, sin... (tests/rounding_noise.py), installed by an IPython startup file.
# So nbval itself fails an output that another CPU or BLAS kernel would print differently, while every
# notebook still runs once. COURSEKIT_NOISE_SEED picks another "machine"; "off" runs kernels as they are.
NOISE_SEED = os.environ.get("COURSEKIT_NOISE_SEED", "3")
if NOISE_SEED != "off" and "COURSEKIT_NOISY_IPYTHONDIR" not in os.environ:
    _ipython_dir = Path(tempfile.mkdtemp(prefix="coursekit-noisy-ipython-"))
    atexit.register(shutil.rmtree, _ipython_dir, ignore_errors=True)
    (_ipython_dir / "profile_default" / "startup").mkdir(parents=True)
    (_ipython_dir / "profile_default" / "startup" / "00_rounding_noise.py").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent / 'tests')!r})\n"
        f"import rounding_noise\nrounding_noise.install(seed={int(NOISE_SEED)})\n"
        "del sys.path[0]\n")
    (_ipython_dir / "profile_default" / "ipython_kernel_config.py").write_text(
        "c.HistoryManager.enabled = False\n")
    os.environ["IPYTHONDIR"] = os.environ["COURSEKIT_NOISY_IPYTHONDIR"] = str(_ipython_dir)

collect_ignore_glob = ["**/.ipynb_checkpoints/*", ".venv/*", "build/*"]
# nbval runs every exercise notebook once: tests/unsolved_exercises.py requires each of its test cells to fail as
# "not attempted". tests/warm_kernels.py forks nbval's kernels from a warm process instead of starting them cold.
# tests/slow_first.py hands the longest files of tests to the test processes first. tests/hypothesis_profiles.py
# holds the profile the suite runs property tests with.
pytest_plugins = ["tests.unsolved_exercises", "tests.warm_kernels", "tests.slow_first", "tests.hypothesis_profiles"]
