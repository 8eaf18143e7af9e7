"""A property test that fails in the suite is reported with the first example that fails, at once: not shrunk for
minutes, until pytest-timeout ends its test process and the report with it (tests/hypothesis_profiles.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Derandomized, and the same source whatever the folder (Hypothesis seeds from it): the same examples every run.
FAILING = '''
import os
from hypothesis import given, settings, strategies as st

@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(st.lists(st.integers(), min_size=1))
def test_sums_stay_small(numbers):
    with open(os.environ["RUNS_FILE"], "a") as runs:
        runs.write("x")
    assert sum(numbers) < 100
'''


def suite_profile_options() -> list[str]:
    """The Hypothesis options that `python3 course.py test` passes to pytest."""
    sys.path.insert(0, str(ROOT))
    try:
        import course
    finally:
        sys.path.remove(str(ROOT))
    return course.PROPERTIES


def runs_of_a_failing_property(tmp_path: Path, options: list[str]) -> tuple[int, str]:
    """How many times a failing property test ran under ``options``, and pytest's report of it."""
    tmp_path.mkdir(exist_ok=True)
    runs = tmp_path / "runs"
    test_file = tmp_path / "test_failing_property.py"
    test_file.write_text(FAILING)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-p", "tests.hypothesis_profiles", *options, str(test_file)], capture_output=True,
                            text=True, cwd=ROOT, timeout=120, env={**os.environ, "RUNS_FILE": str(runs)})
    assert result.returncode == 1, result.stdout + result.stderr
    return len(runs.read_text()), result.stdout


def test_the_suite_reports_a_failing_property_with_its_first_example_unshrunk(tmp_path):
    runs, report = runs_of_a_failing_property(tmp_path / "suite", suite_profile_options())
    shrunk_runs, shrunk_report = runs_of_a_failing_property(tmp_path / "shrunk", ["--hypothesis-profile", "shrink"])
    found = re.search(r"numbers=\[([-\d_, ]+)\]", report)
    assert found and found.group(1) != "100", report  # the example as found, not the smallest one
    assert "@reproduce_failure" in report, report
    # a developer's profile shrinks it, to the smallest list whose sum is not below 100, running it many more times
    assert "numbers=[100]" in shrunk_report, shrunk_report
    assert runs < shrunk_runs / 4, f"{runs} runs in the suite, {shrunk_runs} when shrunk"


def test_a_bare_pytest_shrinks_as_hypothesis_does(tmp_path):
    _, report = runs_of_a_failing_property(tmp_path, [])
    assert "numbers=[100]" in report, report
