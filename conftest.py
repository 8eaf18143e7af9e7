"""Settings for every test run, including the notebook kernels that nbval starts."""

import os

import pytest

# Kernels inherit this process's environment: widgets must draw their static figure,
# as they do when `coursekit generate --execute` stores the outputs nbval compares with.
os.environ["COURSEKIT_HEADLESS"] = "1"

collect_ignore_glob = ["**/.ipynb_checkpoints/*", ".venv/*", "build/*"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """In an untouched exercise set, every test cell must fail as "not attempted".

    nbval already runs each exercise notebook once (its unsolved cells are tagged to raise); this
    reads the outputs of that same run, so no exercise notebook is executed twice.
    """
    result = yield
    outputs = getattr(item, "test_outputs", None)
    if outputs is not None and item.path.parent.name == "exercises":
        from coursekit.assignment import cells

        if cells.is_test_cell(item.cell):
            errors = [out for out in outputs if out.get("output_type") == "error"]
            said = errors[0].get("evalue", "") if errors else "no error"
            assert errors and "not attempted" in said.lower(), (
                f"{item.path.name}: test cell '{cells.grade_id(item.cell)}' of an untouched exercise set "
                f"should fail as 'not attempted'; it said: {said!r}")
    return result
