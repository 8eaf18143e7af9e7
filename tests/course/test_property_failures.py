"""A property test that fails in the suite is reported with the first example that fails, at once: not shrunk for
minutes, until pytest-timeout ends its test process and the report with it (tests/hypothesis_profiles.py)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAILING = '''
from hypothesis import given, settings, strategies as st

@settings(max_examples=100, deadline=None, database=None, derandomize=True)  # the same examples every run
@given(st.lists(st.integers(), min_size=1))
def test_sums_stay_small(numbers):
    with open({runs!r}, "a") as runs:
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
    test_file.write_text(FAILING.format(runs=str(runs)))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-p", "tests.hypothesis_profiles", *options, str(test_file)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    return len(runs.read_text()), result.stdout


def test_the_suite_reports_a_failing_property_with_its_first_example_unshrunk(tmp_path):
    runs, report = runs_of_a_failing_property(tmp_path, suite_profile_options())
    shrunk_runs, _ = runs_of_a_failing_property(tmp_path / "shrunk", ["--hypothesis-profile", "shrink"])
    assert runs < shrunk_runs / 4, f"{runs} runs in the suite, {shrunk_runs} when shrunk\n{report}"
    found = re.search(r"numbers=\[(-?\d+(?:, -?\d+)*)\]", report)
    assert found and found.group(1) != "100", report  # the example as found, not the smallest one
    assert "@reproduce_failure" in report, report


@pytest.mark.parametrize("options", [[], ["--hypothesis-profile", "shrink"]], ids=["bare pytest", "shrink profile"])
def test_a_developer_gets_the_failing_example_shrunk(tmp_path, options):
    runs, report = runs_of_a_failing_property(tmp_path, options)
    assert re.search(r"numbers=\[100\]", report), report  # the smallest list whose sum is not below 100
