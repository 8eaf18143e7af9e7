"""Settings for every test run, including the notebook kernels that nbval starts."""

import os

# Kernels inherit this process's environment: widgets must draw their static figure,
# as they do when `coursekit generate --execute` stores the outputs nbval compares with.
os.environ["COURSEKIT_HEADLESS"] = "1"

collect_ignore_glob = ["**/.ipynb_checkpoints/*", ".venv/*", "build/*"]
